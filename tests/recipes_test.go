package tests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The recipes in fabfiles/ run here against the testbed's real services.
// The testbed's hosts (127.0.0.x) are one machine: they share /etc, one
// nginx and one Postfix, so a recipe that configures a service runs on
// one host (two would race on the same files and daemons), while the
// read-only reports run on several.

// recipe runs a task of fabfiles/fabfile.lua with the sudo password.
func recipe(t *testing.T, p *project, limit time.Duration, args ...string) result {
	t.Helper()
	full := append([]string{"-f", filepath.Join(repoRoot, "fabfiles", "fabfile.lua")}, args...)
	return p.runFor(limit, []string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, full...)
}

// root runs a command as root (the test's own set-up), failing the test
// when it fails.
func root(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// rootQuiet runs a command as root and ignores how it ends (clean-ups).
func rootQuiet(name string, args ...string) { exec.Command(name, args...).Run() }

// get fetches url, retrying for a while until it answers 200 (services
// that were just started or reloaded take a moment to serve).
func get(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return string(body)
			}
			last = fmt.Sprintf("%s: %s", resp.Status, body)
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s never answered 200: %s", url, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// noChange checks that a run changed nothing on the host: the recap
// counts no change and no handler ran.
func noChange(t *testing.T, r result) {
	t.Helper()
	mustNotContain(t, r, "handler:", "would ", " write: ", "upload_template: ", "sudo: DEBIAN_FRONTEND")
	if regexp.MustCompile(`[1-9]\d* changed`).MatchString(r.stdout + r.stderr) {
		t.Errorf("the second run changed something:\n%s", r)
	}
}

// TestRecipeFabric: lsb_release everywhere; databases warns where
// PostgreSQL is down and lists the databases where it runs.
func TestRecipeFabric(t *testing.T) {
	needTestbed(t)
	p := newProject(t, "", "")
	r := recipe(t, p, time.Minute, "-H", hosts(2, 2), "fabric.lsb_release")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] out: Distributor ID:", "[127.0.0.3] out: Distributor ID:")

	t.Cleanup(func() { rootQuiet("service", "postgresql", "stop") })
	rootQuiet("service", "postgresql", "stop")
	r = recipe(t, p, time.Minute, "-H", hosts(2, 2), "fabric.databases")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] warning:", "[127.0.0.2] no PostgreSQL answering here", "[127.0.0.3] no PostgreSQL answering here")

	root(t, "service", "postgresql", "start")
	r = recipe(t, p, time.Minute, "-H", hosts(2, 2), "fabric.databases")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] databases: postgres, template0, template1", "[127.0.0.3] databases: postgres, template0, template1")
	mustNotContain(t, r, "warning")
}

