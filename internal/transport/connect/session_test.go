package connect

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/sshconfig"
)

func TestBackoffAndRetriable(t *testing.T) {
	for n, base := range map[int]time.Duration{1: 250 * time.Millisecond, 2: 500 * time.Millisecond, 3: time.Second, 10: 8 * time.Second} {
		for range 50 {
			if d := backoff(n); d < base/2 || d >= base*3/2 {
				t.Fatalf("backoff(%d) = %s, want within ±50%% of %s", n, d, base)
			}
		}
	}
	ctx := context.Background()
	cases := map[string]bool{
		"dial tcp 127.0.0.1:22: connect: connection refused":                       true,
		"ssh: handshake failed: EOF":                                               true,
		"ssh: handshake failed: ssh: unable to authenticate, attempted methods []": false,
		"host key for x is unknown":                                                false,
		"REMOTE HOST KEY HAS CHANGED for x":                                        false,
		"key /k: passphrase needed":                                                false,
	}
	for msg, want := range cases {
		if got := retriable(ctx, errors.New(msg)); got != want {
			t.Errorf("retriable(%q) = %v, want %v", msg, got, want)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if retriable(done, errors.New("connection refused")) {
		t.Error("a cancelled run retried")
	}
}

// sessionServer serves exec requests on loopback, refusing the first
// refuse sessions and counting the sessions open at once. Each command is
// held open until release is closed, and full is closed when MaxSessions
// are open at once: the test sees the cap reached, not a timing guess.
type sessionServer struct {
	addr             string
	refuse           atomic.Int32
	open, most, runs atomic.Int32
	release, full    chan struct{}
	fullOnce         sync.Once
}

func newSessionServer(t *testing.T, refuse int32) *sessionServer {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s := &sessionServer{release: make(chan struct{}), full: make(chan struct{})}
	s.refuse.Store(refuse)
	s.addr = listenSSH(t, passwordConfig(t, key), s.serve)
	return s
}

func (s *sessionServer) serve(chans <-chan ssh.NewChannel) {
	for nc := range chans {
		if s.refuse.Add(-1) >= 0 {
			nc.Reject(ssh.ResourceShortage, "too many sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go s.exec(ch, creqs)
	}
}

// exec answers a session's exec request: held until release, then exit 0.
func (s *sessionServer) exec(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		req.Reply(true, nil)
		n := s.open.Add(1)
		for m := s.most.Load(); n > m && !s.most.CompareAndSwap(m, n); m = s.most.Load() {
		}
		if n >= MaxSessions {
			s.fullOnce.Do(func() { close(s.full) })
		}
		<-s.release
		s.open.Add(-1)
		s.runs.Add(1)
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
		return
	}
}

// dialTest connects to the server with a password and accepts its key.
func dialTest(t *testing.T, addr string) host.Conn {
	t.Helper()
	dir := t.TempDir()
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "config")
	os.WriteFile(conf, []byte(fmt.Sprintf("Host *\n  Port %s\n  User u\n  UserKnownHostsFile %s/kh\n  IdentityFile %s/none\n", port, dir, dir)), 0o600)
	d := NewDialer(Options{Config: sshconfig.NewLoader(sshconfig.Local{Home: dir}, conf), Password: "pw", AcceptNewHostKeys: true})
	t.Cleanup(d.Close)
	conn, err := d.Dial(context.Background(), host.Addr{Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestSessions: at most MaxSessions commands share one connection at once
// (more wait), and a session the server refuses is tried again.
func TestSessions(t *testing.T) {
	s := newSessionServer(t, 3)
	conn := dialTest(t, s.addr)
	var wg sync.WaitGroup
	errs := make(chan error, 25)
	defer func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
	}()
	for range 25 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, err := conn.Run(context.Background(), &host.Cmd{Command: "true"})
			if err == nil && code != 0 {
				err = fmt.Errorf("exit %d", code)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	// The first MaxSessions commands stay open; the others must wait for
	// a slot, not open an eleventh session.
	select {
	case <-s.full:
	case <-time.After(time.Minute):
		t.Fatalf("never %d sessions at once (%d open)", MaxSessions, s.open.Load())
	}
	close(s.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a command failed: %v", err)
	}
	if n := s.runs.Load(); n != 25 {
		t.Errorf("%d commands ran, want 25", n)
	}
	if m := s.most.Load(); m > MaxSessions {
		t.Errorf("%d sessions at once, want at most %d", m, MaxSessions)
	}
	// Every command ran although the server refused three sessions: those
	// were tried again.
	if s.refuse.Load() >= 0 {
		t.Errorf("the server refused fewer sessions than planned")
	}
}
