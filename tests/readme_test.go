package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEExample: the README's example fabfile passes gofab check.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```lua\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no lua example")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "fabfile.lua"), string(m[1]))
	r := gofab(t, dir, nil, "", "check")
	wantCode(t, r, 0)
	r = gofab(t, dir, nil, "", "-l")
	wantCode(t, r, 0)
	mustContain(t, r, "    web ", "    deploy ")
}

// TestREADMESampleCommand runs the README's first set-up command, the
// sample task on the local host, as a newcomer would.
func TestREADMESampleCommand(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^    go run \./cmd/gofab (.+)$`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no sample command")
	}
	cmd := exec.Command(gofabBin, strings.Fields(string(m[1]))...)
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "[local] out: Distributor ID:") {
		t.Fatalf("%s: %v\n%s", m[1], err, out)
	}
}

// TestREADMEFlags: README's flag table is the one gofab docs generates
// from the command line's definition, so it cannot drift.
func TestREADMEFlags(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<!-- flags -->\n(.*?)<!-- /flags -->`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no generated flag table")
	}
	r := gofab(t, t.TempDir(), nil, "", "docs")
	wantCode(t, r, 0)
	table := regexp.MustCompile(`(?s)\| flag \| meaning \|\n.*?\n\n`).FindString(r.stdout)
	if strings.TrimSpace(string(m[1])) != strings.TrimSpace(table) {
		t.Errorf("README's flag table differs from gofab docs'; replace it with:\n%s", table)
	}
	for _, flag := range []string{"`--include`", "`-V`"} {
		if !strings.Contains(string(m[1]), flag) {
			t.Errorf("the flag table lacks %s", flag)
		}
	}
}
