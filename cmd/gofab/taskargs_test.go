package main

import (
	"reflect"
	"testing"
)

func TestParseTaskCall(t *testing.T) {
	cases := []struct {
		in         string
		name       string
		positional []string
		named      map[string]string
		hosts      []string
		roles      []string
	}{
		{in: "deploy", name: "deploy", named: map[string]string{}},
		{in: "deploy:main,force=yes", name: "deploy", positional: []string{"main"}, named: map[string]string{"force": "yes"}},
		{in: `t:a\,b,k=x\=y`, name: "t", positional: []string{"a,b"}, named: map[string]string{"k": "x=y"}},
		{in: "t:hosts=a;b,role=web", name: "t", named: map[string]string{}, hosts: []string{"a", "b"}, roles: []string{"web"}},
	}
	for _, c := range cases {
		tc, err := parseTaskCall(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if tc.name != c.name || !reflect.DeepEqual(tc.args.Positional, c.positional) || !reflect.DeepEqual(tc.args.Named, c.named) ||
			!reflect.DeepEqual(tc.sel.ArgHosts, c.hosts) || !reflect.DeepEqual(tc.sel.ArgRoles, c.roles) {
			t.Errorf("%q: got %+v", c.in, tc)
		}
	}
	if _, err := parseTaskCall(":x"); err == nil {
		t.Error("empty task name accepted")
	}
}

func TestParseSet(t *testing.T) {
	got, err := parseSet([]string{"vars.src=/a,flag", `b=x\,y`})
	want := map[string]any{"vars.src": "/a", "flag": true, "b": "x,y"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("parseSet = %v, %v; want %v", got, err, want)
	}
	if _, err := parseSet([]string{"a..b=1"}); err == nil {
		t.Error("bad key accepted")
	}
}
