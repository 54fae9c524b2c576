package shell

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gofab/gofab/internal/base/host"
)

// insideSudo reports whether req's own sudo gets the password (see
// commandLine); with a pty the person's terminal answers sudo instead.
func insideSudo(req Request) bool { return req.SudoInside && !req.Sudo && !req.Pty }

// needsSudoPassword reports whether stderr says sudo wanted a password
// it could not read (no terminal, or -n).
func needsSudoPassword(stderr string) bool {
	return strings.Contains(stderr, "sudo: a terminal is required") || strings.Contains(stderr, "sudo: a password is required")
}

func sudoWrap(req Request, prompt, inner string) string {
	var b strings.Builder
	b.WriteString("sudo -S -p ")
	b.WriteString(host.Quote(prompt))
	if req.SudoUser != "" {
		b.WriteString(" -u " + host.Quote(req.SudoUser))
	}
	if req.SudoGroup != "" {
		b.WriteString(" -g " + host.Quote(req.SudoGroup))
	}
	mode := "watch"
	switch {
	case req.Pty:
		mode = "tty"
	case req.Stdin != nil:
		mode = "input"
	}
	b.WriteString(" -- sh -c ")
	b.WriteString(host.Quote(sudoGuard))
	b.WriteString(" gofab-guard ")
	b.WriteString(host.Quote(inner))
	fmt.Fprintf(&b, " %d %s", int(host.InterruptGrace/time.Second), mode)
	return b.String()
}

// sudoGuard is the script sudo runs, as the target user, around the
// command ($1). The person running gofab cannot signal a command that runs
// as another user, and sudo relays a signal only to the process it started,
// so without the guard an interrupted sudo command's children live on as
// root. The guard runs the command in the background and stops its whole
// process group — SIGTERM, then SIGKILL after $2 seconds — when:
//   - it gets TERM, INT or HUP (sudo relays the signals sshd delivers; ^C
//     or a hang-up on a tty);
//   - in "watch" mode, the session's standard input closes: gofab keeps it
//     open until the command ends, so its end is the session's end (an
//     interrupt, a timeout, a lost connection). The command reads
//     /dev/null then, as it would have read an empty input;
//   - in "input" mode (the command reads what gofab sends) and "tty" mode
//     (it reads the terminal), sudo or the process that started sudo (sshd,
//     for the connection) goes away; checked every second.
//
// When the command ends by itself the watchers stand down first, so what
// it left running on purpose (nohup … &) is not touched.
const sudoGuard = `g=$2 stopping= w=
stop() {
  trap '' TERM INT HUP
  [ -n "$stopping" ] && return
  stopping=1
  kill -TERM 0 2>/dev/null
  (sleep "$g"; kill -KILL 0) </dev/null >/dev/null 2>&1 3<&- &
}
trap stop TERM INT HUP
exec 3<&0
if [ "$3" = watch ]; then
  (cat <&3 >/dev/null 2>&1; kill -TERM $$) </dev/null >/dev/null 2>&1 &
  w=$!
  sh -c "$1" </dev/null 3<&- &
  c=$!
else
  sh -c "$1" <&3 3<&- &
  c=$!
  if [ -r "/proc/$PPID/stat" ]; then
    read -r gp <"/proc/$PPID/stat"; gp=${gp##*) }; gp=${gp#* }; gp=${gp%% *}
    alive() { [ -d "/proc/$1" ]; }
  else
    gp=$(ps -o ppid= -p "$PPID" 2>/dev/null | tr -d ' ')
    alive() { kill -0 "$1" 2>/dev/null; }
  fi
  alive "$gp" || gp=$PPID
  if alive "$PPID"; then
    (while alive "$PPID" && alive "$gp"; do sleep 1; done; kill -TERM $$) </dev/null >/dev/null 2>&1 3<&- &
    w=$!
  fi
fi
while :; do
  wait "$c"; r=$?
  kill -0 "$c" 2>/dev/null || break
done
[ -n "$w" ] && kill "$w" 2>/dev/null
exit $r`

// quotePath quotes a directory but leaves a leading ~ to the shell.
func quotePath(p string) string {
	if p == "~" {
		return p
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return "~/" + host.Quote(rest)
	}
	return host.Quote(p)
}

func newPrompt() string {
	var b [8]byte
	rand.Read(b[:])
	return "[gofab-sudo-" + hex.EncodeToString(b[:]) + "] password: "
}

