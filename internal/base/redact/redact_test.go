package redact

import (
	"encoding/json"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// TestSet: every registered form is masked, leftmost and longest first,
// in text and in JSON; short values are refused; nil and empty sets
// change nothing.
func TestSet(t *testing.T) {
	s := &Set{}
	for _, v := range []string{"hunter2-pw", "hunter2-pw-longer", "tok\"en<1>", "line-one\nline-two"} {
		if len(s.Add(v)) > 0 {
			t.Fatalf("Add(%q) refused", v)
		}
	}
	if short := s.Add("abc"); len(short) != 1 || short[0] != 0 {
		t.Errorf("a 3-character value was registered")
	}
	tests := []struct{ in, want string }{
		{"nothing secret here", "nothing secret here"},
		{"pw=hunter2-pw end", "pw=*** end"},
		{"pw=hunter2-pw-longer end", "pw=*** end"},
		{"hunter2-pwhunter2-pw", "******"},
		{"x tok\"en<1> y", "x *** y"},
		{"first line-one", "first ***"},
		{"then line-two.", "then ***."},
		{"abc abc", "abc abc"},
		{"hun", "hun"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := s.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := string(s.Bytes([]byte(tt.in))); got != tt.want {
			t.Errorf("Bytes(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if s.Contains(tt.in) != (tt.in != tt.want) {
			t.Errorf("Contains(%q) = %v", tt.in, !(tt.in != tt.want))
		}
	}
	ev, _ := json.Marshal(map[string]string{"text": "a tok\"en<1> and line-one\nline-two"})
	if got := s.String(string(ev)); strings.Contains(got, "tok") || strings.Contains(got, "line-") {
		t.Errorf("JSON event not redacted: %s", got)
	}
	var none *Set
	if none.String("hunter2-pw") != "hunter2-pw" || (&Set{}).String("x") != "x" || none.Contains("x") {
		t.Errorf("an empty set changed text")
	}
}

// BenchmarkString: 100 secrets over lines of ordinary output (the common
// case: nothing to mask).
func BenchmarkString(b *testing.B) {
	s := &Set{}
	for i := 0; i < 100; i++ {
		s.Add(strings.Repeat(string(rune('a'+i%26)), 3) + "-secret-" + strings.Repeat("x", i%7) + string(rune('0'+i%10)))
	}
	line := "a line of ordinary build output, 64 bytes long, nothing secret\n"
	b.SetBytes(int64(len(line)))
	for i := 0; i < b.N; i++ {
		s.String(line)
	}
}

// TestMatcherAgainstReplacer: on random texts over a small alphabet (so
// secrets overlap, repeat and collide), the matcher masks exactly what
// strings.Replacer does with the secrets longest first.
func TestMatcherAgainstReplacer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randText := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abc"[rng.IntN(3)]
		}
		return string(b)
	}
	for round := 0; round < 300; round++ {
		values := map[string]bool{}
		for i := 0; i < 1+rng.IntN(6); i++ {
			values[randText(MinLen+rng.IntN(5))] = true
		}
		var all []string
		for v := range values {
			all = append(all, v)
		}
		sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) || len(all[i]) == len(all[j]) && all[i] < all[j] })
		var pairs []string
		for _, v := range all {
			pairs = append(pairs, v, Mask)
		}
		ref := strings.NewReplacer(pairs...)
		m := newMatcher(values)
		for k := 0; k < 20; k++ {
			text := randText(rng.IntN(60))
			got, _ := m.replace(text)
			if want := ref.Replace(text); got != want {
				t.Fatalf("secrets %q, text %q: got %q, want %q", all, text, got, want)
			}
		}
	}
}
