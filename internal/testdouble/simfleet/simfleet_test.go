package simfleet

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// start runs a fleet of n hosts with the given faults and returns it and a
// client config that logs in with a key and checks the host key.
func start(t *testing.T, n int, faults map[int]Fault) (*Fleet, *ssh.ClientConfig) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	f, err := Start(Config{Hosts: n, User: "deploy", AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()},
		Password: "pw", Faults: faults, SlowDelay: 300 * time.Millisecond, Limit: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f, &ssh.ClientConfig{User: "deploy", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(f.HostKey()), Timeout: 5 * time.Second}
}

func dial(f *Fleet, i int, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	return ssh.Dial("tcp", net.JoinHostPort(Addr(i), strconv.Itoa(f.Port())), cfg)
}

func run(t *testing.T, c *ssh.Client, cmd, stdin string) (string, error) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out bytes.Buffer
	s.Stdout = &out
	s.Stdin = strings.NewReader(stdin)
	err = s.Run(cmd)
	return out.String(), err
}

// TestCommandsAndAuth: each way to log in, the command set, exit codes.
func TestCommandsAndAuth(t *testing.T) {
	f, cfg := start(t, 3, nil)
	c, err := dial(f, 1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cases := []struct{ cmd, stdin, want string }{
		{"uname -r", "", "6.1.0-fake-amd64\n"},
		{"hostname", "", Addr(1) + "\n"},
		{"echo hi there", "", "hi there\n"},
		{"cat", "piped\n", "piped\n"},
		{"printf '%s%s\\n' tok \"x\" >&2; true", "", ""},
		{"seq 3", "", "1\n2\n3\n"},
	}
	for _, tc := range cases {
		if got, err := run(t, c, tc.cmd, tc.stdin); err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.cmd, got, err, tc.want)
		}
	}
	_, err = run(t, c, "exit 3", "")
	if ee, ok := err.(*ssh.ExitError); !ok || ee.ExitStatus() != 3 {
		t.Errorf("exit 3: %v", err)
	}
	for _, auth := range []ssh.AuthMethod{ssh.Password("pw"), ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
		return []string{"pw"}, nil
	})} {
		pc := *cfg
		pc.Auth = []ssh.AuthMethod{auth}
		c, err := dial(f, 2, &pc)
		if err != nil {
			t.Fatalf("password login: %v", err)
		}
		// A command's round trip orders the server's count of the login
		// (made before it serves any session) before the check below.
		if _, err := run(t, c, "true", ""); err != nil {
			t.Errorf("after a password login: %v", err)
		}
		c.Close()
	}
	bad := *cfg
	bad.Auth = []ssh.AuthMethod{ssh.Password("wrong")}
	if _, err := dial(f, 2, &bad); err == nil {
		t.Error("a wrong password logged in")
	}
	if f.Logins.Load() != 3 {
		t.Errorf("%d logins, want 3", f.Logins.Load())
	}
}

// TestSFTPAndSignals: a put lands (and is dropped), a signal ends a sleep.
func TestSFTPAndSignals(t *testing.T) {
	f, cfg := start(t, 1, nil)
	c, err := dial(f, 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	sc.MkdirAll("/srv/app")
	w, err := sc.Create("/srv/app/file")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bytes.Repeat([]byte("x"), 64<<10))
	w.Close()
	if err := sc.Rename("/srv/app/file", "/srv/app/final"); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Stat("/srv/app/final"); err != nil {
		t.Errorf("stat after rename: %v", err)
	}
	sc.Close()

	s, _ := c.NewSession()
	defer s.Close()
	done := make(chan error, 1)
	if err := s.Start("sleep 30"); err != nil {
		t.Fatal(err)
	}
	go func() { done <- s.Wait() }()
	for f.Commands.Load() < 1 {
		time.Sleep(10 * time.Millisecond)
	}
	s.Signal(ssh.SIGTERM)
	select {
	case err := <-done:
		if ee, ok := err.(*ssh.ExitError); !ok || ee.Signal() != "TERM" {
			t.Errorf("after a signal: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the signal did not end the sleep")
	}
}

// TestFaults: refuse, stall, drop and slow hosts behave as named.
func TestFaults(t *testing.T) {
	f, cfg := start(t, 5, map[int]Fault{1: Refuse, 2: Stall, 3: Drop, 4: Slow})
	if _, err := dial(f, 1, cfg); err == nil {
		t.Error("a refusing host let a client in")
	}
	// A stalled host accepts the connection and never speaks.
	conn, err := net.Dial("tcp", net.JoinHostPort(Addr(2), strconv.Itoa(f.Port())))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	conn.SetDeadline(start.Add(500 * time.Millisecond))
	if _, _, _, err := ssh.NewClientConn(conn, "stalled", cfg); err == nil {
		t.Error("a stalled host finished a handshake")
	} else if time.Since(start) < 400*time.Millisecond {
		t.Errorf("a stalled host failed at once: %v", err)
	}
	conn.Close()
	c, err := dial(f, 3, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, c, "true", ""); err == nil {
		t.Error("a dropping host ran the command")
	}
	c, err = dial(f, 4, cfg)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if out, err := run(t, c, "echo late", ""); err != nil || out != "late\n" || time.Since(start) < 300*time.Millisecond {
		t.Errorf("slow host: %q %v after %s", out, err, time.Since(start))
	}
}
