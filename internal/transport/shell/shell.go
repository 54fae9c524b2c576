// Package shell runs one command line on a host.Conn, remote or this
// machine's, the way run(), sudo() and run_local() do: it builds the full command line (cd, prefixes, exported variables,
// PATH, the sudo wrapper), streams output line by line to the host's
// printer while capturing it, answers sudo's password prompt through stdin
// and applies the command timeout.
package shell

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gofab/gofab/internal/base/event"
	"github.com/gofab/gofab/internal/base/host"
)

// Request is one command with the settings in force when it was called.
type Request struct {
	// Command is the command as the user wrote it (echoed as is).
	Command string
	// Kind is what the command is: its echo label and its events' kind.
	Kind host.Kind
	// Probe marks a command --check runs because it only reads
	// (ReadOnly): its echo says "probe".
	Probe bool
	// Sudo wraps the command in sudo, as SudoUser/SudoGroup when set.
	Sudo bool
	// SudoInside is a command that runs sudo itself (CallsSudo): each of
	// its sudo calls gets SudoPassword when it needs one.
	SudoInside bool
	SudoUser   string
	SudoGroup  string
	// SudoPassword answers sudo's prompt; "" means none is known.
	SudoPassword string
	// Helper marks a command a built-in function runs to do its work
	// (a transfer's mkdir, a file's stat), not one the recipe asked for.
	Helper bool

	Cwd      string
	Prefixes []string
	Env      [][2]string
	Path     string
	PathMode string // append, prepend or replace

	Pty bool
	// TTY, when set, is the person's terminal: keystrokes go to the command
	// and its output comes back raw, unprefixed, while it runs (and is
	// captured too). It implies Pty.
	TTY     *host.TTY
	Timeout time.Duration
	Stdin   io.Reader
	// Stdout, when set, receives stdout instead of Result.Stdout.
	Stdout io.Writer
	// MaxOutput caps what Result.Stdout and Result.Stderr keep, each;
	// the rest is still streamed to Out. 0 means DefaultMaxOutput.
	MaxOutput int

	// Out prints the host's lines; Show says which kinds are printed.
	Out         host.Printer
	ShowRunning bool
	ShowStdout  bool
	ShowStderr  bool
}

// DefaultMaxOutput is how much of a command's stdout (and of its stderr)
// a result keeps: 64 MiB.
const DefaultMaxOutput = 64 << 20

// Result is what a command produced.
type Result struct {
	Stdout, Stderr string
	Code           int
	// Truncated is set when output past MaxOutput was not kept.
	Truncated bool
	// Wrapped is the full command line that was sent.
	Wrapped string
}

// TimeoutError is a command that ran longer than its timeout.
type TimeoutError struct{ After time.Duration }

func (e *TimeoutError) Error() string { return fmt.Sprintf("timed out after %s", e.After) }

// SudoError is a sudo prompt that could not be answered.
type SudoError struct{ Msg string }

func (e *SudoError) Error() string { return e.Msg }

// Run runs req on conn. A non-zero exit is not an error; an error means
// the command could not run to completion (transport, timeout, interrupt,
// sudo password).
func Run(ctx context.Context, conn host.Conn, req Request) (Result, error) {
	if req.Out == nil {
		return runRequest(ctx, conn, req)
	}
	start := time.Now()
	req.Out.Event(event.CommandStart{Kind: req.Kind.String(), Command: req.Command})
	res, err := runRequest(ctx, conn, req)
	end := event.CommandEnd{Kind: req.Kind.String(), Command: req.Command, Duration: time.Since(start).Seconds()}
	if err != nil {
		end.Error = err.Error()
	} else {
		end.ExitCode = &res.Code
	}
	req.Out.Event(end)
	return res, err
}

