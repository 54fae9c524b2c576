package shell

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofab/gofab/internal/base/host"
)

func TestQuote(t *testing.T) {
	cases := map[string]string{
		"":          "''",
		"plain":     "plain",
		"/a/b-c.d":  "/a/b-c.d",
		"a b":       "'a b'",
		"it's":      `'it'\''s'`,
		"$HOME":     "'$HOME'",
		"`x`;rm -r": "'`x`;rm -r'",
		"tab\there": "'tab\there'",
	}
	for in, want := range cases {
		if got := host.Quote(in); got != want {
			t.Errorf("host.Quote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWrap(t *testing.T) {
	cases := []struct {
		req  Request
		want string
	}{
		{Request{Command: "ls"}, "ls"},
		{Request{Command: "ls", Cwd: "/srv/my app"}, "cd '/srv/my app' && ls"},
		{Request{Command: "ls", Cwd: "~/app"}, "cd ~/app && ls"},
		{Request{Command: "ls", Prefixes: []string{"source env", "umask 022"}}, "source env && umask 022 && ls"},
		{Request{Command: "ls", Env: [][2]string{{"A", "x y"}}, Path: "/opt/bin"}, `export A='x y' PATH="$PATH":/opt/bin && ls`},
		{Request{Command: "ls", Path: "/opt/bin", PathMode: "prepend"}, `export PATH=/opt/bin:"$PATH" && ls`},
		{Request{Command: "ls", Path: "/opt/bin", PathMode: "replace"}, `export PATH=/opt/bin && ls`},
	}
	for _, c := range cases {
		if got := Wrap(c.req); got != c.want {
			t.Errorf("Wrap(%+v) = %q, want %q", c.req, got, c.want)
		}
	}
	guard := " -- sh -c " + host.Quote(sudoGuard) + " gofab-guard "
	sudoCases := []struct {
		req  Request
		want string
	}{
		{Request{SudoUser: "postgres", SudoGroup: "adm"}, `sudo -S -p 'P: ' -u postgres -g adm` + guard + `'cd /x && id' 2 watch`},
		{Request{Stdin: strings.NewReader("")}, `sudo -S -p 'P: '` + guard + `'cd /x && id' 2 input`},
		{Request{Pty: true}, `sudo -S -p 'P: '` + guard + `'cd /x && id' 2 tty`},
	}
	for _, c := range sudoCases {
		if got := sudoWrap(c.req, "P: ", "cd /x && id"); got != c.want {
			t.Errorf("sudoWrap(%+v) = %q, want %q", c.req, got, c.want)
		}
	}
}

// TestSudoGuard runs the guard with this machine's sh, as sudo would: the
// command's exit status and input pass through; in watch mode the end of
// the input stops the command and everything it started, even a child
// that ignores SIGTERM (after the grace period); a relayed TERM does too.
func TestSudoGuard(t *testing.T) {
	guard := func(command, grace, mode string) *exec.Cmd {
		c := exec.Command("sh", "-c", sudoGuard, "gofab-guard", command, grace, mode)
		// The guard signals its whole process group, as under sudo.
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return c
	}
	t.Run("status and input", func(t *testing.T) {
		c := guard("read x; echo got:$x; exit 7", "2", "input")
		c.Stdin = strings.NewReader("hello\n")
		out, err := c.Output()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 || string(out) != "got:hello\n" {
			t.Fatalf("output %q, err %v; want got:hello and exit 7", out, err)
		}
	})
	for _, how := range []string{"stdin closes", "TERM relayed"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "pid")
			if err := syscall.Mkfifo(pidFile, 0o600); err != nil {
				t.Fatal(err)
			}
			// A grandchild that ignores TERM and says its pid.
			c := guard("sh -c 'trap \"\" TERM; echo $$ > "+pidFile+"; exec sleep 300' & wait", "1", "watch")
			stdin, _ := c.StdinPipe()
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			pid := readPid(t, pidFile)
			if how == "stdin closes" {
				stdin.Close()
			} else {
				c.Process.Signal(syscall.SIGTERM)
			}
			c.Wait()
			deadline := time.Now().Add(10 * time.Second)
			for running(pid) {
				if time.Now().After(deadline) {
					syscall.Kill(pid, syscall.SIGKILL)
					t.Fatal("the command's child outlived the guard")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestPromptFilter feeds the prompt split at every position and checks it
// is cut out of the output, answered once, and that everything else passes.
func TestPromptFilter(t *testing.T) {
	prompt := "[gofab-sudo-abc] password: "
	stream := "before " + prompt + "after\n"
	for split := 0; split <= len(stream); split++ {
		pr, pw := io.Pipe()
		s := &sudoAnswer{prompt: prompt, password: "secret", stdin: pw}
		var out bytes.Buffer
		f := s.filter(&out)
		f.Write([]byte(stream[:split]))
		f.Write([]byte(stream[split:]))
		s.flush()
		answer, _ := io.ReadAll(pr)
		if got := out.String(); got != "before after\n" {
			t.Fatalf("split %d: output %q", split, got)
		}
		if string(answer) != "secret\n" {
			t.Fatalf("split %d: answered %q", split, answer)
		}
		if err := s.failure(); err != nil {
			t.Fatalf("split %d: %v", split, err)
		}
	}
}

func TestSudoFailures(t *testing.T) {
	cases := []struct {
		password string
		prompts  int
		want     string
	}{
		{"", 1, "none is known"},
		{"pw", 2, "refused"},
		{"pw", 1, ""},
		{"", 0, ""},
	}
	for _, c := range cases {
		pr, pw := io.Pipe()
		go io.Copy(io.Discard, pr)
		s := &sudoAnswer{prompt: "P:", password: c.password, stdin: pw}
		f := s.filter(io.Discard)
		f.Write([]byte(strings.Repeat("P:", c.prompts)))
		err := s.failure()
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("password %q, %d prompts: got %v, want %q", c.password, c.prompts, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") && c.password != "" {
			t.Errorf("error reveals the password: %v", err)
		}
	}
}

// TestPIDFilter takes the pid line out of stderr, whatever the shell
// printed before it and however the bytes are split.
func TestPIDFilter(t *testing.T) {
	for split := 1; split < 40; split++ {
		f := newPIDFilter()
		var out bytes.Buffer
		w := f.filter(&out)
		data := "motd noise\n" + f.token + "4242\nreal error\n"
		for i := 0; i < len(data); i += split {
			w.Write([]byte(data[i:min(i+split, len(data))]))
		}
		f.flush()
		if out.String() != "motd noise\nreal error\n" || f.pid != "4242" {
			t.Fatalf("split %d: output %q, pid %q", split, out.String(), f.pid)
		}
	}
	f := newPIDFilter()
	var out bytes.Buffer
	f.filter(&out).Write([]byte("no marker at all"))
	f.flush()
	if out.String() != "no marker at all" || f.pid != "" {
		t.Errorf("without a marker: %q %q", out.String(), f.pid)
	}
}

// running reports whether pid is a live process (not gone, not a zombie).
// readPid reads the pid a command writes into the fifo at path: reading
// blocks until the command has written it, a signal rather than a poll.
func readPid(t *testing.T, path string) int {
	t.Helper()
	got := make(chan int, 1)
	go func() {
		var pid int
		data, _ := os.ReadFile(path)
		fmt.Sscan(string(data), &pid)
		got <- pid
	}()
	select {
	case pid := <-got:
		if pid == 0 {
			t.Fatal("the command wrote no pid")
		}
		return pid
	case <-time.After(time.Minute):
		t.Fatal("the command never wrote its pid")
		return 0
	}
}

func running(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	return !strings.HasPrefix(rest, "Z")
}

func TestCapped(t *testing.T) {
	c := &capped{limit: 5<<20 + 3}
	chunk := bytes.Repeat([]byte("abcdefg"), 100000)
	total := 0
	for total < 12<<20 {
		c.Write(chunk)
		total += len(chunk)
	}
	got := c.String()
	if len(got) != 5<<20+3 || c.dropped != int64(total-len(got)) || !strings.HasPrefix(got, "abcdefgabc") {
		t.Errorf("kept %d bytes, dropped %d of %d", len(got), c.dropped, total)
	}
	if want := strings.Repeat("abcdefg", 100000); got[:len(want)] != want {
		t.Error("kept bytes differ from those written")
	}
}
