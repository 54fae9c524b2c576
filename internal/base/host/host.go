// Package host holds what every transport shares: parsed host strings, the
// command description and the Conn interface that SSH and local transports
// implement. It imports nothing of gofab's own.
package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Local is the host string of the built-in host that runs on this machine
// without SSH.
const Local = "local"

// Addr is a parsed host string such as "deploy@web2:2222" or "[::1]:22".
// User and Port are empty and zero when the string does not give them.
type Addr struct {
	User string
	Host string
	Port int
}

// Parse parses a host string of the form [user@]host[:port], where an IPv6
// address with a port is written in brackets: [::1]:22.
func Parse(s string) (Addr, error) {
	bad := func(why string) (Addr, error) {
		return Addr{}, fmt.Errorf("invalid host string %q: %s", s, why)
	}
	if s == "" {
		return bad("empty")
	}
	if strings.ContainsAny(s, " \t\r\n,;") {
		return bad("contains a space or separator")
	}
	if HasControl(s) {
		return bad("contains a control character")
	}
	var a Addr
	rest := s
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		a.User, rest = rest[:i], rest[i+1:]
		if a.User == "" {
			return bad("empty user before @")
		}
	}
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.Index(rest, "]")
		if end < 0 {
			return bad("missing ] after IPv6 address")
		}
		a.Host = rest[1:end]
		if net.ParseIP(a.Host) == nil {
			return bad("not an IP address in brackets")
		}
		tail := rest[end+1:]
		if tail != "" {
			if !strings.HasPrefix(tail, ":") {
				return bad("unexpected text after ]")
			}
			p, err := parsePort(tail[1:])
			if err != nil {
				return bad(err.Error())
			}
			a.Port = p
		}
	case strings.Count(rest, ":") > 1:
		// A bare IPv6 address: no port can be given without brackets.
		if net.ParseIP(rest) == nil {
			return bad("not an IPv6 address; write [addr]:port")
		}
		a.Host = rest
	default:
		h, p, found := strings.Cut(rest, ":")
		a.Host = h
		if found {
			port, err := parsePort(p)
			if err != nil {
				return bad(err.Error())
			}
			a.Port = port
		}
	}
	if a.Host == "" {
		return bad("empty host name")
	}
	if strings.ContainsAny(a.Host, "[]@/\\'\"`$") {
		return bad("host name contains a forbidden character")
	}
	return a, nil
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return p, nil
}

// String returns the host string in canonical form: the user and port only
// when set, IPv6 addresses bracketed when a port follows.
func (a Addr) String() string {
	var b strings.Builder
	if a.User != "" {
		b.WriteString(a.User)
		b.WriteByte('@')
	}
	if a.Port != 0 {
		b.WriteString(net.JoinHostPort(a.Host, strconv.Itoa(a.Port)))
	} else {
		b.WriteString(a.Host)
	}
	return b.String()
}

// IsLocal reports whether the address names the built-in local host.
func (a Addr) IsLocal() bool { return a.Host == Local && a.Port == 0 }

// Cmd describes one command to run on a host.
type Cmd struct {
	// Command is handed to the remote login shell (or sh -c locally) as is.
	Command string
	// Stdin, when non-nil, is copied to the command's standard input.
	Stdin io.Reader
	// Stdout and Stderr receive the output as it arrives.
	Stdout, Stderr io.Writer
	// Pty asks for a pseudo-terminal; stderr is then merged into stdout.
	Pty bool
	// TTY, when set, is the person's terminal lent to this command: the
	// pty gets its size and follows its resizes.
	TTY *TTY
}

// Terminal is the person's terminal, lent to one command at a time for
// interactive use (run(cmd, {pty = true}) on a terminal, open_shell).
type Terminal interface {
	// Acquire waits until no other command holds the terminal, calling
	// waiting first when it has to wait, and returns it in raw mode.
	Acquire(ctx context.Context, waiting func()) (*TTY, error)
}

// TTY is a terminal lent to one command. Release gives it back (and
// restores its mode); In then ends.
type TTY struct {
	In  io.Reader
	Out io.Writer
	// Term is the terminal type for the remote pty ($TERM).
	Term          string
	Width, Height int
	// Resize delivers the new {width, height} when the terminal is resized.
	Resize  <-chan [2]int
	Release func()
}

