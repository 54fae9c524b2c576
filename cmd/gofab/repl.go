package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/gofab/gofab/internal/output"
	"github.com/gofab/gofab/internal/runstate"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib"
)

func replCommand(env environ) *cli.Command {
	return &cli.Command{
		Name:  "repl",
		Usage: "an interactive Lua prompt with run, sudo, put and get bound to a host; runs a script piped on stdin too",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "host", Aliases: []string{"H"}, Value: "local", Usage: "`HOST` the prompt acts on"},
			&cli.StringFlag{Name: "fabfile", Aliases: []string{"f"}, Usage: "fabfile `PATH` whose top level runs first (default: the one found, if any)"},
			&cli.StringSliceFlag{Name: "include", Usage: "also look for modules in `DIR`"},
		},
		Action: func(c *cli.Context) error { return replAction(c, env) },
	}
}

// rawTerminal is standard input and output as one terminal stream.
type rawTerminal struct {
	io.Reader
	io.Writer
}

func replAction(c *cli.Context, env environ) error {
	prog, err := loadProgram(c, env, false)
	if err != nil {
		return err
	}
	if prog == nil {
		if prog, err = luart.Compile("repl", nil, luart.Options{Modules: stdlib.Modules(), Stdout: env.stdout}); err != nil {
			return usageErr("%v", err)
		}
	}
	ex, err := newExecutor(c, env, prog)
	if err != nil {
		return err
	}
	defer ex.Close()
	interactive := term.IsTerminal(int(env.stdin.Fd())) && isTerminal(env.stdout)
	var t *term.Terminal
	out, errOut := env.stdout, env.stderr
	if interactive {
		state, err := term.MakeRaw(int(env.stdin.Fd()))
		if err != nil {
			return usageErr("repl: %v", err)
		}
		defer term.Restore(int(env.stdin.Fd()), state)
		t = term.NewTerminal(rawTerminal{env.stdin, env.stdout.(*os.File)}, "gofab> ")
		out, errOut = t, t
		ex.Printer = output.NewWith(t, output.Options{Color: env.getenv("NO_COLOR") == ""})
		ex.Status = false
	}
	sess, err := ex.Session(c.Context, c.String("host"))
	if err != nil {
		return usageErr("repl: %v", err)
	}
	defer sess.Close()

	history := filepath.Join(filepath.Dir(runstate.Path(env.getenv)), "repl_history")
	var read func() (string, error)
	if interactive {
		fmt.Fprintf(t, "gofab %s on %s; Ctrl-D quits\n", version, c.String("host"))
		loadHistory(t, history)
		read = t.ReadLine
	} else {
		sc := bufio.NewScanner(env.stdin)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		read = func() (string, error) {
			if sc.Scan() {
				return sc.Text(), nil
			}
			if sc.Err() != nil {
				return "", sc.Err()
			}
			return "", io.EOF
		}
	}
	failed := false
	var chunk []string
	for c.Context.Err() == nil {
		line, err := read()
		if err != nil {
			break
		}
		if interactive && strings.TrimSpace(line) != "" {
			appendHistory(history, line)
		}
		chunk = append(chunk, line)
		src := strings.Join(chunk, "\n")
		if strings.TrimSpace(src) == "" {
			chunk = nil
			continue
		}
		vals, err := sess.Eval(src)
		// An empty line ends an unfinished statement: show its error.
		if errors.Is(err, luart.ErrIncomplete) && strings.TrimSpace(line) != "" {
			if t != nil {
				t.SetPrompt("   ...> ")
			}
			continue
		}
		chunk = nil
		if t != nil {
			t.SetPrompt("gofab> ")
		}
		switch {
		case errors.Is(err, luart.ErrIncomplete):
			failed = true
			fmt.Fprintln(errOut, "repl: unfinished statement")
		case err != nil:
			failed = true
			fmt.Fprintln(errOut, err)
		case len(vals) > 0:
			fmt.Fprintln(out, strings.Join(vals, "\t"))
		}
	}
	if len(chunk) > 0 {
		failed = true
		fmt.Fprintln(errOut, "repl: input ended in an unfinished statement")
	}
	if failed && !interactive {
		return &exitError{code: exitFailed}
	}
	return nil
}

func loadHistory(t *term.Terminal, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for _, l := range lines[max(0, len(lines)-100):] {
		if l != "" {
			t.History.Add(l)
		}
	}
}

func appendHistory(path, line string) {
	os.MkdirAll(filepath.Dir(path), 0o700)
	if f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
		fmt.Fprintln(f, line)
		f.Close()
	}
}