func runRequest(ctx context.Context, conn host.Conn, req Request) (Result, error) {
	if req.TTY != nil {
		req.Pty = true
		if req.Stdin == nil {
			req.Stdin = req.TTY.In
		}
	}
	if req.ShowRunning && req.Out != nil {
		label := req.Kind.String()
		if req.Probe {
			label = "probe"
		}
		req.Out.Line(label, req.Command)
	}
	out := newOutputs(req)
	defer out.close()
	runCtx, cancel := deadline(ctx, req.Timeout)
	defer cancel()
	if ip, ok := conn.(host.Interpreter); ok {
		return interpret(ctx, runCtx, ip, req, out)
	}
	shell, pid, prompt, ready := commandLine(req)
	res := Result{Wrapped: shell}
	cmd := &host.Cmd{Command: shell, Stdout: out.stdoutW, Stderr: out.stderrW, Pty: req.Pty, Stdin: req.Stdin, TTY: req.TTY}
	if insideSudo(req) {
		var rest io.Reader = strings.NewReader("")
		if req.Stdin != nil {
			rest = req.Stdin
		}
		cmd.Stdin = io.MultiReader(strings.NewReader(req.SudoPassword+"\n"), rest)
	}
	var sudo *sudoAnswer
	if prompt != "" {
		pr, pw := io.Pipe()
		defer pw.Close()
		sudo = newSudoAnswer(req, prompt, ready, pw)
		cmd.Stdin = pr
		// With a pty sudo's prompt arrives on stdout, else on stderr.
		if req.Pty {
			cmd.Stdout = sudo.filter(cmd.Stdout)
		} else {
			cmd.Stderr = sudo.filter(cmd.Stderr)
		}
	}
	if pid != nil {
		cmd.Stderr = pid.filter(cmd.Stderr)
		// Interrupted: signal the whole process group at once, not only
		// the shell sshd signals.
		stop := context.AfterFunc(runCtx, func() { pid.signal(conn, "TERM") })
		defer stop()
	}
	code, err := conn.Run(runCtx, cmd)
	if pid != nil {
		pid.flush()
		if err != nil && runCtx.Err() != nil {
			pid.signal(conn, "KILL")
		}
	}
	if sudo != nil {
		sudo.flush()
	}
	res.finish(out, req, code)
	if sudo != nil {
		if serr := sudo.failure(); serr != nil {
			return res, serr
		}
	}
	if code != 0 && insideSudo(req) && strings.Contains(res.Stderr, "incorrect password attempt") {
		return res, &SudoError{Msg: "sudo password was refused (wrong password?)"}
	}
	if code != 0 && !req.Sudo && !req.SudoInside && needsSudoPassword(res.Stderr) && CallsSudo(req.Command) {
		return res, &SudoError{Msg: "the command's sudo asked for a password and none is known: set GOFAB_SUDO_PASSWORD or use --sudo-password-prompt (gofab then answers it), or use sudo(cmd)"}
	}
	return res, runErr(ctx, runCtx, err)
}

// deadline bounds a command by its timeout: the context it returns ends
// with a *TimeoutError.
func deadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, d, &TimeoutError{After: d})
}

// runErr is why a command ended early: its own timeout rather than the
// run's cancellation when only runCtx ended.
func runErr(ctx, runCtx context.Context, err error) error {
	if err != nil && ctx.Err() == nil && runCtx.Err() != nil {
		return context.Cause(runCtx)
	}
	return err
}

// interpret runs req on a host that interprets commands itself: no sudo
// wrapper, no password, no process-group marker.
func interpret(ctx, runCtx context.Context, ip host.Interpreter, req Request, out *outputs) (Result, error) {
	shell := Wrap(req)
	kind := req.Kind
	if req.Helper {
		kind = host.KindHelper
	}
	call := host.Call{Kind: kind, Command: req.Command, Sudo: req.Sudo, User: req.SudoUser, Group: req.SudoGroup}
	code, err := ip.Interpret(runCtx, &host.Cmd{Command: shell, Stdout: out.stdoutW, Stderr: out.stderrW, Pty: req.Pty, Stdin: req.Stdin}, call)
	res := Result{Wrapped: shell}
	res.finish(out, req, code)
	return res, runErr(ctx, runCtx, err)
}

// finish fills the result from what the command wrote and its status.
func (res *Result) finish(out *outputs, req Request, code int) {
	out.close()
	res.Stdout, res.Stderr = normalize(out.stdout.String(), req.Pty), normalize(out.stderr.String(), req.Pty)
	res.Truncated = out.stdout.dropped > 0 || out.stderr.dropped > 0
	res.Code = code
}

