package fakehost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// shell runs command lines on a host as one user.
type shell struct {
	h    *Host
	user string
	// unscripted are the programs called that nothing answered.
	unscripted []string
}

// run parses and runs a command line; its exit status is the line's.
func (s *shell) run(ctx context.Context, line string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	file, err := syntax.NewParser().Parse(strings.NewReader(line), "")
	if err != nil {
		fmt.Fprintf(stderr, "sh: %v\n", err)
		return 2, nil
	}
	return s.runFile(ctx, file, stdin, stdout, stderr, "")
}

func (s *shell) runFile(ctx context.Context, file *syntax.File, stdin io.Reader, stdout, stderr io.Writer, dir string) (int, error) {
	home := Home(s.user)
	if dir == "" {
		dir = home
		if s.user != s.h.User && s.user != "root" {
			dir = Home(s.h.User)
		}
	}
	view := s.h.FS.As(s.user)
	r, err := interp.New(
		interp.StdIO(stdin, stdout, stderr),
		interp.Env(expand.ListEnviron("HOME="+home, "USER="+s.user, "LOGNAME="+s.user, "PATH=/usr/local/bin:/usr/bin:/bin",
			"SHELL=/bin/sh", "LANG=C.UTF-8")),
		interp.OpenHandler(s.open),
		interp.StatHandler(func(_ context.Context, name string, follow bool) (fs.FileInfo, error) {
			if follow {
				return view.Stat(name)
			}
			return view.Lstat(name)
		}),
		interp.ReadDirHandler2(func(_ context.Context, name string) ([]fs.DirEntry, error) {
			infos, err := view.ReadDir(name)
			var out []fs.DirEntry
			for _, fi := range infos {
				out = append(out, fs.FileInfoToDirEntry(fi))
			}
			return out, err
		}),
		interp.AccessHandler(func(_ context.Context, name string, mode interp.AccessMode) error {
			_, err := view.Stat(name)
			return err
		}),
		interp.CallHandler(s.call),
		interp.ExecHandler(s.exec),
	)
	if err != nil {
		return 0, err
	}
	r.Dir = dir
	err = r.Run(ctx, file)
	if status, ok := interp.IsExitStatus(err); ok {
		return int(status), nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return 0, context.Cause(ctx)
		}
		fmt.Fprintf(stderr, "sh: %v\n", err)
		return 1, nil
	}
	return 0, nil
}

// call rewrites what the interpreter would do against this machine:
// command -v looks at the host's programs, traps on signals (which never
// arrive here) are dropped, and kill (a builtin the interpreter does not
// have) is a program like any other: scripted, or unscripted and fine.
func (s *shell) call(_ context.Context, args []string) ([]string, error) {
	switch {
	case args[0] == "kill":
		return append([]string{"/bin/kill"}, args[1:]...), nil
	case args[0] == "command" && len(args) > 2 && args[1] == "-v":
		return append([]string{"which"}, args[2:]...), nil
	case args[0] == "trap" && len(args) > 2:
		keep := []string{"trap", args[1]}
		for _, sig := range args[2:] {
			if sig == "EXIT" || sig == "ERR" || sig == "0" {
				keep = append(keep, sig)
			}
		}
		if len(keep) == 2 {
			return []string{"true"}, nil
		}
		return keep, nil
	}
	return args, nil
}

// open opens a redirection's file on the host's file system.
func (s *shell) open(ctx context.Context, name string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
	if name == "/dev/null" {
		return devNull{}, nil
	}
	view := s.h.FS.As(s.user)
	if !path.IsAbs(name) {
		name = path.Join(interp.HandlerCtx(ctx).Dir, name)
	}
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		f, err := view.Open(name)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	if err := view.CanWrite(name); err != nil {
		return nil, err
	}
	var old []byte
	if flag&os.O_APPEND != 0 {
		old, _ = view.ReadFile(name)
	}
	return &pending{view: view, name: name, buf: *bytes.NewBuffer(old), perm: perm}, nil
}

type devNull struct{}

func (devNull) Read([]byte) (int, error)    { return 0, io.EOF }
func (devNull) Write(p []byte) (int, error) { return len(p), nil }
func (devNull) Close() error                { return nil }

// pending is a file written by a redirection: its content is stored when
// it is closed.
type pending struct {
	view *View
	name string
	buf  bytes.Buffer
	perm os.FileMode
}

func (p *pending) Read([]byte) (int, error)    { return 0, errors.New("bad file descriptor") }
func (p *pending) Write(b []byte) (int, error) { return p.buf.Write(b) }
func (p *pending) Close() error                { return p.view.WriteFile(p.name, p.buf.Bytes(), p.perm) }

