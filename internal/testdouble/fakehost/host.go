// Package fakehost is a host that exists only in memory, for gofab test:
// a file system with modes, owners and symlinks, a POSIX shell
// (mvdan.cc/sh) whose external commands are scripted responses or
// emulations of the few tools gofab's built-ins use (cat, cp, mv, chmod,
// stat, apt-get, systemctl, …), and a log of every command it was given.
// It never touches this machine's files or runs its programs.
package fakehost

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/yuin/gopher-lua/pm"

	"github.com/gofab/gofab/internal/base/host"
)

// Response is a scripted answer to the commands that match Pattern.
type Response struct {
	Pattern        string
	Stdout, Stderr string
	Code           int
	// Writes are files the command leaves behind (path → content),
	// written as the user it ran as: what a real program would make.
	Writes map[string]string
}

// Command is one command the host was given.
type Command struct {
	// Kind is "run", "sudo", "local" or "helper" (see host.Call).
	Kind string
	// Command is the command as the recipe gave it; Line is what the host
	// ran (with cd, exports and prefixes).
	Command, Line string
	// User is whom it ran as.
	User string
	Code int
	// Unscripted are the programs it called that nothing answered.
	Unscripted []string
	// Run counts the host's runs (Begin) so far.
	Run int
}

// Host is one fake host. It is safe for concurrent use.
type Host struct {
	// Name is the host's name; User its login user.
	Name, User string
	// FS is its file system.
	FS *FS
	// Dir, when set, is where relative paths of View start (the local
	// host's is the fabfile's directory); else the user's home.
	Dir string
	// RealSleep makes sleep take its time (a simulated fleet); by default
	// it returns at once.
	RealSleep bool

	mu        sync.Mutex
	responses []Response
	log       []Command
	run       int
	strict    bool
	packages  map[string]bool
	services  map[string]bool // running (true) or declared stopped (false)
	enabled   map[string]bool
	users     map[string]bool
	groups    map[string][]string // members
	programs  map[string]bool
	osID      string
	osVersion string
}

// New returns a host with login user user (default "deploy"), running
// Debian 12.
func New(name, user string) *Host {
	if user == "" {
		user = "deploy"
	}
	h := &Host{Name: name, User: user, FS: NewFS(user),
		packages: map[string]bool{}, services: map[string]bool{}, enabled: map[string]bool{},
		users: map[string]bool{}, groups: map[string][]string{},
		programs: map[string]bool{}}
	for _, u := range []string{"root", "daemon", "bin", "sys", "www-data", "nobody", user} {
		h.users[u] = true
		h.groups[u] = nil
	}
	h.SetOS("debian", "12")
	return h
}

// SetOS sets the facts cuisine's OS detection reads: /etc/os-release.
func (h *Host) SetOS(id, version string) {
	h.mu.Lock()
	h.osID, h.osVersion = id, version
	h.mu.Unlock()
	name := strings.ToUpper(id[:1]) + id[1:]
	release := fmt.Sprintf("PRETTY_NAME=%q\nNAME=%q\nVERSION_ID=%q\nID=%s\n", name+" "+version, name, version, id)
	h.FS.As("root").WriteFile("/etc/os-release", []byte(release), 0o644)
}

// Respond scripts the answer to commands matching pattern: the command
// itself, a text it contains, or a Lua pattern it matches. Later
// responses win over earlier ones.
func (h *Host) Respond(r Response) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.responses = append(h.responses, r)
}

// SetStrict makes commands that nothing answers fail (exit 127).
func (h *Host) SetStrict(on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.strict = on
}

// Install marks packages installed, with the directories and system users
// they would lay down (as apt-get install on the host does).
func (h *Host) Install(names ...string) {
	h.set(h.packages, names, true)
	root := h.FS.As("root")
	for _, pkg := range names {
		for _, d := range packageDirs[pkg] {
			root.MkdirAll(d, 0o755)
		}
		if u := packageUsers[pkg]; u != "" {
			h.mu.Lock()
			h.users[u], h.groups[u] = true, nil
			h.mu.Unlock()
		}
	}
}

// Start marks services running.
func (h *Host) Start(names ...string) { h.set(h.services, names, true) }

// Stop declares services stopped: unlike a service the test says nothing
// about, one that is stopped cannot be reloaded.
func (h *Host) Stop(names ...string) { h.set(h.services, names, false) }

// Provide makes programs exist for command -v and which.
func (h *Host) Provide(names ...string) { h.set(h.programs, names, true) }

func (h *Host) set(m map[string]bool, names []string, v bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range names {
		m[n] = v
	}
}

// Packages returns the installed packages, sorted.
func (h *Host) Packages() []string { return h.keys(h.packages) }

// Services returns the running services, sorted.
func (h *Host) Services() []string { return h.keys(h.services) }

func (h *Host) keys(m map[string]bool) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Begin starts a new run: Commands(true) returns only what follows.
func (h *Host) Begin() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.run++
}

// Commands returns the commands given so far, or only those of the
// current run.
func (h *Host) Commands(currentRun bool) []Command {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Command
	for _, c := range h.log {
		if !currentRun || c.Run == h.run {
			out = append(out, c)
		}
	}
	return out
}

