// Package connect connects to hosts: over SSH with golang.org/x/crypto/ssh
// (ssh_config, agent and key authentication, known_hosts checking, jump
// hosts), or to the built-in "local" host through os/exec. Both give a
// host.Conn.
package connect

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/skeema/knownhosts"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/sshconfig"
)

// DefaultConnectTimeout bounds TCP connect plus SSH handshake when neither
// -t nor ConnectTimeout says otherwise.
const DefaultConnectTimeout = 10 * time.Second

// MaxSessions is how many commands run at once on one connection; more wait.
// It is OpenSSH's default MaxSessions.
const MaxSessions = 10

// Options configure a Dialer.
type Options struct {
	// Config resolves ssh_config for each host.
	Config *sshconfig.Loader
	// User and Port are the defaults given with -u and --port; a user or
	// port in the host string wins over them, and they win over ssh_config.
	User string
	Port int
	// IdentityFiles are keys given with -i, tried before ssh_config's.
	IdentityFiles []string
	// Password is the login password (-I or GOFAB_PASSWORD), or "".
	Password string
	// AgentSocket is the ssh-agent socket (SSH_AUTH_SOCK), or "".
	AgentSocket string
	// ConnectTimeout overrides ssh_config's ConnectTimeout when non-zero.
	ConnectTimeout time.Duration
	// AcceptNewHostKeys records unknown host keys instead of refusing them.
	AcceptNewHostKeys bool
	// Prompter asks for key passphrases; nil means nobody can answer.
	Prompter host.Prompter
	// Gateway, when set, is a jump host (ProxyJump syntax, chains with
	// commas) every host is reached through, instead of its ProxyJump.
	Gateway string
	// ConnectionAttempts is how many times a connection is tried (at least
	// once); failures other than authentication and host keys are retried
	// with jittered exponential backoff.
	ConnectionAttempts int
	// Keepalive, when non-zero, overrides ServerAliveInterval.
	Keepalive time.Duration
	// MaxHandshakes caps TCP connects plus SSH handshakes in flight, so
	// many hosts do not trip sshd's MaxStartups (default 64).
	MaxHandshakes int
	// NoAgentKeys leaves the agent's keys out of authentication (-a); the
	// agent may still be forwarded.
	NoAgentKeys bool
	// NoDefaultKeys skips OpenSSH's default key files (~/.ssh/id_*) when
	// ssh_config names none (-k).
	NoDefaultKeys bool
	// ForwardAgent forwards AgentSocket's agent to every host (-A); a
	// host's ForwardAgent in ssh_config (or the inventory) does it for it.
	ForwardAgent bool
	// Hosts holds per-host settings from the inventory (address, key,
	// gateway) by host name; they win over ssh_config and Gateway.
	Hosts map[string]sshconfig.Overrides
}

// DefaultMaxHandshakes is the default cap on handshakes in flight.
const DefaultMaxHandshakes = 64

// MaxJumpDials caps connections being opened through one jump host at
// once: OpenSSH's default MaxStartups starts refusing past 10.
const MaxJumpDials = 10

// Dialer opens connections. It caches parsed keys and known_hosts files for
// the whole run and is safe for concurrent use.
type Dialer struct {
	opts Options

	keysMu sync.Mutex
	keys   map[string]*keyEntry

	khMu    sync.Mutex
	khDBs   map[string]*knownhosts.HostKeyDB // nil value: no file exists
	khAdded map[string]bool

	agentOnce    sync.Once
	agentSigners []ssh.Signer

	resolvedMu sync.Mutex
	resolved   map[host.Addr]*sshconfig.Config

	// handshakes holds a token for each handshake in flight.
	handshakes chan struct{}
	jumpsMu    sync.Mutex
	jumps      map[string]*jump
}

// jump is a connection to a jump host (or chain) shared by every host
// reached through it.
type jump struct {
	// lock is held (a token in it) while the connection is checked or
	// opened; waiting for it honours the context.
	lock   chan struct{}
	client *ssh.Client
	dials  chan struct{} // MaxJumpDials tokens
}

