package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	dropAwesome := func() { rootQuiet("runuser", "-u", "postgres", "--", "dropdb", "--if-exists", "awesome") }
	t.Cleanup(dropAwesome) // before PostgreSQL stops: other tests list the databases
	dropAwesome()
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

// saveFile keeps a copy of a system file the test changes and puts it back
// after.
func saveFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(path, data, 0o644) })
}

// TestPortOGLAM: OpenGLAM's server and project tasks, most of them
// run("sudo …") as in the original: the web user, its PostgreSQL role and
// database (sudo -iu postgres), the clone, the directories, the settings
// rendered with a fresh secret key, the nginx site that then serves the
// project's static files, a backup made by `sudo -u postgres pg_dump |
// gzip` and fetched into HOST/PATH, and Postfix's TLS lines appended with
// sudo once, however often the task runs.
func TestPortOGLAM(t *testing.T) {
	needTestbed(t)
	home := "/home/" + tb.User
	code := home + "/OpenGLAM/"
	startPostgres(t)
	rootQuiet("service", "nginx", "start")
	for _, f := range []string{"/etc/nginx/nginx.conf", "/etc/postfix/main.cf"} {
		saveFile(t, f)
	}
	t.Cleanup(func() {
		os.RemoveAll(code)
		os.RemoveAll(home + "/backups")
		os.Remove("/etc/nginx/sites-enabled/weboglam.conf")
		os.Remove("/etc/nginx/sites-available/weboglam.conf")
		os.Symlink("/etc/nginx/sites-available/default", "/etc/nginx/sites-enabled/default")
		rootQuiet("service", "nginx", "stop")
		rootQuiet("service", "postfix", "stop")
		rootQuiet("runuser", "-u", "postgres", "--", "dropdb", "--if-exists", "weboglam")
		rootQuiet("runuser", "-u", "postgres", "--", "dropuser", "--if-exists", "weboglam")
		rootQuiet("userdel", "-r", "weboglam")
	})
	rootQuiet("userdel", "-r", "weboglam")
	// The main.cf the original edited: TLS on, no security levels.
	mainCf, _ := os.ReadFile("/etc/postfix/main.cf")
	old := regexp.MustCompile(`(?m)^smtpd?_tls_security_level=.*\n`).ReplaceAllString(string(mainCf), "")
	if err := os.WriteFile("/etc/postfix/main.cf", []byte(old+"smtpd_use_tls=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The project's repository, owned by the login user (git refuses to
	// clone another user's repository from a path).
	repo, err := os.MkdirTemp("", "oglam-repo-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(repo) })
	for _, c := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "site"}} {
		if c[0] == "add" {
			writeFile(t, filepath.Join(repo, "collected-static", "version.txt"), "oglam static 1\n")
			writeFile(t, filepath.Join(repo, "oglam", "__init__.py"), "")
			writeFile(t, filepath.Join(repo, "conf", "README"), "nginx.conf and server.sh are written here by the fabfile\n")
		}
		root(t, "git", append([]string{"-C", repo}, c...)...)
	}
	root(t, "chown", "-R", tb.User+":", repo)
	root(t, "chmod", "755", repo)

	p := portProject(t, "oglam")
	set := []string{"--set", "clone_url=" + repo, "--set", "listen=18092", "--set", "vhost=oglam.test"}
	r := p.port(3*time.Minute, append(set, "-H", "127.0.0.2", "create_webuser_and_db", "clone_project", "project_mkdirs",
		"create_local_settings", "nginx_setup")...)
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] run: sudo -iu postgres createdb weboglam -O weboglam")
	mustNotContain(t, r, tb.Password)
	root(t, "id", "weboglam")
	if owner := psql(t, "postgres", "select pg_get_userbyid(datdba) from pg_database where datname = 'weboglam'"); owner != "weboglam\n" {
		t.Errorf("database weboglam owned by %q", owner)
	}
	if out := root(t, "stat", "-c", "%U", code+"uploads"); out != "weboglam\n" {
		t.Errorf("uploads owned by %q", out)
	}
	settings, _ := os.ReadFile(code + "oglam/local_settings.py")
	if !regexp.MustCompile(`SECRET_KEY = '[^']{50}'\n`).Match(settings) || !strings.Contains(string(settings), `"NAME": "weboglam"`) {
		t.Errorf("local_settings.py:\n%s", settings)
	}
	if got := get(t, "http://127.0.0.1:18092/static/version.txt"); got != "oglam static 1\n" {
		t.Errorf("nginx serves %q", got)
	}
	if conf, _ := os.ReadFile("/etc/nginx/nginx.conf"); !regexp.MustCompile(`(?m)^\s*server_names_hash_bucket_size 64;`).Match(conf) {
		t.Error("server_names_hash_bucket_size is still commented out")
	}

	psql(t, "weboglam", "create table items (title text); insert into items values ('a glam item');")
	r = p.port(time.Minute, "-H", "127.0.0.2", "backup_db")
	wantCode(t, r, 0)
	dumps, _ := filepath.Glob(filepath.Join(p.dir, "127.0.0.2", "home", tb.User, "backups", "oglam-prod-*.sql.gz"))
	if len(dumps) != 1 {
		t.Fatalf("downloaded %v\n%s", dumps, r)
	}
	out, err := exec.Command("gzip", "-dc", dumps[0]).Output()
	if err != nil || !strings.Contains(string(out), "a glam item") {
		t.Errorf("the dump: %v\n%.300s", err, out)
	}

	for i := 0; i < 2; i++ {
		r = p.port(time.Minute, "-H", "127.0.0.2", "setup_postfix")
		wantCode(t, r, 0)
	}
	cf, _ := os.ReadFile("/etc/postfix/main.cf")
	if strings.Count(string(cf), "\nsmtpd_tls_security_level=may\n") != 1 || !strings.Contains(string(cf), "\n#smtpd_use_tls=yes\n") {
		t.Errorf("main.cf after two runs:\n%s", cf)
	}
}
