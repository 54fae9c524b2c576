// Package redact replaces secret values with *** in text: every value a
// run decrypted or was given as a password is registered once, and every
// output channel passes its text through the same Set.
package redact

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"sync"
)

// Mask replaces a secret.
const Mask = "***"

// MinLen is the shortest value that can be redacted without mangling
// ordinary output (a 2-character secret would turn every "ok" into ***).
const MinLen = 4

// Set is the secrets of a run, safe for concurrent use. The zero value
// and nil redact nothing.
type Set struct {
	mu      sync.RWMutex
	values  map[string]bool
	matcher *matcher
}

// Add registers values and returns the positions of those it refused,
// shorter than MinLen. A value of several lines is registered line by
// line too (output is redacted a line at a time), and in its JSON-escaped
// forms (events are JSON). The matcher is rebuilt once per call: give a
// file's values together.
func (s *Set) Add(values ...string) (short []int) {
	var forms []string
	for i, v := range values {
		if len(v) < MinLen {
			short = append(short, i)
			continue
		}
		forms = append(forms, formsOf(v)...)
	}
	if s == nil || len(forms) == 0 {
		return short
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]bool{}
	}
	added := false
	for _, f := range forms {
		if !s.values[f] {
			s.values[f], added = true, true
		}
	}
	if added {
		s.matcher = newMatcher(s.values)
	}
	return short
}

// formsOf is value as output can show it: itself, its lines, and the
// JSON-escaped forms of each.
func formsOf(value string) []string {
	forms := []string{value}
	if strings.Contains(value, "\n") {
		for _, l := range strings.Split(value, "\n") {
			if l = strings.TrimRight(l, "\r"); len(l) >= MinLen {
				forms = append(forms, l)
			}
		}
	}
	for _, f := range forms[:len(forms):len(forms)] {
		for _, html := range []bool{false, true} {
			if esc := jsonEscaped(f, html); esc != f && len(esc) >= MinLen {
				forms = append(forms, esc)
			}
		}
	}
	return forms
}

// Has reports whether value itself was registered (a decrypted value, a
// password), not merely a text holding one.
func (s *Set) Has(value string) bool {
	if s == nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.values[value]
}

// Len is the number of forms registered.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.values)
}

func (s *Set) current() *matcher {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.matcher
}

// String returns text with every secret replaced by Mask.
func (s *Set) String(text string) string {
	if m := s.current(); m != nil {
		out, _ := m.replace(text)
		return out
	}
	return text
}

// Bytes is String for bytes; b itself is returned when nothing changed.
func (s *Set) Bytes(b []byte) []byte {
	m := s.current()
	if m == nil {
		return b
	}
	if out, changed := m.replace(string(b)); changed {
		return []byte(out)
	}
	return b
}

// Contains reports whether text holds a secret.
func (s *Set) Contains(text string) bool {
	m := s.current()
	if m == nil {
		return false
	}
	_, changed := m.replace(text)
	return changed
}

// matcher finds the secrets in a text in one pass, Wu-Manber style: a
// window as long as the shortest secret slides along the text, and a
// table says, by the hash of the window's last four bytes, how far it
// can move before a secret could end there. Output is mostly free of
// secrets and redaction must cost a run little (BenchmarkSecrets), so
// most windows move many bytes at a time; where the table says 0, the
// secrets starting with the window's first four bytes, longest first,
// are compared.
type matcher struct {
	min      int                 // the shortest secret's length
	shift    [1 << 16]uint8      // by hash of a 4-byte block
	byPrefix map[uint32][]string // by first four bytes
}

func newMatcher(values map[string]bool) *matcher {
	m := &matcher{byPrefix: map[uint32][]string{}, min: 1 << 30}
	for v := range values {
		m.min = min(m.min, len(v))
		w := word(v, 0)
		m.byPrefix[w] = append(m.byPrefix[w], v)
	}
	for _, list := range m.byPrefix {
		sort.Slice(list, func(i, j int) bool {
			return len(list[i]) > len(list[j]) || len(list[i]) == len(list[j]) && list[i] < list[j]
		})
	}
	far := uint8(min(m.min-MinLen+1, 255))
	for i := range m.shift {
		m.shift[i] = far
	}
	for v := range values {
		for j := 0; j+MinLen <= m.min; j++ { // the blocks of each secret's first min bytes
			h := hash(word(v, j))
			m.shift[h] = min(m.shift[h], uint8(min(m.min-MinLen-j, 255)))
		}
	}
	return m
}

// word is the four bytes of s at i, little-endian.
func word(s string, i int) uint32 {
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

func hash(w uint32) uint32 { return (w * 0x9E3779B1) >> 16 }

// replace returns text with each secret, leftmost first and longest at a
// position, replaced by Mask, and whether anything was.
func (m *matcher) replace(text string) (string, bool) {
	var out []byte
	last := 0
	for pos := 0; pos+m.min <= len(text); {
		if sh := m.shift[hash(word(text, pos+m.min-MinLen))]; sh > 0 {
			pos += int(sh)
			continue
		}
		if n := m.at(text[pos:], word(text, pos)); n > 0 {
			if out == nil {
				out = make([]byte, 0, len(text))
			}
			out = append(append(out, text[last:pos]...), Mask...)
			pos += n
			last = pos
			continue
		}
		pos++
	}
	if out == nil {
		return text, false
	}
	return string(append(out, text[last:]...)), true
}

// at returns the length of the longest secret text starts with, or 0.
func (m *matcher) at(text string, w uint32) int {
	for _, v := range m.byPrefix[w] {
		if strings.HasPrefix(text, v) {
			return len(v)
		}
	}
	return 0
}

// jsonEscaped is s as it appears inside a JSON string: as gofab's events
// write it, or with <, > and & escaped too (html), as Go's json.Marshal.
func jsonEscaped(s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")[1 : b.Len()-2]
}