// TestRecipeLogrotate: configure writes the service's file once; force
// rotates the log into .1.
func TestRecipeLogrotate(t *testing.T) {
	needTestbed(t)
	service := "gofabtest-" + strconv.Itoa(os.Getpid())
	logs := "/var/log/" + service
	conf := "/etc/logrotate.d/" + service
	t.Cleanup(func() { os.RemoveAll(logs); os.Remove(conf) })
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logs+"/app.log", []byte("a verbose line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newProject(t, "", "")
	args := "logrotate.configure:service=" + service + ",rotate=3,frequency=weekly"
	r := recipe(t, p, 2*time.Minute, "-H", "127.0.0.2", args)
	wantCode(t, r, 0)
	mustContain(t, r, "updated "+conf)
	got, _ := os.ReadFile(conf)
	if !strings.Contains(string(got), logs+"/*.log {\n    weekly\n    rotate 3\n") {
		t.Errorf("%s:\n%s", conf, got)
	}
	r = recipe(t, p, time.Minute, "-H", "127.0.0.2", args)
	wantCode(t, r, 0)
	mustContain(t, r, "unchanged "+conf)
	noChange(t, r)

	r = recipe(t, p, time.Minute, "-H", "127.0.0.2", "logrotate.force:service="+service)
	wantCode(t, r, 0)
	if rotated, err := os.ReadFile(logs + "/app.log.1"); err != nil || string(rotated) != "a verbose line\n" {
		t.Errorf("no rotated app.log.1: %v %q\n%s", err, rotated, r)
	}
}

// TestRecipeWebapps: the emperor serves both apps through nginx on the
// port given; a second run changes and reloads nothing.
func TestRecipeWebapps(t *testing.T) {
	needTestbed(t)
	// Start from nothing, the emperor stopped: its init script answers
	// status with 0 even then, so service_ensure must look closer.
	// (Its init script cannot stop it either when executed: a signal and
	// a wait for the process its pid file names to be gone or a zombie.)
	data, _ := os.ReadFile("/run/uwsgi-emperor.pid")
	pid := strings.TrimSpace(string(data))
	// Only when the pid file names the emperor: pids are reused.
	if exe, _ := os.Readlink("/proc/" + pid + "/exe"); pid != "" && strings.Contains(exe, "uwsgi") {
		rootQuiet("kill", pid)
		deadline := time.Now().Add(90 * time.Second) // vassals get 30 s of mercy
		for {
			status, err := os.ReadFile("/proc/" + pid + "/status")
			if err != nil || regexp.MustCompile(`(?m)^State:\s*Z`).Match(status) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the uWSGI emperor does not stop")
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for _, f := range []string{"/etc/nginx/sites-enabled/site", "/etc/nginx/sites-available/site",
		"/etc/uwsgi-emperor/vassals/app1.ini", "/etc/uwsgi-emperor/vassals/app2.ini"} {
		os.Remove(f)
	}
	os.RemoveAll("/srv/webapps")
	p := newProject(t, "", "")
	const port = "18080"
	r := recipe(t, p, 3*time.Minute, "-H", "127.0.0.2", "webapps.deploy:port="+port)
	wantCode(t, r, 0)
	mustContain(t, r, "handler: webapps: reload nginx", "sudo: sh /etc/init.d/uwsgi-emperor start")
	for app, body := range map[string]string{"app1": "Hello World, I am app1", "app2": "I, however, am app2."} {
		if got := get(t, "http://127.0.0.1:"+port+"/"+app); strings.TrimSpace(got) != body {
			t.Errorf("/%s answered %q, want %q", app, got, body)
		}
	}
	r = recipe(t, p, 2*time.Minute, "-H", "127.0.0.2", "webapps.deploy:port="+port)
	wantCode(t, r, 0)
	noChange(t, r)
	mustNotContain(t, r, "touch", "reload", "start")
	if got := get(t, "http://127.0.0.1:"+port+"/app1"); !strings.Contains(got, "app1") {
		t.Errorf("after the second run /app1 answered %q", got)
	}
}

// curlTimes fetches url with curl and returns its body and when its
// first and last bytes came, in seconds.
func curlTimes(ctx context.Context, url string) (body string, first, total float64, err error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "curl", "-skN", "-o", "-", "-w", "\n@@%{time_starttransfer} %{time_total}", url)
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", 0, 0, fmt.Errorf("curl %s: %w", url, err)
	}
	b, times, _ := strings.Cut(out.String(), "\n@@")
	fmt.Sscanf(times, "%g %g", &first, &total)
	return b, first, total, nil
}

// TestRecipePHPStreaming: the report's first line arrives at once and the
// rest a second apart, over HTTP and HTTPS; the control page, served with
// PHP's and nginx's buffering on, arrives all at the end.
func TestRecipePHPStreaming(t *testing.T) {
	needTestbed(t)
	os.Remove("/etc/nginx/sites-enabled/php-streaming")
	p := newProject(t, "", "")
	r := recipe(t, p, 3*time.Minute, "-H", "127.0.0.2", "php_streaming.deploy:http=18081,https=18443")
	wantCode(t, r, 0)
	get(t, "http://127.0.0.1:18081/report.php?n=1") // served at all
	r = recipe(t, p, 2*time.Minute, "-H", "127.0.0.2", "php_streaming.deploy:http=18081,https=18443")
	wantCode(t, r, 0)
	noChange(t, r)

	type fetch struct {
		name         string
		body         string
		first, total float64
		err          error
	}
	urls := map[string]string{
		"http":    "http://127.0.0.1:18081/report.php?n=10",
		"https":   "https://127.0.0.1:18443/report.php?n=10",
		"control": "http://127.0.0.1:18081/control/report.php?n=10",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	results := make(chan fetch, len(urls))
	for name, url := range urls {
		go func() {
			f := fetch{name: name}
			f.body, f.first, f.total, f.err = curlTimes(ctx, url)
			results <- f
		}()
	}
	got := map[string]fetch{}
	for range urls {
		f := <-results
		if f.err != nil {
			t.Fatal(f.err)
		}
		got[f.name] = f
		t.Logf("%-7s first byte %.3fs, last %.3fs", f.name, f.first, f.total)
	}
	for name, f := range got {
		if !strings.Contains(f.body, "line 10 of 10") || strings.Count(f.body, "\n") < 10 {
			t.Errorf("%s: not every line arrived:\n%s", name, f.body)
		}
	}
	control := got["control"]
	// The control page holds its output until the end (about ten
	// seconds); the streamed ones start at once. Ratios, and a generous
	// bound, so a busy machine does not fail the test.
	if control.first < 0.8*control.total {
		t.Errorf("the control page streamed (first byte %.2fs of %.2fs): the test cannot tell buffering apart", control.first, control.total)
	}
	for _, name := range []string{"http", "https"} {
		f := got[name]
		if f.first > 3 || f.first > control.first/3 {
			t.Errorf("%s: first byte after %.2fs (control %.2fs): the output was buffered", name, f.first, control.first)
		}
	}
}

// TestRecipePostfixQueue: mail to .invalid domains, relayed to a closed
// local port, is deferred; the report counts it per domain, once for all
// hosts.
func TestRecipePostfixQueue(t *testing.T) {
	needTestbed(t)
	// A port nothing listens on: the relay Postfix must defer to.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	t.Cleanup(func() {
		rootQuiet("postsuper", "-d", "ALL")
		rootQuiet("service", "postfix", "stop")
	})
	root(t, "postconf", "-e", fmt.Sprintf("relayhost=[127.0.0.1]:%d", closed), "inet_interfaces=loopback-only",
		"default_transport=smtp", "mydestination=localhost", "smtp_connect_timeout=2s")
	// "postfix stop" only signals the master: wait until it is gone, or
	// start finds it still there, does nothing, and the mail has no
	// Postfix to go to.
	rootQuiet("service", "postfix", "stop")
	waitPostfix(t, false)
	// Mail dropped while Postfix was stopped (other tests' sudo may mail
	// root) would be picked up after postsuper -d ALL and counted here.
	maildrop, _ := filepath.Glob("/var/spool/postfix/maildrop/*")
	for _, f := range maildrop {
		os.Remove(f)
	}
	root(t, "service", "postfix", "start")
	waitPostfix(t, true)
	rootQuiet("postsuper", "-d", "ALL")
	mails := [][]string{{"a@one.invalid", "b@one.invalid"}, {"c@one.invalid"}, {"d@two.invalid"}}
	for _, to := range mails {
		cmd := exec.Command("/usr/sbin/sendmail", append([]string{"-f", "gofab@test.invalid"}, to...)...)
		cmd.Stdin = strings.NewReader("Subject: gofab queue test\n\nhello\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sendmail: %v\n%s", err, out)
		}
	}
	// Wait until Postfix has tried each message once and deferred it.
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := exec.Command("postqueue", "-j").CombinedOutput()
		if strings.Count(string(out), `"queue_name": "deferred"`) == len(mails) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mail was not deferred (postqueue -j: %v):\n%s", err, out)
		}
		exec.Command("postqueue", "-f").Run()
		time.Sleep(500 * time.Millisecond)
	}
	p := newProject(t, "", "")
	r := recipe(t, p, 2*time.Minute, "-H", hosts(2, 2), "postfix_queue.report")
	wantCode(t, r, 0)
	// Both hosts read the same queue: every count is there twice.
	mustContain(t, r, "deferred queue of 2 hosts (127.0.0.2, 127.0.0.3):")
	for _, row := range []string{`TOTAL +8 +8 `, `one\.invalid +6 +6 `, `two\.invalid +2 +2 `} {
		if !regexp.MustCompile(row).MatchString(r.stdout) {
			t.Errorf("no row %q:\n%s", row, r)
		}
	}
	if n := strings.Count(r.stdout, "deferred queue of"); n != 1 {
		t.Errorf("%d reports, want one (runs_once)", n)
	}
}

