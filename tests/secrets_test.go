package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The secrets of secretsProject's file, and a value too short to hide.
const (
	secretPassword = "Zq8-hunter2-Pw"
	secretToken    = "tok-9f8e7d6c5b4a"
)

// secretsProject is a project with an age identity (keys.txt), a
// .sops.yaml listing its public key, and secrets/prod.yaml encrypted by
// the real sops tool.
func secretsProject(t *testing.T, fabfile string) (*project, []string) {
	t.Helper()
	needTestbed(t)
	if tb.Sops == "" {
		t.Skip("no sops tool in the testbed (rerun tests/testbed.sh up)")
	}
	p := newProject(t, fabfile, "")
	keys := filepath.Join(p.dir, "keys.txt")
	r := p.run(nil, "secrets", "keygen", "-o", keys)
	wantCode(t, r, 0)
	recipient := strings.TrimSpace(r.stdout)
	p.write(".sops.yaml", "creation_rules:\n  - path_regex: secrets/.*\n    age: "+recipient+"\n")
	os.Mkdir(filepath.Join(p.dir, "secrets"), 0o755)
	p.write("secrets/prod.yaml", "db:\n  user: appuser\n  password: "+secretPassword+"\napi_token: "+secretToken+"\npin: \"12\"\n")
	cmd := exec.Command(tb.Sops, "encrypt", "-i", "secrets/prod.yaml")
	cmd.Dir, cmd.Env = p.dir, append(os.Environ(), "SOPS_DISABLE_VERSION_CHECK=1", "HOME="+p.dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sops encrypt: %v\n%s", err, out)
	}
	return p, []string{"SOPS_AGE_KEY_FILE=" + keys}
}

// noPlaintext fails the test for every place a secret shows in clear.
func noPlaintext(t *testing.T, where string, text string) {
	t.Helper()
	for _, s := range []string{secretPassword, secretToken} {
		if strings.Contains(text, s) {
			t.Errorf("%s shows the secret %q", where, s)
		}
	}
}

