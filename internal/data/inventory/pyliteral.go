package inventory

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// pyLiteral reads s as Python's ast.literal_eval does, which is how
// Ansible's INI plugin types a value: numbers (int, with 0x/0o/0b and
// underscores; float), strings in any quotes (adjacent ones joined),
// True/False/None, lists, tuples and sets (as lists), dicts, and a bare
// comma-separated tuple. ok is false when s is not such a literal: Ansible
// keeps the text then.
func pyLiteral(s string) (v any, ok bool) {
	if !mayBeLiteral(s) {
		return nil, false
	}
	p := &pyParser{s: s}
	v, err := p.tuple()
	if err != nil {
		return nil, false
	}
	p.space()
	if p.i != len(p.s) {
		return nil, false
	}
	return v, true
}

// mayBeLiteral is false for most plain text (a name, an address, a path)
// without parsing it: a literal starts with a digit, a sign, a dot, a
// quote, a bracket, True, False or None, or a string prefix and a quote.
func mayBeLiteral(s string) bool {
	s = strings.TrimLeft(s, " \t\r\n\f\v")
	if s == "" || !isLetter(s[0]) {
		return s != "" && strings.IndexByte("0123456789+-.'\"([{", s[0]) >= 0
	}
	n := 1
	for n < len(s) && isLetter(s[n]) {
		n++
	}
	switch word := s[:n]; word {
	case "True", "False", "None":
		return true
	default:
		return n < len(s) && (s[n] == '\'' || s[n] == '"') && isStringPrefix(word)
	}
}

type pyParser struct {
	s     string
	i     int
	depth int
}

var errPy = errors.New("not a Python literal")

