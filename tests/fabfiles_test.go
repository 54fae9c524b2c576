package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFabfilesExamples loads every recipe in fabfiles/ and runs each of its
// tasks on two testbed hosts.
func TestFabfilesExamples(t *testing.T) {
	needTestbed(t)
	files, _ := filepath.Glob(filepath.Join(repoRoot, "fabfiles", "*.lua"))
	if len(files) == 0 {
		t.Fatal("no recipes in fabfiles/")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := newProject(t, "", "")
			r := p.run(nil, "-f", f, "-l")
			wantCode(t, r, 0)
			var tasks []string
			for _, line := range strings.Split(r.stdout, "\n") {
				if strings.HasPrefix(line, "    ") {
					tasks = append(tasks, strings.Fields(line)[0])
				}
			}
			if len(tasks) == 0 {
				t.Fatalf("%s declares no task\n%s", f, r)
			}
			for _, task := range tasks {
				r := p.run(nil, "-f", f, "-H", hosts(2, 2), task)
				wantCode(t, r, 0)
				mustContain(t, r, "2 hosts: 2 ok")
			}
		})
	}
}

// TestSeedRecipe checks what the seed's two Fabric examples print.
func TestSeedRecipe(t *testing.T) {
	needTestbed(t)
	f := filepath.Join(repoRoot, "fabfiles", "fabfile.lua")
	p := newProject(t, "", "")
	r := p.run(nil, "-f", f, "-H", hosts(2, 2), "lsb_release")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] run: lsb_release -a", "[127.0.0.3] out: Distributor ID:")
	r = p.run(nil, "-f", f, "-H", "127.0.0.2", "databases")
	wantCode(t, r, 0)
	if _, err := os.Stat("/usr/bin/psql"); err != nil {
		mustContain(t, r, `[127.0.0.2] warning: run("psql -c \"select datname from pg_database;\"") on 127.0.0.2 exited with code 127`)
	}
}
