// Package simfleet serves SSH for a simulated fleet from one process: every
// host is its own loopback address (127.10.x.y) on one port, with real
// x/crypto/ssh handshakes and authentication (public key, password,
// keyboard-interactive), commands answered in-process by a fake host's
// shell (internal/testdouble/fakehost), an SFTP subsystem whose writes are counted and
// dropped, and faults injected per host. It listens on loopback addresses
// only and stops by itself after a time limit. Benchmarks and the
// thousand-host tests use it where one real sshd could not keep up.
package simfleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/testdouble/fakehost"
)

// Fault is what a host does wrong.
type Fault int

// The faults a host can be given.
const (
	None Fault = iota
	// Refuse closes every connection at once.
	Refuse
	// Stall accepts connections and never answers the handshake.
	Stall
	// Drop closes the connection when a command starts.
	Drop
	// Slow waits Config.SlowDelay before running each command.
	Slow
)

// ParseFault reads a fault's name: refuse, stall, drop or slow.
func ParseFault(s string) (Fault, error) {
	switch s {
	case "refuse":
		return Refuse, nil
	case "stall":
		return Stall, nil
	case "drop":
		return Drop, nil
	case "slow":
		return Slow, nil
	}
	return None, fmt.Errorf("unknown fault %q (refuse, stall, drop or slow)", s)
}

// Config describes a fleet.
type Config struct {
	// Hosts is how many hosts to serve (at most 254*256).
	Hosts int
	// Port every host listens on; 0 picks a free one.
	Port int
	// User is the login user; AuthorizedKeys and Password are what it may
	// log in with.
	User           string
	AuthorizedKeys []ssh.PublicKey
	Password       string
	// Faults maps host indexes to their fault.
	Faults map[int]Fault
	// SlowDelay is how long a Slow host waits (default 2 s).
	SlowDelay time.Duration
	// Limit stops the fleet after this long (default 10 minutes).
	Limit time.Duration
}

// Fleet is a running simulated fleet.
type Fleet struct {
	cfg       Config
	hostKey   ssh.Signer
	server    *ssh.ServerConfig
	port      int
	listeners []net.Listener
	ctx       context.Context
	stop      context.CancelFunc
	wg        sync.WaitGroup

	mu    sync.Mutex
	hosts map[int]*fakehost.Host

	// Logins and Commands count successful logins and commands run.
	Logins, Commands atomic.Int64
}

// Addr returns host i's address.
func Addr(i int) string { return fmt.Sprintf("127.%d.%d.%d", 10+i/(254*256), i/254%256, i%254+1) }

// Start generates a host key, raises the open-file limit as far as it
// may, and listens on every host's address.
func Start(cfg Config) (*Fleet, error) {
	if cfg.Hosts < 1 || cfg.Hosts > 254*256 {
		return nil, fmt.Errorf("simfleet: %d hosts: give 1 to %d", cfg.Hosts, 254*256)
	}
	if cfg.SlowDelay == 0 {
		cfg.SlowDelay = 2 * time.Second
	}
	if cfg.Limit == 0 {
		cfg.Limit = 10 * time.Minute
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	raiseFileLimit(2*cfg.Hosts + 1024)
	ctx, stop := context.WithTimeout(context.Background(), cfg.Limit)
	f := &Fleet{cfg: cfg, hostKey: signer, port: cfg.Port, ctx: ctx, stop: stop, hosts: map[int]*fakehost.Host{}}
	f.server = f.serverConfig()
	for i := 0; i < cfg.Hosts; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(Addr(i), strconv.Itoa(f.port)))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("simfleet: listen on host %d: %w", i, err)
		}
		if f.port == 0 {
			f.port = l.Addr().(*net.TCPAddr).Port
		}
		f.listeners = append(f.listeners, l)
		f.wg.Add(1)
		go f.serve(i, l)
	}
	context.AfterFunc(ctx, func() { f.closeListeners() })
	return f, nil
}

// raiseFileLimit lifts RLIMIT_NOFILE to at least n where it can (root may
// raise the hard limit too).
func raiseFileLimit(n int) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil || lim.Cur >= uint64(n) {
		return
	}
	want := syscall.Rlimit{Cur: uint64(n), Max: max(lim.Max, uint64(n))}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// Port returns the port every host listens on.
func (f *Fleet) Port() int { return f.port }

// HostKey returns the fleet's host key.
func (f *Fleet) HostKey() ssh.PublicKey { return f.hostKey.PublicKey() }

// KnownHostsLine is one known_hosts line that covers every host.
func (f *Fleet) KnownHostsLine() string {
	return fmt.Sprintf("[127.1*]:%d %s", f.port, ssh.MarshalAuthorizedKey(f.hostKey.PublicKey()))
}

