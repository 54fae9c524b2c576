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

	"github.com/gofab/gofab/internal/compose"
	"github.com/gofab/gofab/internal/data/runstate"
	"github.com/gofab/gofab/internal/ui/output"
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
	cfg, err := readConfig(c)
	if err != nil {
		return err
	}
	f, err := flagsOf[struct {
		Host string `flag:"host"`
	}](c)
	if err != nil {
		return err
	}
	prog, err := loadProgram(c.Context, cfg, env, false)
	if err != nil {
		return err
	}
	if prog == nil {
		if prog, err = compose.Compile("repl", nil, luart.Options{Stdout: env.stdout, Secrets: env.secrets}); err != nil {
			return usageErr("%v", err)
		}
	}
	ex, err := newExecutor(c.Context, cfg, env, prog)
	if err != nil {
		return err
	}
	defer ex.Close()
	r := &repl{host: f.Host, out: env.stdout, errOut: env.stderr}
	interactive := term.IsTerminal(int(env.stdin.Fd())) && isTerminal(env.stdout)
	if interactive {
		state, err := term.MakeRaw(int(env.stdin.Fd()))
		if err != nil {
			return usageErr("repl: %v", err)
		}
		defer term.Restore(int(env.stdin.Fd()), state)
		r.t = term.NewTerminal(rawTerminal{env.stdin, env.stdout.(*os.File)}, "gofab> ")
		r.out, r.errOut = r.t, r.t
		ex.Printer = output.NewWith(r.t, output.Options{Color: env.getenv("NO_COLOR") == "", Redact: env.secrets.Redact})
		ex.Status = false
	}
	// Values and errors show decrypted secrets as ***, as all output does.
	red := env.secrets.Redact.Bytes
	r.out, r.errOut = redactingWriter{w: r.out, redact: red}, redactingWriter{w: r.errOut, redact: red}
	sess, err := ex.Session(c.Context, r.host)
	if err != nil {
		return usageErr("repl: %v", err)
	}
	defer sess.Close()
	// The built-in modules are there without a require.
	if _, err := sess.Eval(preload); err != nil {
		return usageErr("repl: %v", err)
	}
	r.sess = sess
	if interactive {
		fmt.Fprintf(r.t, "gofab %s on %s; :help lists the functions, Ctrl-D quits\n", version, r.host)
		r.history = filepath.Join(filepath.Dir(runstate.Path(env.getenv)), "repl_history")
		loadHistory(r.t, r.history)
		r.read = r.t.ReadLine
	} else {
		r.read = lineReader(env.stdin)
	}
	if failed := r.loop(c.Context.Err); failed && !interactive {
		return &exitError{code: exitFailed}
	}
	return nil
}

// preload makes the built-in modules globals of the REPL.
const preload = `files = files or require("files") cuisine = cuisine or require("cuisine") json = json or require("json") inventory = inventory or require("inventory")`

// repl is one REPL session: where lines come from and results go.
type repl struct {
	host        string
	sess        *luart.Session
	t           *term.Terminal // nil when not on a terminal
	out, errOut io.Writer
	read        func() (string, error)
	history     string
}

// lineReader reads a script's lines.
func lineReader(in io.Reader) func() (string, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	return func() (string, error) {
		if sc.Scan() {
			return sc.Text(), nil
		}
		if sc.Err() != nil {
			return "", sc.Err()
		}
		return "", io.EOF
	}
}

// loop evaluates lines until the input ends (or stopped says to) and
// reports whether a statement failed.
func (r *repl) loop(stopped func() error) (failed bool) {
	var chunk []string
	for stopped() == nil {
		line, err := r.read()
		if err != nil {
			break
		}
		if r.history != "" && strings.TrimSpace(line) != "" {
			appendHistory(r.history, line)
		}
		if len(chunk) == 0 && strings.HasPrefix(strings.TrimSpace(line), ":help") {
			r.help(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), ":help")))
			continue
		}
		chunk = append(chunk, line)
		src := strings.Join(chunk, "\n")
		if strings.TrimSpace(src) == "" {
			chunk = nil
			continue
		}
		vals, err := r.sess.Eval(src)
		// An empty line ends an unfinished statement: show its error.
		if errors.Is(err, luart.ErrIncomplete) && strings.TrimSpace(line) != "" {
			r.prompt("   ...> ")
			continue
		}
		chunk = nil
		r.prompt("gofab> ")
		switch {
		case errors.Is(err, luart.ErrIncomplete):
			failed = true
			fmt.Fprintln(r.errOut, "repl: unfinished statement")
		case err != nil:
			failed = true
			fmt.Fprintln(r.errOut, err)
		case len(vals) > 0:
			fmt.Fprintf(r.out, "[%s] = %s\n", r.host, strings.Join(vals, "\t"))
		}
	}
	if len(chunk) > 0 {
		failed = true
		fmt.Fprintln(r.errOut, "repl: input ended in an unfinished statement")
	}
	return failed
}

func (r *repl) prompt(p string) {
	if r.t != nil {
		r.t.SetPrompt(p)
	}
}

// help lists every function the registry holds, or shows one ("run",
// "files.write").
func (r *repl) help(name string) {
	for _, m := range stdlib.All() {
		for _, f := range m.Funcs {
			full := f.Name
			if m.Name != "" {
				full = m.Name + "." + f.Name
			}
			switch {
			case name == "":
				first, _, _ := strings.Cut(strings.TrimSpace(f.Doc), "\n")
				fmt.Fprintf(r.out, "  %-28s %s\n", full, first)
			case name == full:
				fmt.Fprintf(r.out, "%s\n", strings.TrimSpace(f.Doc))
				if _, t := f.OptionsArg(); t != nil {
					fmt.Fprintf(r.out, "options: %s\n", strings.Join(t.Names(), ", "))
				}
				return
			}
		}
	}
	if name != "" {
		fmt.Fprintf(r.errOut, "repl: no function %q (:help lists them)\n", name)
	}
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
