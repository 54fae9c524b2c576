package tests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testbed is what tests/testbed.sh set up.
type testbed struct {
	Dir, Port, User, NPUser, Password            string
	Key, EncryptedKey, KeyPassphrase, KnownHosts string
	OtherHostKey                                 string
	// Sops is the real sops tool (tests/testbed.sh builds it).
	Sops string
}

var (
	tb       *testbed
	gofabBin string
	skipWhy  string
	repoRoot string
	buildErr error
)

func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	repoRoot = filepath.Dir(wd)
	envFile := os.Getenv("GOFAB_TESTBED")
	if envFile == "" {
		skipWhy = "no testbed: run ./test.sh (GOFAB_TESTBED is unset)"
		if os.Getenv("GOFAB_REQUIRE_TESTBED") == "1" {
			fmt.Fprintln(os.Stderr, "tests: GOFAB_REQUIRE_TESTBED=1 but GOFAB_TESTBED is unset")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "tests: no testbed, so the tests against a real sshd are skipped: ./test.sh sets it up (as root) and runs every test")
	} else {
		var err error
		if tb, err = readTestbed(envFile); err != nil {
			fmt.Fprintln(os.Stderr, "tests:", err)
			os.Exit(1)
		}
	}
	tmp, err := os.MkdirTemp("", "gofab-bin-")
	if err != nil {
		panic(err)
	}
	gofabBin = filepath.Join(tmp, "gofab")
	args := []string{"build", "-o", gofabBin}
	if raceEnabled {
		args = append(args, "-race")
		// A race-built program sleeps a second before it exits (GORACE's
		// atexit_sleep_ms, 1000 by default), to let goroutines still
		// running report a race; gofab has none left running at exit, and
		// the suite runs it about a thousand times. A race is reported when
		// it happens and still makes the command exit 66.
		if !strings.Contains(os.Getenv("GORACE"), "atexit_sleep_ms") {
			os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
		}
	}
	cmd := exec.Command("go", append(args, "./cmd/gofab")...)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "tests: build gofab: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// baseEnv is the environment gofab runs in for a test: HOME, PATH, and
// GORACE (set in TestMain) so a race-built gofab exits at once.
func baseEnv(home string) []string {
	return []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GORACE=" + os.Getenv("GORACE")}
}

func readTestbed(path string) (*testbed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read testbed env: %w", err)
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			kv[k] = v
		}
	}
	return &testbed{
		Dir: kv["GOFAB_TB_DIR"], Port: kv["GOFAB_TB_PORT"], User: kv["GOFAB_TB_USER"], NPUser: kv["GOFAB_TB_NP_USER"],
		Password: kv["GOFAB_TB_PASSWORD"],
		Key:      kv["GOFAB_TB_KEY"], EncryptedKey: kv["GOFAB_TB_ENCRYPTED_KEY"], KeyPassphrase: kv["GOFAB_TB_KEY_PASSPHRASE"],
		KnownHosts: kv["GOFAB_TB_KNOWN_HOSTS"], OtherHostKey: kv["GOFAB_TB_OTHER_HOST_KEY"], Sops: kv["GOFAB_SOPS"],
	}, nil
}

// needTestbed skips the test when no sshd testbed is available.
func needTestbed(t *testing.T) {
	t.Helper()
	if tb == nil {
		t.Skip(skipWhy)
	}
}

// project is a working directory with a fabfile and an ssh config that
// points at the testbed.
type project struct {
	t   *testing.T
	dir string
	env []string
}

// newProject writes fabfile (when non-empty) and an ssh_config whose Host *
// block uses the testbed's port, user, key and known_hosts, plus extra
// lines placed before it.
func newProject(t *testing.T, fabfile, extraSSHConfig string) *project {
	t.Helper()
	dir := t.TempDir()
	p := &project{t: t, dir: dir, env: append(baseEnv(dir), "NO_COLOR=1")}
	if fabfile != "" {
		p.write("fabfile.lua", fabfile)
	}
	if tb != nil {
		p.write("ssh_config", extraSSHConfig+fmt.Sprintf(`
Host *
  Port %s
  User %s
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile %s
`, tb.Port, tb.User, tb.Key, tb.KnownHosts))
	}
	return p
}