// NewDialer returns a Dialer with the given options.
func NewDialer(opts Options) *Dialer {
	if opts.MaxHandshakes <= 0 {
		opts.MaxHandshakes = DefaultMaxHandshakes
	}
	return &Dialer{opts: opts, keys: map[string]*keyEntry{}, khDBs: map[string]*knownhosts.HostKeyDB{},
		khAdded: map[string]bool{}, resolved: map[host.Addr]*sshconfig.Config{},
		handshakes: make(chan struct{}, opts.MaxHandshakes), jumps: map[string]*jump{}}
}

// Resolve returns the ssh_config of addr with the Dialer's defaults applied,
// resolving each address once per run.
func (d *Dialer) Resolve(addr host.Addr) (*sshconfig.Config, error) {
	d.resolvedMu.Lock()
	defer d.resolvedMu.Unlock()
	if cfg, ok := d.resolved[addr]; ok {
		return cfg, nil
	}
	ov := d.opts.Hosts[addr.Host]
	ov.User, ov.Port = d.opts.User, d.opts.Port
	if addr.User != "" {
		ov.User = addr.User
	}
	if addr.Port != 0 {
		ov.Port = addr.Port
	}
	cfg, err := d.opts.Config.Resolve(addr.Host, ov)
	if err == nil {
		d.resolved[addr] = cfg
	}
	return cfg, err
}

// Dial connects to addr: the local host through os/exec, anything else over
// SSH. Errors are *host.ConnectError.
func (d *Dialer) Dial(ctx context.Context, addr host.Addr) (host.Conn, error) {
	if addr.IsLocal() {
		return Local{}, nil
	}
	c, err := d.dialConn(ctx, addr)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (d *Dialer) dialConn(ctx context.Context, addr host.Addr) (*sshConn, error) {
	attempts := max(d.opts.ConnectionAttempts, 1)
	for i := 1; ; i++ {
		client, cfg, err := d.dialVia(ctx, addr, nil, 0)
		if err == nil {
			keepalive := time.Duration(cfg.ServerAliveInterval) * time.Second
			if d.opts.Keepalive > 0 {
				keepalive = d.opts.Keepalive
			}
			c := newSSHConn(client, keepalive, cfg.ServerAliveCountMax,
				func(ctx context.Context) (*sshConn, error) { return d.dialConn(ctx, addr) })
			if d.opts.ForwardAgent || cfg.ForwardAgent {
				if err := c.forwardAgent(d.opts.AgentSocket); err != nil {
					c.Close()
					return nil, &host.ConnectError{Host: addr.String(), Err: err}
				}
			}
			return c, nil
		}
		if i >= attempts || !retriable(ctx, err) {
			if i > 1 {
				err = fmt.Errorf("%w (after %d attempts)", err, i)
			}
			return nil, &host.ConnectError{Host: addr.String(), Err: err}
		}
		if err := sleep(ctx, backoff(i)); err != nil {
			return nil, &host.ConnectError{Host: addr.String(), Err: err}
		}
	}
}

// retriable reports whether a failed connection is worth trying again:
// not when ctx ended, authentication failed or a host key was refused.
func retriable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	msg := err.Error()
	for _, final := range []string{"unable to authenticate", "no authentication methods", "passphrase", "host key", "HOST KEY"} {
		if strings.Contains(msg, final) {
			return false
		}
	}
	return true
}

