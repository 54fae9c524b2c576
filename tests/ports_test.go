package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The ports in fabfiles/ports/ are real Fabric 1 fabfiles as a Fabric
// user ports them (issue 31). Each runs here, from its own directory as
// fab was run, against the testbed's real sshd, sudo, nginx and
// PostgreSQL.

// portProject copies fabfiles/ports/name into a new project directory.
func portProject(t *testing.T, name string) *project {
	t.Helper()
	p := newProject(t, "", "")
	root(t, "cp", "-r", filepath.Join(repoRoot, "fabfiles", "ports", name)+"/.", p.dir)
	return p
}

// port runs gofab in the port's project with the sudo password.
func (p *project) port(limit time.Duration, args ...string) result {
	p.t.Helper()
	return p.runFor(limit, []string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, args...)
}

// psql runs SQL as PostgreSQL's superuser.
func psql(t *testing.T, db, sql string) string {
	t.Helper()
	return root(t, "runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-t", "-A", "-d", db, "-c", sql)
}

// startPostgres starts the testbed's PostgreSQL for the test and stops it
// after.
func startPostgres(t *testing.T) {
	t.Helper()
	root(t, "service", "postgresql", "start")
	t.Cleanup(func() { rootQuiet("service", "postgresql", "stop") })
	deadline := time.Now().Add(time.Minute)
	for exec.Command("runuser", "-u", "postgres", "--", "pg_isready", "-q").Run() != nil {
		if time.Now().After(deadline) {
			t.Fatal("PostgreSQL never became ready")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPortAwesome: the awesome-python3-webapp deploy toolkit. build packs
// www/ here, deploy unpacks it into a new release behind the www symlink
// that nginx serves, a second release replaces it, rollback asks and
// switches back (a "no" changes nothing), and backup fetches a dump made
// by `sudo -u postgres pg_dump` inside run().
func TestPortAwesome(t *testing.T) {
	needTestbed(t)
	base := "/srv/awesome"
	site := "/etc/nginx/sites-enabled/awesome-port"
	os.RemoveAll(base)
	root(t, "mkdir", "-p", base)
	t.Cleanup(func() { os.RemoveAll(base); os.Remove(site); rootQuiet("service", "nginx", "stop") })
	conf := "server {\n    listen 18091;\n    root " + base + "/www/static;\n}\n"
	if err := os.WriteFile(site, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	rootQuiet("service", "nginx", "start")
	p := portProject(t, "awesome")

	r := p.port(2*time.Minute, "-H", "127.0.0.2", "--set", "release=www-26-12-05_10.00.01", "build", "deploy")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] local: tar --dereference -czvf ../dist/dist-awesome.tar.gz", "[127.0.0.2] warning:")
	if got := get(t, "http://127.0.0.1:18091/version.txt"); got != "version 1\n" {
		t.Fatalf("release 1 serves %q", got)
	}
	if _, err := os.Stat(base + "/www-26-12-05_10.00.01/test"); err == nil {
		t.Error("build packed the excluded test/ folder")
	}
	if out := root(t, "stat", "-c", "%U", base+"/www-26-12-05_10.00.01/app.py"); out != "www-data\n" {
		t.Errorf("release owner %q", out)
	}

	p.write("www/static/version.txt", "version 2\n")
	r = p.port(2*time.Minute, "-H", "127.0.0.2", "--set", "release=www-26-12-05_10.00.02", "build", "deploy")
	wantCode(t, r, 0)
	if got := get(t, "http://127.0.0.1:18091/version.txt"); got != "version 2\n" {
		t.Fatalf("release 2 serves %q", got)
	}

	r = p.port(time.Minute, "-H", "127.0.0.2", "--set", "rollback_ok=no", "rollback")
	wantCode(t, r, 0)
	mustContain(t, r, "Found current symbol link points to: www-26-12-05_10.00.02",
		"      Current ---> www-26-12-05_10.00.02", "  Rollback to ---> www-26-12-05_10.00.01", "Rollback cancelled.")
	if target, _ := os.Readlink(base + "/www"); target != "www-26-12-05_10.00.02" {
		t.Fatalf("a cancelled rollback moved www to %q", target)
	}
	r = p.port(time.Minute, "-H", "127.0.0.2", "--yes", "rollback")
	wantCode(t, r, 0)
	mustContain(t, r, "ROLLBACKED OK.")
	if got := get(t, "http://127.0.0.1:18091/version.txt"); got != "version 1\n" {
		t.Fatalf("after rollback: %q", got)
	}
	r = p.port(time.Minute, "-H", "127.0.0.2", "--yes", "rollback")
	wantCode(t, r, 1)
	mustContain(t, r, "already the oldest version")

	startPostgres(t)
	rootQuiet("runuser", "-u", "postgres", "--", "dropdb", "--if-exists", "awesome")
	root(t, "runuser", "-u", "postgres", "--", "createdb", "awesome")
	psql(t, "awesome", "create table blogs (name text); insert into blogs values ('first post');")
	r = p.port(time.Minute, "-H", "127.0.0.2", "backup")
	wantCode(t, r, 0)
	dumps, _ := filepath.Glob(filepath.Join(p.dir, "backup", "backup-awesome-*.sql.tar.gz"))
	if len(dumps) != 1 {
		t.Fatalf("backup/ holds %v\n%s", dumps, r)
	}
	out, err := exec.Command("tar", "-xzOf", dumps[0]).Output()
	if err != nil || !strings.Contains(string(out), "CREATE TABLE public.blogs") || !strings.Contains(string(out), "first post") {
		t.Errorf("the dump: %v\n%.400s", err, out)
	}
	mustNotContain(t, r, tb.Password)
	if left, _ := filepath.Glob("/tmp/backup-awesome-*"); len(left) != 0 {
		t.Errorf("backup left %v on the server", left)
	}
}
