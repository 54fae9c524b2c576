package cuisine

import "strings"

// detectEOL returns the text's line ending: "\r\n" when its first line
// ends so, else "\n".
func detectEOL(text string) string {
	if i := strings.IndexByte(text, '\n'); i > 0 && text[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// ensureLines appends each line the text lacks (as a whole line), in the
// text's own line ending.
func ensureLines(text string, lines []string) string {
	eol := detectEOL(text)
	have := map[string]bool{}
	for _, l := range strings.Split(text, eol) {
		have[l] = true
	}
	for _, l := range lines {
		if have[l] {
			continue
		}
		if text != "" && !strings.HasSuffix(text, eol) {
			text += eol
		}
		text += l + eol
		have[l] = true
	}
	return text
}

// replaceLine replaces every line equal to old (or, with find, containing
// it) by repl and returns the text and the number of lines replaced.
func replaceLine(text, old, repl string, find bool) (string, int) {
	eol := detectEOL(text)
	lines := strings.Split(text, eol)
	n := 0
	for i, l := range lines {
		if l == old || (find && old != "" && strings.Contains(l, old)) {
			lines[i] = repl
			n++
		}
	}
	return strings.Join(lines, eol), n
}

// stripMargin removes, from every line, leading blanks up to and including
// the margin character: Scala's stripMargin, Cuisine's text_strip_margin.
func stripMargin(text, margin string) string {
	eol := detectEOL(text)
	lines := strings.Split(text, eol)
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " \t")
		if rest, ok := strings.CutPrefix(trimmed, margin); ok {
			lines[i] = rest
		}
	}
	return strings.Join(lines, eol)
}