// commandLine builds the shell command line of req: cd, exports, prefixes
// and the command; a pid marker first for a command not run through sudo
// (sshd makes each session's shell a group leader, so an interrupted
// command's children can be killed with it); and the sudo wrapper with
// its unique prompt (and a ready marker when input follows).
func commandLine(req Request) (shell string, pid *pidFilter, prompt, ready string) {
	shell = Wrap(req)
	if !req.Sudo && !req.Pty {
		pid = newPIDFilter()
		shell = "printf '%s%s\\n' " + host.Quote(pid.token) + " \"$$\" >&2; " + shell
	}
	if insideSudo(req) {
		// The command's own sudo reads the password from the first line of
		// stdin, which the shell keeps in a variable (never in argv) and
		// pipes to each sudo that needs it, followed by the rest of the
		// input; a sudo that needs none (NOPASSWD, cached) gets the input.
		shell = "IFS= read -r __gofab_pw; sudo() { if command sudo -n true 2>/dev/null; then command sudo \"$@\"; " +
			"else { printf '%s\\n' \"$__gofab_pw\"; cat; } | command sudo -S -p '' \"$@\"; fi; }; " + shell
	}
	if req.Sudo {
		prompt = newPrompt()
		if req.Stdin != nil {
			// The command announces that sudo let it start, so its input
			// is sent even when sudo asked for no password.
			ready = strings.Replace(prompt, "password: ", "ready", 1)
			shell = "printf '%s' " + host.Quote(ready) + " >&2; " + shell
		}
		shell = sudoWrap(req, prompt, shell)
	}
	return shell, pid, prompt, ready
}

// outputs is where a command's output goes: the result's capped buffers,
// or req.Stdout, plus the host's prefixed lines or the terminal.
type outputs struct {
	stdout, stderr   *capped
	stdoutW, stderrW io.Writer
	streams          []io.Closer
}

func newOutputs(req Request) *outputs {
	limit := req.MaxOutput
	if limit <= 0 {
		limit = DefaultMaxOutput
	}
	o := &outputs{stdout: &capped{limit: limit}, stderr: &capped{limit: limit}}
	outW := []io.Writer{o.stdout}
	if req.Stdout != nil {
		outW = []io.Writer{req.Stdout}
	}
	errW := []io.Writer{o.stderr}
	switch {
	case req.TTY != nil:
		outW = append(outW, req.TTY.Out) // raw, unprefixed, as it comes
	case req.Out != nil && req.ShowStdout:
		s := req.Out.Stream("out")
		outW, o.streams = append(outW, s), append(o.streams, s)
	}
	if req.Out != nil && req.ShowStderr {
		s := req.Out.Stream("err")
		errW, o.streams = append(errW, s), append(o.streams, s)
	}
	o.stdoutW, o.stderrW = io.MultiWriter(outW...), io.MultiWriter(errW...)
	return o
}

// close prints the unterminated last lines, once.
func (o *outputs) close() {
	for _, s := range o.streams {
		s.Close()
	}
	o.streams = nil
}

// capped keeps the first limit bytes written to it, in chunks so a large
// output is not copied again and again as one buffer grows, and counts
// the rest.
type capped struct {
	chunks  [][]byte
	n       int
	limit   int
	dropped int64
}

// cappedChunk is the size of capped's largest chunks.
const cappedChunk = 1 << 20

// firstChunk is the size of a capped buffer's first chunk.
const firstChunk = 512

func (c *capped) Write(p []byte) (int, error) {
	keep := min(max(c.limit-c.n, 0), len(p))
	c.dropped += int64(len(p) - keep)
	for rest := p[:keep]; len(rest) > 0; {
		last := len(c.chunks) - 1
		if last < 0 || len(c.chunks[last]) == cap(c.chunks[last]) {
			// Chunks grow from small to cappedChunk: most commands print
			// a line or two, and a fleet runs thousands at once.
			size := firstChunk
			if last >= 0 {
				size = 2 * cap(c.chunks[last])
			}
			size = min(max(size, len(rest)), cappedChunk, max(c.limit-c.n, 1))
			c.chunks = append(c.chunks, make([]byte, 0, size))
			last++
		}
		k := min(cap(c.chunks[last])-len(c.chunks[last]), len(rest))
		c.chunks[last] = append(c.chunks[last], rest[:k]...)
		c.n += k
		rest = rest[k:]
	}
	return len(p), nil
}