// backoff is the wait before attempt n+1: 250 ms doubling up to 8 s, with
// ±50 % jitter so many hosts do not retry in step.
func backoff(n int) time.Duration {
	base := min(250*time.Millisecond<<(n-1), 8*time.Second)
	return base/2 + rand.N(base)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Close closes the connections to jump hosts.
func (d *Dialer) Close() {
	d.jumpsMu.Lock()
	defer d.jumpsMu.Unlock()
	for _, j := range d.jumps {
		j.lock <- struct{}{}
		if j.client != nil {
			j.client.Close()
		}
		<-j.lock
	}
}

// sharedJump returns the connection to the jump host (or chain) spec,
// opening it on first use and again when it was lost.
func (d *Dialer) sharedJump(ctx context.Context, spec string, depth int) (*jump, error) {
	// A jump host whose own ProxyJump leads back to it (ssh_config's
	// Host a / ProxyJump a) would wait for itself.
	chain, _ := ctx.Value(jumpChainKey{}).([]string)
	if slices.Contains(chain, spec) {
		return nil, fmt.Errorf("ProxyJump loop: %s -> %s", strings.Join(chain, " -> "), spec)
	}
	ctx = context.WithValue(ctx, jumpChainKey{}, append(slices.Clip(chain), spec))
	d.jumpsMu.Lock()
	j, ok := d.jumps[spec]
	if !ok {
		j = &jump{lock: make(chan struct{}, 1), dials: make(chan struct{}, MaxJumpDials)}
		d.jumps[spec] = j
	}
	d.jumpsMu.Unlock()
	select {
	case j.lock <- struct{}{}:
		defer func() { <-j.lock }()
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	if j.client != nil {
		if _, _, err := j.client.SendRequest("keepalive@openssh.com", true, nil); err == nil {
			return j, nil
		}
		j.client.Close()
		j.client = nil
	}
	client, err := d.dialJumps(ctx, spec, depth)
	if err != nil {
		return nil, err
	}
	j.client = client
	return j, nil
}

// jumpChainKey keys the jump specs being opened, outermost first, in a
// dial's context.
type jumpChainKey struct{}

// dialVia connects to addr: over TCP, or through the client via when it is
// not nil, else through addr's own ProxyJump chain. Closing the returned
// client also closes the hops under it.
func (d *Dialer) dialVia(ctx context.Context, addr host.Addr, via *ssh.Client, depth int) (*ssh.Client, *sshconfig.Config, error) {
	if depth > 8 {
		return nil, nil, errors.New("ProxyJump chain is longer than 8 hops (a loop?)")
	}
	cfg, err := d.Resolve(addr)
	if err != nil {
		return nil, nil, err
	}
	timeout := d.connectTimeout(cfg)
	target := net.JoinHostPort(cfg.HostName, strconv.Itoa(cfg.Port))
	jumpSpec := cfg.ProxyJump
	if depth == 0 && d.opts.Gateway != "" && d.opts.Hosts[addr.Host].ProxyJump == "" {
		jumpSpec = d.opts.Gateway
	}
	// A hop of a chain owns the client it came through; a host reached
	// through a shared jump host does not.
	owned := via != nil
	if via == nil && jumpSpec != "" {
		j, err := d.sharedJump(ctx, jumpSpec, depth)
		if err != nil {
			return nil, nil, err
		}
		select {
		case j.dials <- struct{}{}:
			defer func() { <-j.dials }()
		case <-ctx.Done():
			return nil, nil, context.Cause(ctx)
		}
		via = j.client
	}
	select {
	case d.handshakes <- struct{}{}:
		defer func() { <-d.handshakes }()
	case <-ctx.Done():
		return nil, nil, context.Cause(ctx)
	}
	conn, err := open(ctx, via, cfg, addr.Host, target, timeout)
	if err != nil {
		if owned {
			via.Close()
		}
		return nil, nil, err
	}
	client, err := d.handshake(ctx, conn, cfg, target, timeout)
	if err != nil {
		if owned {
			via.Close()
		}
		if cc, isCmd := conn.(*cmdConn); isCmd {
			err = cc.explain(cfg.ProxyCommand, err)
		}
		return nil, nil, err
	}
	if owned {
		go func() { client.Wait(); via.Close() }()
	}
	return client, cfg, nil
}

// connectTimeout is -t, else the host's ConnectTimeout, else the default.
func (d *Dialer) connectTimeout(cfg *sshconfig.Config) time.Duration {
	if t := d.opts.ConnectTimeout; t != 0 {
		return t
	}
	if cfg.ConnectTimeout != 0 {
		return cfg.ConnectTimeout
	}
	return DefaultConnectTimeout
}

// open opens the byte stream the SSH handshake runs over: a channel
// through the jump host via, cfg's ProxyCommand, or TCP.
func open(ctx context.Context, via *ssh.Client, cfg *sshconfig.Config, original, target string, timeout time.Duration) (net.Conn, error) {
	switch {
	case via != nil:
		dctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		conn, err := via.DialContext(dctx, "tcp", target)
		if err != nil {
			return nil, fmt.Errorf("via jump host: dial %s: %w", target, err)
		}
		return conn, nil
	case cfg.ProxyCommand != "":
		return proxyCommand(cfg, original)
	default:
		nd := net.Dialer{Timeout: timeout}
		return nd.DialContext(ctx, "tcp", target)
	}
}

// dialJumps connects through a ProxyJump list "a,user@b:2222": the first hop
// with its own configuration, each next one through the previous.
func (d *Dialer) dialJumps(ctx context.Context, spec string, depth int) (*ssh.Client, error) {
	var client *ssh.Client
	for _, hop := range strings.Split(spec, ",") {
		addr, err := host.Parse(strings.TrimPrefix(hop, "ssh://"))
		if err != nil {
			if client != nil {
				client.Close()
			}
			return nil, fmt.Errorf("ProxyJump: %w", err)
		}
		if client, _, err = d.dialVia(ctx, addr, client, depth+1); err != nil {
			return nil, fmt.Errorf("jump host %s: %w", addr, err)
		}
	}
	return client, nil
}

// handshake runs the SSH handshake on conn within timeout, closing conn when
// ctx ends first.
func (d *Dialer) handshake(ctx context.Context, conn net.Conn, cfg *sshconfig.Config, target string, timeout time.Duration) (*ssh.Client, error) {
	hostKeys, err := d.hostKeyChecker(cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	tried := &authTried{}
	config, err := d.clientConfig(cfg, hostKeys, tried, target, timeout)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, target, config)
	stopped := stop()
	if err != nil {
		conn.Close()
		if !stopped {
			return nil, ctx.Err()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("ssh handshake with %s timed out after %s", target, timeout)
		}
		// x/crypto/ssh says an authentication failure only in its text
		// ("ssh: unable to authenticate, attempted methods …"): it has
		// no error type or value for it.
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("%w as %s@%s (%s)%s", err, cfg.User, cfg.Host, tried, d.userOverride(cfg))
		}
		return nil, explainNoCommonKey(err, target, config.HostKeyAlgorithms)
	}
	if !stopped {
		c.Close()
		return nil, ctx.Err()
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// clientConfig is the SSH client configuration for cfg's host at target.
func (d *Dialer) clientConfig(cfg *sshconfig.Config, hostKeys *hostKeys, tried *authTried, target string, timeout time.Duration) (*ssh.ClientConfig, error) {
	auth, err := d.authMethods(cfg, tried)
	if err != nil {
		return nil, err
	}
	return &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              auth,
		HostKeyCallback:   hostKeys.callback,
		HostKeyAlgorithms: hostKeys.algorithms(target),
		Timeout:           timeout,
	}, nil
}

// ClientConfig is the SSH client configuration gofab uses for addr (user,
// keys, agent, password, known_hosts checking), for programs that run the
// SSH handshake themselves over Stream's connection, such as go-git's SSH
// transport. Its host key callback checks addr's resolved name, whatever
// name the caller passes.
func (d *Dialer) ClientConfig(addr host.Addr) (*ssh.ClientConfig, error) {
	cfg, err := d.Resolve(addr)
	if err != nil {
		return nil, err
	}
	hostKeys, err := d.hostKeyChecker(cfg)
	if err != nil {
		return nil, err
	}
	target := net.JoinHostPort(cfg.HostName, strconv.Itoa(cfg.Port))
	config, err := d.clientConfig(cfg, hostKeys, &authTried{}, target, d.connectTimeout(cfg))
	if err != nil {
		return nil, err
	}
	check := config.HostKeyCallback
	config.HostKeyCallback = func(_ string, remote net.Addr, key ssh.PublicKey) error { return check(target, remote, key) }
	return config, nil
}

// Stream opens the byte stream an SSH handshake with addr runs over, as
// a connection to it would: TCP to its HostName and Port, its
// ProxyCommand, or a channel through its ProxyJump hosts.
func (d *Dialer) Stream(ctx context.Context, addr host.Addr) (net.Conn, error) {
	cfg, err := d.Resolve(addr)
	if err != nil {
		return nil, err
	}
	var via *ssh.Client
	if cfg.ProxyJump != "" {
		j, err := d.sharedJump(ctx, cfg.ProxyJump, 0)
		if err != nil {
			return nil, err
		}
		via = j.client
	}
	target := net.JoinHostPort(cfg.HostName, strconv.Itoa(cfg.Port))
	return open(ctx, via, cfg, addr.Host, target, d.connectTimeout(cfg))
}