// exec runs a program: a scripted response when one matches, else an
// emulated tool, else the default answer (exit 0, no output; exit 127 on
// a strict host) noted as unscripted.
func (s *shell) exec(ctx context.Context, args []string) error {
	hc := interp.HandlerCtx(ctx)
	if r, ok := s.h.response(strings.Join(args, " ")); ok {
		return status(s.answer(r, hc.Stdout, hc.Stderr))
	}
	name := path.Base(args[0])
	if tool, ok := tools[name]; ok {
		t := &toolCall{s: s, ctx: ctx, hc: hc, name: name, args: args[1:], view: s.h.FS.As(s.user)}
		err := tool(t)
		var ex exitError
		switch {
		case errors.As(err, &ex):
			return interp.ExitStatus(ex)
		case err != nil:
			fmt.Fprintf(hc.Stderr, "%s: %v\n", name, err)
			return interp.ExitStatus(1)
		}
		return nil
	}
	s.unscripted = append(s.unscripted, strings.Join(args, " "))
	s.h.mu.Lock()
	strict := s.h.strict
	s.h.mu.Unlock()
	if strict {
		fmt.Fprintf(hc.Stderr, "gofab test: unscripted command on %s: %s\n", s.h.Name, strings.Join(args, " "))
		return interp.ExitStatus(127)
	}
	return nil
}

func status(code int) error {
	if code == 0 {
		return nil
	}
	return interp.ExitStatus(uint8(code))
}

// exitError is a tool's exit status.
type exitError uint8

func (e exitError) Error() string { return "exit status " + strconv.Itoa(int(e)) }

// toolCall is one call of an emulated tool.
type toolCall struct {
	s    *shell
	ctx  context.Context
	hc   interp.HandlerContext
	name string
	args []string
	view *View
}

// abs resolves a path against the shell's directory.
func (t *toolCall) abs(p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(t.hc.Dir, p)
}

// flags splits flags from operands, GNU style: flags may come anywhere
// before "--". Flags that take a value (listed in valued) get it from the
// rest of their argument or the next one.
func (t *toolCall) flags(valued string) (map[string]string, []string) {
	return t.parseFlags(valued, false)
}

// leadingFlags is flags for tools that run a command: flags end at the
// first operand, the command (xargs, sudo).
func (t *toolCall) leadingFlags(valued string) (map[string]string, []string) {
	return t.parseFlags(valued, true)
}

func (t *toolCall) parseFlags(valued string, leading bool) (map[string]string, []string) {
	fl := map[string]string{}
	var operands []string
	args := t.args
	for len(args) > 0 {
		a := args[0]
		args = args[1:]
		switch {
		case a == "--":
			return fl, append(operands, args...)
		case !strings.HasPrefix(a, "-") || a == "-":
			operands = append(operands, a)
			if leading {
				return fl, append(operands, args...)
			}
		case strings.HasPrefix(a, "--"):
			k, v, _ := strings.Cut(a[2:], "=")
			fl[k] = v
		default:
			for i, c := range a[1:] {
				if strings.ContainsRune(valued, c) {
					if rest := a[2+i:]; rest != "" {
						fl[string(c)] = rest
					} else if len(args) > 0 {
						fl[string(c)], args = args[0], args[1:]
					}
					break
				}
				fl[string(c)] = ""
			}
		}
	}
	return fl, operands
}

func (t *toolCall) errorf(format string, a ...any) error {
	fmt.Fprintf(t.hc.Stderr, format+"\n", a...)
	return exitError(1)
}

// tools are the programs the fake host emulates.
var tools map[string]func(*toolCall) error

func init() {
	tools = map[string]func(*toolCall) error{
		"cat": toolCat, "cp": toolCp, "mv": toolMv, "rm": toolRm, "mkdir": toolMkdir, "install": toolInstall,
		"chmod": toolChmod, "chown": toolChown, "chgrp": toolChown, "ln": toolLn, "readlink": toolReadlink, "touch": toolTouch, "stat": toolStat,
		"sha256sum": toolSha256sum, "xargs": toolXargs, "sh": toolSh, "bash": toolSh, "sudo": toolSudo,
		"which": toolWhich, "id": toolID, "whoami": toolID, "hostname": toolHostname, "uname": toolUname,
		"sleep": toolSleep, "seq": toolSeq, "awk": toolAwk, "tee": toolTee,
		"dpkg-query": toolDpkgQuery, "apt-get": toolPackages, "apt": toolPackages, "dnf": toolPackages, "yum": toolPackages, "zypper": toolPackages,
		"apk": toolPackages, "pacman": toolPackages, "rpm": toolPackages,
		"systemctl": toolSystemctl, "service": toolService,
		"getent": toolGetent, "useradd": toolUseradd, "groupadd": toolGroupadd, "usermod": toolUsermod,
	}
}