func (p *project) write(name, content string) string {
	p.t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// result is one gofab run.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// run runs gofab in the project with the testbed's ssh config and returns
// its output and exit status. It fails the test if gofab runs for more
// than a minute.
func (p *project) run(env []string, args ...string) result {
	p.t.Helper()
	return p.runFor(time.Minute, env, args...)
}

// runFor is run with another limit than a minute.
func (p *project) runFor(limit time.Duration, env []string, args ...string) result {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	full := args
	if tb != nil {
		full = append([]string{"-S", filepath.Join(p.dir, "ssh_config")}, args...)
	}
	cmd := exec.CommandContext(ctx, gofabBin, full...)
	cmd.Dir = p.dir
	cmd.Env = append(append([]string{}, p.env...), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		p.t.Fatalf("gofab %v hung: %v\n%s%s", args, ctx.Err(), stdout.String(), stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		p.t.Fatal(err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// hosts returns n loopback host strings 127.0.0.first … joined by commas.
func hosts(first, n int) string {
	hs := make([]string, n)
	for i := range hs {
		hs[i] = fmt.Sprintf("127.0.0.%d", first+i)
	}
	return strings.Join(hs, ",")
}

func mustContain(t *testing.T, r result, parts ...string) {
	t.Helper()
	all := r.stdout + r.stderr
	for _, p := range parts {
		if !strings.Contains(all, p) {
			t.Errorf("output lacks %q\n%s", p, r)
		}
	}
}

func mustNotContain(t *testing.T, r result, parts ...string) {
	t.Helper()
	all := r.stdout + r.stderr
	for _, p := range parts {
		if strings.Contains(all, p) {
			t.Errorf("output contains %q\n%s", p, r)
		}
	}
}

func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit status %d, want %d\n%s", r.code, code, r)
	}
}

// editConfig replaces old with new in the project's ssh_config.
func (p *project) editConfig(old, new string) {
	p.t.Helper()
	path := filepath.Join(p.dir, "ssh_config")
	cfg, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(cfg), old) {
		p.t.Fatalf("ssh_config lacks %q (%v)", old, err)
	}
	p.write("ssh_config", strings.Replace(string(cfg), old, new, 1))
}

// trust adds the testbed's host key for the proxy's address to a copy of
// the known_hosts file the project's ssh config uses.
func (p *project) trust(proxy *faultProxy) {
	p.t.Helper()
	pub, err := os.ReadFile(filepath.Join(tb.Dir, "host_ed25519.pub"))
	if err != nil {
		p.t.Fatal(err)
	}
	known, err := os.ReadFile(tb.KnownHosts)
	if err != nil {
		p.t.Fatal(err)
	}
	_, port, _ := strings.Cut(proxy.addr, ":")
	fields := strings.Fields(string(pub))
	kh := p.write("known_hosts_proxy", string(known)+"[127.0.0.1]:"+port+" "+fields[0]+" "+fields[1]+"\n")
	p.editConfig("UserKnownHostsFile "+tb.KnownHosts, "UserKnownHostsFile "+kh)
}

// runUntil starts gofab with the project's ssh config, calls act once a
// stdout line ends with marker, and returns gofab's exit status and every
// stdout line. It fails the test if the marker never shows.
func (p *project) runUntil(marker string, act func(), args ...string) (int, string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gofabBin, append([]string{"-S", filepath.Join(p.dir, "ssh_config")}, args...)...)
	cmd.Dir, cmd.Env = p.dir, p.env
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout // errors and the recap are on stderr
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var all []string
	acted := false
	for sc.Scan() {
		all = append(all, sc.Text())
		if !acted && strings.HasSuffix(sc.Text(), marker) {
			act()
			acted = true
		}
	}
	err := cmd.Wait()
	text := strings.Join(all, "\n")
	if !acted {
		p.t.Fatalf("gofab never printed %q\n%s", marker, text)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		p.t.Fatal(err)
	}
	return code, text
}