// Conn runs commands on one host. Implementations are safe for concurrent
// use: several commands may run at once on one Conn.
type Conn interface {
	// Run runs cmd and returns its exit status. A non-nil error means the
	// command could not be run or did not finish (transport failure,
	// cancellation); the exit status is then meaningless. When ctx is
	// cancelled the command is interrupted and Run returns ctx's error.
	Run(ctx context.Context, cmd *Cmd) (int, error)
	// Close releases the connection.
	Close() error
}

// Interpreter is a Conn that runs gofab's commands itself instead of
// handing them to a login shell: gofab test's fake host. It gets each
// command unwrapped (cd, exports and prefixes applied, but no sudo wrapper
// or process-group marker) with what the command is said apart in call.
type Interpreter interface {
	Conn
	Interpret(ctx context.Context, cmd *Cmd, call Call) (int, error)
}

// Kind is what a command is, as its echo line, its events and a fake
// host's log name it.
type Kind uint8

// The kinds of command.
const (
	KindRun    Kind = iota // a recipe's command on the task's host: "run"
	KindSudo               // a recipe's command through sudo: "sudo"
	KindLocal              // a recipe's command on this machine: "local"
	KindHelper             // what a built-in function runs to do its work: "helper"
)

var kindNames = [...]string{KindRun: "run", KindSudo: "sudo", KindLocal: "local", KindHelper: "helper"}

// String is the kind's name ("run", "sudo", "local", "helper").
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Call says what a command handed to an Interpreter is.
type Call struct {
	// Kind is what the command is.
	Kind Kind
	// Command is the command as the recipe (or built-in) gave it.
	Command string
	// Sudo runs it as User (root when empty) and Group.
	Sudo        bool
	User, Group string
}

// ConnectError reports that a host could not be reached or authenticated;
// the host is then "unreachable" rather than "failed".
type ConnectError struct {
	Host string
	Err  error
}

func (e *ConnectError) Error() string { return fmt.Sprintf("connect to %s: %v", e.Host, e.Err) }

// Unwrap returns the underlying error.
func (e *ConnectError) Unwrap() error { return e.Err }

// IsConnectError reports whether err is or wraps a *ConnectError.
func IsConnectError(err error) bool {
	var ce *ConnectError
	return errors.As(err, &ce)
}

// ErrNoTerminal is returned by a Prompter when standard input is not a
// terminal, so nobody can answer.
var ErrNoTerminal = errors.New("standard input is not a terminal")

// Prompter asks the person running gofab for input. Implementations
// serialise concurrent prompts.
type Prompter interface {
	// Prompt shows msg and reads one line; with secret the input is not
	// echoed. It returns ErrNoTerminal when nobody can answer.
	Prompt(msg string, secret bool) (string, error)
}

// SecretEnv names the variables gofab reads secrets from; commands gofab
// starts on this machine never inherit them.
var SecretEnv = []string{"GOFAB_PASSWORD", "GOFAB_SUDO_PASSWORD"}

// ChildEnv returns this process's environment without gofab's secrets,
// for every command gofab starts on this machine.
func ChildEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(SecretEnv, name) {
			out = append(out, kv)
		}
	}
	return out
}

// InterruptGrace is how long an interrupted or timed-out command has
// between SIGTERM and SIGKILL, on every transport and on the host's side.
const InterruptGrace = 2 * time.Second

var (
	teardown     = make(chan struct{})
	teardownOnce sync.Once
)

// Teardown says the person asked to stop at once (a second Ctrl-C):
// interrupted commands get no grace period and are killed directly.
func Teardown() { teardownOnce.Do(func() { close(teardown) }) }

// TearingDown is closed once Teardown was called.
func TearingDown() <-chan struct{} { return teardown }

// HasControl reports whether s holds a control character (an escape, a
// bell, C1 controls): such a name would reach the terminal raw in every
// [host] prefix.
func HasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// Seconds converts a number of seconds (a flag, a timeout option) to a
// Duration. A positive value below the clock's resolution is one
// nanosecond, never zero (which means "no limit"); a value past the
// largest Duration is the largest Duration; NaN, infinities and negative
// values are errors.
func Seconds(f float64) (time.Duration, error) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0, fmt.Errorf("%v is not a number of seconds", f)
	case f < 0:
		return 0, fmt.Errorf("%v: a number of seconds cannot be negative", f)
	case f == 0:
		return 0, nil
	case f >= float64(math.MaxInt64)/float64(time.Second):
		return math.MaxInt64, nil
	}
	return max(time.Duration(f*float64(time.Second)), time.Nanosecond), nil
}