// sudoAnswer watches a stream for sudo's prompt, removes it from the
// output and answers it once on stdin, followed by the caller's input. A
// second prompt means the password was wrong: stdin is closed then, so sudo
// fails at once instead of waiting. When the caller gave input, the command
// first prints a ready marker: seen before any prompt (NOPASSWD), it sends
// the input without a password.
type sudoAnswer struct {
	prompt   string
	ready    string
	password string
	stdin    *io.PipeWriter
	rest     io.Reader
	// keepOpen leaves stdin open after the password.
	keepOpen bool
	filters  []*tokenFilter

	// pty: sudo reads the password from a terminal (see feed).
	pty bool

	mu      sync.Mutex
	prompts int
	fed     bool
	sent    bool // the password alone (sendPassword)
}

// newSudoAnswer answers sudo's prompt on stdin with req's password,
// followed by req's input. In the guard's watch mode the input stays open
// until the command ends: its closing tells the guard to stop the command.
func newSudoAnswer(req Request, prompt, ready string, stdin *io.PipeWriter) *sudoAnswer {
	return &sudoAnswer{prompt: prompt, ready: ready, password: req.SudoPassword, stdin: stdin,
		rest: req.Stdin, keepOpen: req.Stdin == nil && !req.Pty, pty: req.Pty}
}

// filter returns w with the prompt and the ready marker cut out.
func (s *sudoAnswer) filter(w io.Writer) io.Writer {
	if s.ready != "" {
		inner := &tokenFilter{token: s.ready, on: s.started, w: w}
		s.filters = append(s.filters, inner)
		w = inner
	}
	outer := &tokenFilter{token: s.prompt, on: s.seen, w: w}
	// Flushed outer first: what it held back may complete in the inner.
	s.filters = append([]*tokenFilter{outer}, s.filters...)
	return outer
}

// flush writes out what the filters held back once the command ended.
func (s *sudoAnswer) flush() {
	for _, f := range s.filters {
		f.w.Write(f.hold)
		f.hold = nil
	}
}

// feed sends data then the caller's input on stdin and closes it (unless
// keepOpen), once. On a pty with a ready marker the password goes alone
// (sendPassword) and the input follows the marker: sudo flushes the
// terminal's pending input (TCSAFLUSH) when it restores echo after
// reading the password, which would drop a line typed ahead.
func (s *sudoAnswer) feed(data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fed {
		return
	}
	s.fed = true
	go func() {
		if data != "" {
			if _, err := io.WriteString(s.stdin, data); err != nil {
				return
			}
		}
		if s.rest != nil {
			io.Copy(s.stdin, s.rest)
		}
		if !s.keepOpen {
			s.stdin.Close()
		}
	}()
}

// sendPassword writes the password alone, leaving the input for the
// ready marker.
func (s *sudoAnswer) sendPassword() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent {
		return
	}
	s.sent = true
	go io.WriteString(s.stdin, s.password+"\n")
}

func (s *sudoAnswer) seen() {
	s.mu.Lock()
	s.prompts++
	n := s.prompts
	s.mu.Unlock()
	switch {
	case n == 1 && s.password != "" && s.ready != "" && s.pty:
		s.sendPassword()
	case n == 1 && s.password != "":
		s.feed(s.password + "\n")
	default:
		s.stdin.Close()
	}
}

// started is the command saying sudo let it run.
func (s *sudoAnswer) started() { s.feed("") }

func (s *sudoAnswer) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.prompts > 0 && s.password == "":
		return &SudoError{Msg: "sudo asked for a password and none is known: set GOFAB_SUDO_PASSWORD, use --sudo-password-prompt, or allow NOPASSWD in sudoers"}
	case s.prompts > 1:
		return &SudoError{Msg: "sudo password was refused (wrong password?)"}
	}
	return nil
}

// tokenFilter passes bytes through, cutting out every occurrence of token,
// even one split across writes, and calling on for each.
type tokenFilter struct {
	token string
	on    func()
	w     io.Writer
	hold  []byte
}

func (f *tokenFilter) Write(p []byte) (int, error) {
	buf := append(f.hold, p...)
	f.hold = nil
	token := []byte(f.token)
	for {
		i := bytes.Index(buf, token)
		if i < 0 {
			break
		}
		if _, err := f.w.Write(buf[:i]); err != nil {
			return 0, err
		}
		buf = buf[i+len(token):]
		f.on()
	}
	// Keep back a tail that could be the start of a token.
	keep := 0
	for n := min(len(token)-1, len(buf)); n > 0; n-- {
		if bytes.HasSuffix(buf, token[:n]) {
			keep = n
			break
		}
	}
	if _, err := f.w.Write(buf[:len(buf)-keep]); err != nil {
		return 0, err
	}
	f.hold = append([]byte(nil), buf[len(buf)-keep:]...)
	return len(p), nil
}