// TestSecretsNeverShown: one run that puts the secrets in a command line,
// its stdout and stderr, a print, a templated file under --diff and an
// error, with --log-dir and --report, then the same with --output json,
// and the REPL: every stream and every file gofab writes has *** and no
// plaintext, while the file on the host has the real value, mode 0600.
func TestSecretsNeverShown(t *testing.T) {
	needTestbed(t)
	remoteDir, err := os.MkdirTemp("", "gofab-secrets-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(remoteDir) })
	os.Chmod(remoteDir, 0o755)
	os.Chown(remoteDir, uidOf(t, tb.User), -1) // the login user writes there
	remote := filepath.Join(remoteDir, "app.env")
	p, env := secretsProject(t, fmt.Sprintf(`
local secrets = require("secrets")
local files = require("files")
local s = secrets.load("secrets/prod.yaml")
task("deploy", function()
  print("token " .. s.api_token)
  run("echo Bearer " .. s.api_token .. "; echo " .. s.api_token .. " >&2")
  files.upload_template("app.env.tpl", %q, {db_password = s.db.password}, {mode = "0600"})
  run("cat", {stdin = s.db.password})
  error("failed: " .. s.db.password)
end)
`, remote))
	p.write("app.env.tpl", "DB_PASSWORD={{ .db_password }}\n")
	if err := os.WriteFile(remote, []byte("DB_PASSWORD=old-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chown(remote, uidOf(t, tb.User), -1)
	state := filepath.Join(p.dir, "state")
	env = append(env, "GOFAB_STATE_DIR="+state)
	text := p.run(env, "--diff", "--log-dir", "logs", "--report", "report.html", "-H", "127.0.0.2", "deploy")
	wantCode(t, text, 1)
	mustContain(t, text, "token ***", "run: echo Bearer ***; echo *** >&2", "out: Bearer ***", "+DB_PASSWORD=***", "failed: ***",
		"pin is shorter than 4 characters")
	asJSON := p.run(env, "--output", "json", "-H", "127.0.0.2", "deploy")
	wantCode(t, asJSON, 1)
	if !strings.Contains(asJSON.stdout, `"text":"token ***"`) || !strings.Contains(asJSON.stdout, `"type":"secrets","decrypted":1`) &&
		!strings.Contains(asJSON.stdout, `"decrypted":1`) {
		t.Errorf("JSON events:\n%s", asJSON)
	}
	repl := p.runStdin(env, "s = require('secrets').load('secrets/prod.yaml')\ns.api_token\nprint(s.db.password)\n", "repl")
	mustContain(t, repl, "= ***", "***")
	for name, r := range map[string]result{"the text run": text, "the JSON run": asJSON, "the REPL": repl} {
		noPlaintext(t, name+"'s stdout", r.stdout)
		noPlaintext(t, name+"'s stderr", r.stderr)
	}
	written := 0
	filepath.WalkDir(p.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path, filepath.Join(p.dir, "secrets")) {
			return err
		}
		data, _ := os.ReadFile(path)
		noPlaintext(t, path, string(data))
		written++
		return nil
	})
	for _, f := range []string{"report.html", "state/runs.json"} {
		if _, err := os.Stat(filepath.Join(p.dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if logs, _ := filepath.Glob(filepath.Join(p.dir, "logs", "*", "*.log")); len(logs) == 0 {
		t.Errorf("no log files written")
	}
	data, err := os.ReadFile(remote)
	fi, _ := os.Stat(remote)
	if err != nil || string(data) != "DB_PASSWORD="+secretPassword+"\n" || fi.Mode().Perm() != 0o600 {
		t.Errorf("the host's file: %q %v %v", data, fi.Mode(), err)
	}
	t.Logf("%d files gofab wrote checked", written)
}

func (p *project) runStdin(env []string, stdin string, args ...string) result {
	p.t.Helper()
	cmd := exec.Command(gofabBin, args...)
	cmd.Dir = p.dir
	cmd.Env = append(append([]string{}, p.env...), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{stdout: out.String(), stderr: errb.String(), code: code}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		p.t.Fatalf("gofab %v hung", args)
	}
	return result{}
}

func uidOf(t *testing.T, user string) int {
	t.Helper()
	out, err := exec.Command("id", "-u", user).Output()
	if err != nil {
		t.Fatal(err)
	}
	var uid int
	fmt.Sscan(string(out), &uid)
	return uid
}

// TestSecretsBadInput: each bad input is one line and exit 2, before any
// host is reached, and nothing is decrypted to disk.
func TestSecretsBadInput(t *testing.T) {
	p, env := secretsProject(t, `
local s = require("secrets").load(env.file)
task("t", function() print(s.api_token) end)
`)
	enc, _ := os.ReadFile(filepath.Join(p.dir, "secrets", "prod.yaml"))
	tampered := strings.Replace(string(enc), "api_token: ENC[AES256_GCM,data:", "api_token: ENC[AES256_GCM,data:AAAA", 1)
	p.write("secrets/tampered.yaml", tampered)
	p.write("secrets/truncated.yaml", string(enc[:len(enc)/2]))
	lines := strings.Split(string(enc), "\n")
	for i, l := range lines {
		if strings.Contains(l, "mac: ENC[") {
			lines[i] = strings.Replace(l, "data:", "data:BBBB", 1)
		}
	}
	p.write("secrets/badmac.yaml", strings.Join(lines, "\n"))
	outside := filepath.Join(t.TempDir(), "outside.yaml")
	os.WriteFile(outside, enc, 0o600)
	open := filepath.Join(p.dir, "open-keys.txt")
	keys, _ := os.ReadFile(filepath.Join(p.dir, "keys.txt"))
	os.WriteFile(open, keys, 0o644)
	for _, c := range []struct {
		name, file string
		env        []string
		want       string
	}{
		{"no identity", "secrets/prod.yaml", []string{"SOPS_AGE_KEY_FILE="}, "no identity of yours decrypts it; it is encrypted for age1"},
		{"tampered value", "secrets/tampered.yaml", env, "api_token: the file was changed after it was encrypted"},
		{"tampered MAC", "secrets/badmac.yaml", env, "the file was changed after it was encrypted"},
		{"truncated", "secrets/truncated.yaml", env, "secrets/truncated.yaml"},
		{"key file others can read", "secrets/prod.yaml", []string{"SOPS_AGE_KEY_FILE=" + open}, "permissions 0644 are too open"},
		{"outside the project", outside, env, "is outside the project"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := p.run(append(c.env, "GOFAB_STATE_DIR="+t.TempDir()), "--set", "file="+c.file, "-H", "127.0.0.2", "t")
			wantCode(t, r, 2)
			mustContain(t, r, c.want)
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n > 1 || strings.Contains(r.stdout, "[127.0.0.2]") {
				t.Errorf("more than one line, or a host reached:\n%s", r)
			}
			noPlaintext(t, "the error", r.stdout+r.stderr)
		})
	}
	// gofab -l lists tasks without decrypting (no identity needed).
	r := p.run([]string{"SOPS_AGE_KEY_FILE="}, "--set", "file=secrets/prod.yaml", "-l")
	wantCode(t, r, 0)
}

// TestSecretsWrongPassphrase: an SSH key with a passphrase is asked for
// it once on the terminal; a wrong one is one line and exit 2.
func TestSecretsWrongPassphrase(t *testing.T) {
	p, _ := secretsProject(t, `
local s = require("secrets").load("secrets/ssh.yaml")
task("t", function() print("got " .. s.api_token) end)
`)
	pub, err := exec.Command("ssh-keygen", "-y", "-P", tb.KeyPassphrase, "-f", tb.EncryptedKey).Output()
	if err != nil {
		t.Fatal(err)
	}
	p.write("secrets/ssh.yaml", "api_token: "+secretToken+"\n")
	r := p.run(nil, "secrets", "encrypt", "-i", "--age", strings.TrimSpace(string(pub)), "secrets/ssh.yaml")
	wantCode(t, r, 0)
	for _, c := range []struct {
		passphrase, want string
	}{{"wrong-passphrase", "incorrect passphrase for " + tb.EncryptedKey}, {tb.KeyPassphrase, "got ***"}} {
		out := onTerminalInput(t, p, c.passphrase+"\n", "-i", tb.EncryptedKey, "-H", "127.0.0.2", "t")
		if !strings.Contains(out, "Passphrase for "+tb.EncryptedKey) || !strings.Contains(out, c.want) || strings.Contains(out, secretToken) {
			t.Errorf("passphrase %q: %s", c.passphrase, out)
		}
	}
}

// TestSecretsEditInterrupted: Ctrl-C while the editor is open leaves the
// encrypted file as it was and no plaintext anywhere.
func TestSecretsEditInterrupted(t *testing.T) {
	p, env := secretsProject(t, "")
	before, _ := os.ReadFile(filepath.Join(p.dir, "secrets", "prod.yaml"))
	fifo := filepath.Join(t.TempDir(), "editor-started")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	editor := p.write("editor.sh", "#!/bin/sh\necho \"$1\" > "+fifo+"\nexec sleep 600\n")
	os.Chmod(editor, 0o755)
	cmd := exec.Command(gofabBin, "secrets", "edit", "secrets/prod.yaml")
	cmd.Dir = p.dir
	cmd.Env = append(append(append([]string{}, p.env...), env...), "EDITOR="+editor)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started, err := os.ReadFile(fifo) // blocks until the editor runs
	if err != nil {
		t.Fatal(err)
	}
	tmp := strings.TrimSpace(string(started))
	if data, err := os.ReadFile(tmp); err != nil || !strings.Contains(string(data), secretPassword) {
		t.Fatalf("the editor's file %s: %q %v", tmp, data, err)
	}
	if fi, _ := os.Stat(filepath.Dir(tmp)); fi == nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the plaintext's directory is not private: %v", fi)
	}
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("gofab secrets edit did not stop on Ctrl-C")
	}
	if _, err := os.Stat(filepath.Dir(tmp)); !os.IsNotExist(err) {
		t.Errorf("the plaintext's directory is still there: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(p.dir, "secrets", "prod.yaml"))
	if string(after) != string(before) {
		t.Errorf("the file changed")
	}
	// A real edit is encrypted back, and sops reads it.
	sed := p.write("sed.sh", "#!/bin/sh\nsed -i 's/"+secretPassword+"/new-password-123/' \"$1\"\n")
	os.Chmod(sed, 0o755)
	r := p.run(append(env, "EDITOR="+sed), "secrets", "edit", "secrets/prod.yaml")
	wantCode(t, r, 0)
	dec := exec.Command(tb.Sops, "decrypt", filepath.Join(p.dir, "secrets", "prod.yaml"))
	dec.Env = append(os.Environ(), append(env, "SOPS_DISABLE_VERSION_CHECK=1")...)
	out, err := dec.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "password: new-password-123") {
		t.Errorf("sops reads the edited file: %v\n%s", err, out)
	}
}

// TestSecretsThousandHosts: a thousand hosts reading one file decrypt it
// once, and the value is hidden on every host.
func TestSecretsThousandHosts(t *testing.T) {
	p, env := secretsProject(t, `
local s = require("secrets").load("secrets/prod.yaml")
task("t", function() print("token " .. s.api_token) end)
`)
	f := simulated(t, 1000)
	r := p.runFor(5*time.Minute, env, "-S", f.sshConfig(), "--output", "json", "-H", "@"+filepath.Join(f.dir, "hosts.txt"), "t")
	wantCode(t, r, 0)
	var decrypted []float64
	hidden := 0
	for _, line := range strings.Split(r.stdout, "\n") {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		if ev["type"] == "secrets" {
			decrypted = append(decrypted, ev["decrypted"].(float64))
		}
		if ev["text"] == "token ***" {
			hidden++
		}
	}
	if len(decrypted) != 1 || decrypted[0] != 1 || hidden != 1000 {
		t.Errorf("decryptions %v, %d hosts printed the hidden token", decrypted, hidden)
	}
	noPlaintext(t, "the run", r.stdout+r.stderr)
}

// TestSecretsGroupVars: an INI inventory's group_vars/web.sops.yaml is
// decrypted (the real sops wrote it) and its values beat the plain ones,
// as with Ansible's community.sops; gofab hosts shows them as ***.
func TestSecretsGroupVars(t *testing.T) {
	p, env := secretsProject(t, `
hosts(require("inventory").file("hosts.ini"))
task("t", function()
  print("db " .. host.vars.db_password .. " " .. host.vars.region)
  sudo("whoami")
end)
`)
	p.write("hosts.ini", "[web]\n127.0.0.2\n127.0.0.3\n")
	os.Mkdir(filepath.Join(p.dir, "group_vars"), 0o755)
	p.write("group_vars/web.yml", "db_password: plain-loses\nregion: eu\n")
	p.write(".sops.yaml", strings.Replace(readFile(t, filepath.Join(p.dir, ".sops.yaml")), "secrets/.*", "(secrets|group_vars)/.*", 1))
	// The sudo password too, as Ansible users keep it: encrypted, so used.
	p.write("group_vars/web.sops.yaml", "db_password: "+secretPassword+"\nansible_become_password: "+tb.Password+"\n")
	r := p.run(env, "secrets", "encrypt", "-i", "group_vars/web.sops.yaml")
	wantCode(t, r, 0)
	r = p.run(env, "-R", "web", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] db *** eu", "[127.0.0.3] db *** eu", "[127.0.0.2] out: root", "[127.0.0.3] out: root")
	mustNotContain(t, r, "ansible_become_password is ignored")
	noPlaintext(t, "the run", r.stdout+r.stderr)
	if strings.Contains(r.stdout+r.stderr, tb.Password) {
		t.Errorf("the become password shows")
	}
	r = p.run(env, "hosts", "--host", "127.0.0.2")
	wantCode(t, r, 0)
	mustContain(t, r, "***")
	noPlaintext(t, "gofab hosts", r.stdout+r.stderr)
	// In clear it is refused, with one note, and sudo has no password.
	p.write("group_vars/web.yml", "db_password: plain-loses\nregion: eu\nansible_become_password: "+tb.Password+"\n")
	os.Remove(filepath.Join(p.dir, "group_vars", "web.sops.yaml"))
	r = p.run(env, "-R", "web", "t")
	mustContain(t, r, "ansible_become_password is ignored in clear")
}

// onTerminalInput runs gofab in the project on a pseudo-terminal, types
// input once it asks for a passphrase, and returns everything the
// terminal was sent.
func onTerminalInput(t *testing.T, p *project, input string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gofabBin, append([]string{"-S", filepath.Join(p.dir, "ssh_config")}, args...)...)
	cmd.Dir = p.dir
	cmd.Env = append(append([]string{}, p.env...), "TERM=xterm", "SOPS_AGE_KEY_FILE=")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	var seen bytes.Buffer
	buf := make([]byte, 4096)
	typed := false
	for {
		n, err := tty.Read(buf)
		seen.Write(buf[:n])
		if !typed && strings.Contains(seen.String(), "Passphrase for") {
			tty.Write([]byte(input))
			typed = true
		}
		if err != nil {
			break
		}
	}
	cmd.Wait()
	return seen.String()
}

// testIdentity is gofab test's public test key (internal/data/secrets).
const testIdentity = "AGE-SECRET-KEY-1C968UJJRS764PFN4ULFLYECTGCC45MMYK4CQUP69G3YL2W76MK5QTVTZM4"

// TestSecretsInRecipeTests: gofab test decrypts fixtures encrypted with
// --test, with no key of the user's, and h:assert_no_secret fails a case
// whose recipe put a secret on a command line, showing it as ***.
func TestSecretsInRecipeTests(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "fabfile.lua"), `
local secrets = require("secrets")
task("safe", function() run("cat > /tmp/token", {stdin = secrets.load("fixture.env").TOKEN}) end)
task("leaky", function() run("echo " .. secrets.load("fixture.env").TOKEN .. " > /tmp/token") end)
`)
	writeFile(t, filepath.Join(dir, "fabfile_test.lua"), `
local t = require("testing")
t.case("safe", function(h) h:run_task("safe"); h:assert_no_secret() end)
t.case("leaky", function(h) h:run_task("leaky"); h:assert_no_secret() end)
`)
	writeFile(t, filepath.Join(dir, "fixture.env"), "TOKEN="+secretToken+"\n")
	r := gofab(t, dir, nil, "", "secrets", "encrypt", "--test", "-i", "fixture.env")
	wantCode(t, r, 0)
	r = gofab(t, dir, []string{"SOPS_AGE_KEY_FILE=/nonexistent"}, "", "test")
	wantCode(t, r, 1)
	mustContain(t, r, "--- FAIL: leaky", "assert_no_secret: a command given to web1 holds a secret (visible in ps): echo *** > /tmp/token")
	if strings.Contains(r.stdout+r.stderr, "--- FAIL: safe") {
		t.Errorf("the safe case failed:\n%s", r)
	}
	noPlaintext(t, "gofab test", r.stdout+r.stderr)
}

