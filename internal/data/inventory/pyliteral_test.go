package inventory

import (
	"reflect"
	"testing"
)

// TestPyLiteral: values as Python's ast.literal_eval reads them (the
// expectations are what Python 3.11 gives), and texts it refuses, which
// Ansible keeps as strings.
func TestPyLiteral(t *testing.T) {
	ok := []struct {
		in   string
		want any
	}{
		{"22", int64(22)}, {"-3", int64(-3)}, {"0", int64(0)}, {"000", int64(0)}, {"0x1F", int64(31)}, {"0o755", int64(493)},
		{"0b101", int64(5)}, {"1_000", int64(1000)}, {"1.5", 1.5}, {"1e3", 1000.0}, {".5", 0.5}, {"-2.5e-1", -0.25},
		{"True", true}, {"False", false}, {"None", nil},
		{"'a b'", "a b"}, {`"x\ty"`, "x\ty"}, {`'it''s'`, "its"}, {`r'\d+'`, `\d+`}, {`'\x41\u00e9'`, "Aé"}, {`"""tri"ple"""`, `tri"ple`},
		{"['/dev/sda', '/dev/sdb']", []any{"/dev/sda", "/dev/sdb"}}, {"[1, [2, 3],]", []any{int64(1), []any{int64(2), int64(3)}}},
		{"(1,)", []any{int64(1)}}, {"()", []any{}}, {"80, 443", []any{int64(80), int64(443)}},
		{"{ 'root': 'HDD' }", map[string]any{"root": "HDD"}}, {"{}", map[string]any{}}, {"{1: 'a', True: None}", map[string]any{"1": "a", "true": nil}},
		{"{'a', 'b'}", []any{"a", "b"}}, {" 5 ", int64(5)},
		{"b'raw'", "raw"}, {"Rb'x'", "x"}, {"True, None", []any{true, nil}}, {"+1", int64(1)}, {"\t[1]", []any{int64(1)}},
	}
	for _, c := range ok {
		got, isLit := pyLiteral(c.in)
		if !isLit || !reflect.DeepEqual(got, c.want) {
			t.Errorf("pyLiteral(%q) = %#v, %v; want %#v", c.in, got, isLit, c.want)
		}
	}
	for _, in := range []string{"true", "yes", "no", "0755", "web1", "a,b", "1.2.3.4", "10.0.0.1", "2024-01-02", "", "'open", "[1, 2", "1_", "1__0",
		"x=1", "$HOME", "1+2", "0x", "{'a': }", "None None", "inf", "2j",
		"/srv/app", "_x", "~1", "Trueish", "x'a'", "rr'a'", "@here", "Nonesuch"} {
		if got, isLit := pyLiteral(in); isLit {
			t.Errorf("pyLiteral(%q) = %#v: Python refuses it", in, got)
		}
	}
}