// String returns what was kept.
func (c *capped) String() string {
	var b strings.Builder
	b.Grow(c.n)
	for _, ch := range c.chunks {
		b.Write(ch)
	}
	return b.String()
}

// normalize turns a pty's \r\n into \n.
func normalize(s string, pty bool) string {
	if !pty {
		return s
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// Wrap returns the shell command line for req without sudo: cd, exported
// variables, PATH and prefixes joined with && before the command.
func Wrap(req Request) string {
	var parts []string
	if req.Cwd != "" {
		parts = append(parts, "cd "+quotePath(req.Cwd))
	}
	var exports []string
	for _, kv := range req.Env {
		exports = append(exports, kv[0]+"="+host.Quote(kv[1]))
	}
	if req.Path != "" {
		switch req.PathMode {
		case "prepend":
			exports = append(exports, `PATH=`+host.Quote(req.Path)+`:"$PATH"`)
		case "replace":
			exports = append(exports, `PATH=`+host.Quote(req.Path))
		default:
			exports = append(exports, `PATH="$PATH":`+host.Quote(req.Path))
		}
	}
	if len(exports) > 0 {
		parts = append(parts, "export "+strings.Join(exports, " "))
	}
	parts = append(parts, req.Prefixes...)
	parts = append(parts, req.Command)
	return strings.Join(parts, " && ")
}

// IsTimeout reports whether err is a command timeout.
func IsTimeout(err error) bool {
	var te *TimeoutError
	return errors.As(err, &te)
}

// pidFilter takes the "<token><pid>" line a command prints first on its
// stderr out of the stream and remembers the pid.
type pidFilter struct {
	token string
	w     io.Writer
	buf   []byte
	done  bool

	mu  sync.Mutex
	pid string
}

// maxPIDHead is how much stderr is held back looking for the pid line
// (the login shell may print something first).
const maxPIDHead = 8 << 10

func newPIDFilter() *pidFilter {
	var b [8]byte
	rand.Read(b[:])
	return &pidFilter{token: "[gofab-pid-" + hex.EncodeToString(b[:]) + "]"}
}

func (f *pidFilter) filter(w io.Writer) io.Writer {
	f.w = w
	return f
}

func (f *pidFilter) Write(p []byte) (int, error) {
	if f.done {
		return f.w.Write(p)
	}
	f.buf = append(f.buf, p...)
	if i := bytes.Index(f.buf, []byte(f.token)); i >= 0 {
		rest := f.buf[i+len(f.token):]
		end := bytes.IndexByte(rest, '\n')
		if end < 0 {
			return len(p), nil // the rest of the line is still coming
		}
		f.mu.Lock()
		f.pid = string(rest[:end])
		f.mu.Unlock()
		out := append(append([]byte(nil), f.buf[:i]...), rest[end+1:]...)
		f.done, f.buf = true, nil
		if _, err := f.w.Write(out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if len(f.buf) > maxPIDHead {
		f.flush()
	}
	return len(p), nil
}

// flush writes out what was held back when no pid line came.
func (f *pidFilter) flush() {
	if !f.done && len(f.buf) > 0 {
		f.w.Write(f.buf)
	}
	f.done, f.buf = true, nil
}

// signal sends sig to the command's whole process group over a new
// session, briefly; nothing happens when its pid is not known.
func (f *pidFilter) signal(conn host.Conn, sig string) {
	f.mu.Lock()
	pid := f.pid
	f.mu.Unlock()
	if pid == "" || strings.Trim(pid, "0123456789") != "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn.Run(ctx, &host.Cmd{Command: "kill -" + sig + " -- -" + pid + " 2>/dev/null; true"})
}
