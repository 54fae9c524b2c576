package modload

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/module"
)

func reqsFrom(graph map[string][]string) func(module.Version) ([]module.Version, error) {
	return func(m module.Version) ([]module.Version, error) {
		var out []module.Version
		for _, r := range graph[m.Path+"@"+m.Version] {
			p, v, _ := strings.Cut(r, "@")
			out = append(out, module.Version{Path: p, Version: v})
		}
		return out, nil
	}
}

func TestMinimalVersionSelection(t *testing.T) {
	graph := map[string][]string{
		"a@v1.0.0": {"c@v1.1.0"},
		"b@v1.0.0": {"c@v1.3.0"},
		"c@v1.1.0": {"d@v1.0.0"}, // only the older c needs d: it is still reached
		"c@v1.3.0": {},
	}
	roots := []module.Version{{Path: "a", Version: "v1.0.0"}, {Path: "b", Version: "v1.0.0"}}
	g, err := BuildGraph("main", roots, reqsFrom(graph))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range g.List() {
		got = append(got, m.Path+"@"+m.Version)
	}
	if want := []string{"a@v1.0.0", "b@v1.0.0", "c@v1.3.0", "d@v1.0.0"}; !slices.Equal(got, want) {
		t.Errorf("build list %v, want %v", got, want)
	}
	if why := g.Why("c"); len(why) != 3 || why[0] != "main" || !strings.HasPrefix(why[2], "c@") {
		t.Errorf("why c: %v", why)
	}
	if !slices.Contains(g.Lines(), "b@v1.0.0 c@v1.3.0") {
		t.Errorf("graph lines: %v", g.Lines())
	}
}

func TestCycleRefused(t *testing.T) {
	graph := map[string][]string{"a@v1.0.0": {"b@v1.0.0"}, "b@v1.0.0": {"a@v1.0.0"}}
	_, err := BuildGraph("main", []module.Version{{Path: "a", Version: "v1.0.0"}}, reqsFrom(graph))
	if err == nil || !strings.Contains(err.Error(), "requirement cycle: a → b → a") {
		t.Fatalf("got %v", err)
	}
}

func TestDerivePath(t *testing.T) {
	for url, want := range map[string]string{
		"https://git.example.com/ops/recipes.git":        "git.example.com/ops/recipes",
		"ssh://git@git.example.com:2222/ops/recipes.git": "git.example.com/ops/recipes",
		"git@git.example.com:ops/recipes.git":            "git.example.com/ops/recipes",
		"file:///srv/git/recipes.git":                    "file.local/recipes",
		"/srv/git/recipes.git":                           "file.local/recipes",
	} {
		if got, err := DerivePath(url); err != nil || got != want {
			t.Errorf("DerivePath(%q) = %q, %v; want %q", url, got, err, want)
		}
	}
	for arg, want := range map[string][2]string{
		"git@host:ops/r@v1.0.0": {"git@host:ops/r", "v1.0.0"},
		"git@host:ops/r":        {"git@host:ops/r", ""},
		"a.com/x@main":          {"a.com/x", "main"},
	} {
		if p, q := splitQuery(arg); p != want[0] || q != want[1] {
			t.Errorf("splitQuery(%q) = %q %q", arg, p, q)
		}
	}
}
