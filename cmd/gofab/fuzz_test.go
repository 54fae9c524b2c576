package main

import (
	"strings"
	"testing"
)

// FuzzTaskCall: any task argument string parses or gives an error; a
// parsed call has a name without the separators.
func FuzzTaskCall(f *testing.F) {
	for _, s := range []string{"deploy", "deploy:a,b", `t:a\,b,k=v=w`, "t:hosts=a;b,roles=r", ":x", "t:hosts=a@@;[::1", "t:,,=,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tc, err := parseTaskCall(s)
		if err != nil {
			return
		}
		if tc.name == "" || strings.Contains(tc.name, ":") {
			t.Fatalf("parseTaskCall(%q) name %q", s, tc.name)
		}
	})
}

// FuzzSet: any --set value parses or gives an error; keys are never
// empty.
func FuzzSet(f *testing.F) {
	for _, s := range []string{"a=1", "vars.src=/a,b=2", `k=a\,b`, "=x", "a.b.c=", "a..b=1", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := parseSet([]string{s})
		if err != nil {
			return
		}
		for k := range set {
			if k == "" {
				t.Fatalf("parseSet(%q) made an empty key", s)
			}
		}
	})
}
