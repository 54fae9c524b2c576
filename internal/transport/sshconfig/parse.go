package sshconfig

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func (l *Loader) lines(path string) ([]line, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ls, ok := l.cache[path]; ok {
		return ls, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ls, err := parse(path, data)
	if err != nil {
		return nil, err
	}
	if l.cache == nil {
		l.cache = map[string][]line{}
	}
	l.cache[path] = ls
	return ls, nil
}

// parse splits a configuration file into keyword lines.
func parse(path string, data []byte) ([]line, error) {
	var out []line
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	num := 0
	for sc.Scan() {
		num++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		// "Keyword value", "Keyword=value" and "Keyword = value" are all allowed.
		end := strings.IndexAny(text, " \t=")
		if end < 0 {
			return nil, fmt.Errorf("%s:%d: ssh config: %q has no value", path, num, text)
		}
		key := strings.ToLower(text[:end])
		rest := strings.TrimLeft(text[end:], " \t")
		rest = strings.TrimPrefix(rest, "=")
		args, err := splitArgs(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: ssh config: %w", path, num, err)
		}
		out = append(out, line{file: path, num: num, key: key, args: args})
	}
	return out, sc.Err()
}

// splitArgs splits on white space, keeping double-quoted runs together.
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"':
			inQuote, have = !inQuote, true
		case (ch == ' ' || ch == '\t') && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(ch)
			have = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote")
	}
	if have {
		args = append(args, cur.String())
	}
	return args, nil
}

// matchPatternList reports whether s matches the pattern list: at least one
// positive pattern matches and no negated one does.
func matchPatternList(s string, patterns []string) bool {
	matched := false
	for _, p := range patterns {
		if neg, ok := strings.CutPrefix(p, "!"); ok {
			if wildcard(neg, s) {
				return false
			}
			continue
		}
		if wildcard(p, s) {
			matched = true
		}
	}
	return matched
}

// wildcard matches s against a pattern of literal text, * and ?.
func wildcard(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if wildcard(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
		}
		p, s = p[1:], s[1:]
	}
	return s == ""
}

func expandTokens(s string, tokens map[byte]string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
		} else if v, ok := tokens[s[i]]; ok {
			b.WriteString(v)
		} else {
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func (st *resolveState) tilde(s string) string { return expandTilde(s, st.l.Local.Home) }

func expandTilde(s, home string) string {
	if s == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(s, "~/"); ok {
		return filepath.Join(home, rest)
	}
	return s
}

func parseSeconds(v string) (time.Duration, error) {
	n, err := strconv.Atoi(v)
	if err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", v)
	}
	return d, nil
}

func yes(v string) bool { return strings.EqualFold(v, "yes") || strings.EqualFold(v, "true") }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
