package files

import (
	"fmt"
	"regexp"
	"strings"
)

// lines splits content into lines without their newlines; a final newline
// does not start another line.
func lines(content string) []string {
	if content == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(content, "\n"), "\n")
}

// pattern compiles text as a regular expression, or as literal text when
// escape is set; exact anchors it to whole lines, prefix to line starts.
func pattern(text string, escape, exact, prefix, caseSensitive bool) (*regexp.Regexp, error) {
	expr := text
	if escape {
		expr = regexp.QuoteMeta(text)
	}
	switch {
	case exact:
		expr = "^(?:" + expr + ")$"
	case prefix:
		expr = "^(?:" + expr + ")"
	}
	if !caseSensitive {
		expr = "(?i)" + expr
	}
	re, err := regexp.Compile("(?m)" + expr)
	if err != nil {
		return nil, fmt.Errorf("bad regular expression %q: %w", text, err)
	}
	return re, nil
}

// appendLines adds each line not already present to content and returns
// the new content and whether it changed. A line is present when a whole
// line equals it, or, with partial, when a line starts with it.
func appendLines(content string, add []string, partial, escape bool) (string, bool, error) {
	out := content
	changed := false
	for _, l := range add {
		re, err := pattern(l, escape, !partial, partial, true)
		if err != nil {
			return "", false, err
		}
		if re.MatchString(out) {
			continue
		}
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += l + "\n"
		changed = true
	}
	return out, changed, nil
}

// sedReplacement turns sed's replacement syntax (\1, &, \n) into Go's.
func sedReplacement(after string) string {
	var b strings.Builder
	for i := 0; i < len(after); i++ {
		c := after[i]
		switch {
		case c == '\\' && i+1 < len(after):
			i++
			n := after[i]
			switch {
			case n >= '0' && n <= '9':
				b.WriteString("${" + string(n) + "}")
			case n == 'n':
				b.WriteByte('\n')
			case n == 't':
				b.WriteByte('\t')
			case n == '$':
				b.WriteString("$$")
			default:
				b.WriteByte(n)
			}
		case c == '&':
			b.WriteString("${0}")
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// sed replaces every match of before (a regular expression) on each line
// that matches limit (every line when limit is empty), like
// sed -r -e '/limit/ s/before/after/g'. flags may hold "i" to ignore case.
func sed(content, before, after, limit, flags string) (string, error) {
	prefix := ""
	if strings.Contains(flags, "i") {
		prefix = "(?i)"
	}
	re, err := regexp.Compile(prefix + before)
	if err != nil {
		return "", fmt.Errorf("bad regular expression %q: %w", before, err)
	}
	var lim *regexp.Regexp
	if limit != "" {
		if lim, err = regexp.Compile(prefix + limit); err != nil {
			return "", fmt.Errorf("bad limit expression %q: %w", limit, err)
		}
	}
	repl := sedReplacement(after)
	ls := lines(content)
	for i, l := range ls {
		if lim == nil || lim.MatchString(l) {
			ls[i] = re.ReplaceAllString(l, repl)
		}
	}
	return join(ls, content), nil
}

// join is the inverse of lines, keeping whether content ended in a newline.
func join(ls []string, content string) string {
	out := strings.Join(ls, "\n")
	if strings.HasSuffix(content, "\n") {
		out += "\n"
	}
	return out
}

// comment puts char at the start of each line matching regex that is not
// already commented out.
func comment(content, regex, char string) (string, error) {
	re, err := regexp.Compile(regex)
	if err != nil {
		return "", fmt.Errorf("bad regular expression %q: %w", regex, err)
	}
	ls := lines(content)
	for i, l := range ls {
		if re.MatchString(l) && !strings.HasPrefix(strings.TrimLeft(l, " \t"), char) {
			ls[i] = char + l
		}
	}
	return join(ls, content), nil
}

// uncomment removes char (and one space after it) from the start of each
// commented line whose text matches regex.
func uncomment(content, regex, char string) (string, error) {
	re, err := regexp.Compile(strings.TrimPrefix(regex, "^"))
	if err != nil {
		return "", fmt.Errorf("bad regular expression %q: %w", regex, err)
	}
	anchored := strings.HasPrefix(regex, "^")
	ls := lines(content)
	for i, l := range ls {
		trimmed := strings.TrimLeft(l, " \t")
		indent := l[:len(l)-len(trimmed)]
		rest, ok := strings.CutPrefix(trimmed, char)
		if !ok {
			continue
		}
		rest = strings.TrimPrefix(rest, " ")
		loc := re.FindStringIndex(rest)
		if loc == nil || (anchored && loc[0] != 0) {
			continue
		}
		ls[i] = indent + rest
	}
	return join(ls, content), nil
}