// TestSecretsKeysAndCheck: keygen's identity in ~/.config/sops/age is
// found without any variable; updatekeys gives a recipient added to
// .sops.yaml the file (the real sops then opens it with that key alone);
// a Lua inventory's var from a secrets file shows as *** in gofab hosts;
// gofab check warns of a secret on a command line, with its place.
func TestSecretsKeysAndCheck(t *testing.T) {
	p, _ := secretsProject(t, `
local secrets = require("secrets")
local s = secrets.load("secrets/prod.yaml")
hosts({["127.0.0.2"] = {vars = {db_password = s.db.password}}})
task("t", function() run("psql -c 'ALTER USER app PASSWORD ''" .. s.db.password .. "'''") end)
`)
	// keygen's default place, found with no variable set.
	r := p.run(nil, "secrets", "keygen")
	wantCode(t, r, 0)
	second := strings.TrimSpace(r.stdout)
	if _, err := os.Stat(filepath.Join(p.dir, ".config", "sops", "age", "keys.txt")); err != nil {
		t.Fatalf("keygen: %v\n%s", err, r)
	}
	cfg := readFile(t, filepath.Join(p.dir, ".sops.yaml"))
	p.write(".sops.yaml", strings.TrimRight(cfg, "\n")+", "+second+"\n")
	env := []string{"SOPS_AGE_KEY_FILE=" + filepath.Join(p.dir, "keys.txt")}
	r = p.run(env, "secrets", "updatekeys", "secrets/prod.yaml")
	wantCode(t, r, 0)
	dec := exec.Command(tb.Sops, "decrypt", "secrets/prod.yaml")
	dec.Dir = p.dir
	dec.Env = append(os.Environ(), "SOPS_DISABLE_VERSION_CHECK=1", "HOME="+p.dir, "SOPS_AGE_KEY_FILE="+filepath.Join(p.dir, ".config", "sops", "age", "keys.txt"))
	if out, err := dec.CombinedOutput(); err != nil || !strings.Contains(string(out), secretPassword) {
		t.Errorf("sops with the added key alone: %v\n%s", err, out)
	}
	// No SOPS_AGE_KEY_FILE: the second identity, in keys.txt, decrypts.
	r = p.run(nil, "hosts", "--host", "127.0.0.2")
	wantCode(t, r, 0)
	mustContain(t, r, "db_password", "***")
	noPlaintext(t, "gofab hosts", r.stdout+r.stderr)
	r = p.run(nil, "check")
	wantCode(t, r, 0)
	mustContain(t, r, "fabfile.lua:5:", "warning: run's command line holds the secret s.db.password", "{stdin = s.db.password}")
	// Unchanged by the editor: the file is not rewritten.
	before := readFile(t, filepath.Join(p.dir, "secrets", "prod.yaml"))
	r = p.run(append(env, "EDITOR=true"), "secrets", "edit", "secrets/prod.yaml")
	wantCode(t, r, 0)
	mustContain(t, r, "unchanged")
	if readFile(t, filepath.Join(p.dir, "secrets", "prod.yaml")) != before {
		t.Errorf("an unchanged edit rewrote the file")
	}
}