// space skips blanks (and, inside brackets, line breaks).
func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n\f\v", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// tuple reads a value, or values separated by commas (a tuple), as the
// whole text or inside parentheses allows.
func (p *pyParser) tuple() (any, error) {
	first, err := p.value()
	if err != nil {
		return nil, err
	}
	if p.peek() != ',' {
		return first, nil
	}
	items := []any{first}
	for p.peek() == ',' {
		p.i++
		if c := p.peek(); c == 0 || c == ')' {
			break
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return items, nil
}

func (p *pyParser) value() (any, error) {
	p.depth++ // nesting is bounded here, for lists, dicts and parentheses alike
	defer func() { p.depth-- }()
	if p.depth > 100 {
		return nil, errPy
	}
	switch c := p.peek(); {
	case c == '[':
		return p.seq(']')
	case c == '(':
		p.i++
		if p.peek() == ')' {
			p.i++
			return []any{}, nil
		}
		v, err := p.tuple()
		if err != nil || p.peek() != ')' {
			return nil, errPy
		}
		p.i++
		return v, nil
	case c == '{':
		return p.dict()
	case c == '-' || c == '+':
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		switch n := v.(type) {
		case int64:
			if c == '-' {
				return -n, nil
			}
			return n, nil
		case float64:
			if c == '-' {
				return -n, nil
			}
			return n, nil
		}
		return nil, errPy
	case c >= '0' && c <= '9' || c == '.':
		return p.number()
	case c == '"' || c == '\'':
		return p.stringLit()
	case isLetter(c) || c == '_':
		start := p.i
		for p.i < len(p.s) && (isLetter(p.s[p.i]) || p.s[p.i] == '_' || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
			p.i++
		}
		word := p.s[start:p.i]
		if p.i < len(p.s) && (p.s[p.i] == '"' || p.s[p.i] == '\'') && isStringPrefix(word) {
			p.i = start
			return p.stringLit()
		}
		switch word {
		case "True":
			return true, nil
		case "False":
			return false, nil
		case "None":
			return nil, nil
		}
	}
	return nil, errPy
}

// seq reads a list [a, b] (or a set {a, b}), up to close.
func (p *pyParser) seq(close byte) (any, error) {
	p.i++
	items := []any{}
	for {
		if p.peek() == close {
			p.i++
			return items, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		switch p.peek() {
		case ',':
			p.i++
		case close:
		default:
			return nil, errPy
		}
	}
}

// dict reads {k: v, …}, or a set {a, b} (as a list).
func (p *pyParser) dict() (any, error) {
	start := p.i
	p.i++
	if p.peek() == '}' {
		p.i++
		return map[string]any{}, nil
	}
	if _, err := p.value(); err != nil {
		return nil, err
	}
	if p.peek() != ':' {
		p.i = start
		return p.seq('}')
	}
	p.i = start + 1
	m := map[string]any{}
	for {
		if p.peek() == '}' {
			p.i++
			return m, nil
		}
		k, err := p.value()
		if err != nil || p.peek() != ':' {
			return nil, errPy
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[pyKey(k)] = v
		switch p.peek() {
		case ',':
			p.i++
		case '}':
		default:
			return nil, errPy
		}
	}
}

// pyKey is a dict key as JSON (and Ansible's --list) writes it.
func pyKey(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case bool:
		if k {
			return "true"
		}
		return "false"
	case nil:
		return "null"
	}
	return fmt.Sprint(k)
}

// number reads an int or a float; a leading zero is only allowed in 0,
// 0x…, 0o…, 0b… and floats, as in Python 3.
func (p *pyParser) number() (any, error) {
	start := p.i
	for p.i < len(p.s) && (isLetter(p.s[p.i]) || p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '_' || p.s[p.i] == '.' ||
		(p.s[p.i] == '+' || p.s[p.i] == '-') && (p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E') && !strings.ContainsAny(p.s[start:p.i], "xXbB")) {
		p.i++
	}
	text := p.s[start:p.i]
	if strings.HasPrefix(text, "_") || strings.HasSuffix(text, "_") || strings.Contains(text, "__") {
		return nil, errPy
	}
	if len(text) > 1 && text[0] == '0' && strings.ContainsAny(text[1:2], "xXoObB") {
		n, err := strconv.ParseInt(text, 0, 64)
		if err != nil {
			return nil, errPy
		}
		return n, nil
	}
	if strings.ContainsAny(text, ".eE") {
		if strings.Count(text, ".") > 1 {
			return nil, errPy // an address, not a number (and no error to allocate)
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, errPy
		}
		return f, nil
	}
	digits := strings.ReplaceAll(text, "_", "")
	if len(digits) > 1 && digits[0] == '0' && strings.Trim(digits, "0") != "" {
		return nil, errPy // 0755: invalid in Python 3
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return nil, errPy
	}
	return n, nil
}

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "r", "u", "b", "br", "rb":
		return true
	}
	return false
}

// strings reads one or more adjacent string literals, joined.
func (p *pyParser) stringLit() (any, error) {
	var b strings.Builder
	n := 0
	for {
		p.space()
		raw := false
		start := p.i
		for p.i < len(p.s) && isLetter(p.s[p.i]) {
			if p.s[p.i] == 'r' || p.s[p.i] == 'R' {
				raw = true
			}
			p.i++
		}
		if p.i >= len(p.s) || (p.s[p.i] != '"' && p.s[p.i] != '\'') || !isStringPrefix(p.s[start:p.i]) && p.i != start {
			p.i = start
			if n == 0 {
				return nil, errPy
			}
			return b.String(), nil
		}
		if err := p.quoted(&b, raw); err != nil {
			return nil, err
		}
		n++
	}
}

// quoted reads one quoted literal ('…', "…", ”'…”', """…""").
func (p *pyParser) quoted(b *strings.Builder, raw bool) error {
	q := p.s[p.i : p.i+1]
	if strings.HasPrefix(p.s[p.i:], q+q+q) {
		q = q + q + q
	}
	p.i += len(q)
	for p.i < len(p.s) {
		if strings.HasPrefix(p.s[p.i:], q) {
			p.i += len(q)
			return nil
		}
		c := p.s[p.i]
		if c == '\n' && len(q) == 1 {
			return errPy
		}
		if c != '\\' || raw {
			if raw && c == '\\' && p.i+1 < len(p.s) {
				b.WriteString(p.s[p.i : p.i+2])
				p.i += 2
				continue
			}
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return errPy
		}
		p.i++
		if err := p.escape(b); err != nil {
			return err
		}
	}
	return errPy
}

// escape reads the escape after a backslash.
func (p *pyParser) escape(b *strings.Builder) error {
	c := p.s[p.i]
	p.i++
	simple := map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '\n': ""}
	if s, ok := simple[c]; ok {
		b.WriteString(s)
		return nil
	}
	hex := map[byte]int{'x': 2, 'u': 4, 'U': 8}
	if n, ok := hex[c]; ok {
		if p.i+n > len(p.s) {
			return errPy
		}
		r, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
		if err != nil || !utf8.ValidRune(rune(r)) {
			return errPy
		}
		b.WriteRune(rune(r))
		p.i += n
		return nil
	}
	if c >= '0' && c <= '7' {
		end := p.i - 1
		for end < len(p.s) && end < p.i+2 && p.s[end] >= '0' && p.s[end] <= '7' {
			end++
		}
		r, _ := strconv.ParseUint(p.s[p.i-1:end], 8, 32)
		b.WriteRune(rune(r))
		p.i = end
		return nil
	}
	b.WriteByte('\\') // unknown escapes stay, as in Python
	b.WriteByte(c)
	return nil
}