// Match reports whether s is pattern, contains it, or matches it as a
// Lua pattern.
func Match(pattern, s string) bool {
	if s == pattern || strings.Contains(s, pattern) {
		return true
	}
	m, err := pm.Find(pattern, []byte(s), 0, 1)
	return err == nil && len(m) > 0
}

// response returns the latest response matching s.
func (h *Host) response(s string) (Response, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range slices.Backward(h.responses) {
		if Match(r.Pattern, s) {
			return r, true
		}
	}
	return Response{}, false
}

// Conn returns a connection to the host; kind is "local" for the host
// that stands for this machine (run_local).
func (h *Host) Conn(local bool) *Conn { return &Conn{h: h, local: local} }

// Conn is a connection to a fake host: a host.FileConn and a
// host.Interpreter.
type Conn struct {
	h     *Host
	local bool
}

var _ interface {
	host.FileConn
	host.Interpreter
} = (*Conn)(nil)

// Run runs a command line as the login user (commands not built by
// gofab's command path, such as open_shell).
func (c *Conn) Run(ctx context.Context, cmd *host.Cmd) (int, error) {
	return c.Interpret(ctx, cmd, host.Call{Kind: host.KindRun, Command: cmd.Command})
}

// Interpret runs cmd in the host's shell as call says and logs it.
func (c *Conn) Interpret(ctx context.Context, cmd *host.Cmd, call host.Call) (int, error) {
	h := c.h
	user := h.User
	if call.Sudo {
		user = call.User
		if user == "" {
			user = "root"
		}
	}
	kind := call.Kind
	if c.local && kind != host.KindHelper {
		kind = host.KindLocal
	}
	stdout, stderr := writerOr(cmd.Stdout), writerOr(cmd.Stderr)
	var stdin io.Reader = strings.NewReader("")
	if cmd.Stdin != nil {
		stdin = cmd.Stdin
	}
	sh := &shell{h: h, user: user}
	var code int
	var err error
	if r, ok := h.response(call.Command); ok && call.Command != "" {
		code = sh.answer(r, stdout, stderr)
	} else {
		code, err = sh.run(ctx, cmd.Command, stdin, stdout, stderr)
	}
	if cmd.Stdin != nil {
		go io.Copy(io.Discard, cmd.Stdin) // like sshd, unread input is dropped
	}
	h.mu.Lock()
	h.log = append(h.log, Command{Kind: kind.String(), Command: call.Command, Line: cmd.Command, User: user, Code: code,
		Unscripted: sh.unscripted, Run: h.run})
	h.mu.Unlock()
	return code, err
}

func writerOr(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// answer writes a scripted response, leaves its files behind and returns
// its exit status.
func (s *shell) answer(r Response, stdout, stderr io.Writer) int {
	io.WriteString(stdout, r.Stdout)
	io.WriteString(stderr, r.Stderr)
	view := s.h.FS.As(s.user)
	for _, p := range sortedKeys(r.Writes) {
		if err := view.WriteFile(p, []byte(r.Writes[p]), 0o644); err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
	}
	return r.Code
}

// FS returns the host's file system as its login user sees it.
func (c *Conn) FS(context.Context) (host.FS, error) { return c.h.FS.As(c.h.User), nil }

// Close does nothing.
func (c *Conn) Close() error { return nil }

// Fleet makes fake hosts on demand by name and dials them: an
// executor.Dialer. It is safe for concurrent use.
type Fleet struct {
	mu     sync.Mutex
	hosts  map[string]*Host
	order  []string
	strict bool
}

// SetStrict makes every host of the fleet, and those made later, strict
// (see Host.SetStrict).
func (f *Fleet) SetStrict(on bool) {
	f.mu.Lock()
	f.strict = on
	f.mu.Unlock()
	for _, h := range f.Hosts() {
		h.SetStrict(on)
	}
}

// Host returns the host named by s ("user@name:port" names "name"),
// making it when it does not exist.
func (f *Fleet) Host(s string) *Host {
	name, user := s, ""
	if a, err := host.Parse(s); err == nil {
		name, user = a.Host, a.User
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hosts == nil {
		f.hosts = map[string]*Host{}
	}
	h, ok := f.hosts[name]
	if !ok {
		h = New(name, user)
		h.strict = f.strict
		f.hosts[name] = h
		f.order = append(f.order, name)
	}
	return h
}

// Hosts returns the hosts made so far, in the order they were made.
func (f *Fleet) Hosts() []*Host {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*Host
	for _, n := range f.order {
		out = append(out, f.hosts[n])
	}
	return out
}

// Dial returns a connection to the host addr names.
func (f *Fleet) Dial(_ context.Context, addr host.Addr) (host.Conn, error) {
	return f.Host(addr.Host).Conn(false), nil
}

// Identity returns the host's login user and port 22.
func (f *Fleet) Identity(addr host.Addr) (string, int, error) {
	return f.Host(addr.Host).User, 22, nil
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// View returns the host's file system as user sees it, relative paths
// starting at Dir.
func (h *Host) View(user string) *View {
	v := h.FS.As(user)
	if h.Dir != "" {
		v.cwd = h.Dir
	}
	return v
}

// LocalName is the name of the host that stands for this machine.
const LocalName = "local"

// Strict reports whether unanswered commands fail.
func (h *Host) Strict() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.strict
}
