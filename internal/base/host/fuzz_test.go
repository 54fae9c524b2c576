package host

import (
	"strings"
	"testing"
)

// FuzzParse: any host string either parses into an address whose String
// parses back to the same address, or fails with an error naming it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"web1", "deploy@web2:2222", "[::1]:22", "::1", "a@@", "h:99999", "[0000:000000]", "..", "u@[fe80::1%eth0]:22", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid host string") {
				t.Fatalf("Parse(%q) error %q does not say what is wrong", s, err)
			}
			return
		}
		if a.Host == "" || a.Port < 0 || a.Port > 65535 {
			t.Fatalf("Parse(%q) = %+v", s, a)
		}
		back, err := Parse(a.String())
		if err != nil || back != a {
			t.Fatalf("Parse(%q) = %+v; String %q parses to %+v, %v", s, a, a.String(), back, err)
		}
	})
}
