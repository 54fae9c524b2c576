package modfile

import (
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"module a.com/x\nrequre b.com/y v1.0.0\n", `gofab.mod:2: unknown directive "requre"`},
		{"module a.com/x\nrequire b.com/y 1.0\n", "gofab.mod:2:"},
		{"module a.com/x\ngofab two\n", `gofab.mod:2: gofab "two"`},
		{"module a.com/x\nreplace b.com/y => c.com/z v1.0.0\n", "gofab.mod:2: replace"},
		{"module a.com/x\nrequire b.com/y v1.0.0\nrequire b.com/y v1.1.0\n", "gofab.mod:3: b.com/y required twice"},
		{"module a.com/x\nalias o.k b.com/y\n", "gofab.mod:2: alias"},
		{"module a.com/x\nrequire b.com/y/v2 v1.0.0\n", "gofab.mod:2:"},
	} {
		_, err := Parse("gofab.mod", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.src, err, tc.want)
		}
	}
}

// TestEditKeepsComments: get's edits keep the user's comments and lines.
func TestEditKeepsComments(t *testing.T) {
	src := "// our ops recipes\nmodule a.com/x\n\ngofab 0.2\n\nrequire (\n\tb.com/y v1.0.0 // nginx\n\tc.com/z v0.1.0\n)\n"
	f, err := Parse("gofab.mod", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f.SetRequire("b.com/y", "v1.2.0")
	f.SetRequire("c.com/z", "")
	f.SetRequire("d.com/w", "v0.0.0-20240102030405-abcdefabcdef")
	f.SetSource("d.com/w", "ssh://git@d.com/w.git")
	out := string(f.Format())
	for _, want := range []string{"// our ops recipes", "b.com/y v1.2.0 // nginx", "d.com/w v0.0.0-20240102030405-abcdefabcdef", `source d.com/w "ssh://git@d.com/w.git"`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "c.com/z") {
		t.Errorf("dropped requirement kept:\n%s", out)
	}
	back, err := Parse("gofab.mod", []byte(out))
	if err != nil || back.Requires("b.com/y") != "v1.2.0" || back.Source["d.com/w"] == "" {
		t.Fatalf("reparse: %v %+v", err, back)
	}
}

func TestCheckGofab(t *testing.T) {
	f, _ := Parse("gofab.mod", []byte("module a.com/x\ngofab 9.9\n"))
	err := f.CheckGofab("0.2.0")
	if err == nil || !strings.Contains(err.Error(), "needs gofab 9.9; this is gofab 0.2.0") {
		t.Fatalf("got %v", err)
	}
	if err := f.CheckGofab("9.9.1"); err != nil {
		t.Fatal(err)
	}
}