// Host returns the fake host behind host i (made on first use): its log
// says what it ran.
func (f *Fleet) Host(i int) *fakehost.Host {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.hosts[i]
	if !ok {
		h = fakehost.New(Addr(i), f.cfg.User)
		h.RealSleep = true
		f.hosts[i] = h
	}
	return h
}

// Close stops the fleet and waits for its connections to end.
func (f *Fleet) Close() {
	f.stop()
	f.closeListeners()
	f.wg.Wait()
}

func (f *Fleet) closeListeners() {
	for _, l := range f.listeners {
		l.Close()
	}
}

// serve accepts host i's connections.
func (f *Fleet) serve(i int, l net.Listener) {
	defer f.wg.Done()
	fault := f.cfg.Faults[i]
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		switch fault {
		case Refuse:
			c.Close()
			continue
		case Stall:
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				<-f.ctx.Done()
				c.Close()
			}()
			continue
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.handle(i, c, fault)
		}()
	}
}

// serverConfig is the fleet's SSH server side: its logins and host key.
func (f *Fleet) serverConfig() *ssh.ServerConfig {
	authorized := func(k ssh.PublicKey) bool {
		for _, a := range f.cfg.AuthorizedKeys {
			if string(a.Marshal()) == string(k.Marshal()) {
				return true
			}
		}
		return false
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(m ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if m.User() == f.cfg.User && authorized(k) {
				return nil, nil
			}
			return nil, errors.New("key not authorized")
		},
	}
	if f.cfg.Password != "" {
		cfg.PasswordCallback = func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if m.User() == f.cfg.User && string(pw) == f.cfg.Password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
		cfg.KeyboardInteractiveCallback = func(m ssh.ConnMetadata, ask ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := ask("", "", []string{"Password: "}, []bool{false})
			if err == nil && len(answers) == 1 && m.User() == f.cfg.User && answers[0] == f.cfg.Password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	cfg.AddHostKey(f.hostKey)
	return cfg
}

// handle serves one connection to host i.
func (f *Fleet) handle(i int, c net.Conn, fault Fault) {
	defer c.Close()
	stop := context.AfterFunc(f.ctx, func() { c.Close() })
	defer stop()
	sc, chans, reqs, err := ssh.NewServerConn(c, f.server)
	if err != nil {
		return
	}
	defer sc.Close()
	f.Logins.Add(1)
	go ssh.DiscardRequests(reqs)
	h := f.Host(i)
	sink := newSinkFS(f.cfg.User)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go f.session(h, sink, c, ch, creqs, fault)
	}
}

// session serves one session channel: exec, or the sftp subsystem.
func (f *Fleet) session(h *fakehost.Host, sink *sinkFS, c net.Conn, ch ssh.Channel, reqs <-chan *ssh.Request, fault Fault) {
	defer ch.Close()
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	for req := range reqs {
		switch req.Type {
		case "env", "pty-req", "window-change":
			req.Reply(true, nil)
		case "signal":
			cancel()
			req.Reply(true, nil)
		case "subsystem":
			var p struct{ Name string }
			if ssh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			go afterStart(reqs, cancel)
			sink.serve(ch)
			return
		case "exec":
			var p struct{ Command string }
			if ssh.Unmarshal(req.Payload, &p) != nil {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			go afterStart(reqs, cancel)
			f.exec(ctx, h, c, ch, p.Command, fault)
			return
		default:
			req.Reply(false, nil)
		}
	}
}

// afterStart answers a session's requests once its command or subsystem
// runs: a signal stops it, anything else is refused.
func afterStart(reqs <-chan *ssh.Request, stop context.CancelFunc) {
	for r := range reqs {
		if r.Type == "signal" {
			stop()
		}
		r.Reply(r.Type == "signal", nil)
	}
}

// exec runs a command in the host's shell and reports how it ended.
func (f *Fleet) exec(ctx context.Context, h *fakehost.Host, c net.Conn, ch ssh.Channel, command string, fault Fault) {
	switch fault {
	case Drop:
		c.Close()
		return
	case Slow:
		select {
		case <-time.After(f.cfg.SlowDelay):
		case <-ctx.Done():
		}
	}
	f.Commands.Add(1)
	// The command reads the channel through a pipe that is closed when it
	// ends, so nothing waits on the channel after that.
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, ch)
		pw.CloseWithError(err)
	}()
	code, err := h.Conn(false).Run(ctx, &host.Cmd{Command: command, Stdin: pr, Stdout: ch, Stderr: ch.Stderr()})
	pr.Close()
	if err != nil || ctx.Err() != nil {
		ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
			Signal     string
			CoreDumped bool
			Error      string
			Lang       string
		}{Signal: "TERM"}))
		return
	}
	ch.CloseWrite()
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
}