// waitPostfix waits until Postfix's master is running (or gone), for up
// to two minutes: a busy machine takes a while.
func waitPostfix(t *testing.T, running bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := exec.Command("postfix", "status").Run()
		if (err == nil) == running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix status: %v after two minutes (want running = %v)", err, running)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRecipeBlog: the site is built here and served by nginx; a second
// deploy sends nothing.
func TestRecipeBlog(t *testing.T) {
	needTestbed(t)
	os.RemoveAll("/var/www/blog")
	src := t.TempDir()
	root(t, "cp", "-r", filepath.Join(repoRoot, "fabfiles", "blog"), src)
	os.RemoveAll(filepath.Join(src, "blog", "build"))
	p := newProject(t, "", "")
	set := []string{"--set", "blog_dir=" + filepath.Join(src, "blog")}
	r := recipe(t, p, 3*time.Minute, append(set, "-H", "127.0.0.2", "blog.deploy:port=18082")...)
	wantCode(t, r, 0)
	mustContain(t, r, "local: sh build.sh posts build", "deployed 3 files, removed 0")
	if got := get(t, "http://127.0.0.1:18082/"); !strings.Contains(got, `<a href="fabric.html">Remote Systems Administration with Fabric</a>`) {
		t.Errorf("index:\n%s", got)
	}
	if got := get(t, "http://127.0.0.1:18082/logrotate.html"); !strings.Contains(got, "Enter logrotate.") {
		t.Errorf("post:\n%s", got)
	}
	r = recipe(t, p, 2*time.Minute, append(set, "-H", "127.0.0.2", "blog.deploy:port=18082")...)
	wantCode(t, r, 0)
	mustContain(t, r, "site unchanged")
	noChange(t, r)
	// A removed post is deleted from the docroot.
	os.Remove(filepath.Join(src, "blog", "posts", "logrotate.md"))
	r = recipe(t, p, 2*time.Minute, append(set, "-H", "127.0.0.2", "blog.deploy:port=18082")...)
	wantCode(t, r, 0)
	mustContain(t, r, "deployed 1 files, removed 1")
	if _, err := os.Stat("/var/www/blog/logrotate.html"); err == nil {
		t.Error("the removed post is still served")
	}
}

// TestRecipesUnitTests: gofab test runs the recipes' own unit tests, on
// fake hosts, in seconds; every recipe module has some.
func TestRecipesUnitTests(t *testing.T) {
	p := newProject(t, "", "")
	r := p.run(nil, "test", filepath.Join(repoRoot, "fabfiles"))
	wantCode(t, r, 0)
	modules, _ := filepath.Glob(filepath.Join(repoRoot, "fabfiles", "*.lua"))
	for _, m := range modules {
		name := strings.TrimSuffix(filepath.Base(m), ".lua")
		if name == "fabfile" {
			continue
		}
		mustContain(t, r, "ok  \t"+filepath.Join(repoRoot, "fabfiles", "tests", name+"_test.lua"))
	}
	r = p.run(nil, "-f", filepath.Join(repoRoot, "fabfiles", "fabfile.lua"), "check")
	wantCode(t, r, 0)
}

// TestRecipeBasicAuth: nginx asks for the password that lives encrypted in
// fabfiles/secrets/site.yaml (to gofab test's public test key), accepts
// it, refuses a wrong one; a second run changes nothing; no output shows
// the password.
func TestRecipeBasicAuth(t *testing.T) {
	needTestbed(t)
	os.Remove("/etc/nginx/sites-enabled/basic-auth")
	os.Remove("/etc/nginx/gofab-basic-auth.htpasswd")
	p := newProject(t, "", "")
	key := []string{"SOPS_AGE_KEY=" + testIdentity}
	const password = "correct-horse-battery-staple"
	r := p.runFor(3*time.Minute, append(key, "GOFAB_SUDO_PASSWORD="+tb.Password), "-f", filepath.Join(repoRoot, "fabfiles", "fabfile.lua"),
		"--diff", "-H", "127.0.0.2", "basic_auth.protect:port=18090")
	wantCode(t, r, 0)
	if strings.Contains(r.stdout+r.stderr, password) || strings.Contains(r.stdout+r.stderr, "$apr1$") {
		t.Errorf("the password or its hash shows:\n%s", r)
	}
	status := func(user, pw string) int {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			req, _ := http.NewRequest("GET", "http://127.0.0.1:18090/", nil)
			if user != "" {
				req.SetBasicAuth(user, pw)
			}
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				return resp.StatusCode
			}
			if time.Now().After(deadline) {
				t.Fatalf("nginx never answered: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if got := status("", ""); got != 401 {
		t.Errorf("no password: %d, want 401", got)
	}
	if got := status("admin", "wrong"); got != 401 {
		t.Errorf("a wrong password: %d, want 401", got)
	}
	if got := status("admin", password); got != 200 {
		t.Errorf("the password: %d, want 200", got)
	}
	fi, err := os.Stat("/etc/nginx/gofab-basic-auth.htpasswd")
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("htpasswd: %v %v", fi, err)
	}
	r = p.runFor(2*time.Minute, append(key, "GOFAB_SUDO_PASSWORD="+tb.Password), "-f", filepath.Join(repoRoot, "fabfiles", "fabfile.lua"),
		"-H", "127.0.0.2", "basic_auth.protect:port=18090")
	wantCode(t, r, 0)
	noChange(t, r)
}
