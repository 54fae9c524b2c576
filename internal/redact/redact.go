// Package redact replaces secret values with *** in text: every value a
// run decrypted or was given as a password is registered once, and every
// output channel passes its text through the same Set.
package redact

import (
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
	mu       sync.RWMutex
	values   map[string]bool
	replacer *strings.Replacer
}

// Add registers value; it reports false, registering nothing, when the
// value is shorter than MinLen. A value of several lines is registered
// line by line too (output is redacted a line at a time), and in its
// JSON-escaped form (events are JSON).
func (s *Set) Add(value string) bool {
	if s == nil || len(value) < MinLen {
		return len(value) >= MinLen
	}
	forms := []string{value}
	if strings.Contains(value, "\n") {
		for _, l := range strings.Split(value, "\n") {
			if l = strings.TrimRight(l, "\r"); len(l) >= MinLen {
				forms = append(forms, l)
			}
		}
	}
	for _, f := range forms[:len(forms):len(forms)] {
		if b, err := json.Marshal(f); err == nil {
			if esc := string(b[1 : len(b)-1]); esc != f {
				forms = append(forms, esc)
			}
		}
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
		// Longest first, so a secret holding another is masked whole.
		all := make([]string, 0, len(s.values))
		for v := range s.values {
			all = append(all, v)
		}
		sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) || len(all[i]) == len(all[j]) && all[i] < all[j] })
		pairs := make([]string, 0, 2*len(all))
		for _, v := range all {
			pairs = append(pairs, v, Mask)
		}
		s.replacer = strings.NewReplacer(pairs...)
	}
	return true
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

func (s *Set) current() *strings.Replacer {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.replacer
}

// String returns text with every secret replaced by Mask.
func (s *Set) String(text string) string {
	if r := s.current(); r != nil {
		return r.Replace(text)
	}
	return text
}

// Bytes is String for bytes; b itself is returned when nothing changed.
func (s *Set) Bytes(b []byte) []byte {
	r := s.current()
	if r == nil {
		return b
	}
	out := r.Replace(string(b))
	if len(out) == len(b) && out == string(b) {
		return b
	}
	return []byte(out)
}

// Contains reports whether text holds a secret.
func (s *Set) Contains(text string) bool {
	r := s.current()
	return r != nil && r.Replace(text) != text
}
