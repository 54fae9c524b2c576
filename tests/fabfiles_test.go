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
			// Recipes that configure a system write under env.etc, a
			// scratch directory here, instead of /etc.
			etc := t.TempDir()
			env := []string{"GOFAB_SUDO_PASSWORD=" + tb.Password}
			for _, task := range tasks {
				r := p.run(env, "-f", f, "-H", hosts(2, 2), "--set", "etc="+etc, task)
				wantCode(t, r, 0)
				mustContain(t, r, "2 hosts: 2 ok")
			}
		})
	}
}

// TestWebappRecipe runs the nginx/uwsgi/logrotate recipe twice: the first
// run writes the files, the second changes nothing.
func TestWebappRecipe(t *testing.T) {
	needTestbed(t)
	f := filepath.Join(repoRoot, "fabfiles", "webapp.lua")
	p := newProject(t, "", "")
	etc := t.TempDir()
	env := []string{"GOFAB_SUDO_PASSWORD=" + tb.Password}
	r := p.run(env, "-f", f, "-H", "127.0.0.2", "--set", "etc="+etc, "vassals", "nginx_site", "logrotate")
	wantCode(t, r, 0)
	mustContain(t, r, "updated "+etc+"/uwsgi-emperor/vassals/app2.ini", "updated "+etc+"/nginx/sites-available/mysite")
	r = p.run(env, "-f", f, "-H", "127.0.0.2", "--set", "etc="+etc, "vassals", "nginx_site", "logrotate")
	wantCode(t, r, 0)
	mustNotContain(t, r, "updated ")
	mustContain(t, r, "unchanged "+etc+"/logrotate.d/myservice")
	site, err := os.ReadFile(filepath.Join(etc, "nginx/sites-enabled/mysite"))
	if err != nil || !strings.Contains(string(site), "server_name     127.0.0.2;") || !strings.Contains(string(site), "uwsgi_pass unix:/tmp/app2.socket;") {
		t.Errorf("enabled site: %v\n%s", err, site)
	}
	ini, _ := os.ReadFile(filepath.Join(etc, "uwsgi-emperor/vassals/app1.ini"))
	if !strings.Contains(string(ini), "chdir = /srv/app1\n") {
		t.Errorf("vassal:\n%s", ini)
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
