package fakehost

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"mvdan.cc/sh/v3/syntax"
)

// toolXargs runs its command with the words of stdin appended (-0: NUL
// separated).
func toolXargs(t *toolCall) error {
	fl, args := t.leadingFlags("")
	data, err := io.ReadAll(t.hc.Stdin)
	if err != nil {
		return err
	}
	var words []string
	if has(fl, "0") {
		words = strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
		if len(data) == 0 {
			words = nil
		}
	} else {
		words = strings.Fields(string(data))
	}
	if len(args) == 0 {
		args = []string{"echo"}
	}
	return t.sub(append(args, words...), t.hc.Stdin)
}

// sub runs argv as a command of the same shell (so it is scripted,
// emulated or noted like any other).
func (t *toolCall) sub(argv []string, stdin io.Reader) error {
	code, err := t.s.runFile(t.ctx, mustParse(quoteArgs(argv)), stdin, t.hc.Stdout, t.hc.Stderr, t.hc.Dir)
	if err != nil {
		return err
	}
	if code != 0 {
		return exitError(code)
	}
	return nil
}

// quoteArgs joins argv into a shell line that splits back into argv.
func quoteArgs(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
	}
	return b.String()
}

// toolSh runs sh -c LINE or sh FILE.
func toolSh(t *toolCall) error {
	args := t.args
	var src string
	switch {
	case len(args) >= 2 && args[0] == "-c":
		src = args[1]
	case len(args) >= 1 && !strings.HasPrefix(args[0], "-"):
		data, err := t.view.ReadFile(t.abs(args[0]))
		if err != nil {
			return t.errorf("sh: %v", err)
		}
		src = string(data)
	default:
		data, err := io.ReadAll(t.hc.Stdin)
		if err != nil {
			return err
		}
		src = string(data)
	}
	file, err := syntax.NewParser().Parse(strings.NewReader(src), "")
	if err != nil {
		return t.errorf("sh: %v", err)
	}
	code, err := t.s.runFile(t.ctx, file, t.hc.Stdin, t.hc.Stdout, t.hc.Stderr, t.hc.Dir)
	if err != nil {
		return err
	}
	if code != 0 {
		return exitError(code)
	}
	return nil
}

// toolSudo runs its command as -u USER (root by default).
func toolSudo(t *toolCall) error {
	fl, args := t.leadingFlags("upgC")
	user := fl["u"]
	if user == "" {
		user = "root"
	}
	sub := &shell{h: t.s.h, user: user}
	code, err := sub.runFile(t.ctx, mustParse(quoteArgs(args)), t.hc.Stdin, t.hc.Stdout, t.hc.Stderr, t.hc.Dir)
	t.s.unscripted = append(t.s.unscripted, sub.unscripted...)
	if err != nil {
		return err
	}
	if code != 0 {
		return exitError(code)
	}
	return nil
}

func mustParse(line string) *syntax.File {
	f, err := syntax.NewParser().Parse(strings.NewReader(line), "")
	if err != nil {
		panic(err)
	}
	return f
}

// toolWhich prints where each program is; it fails when one is missing.
// Emulated tools, scripted commands, installed packages' names and
// provided programs exist.
func toolWhich(t *toolCall) error {
	code := 0
	for _, name := range t.args {
		if t.s.h.has(name) {
			fmt.Fprintf(t.hc.Stdout, "/usr/bin/%s\n", name)
		} else {
			code = 1
		}
	}
	if code != 0 {
		return exitError(code)
	}
	return nil
}

// has reports whether program name exists on the host.
func (h *Host) has(name string) bool {
	if _, ok := tools[name]; ok {
		return true
	}
	if isShellBuiltin(name) {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.programs[name] || h.packages[name] {
		return true
	}
	for _, r := range h.responses {
		if first, _, _ := strings.Cut(strings.TrimPrefix(r.Pattern, "^"), " "); first == name {
			return true
		}
	}
	return false
}

func isShellBuiltin(name string) bool {
	switch name {
	case "true", "false", "echo", "printf", "test", "[", "cd", "exit", "set", "export", "read", "command", "type", "trap":
		return true
	}
	return false
}

// toolSleep returns at once (a fake host has no time to lose) unless the
// host sleeps for real; an interrupt ends it.
func toolSleep(t *toolCall) error {
	if !t.s.h.RealSleep || len(t.args) == 0 {
		return nil
	}
	secs, err := strconv.ParseFloat(t.args[0], 64)
	if err != nil {
		return t.errorf("sleep: invalid time interval %q", t.args[0])
	}
	select {
	case <-time.After(time.Duration(secs * float64(time.Second))):
		return nil
	case <-t.ctx.Done():
		return t.ctx.Err()
	}
}

// toolSeq prints the numbers from 1 (or FIRST) to LAST, one a line: a
// command with as much output as asked for.
func toolSeq(t *toolCall) error {
	first, last := 1, 0
	var err error
	switch len(t.args) {
	case 1:
		last, err = strconv.Atoi(t.args[0])
	case 2:
		if first, err = strconv.Atoi(t.args[0]); err == nil {
			last, err = strconv.Atoi(t.args[1])
		}
	default:
		return t.errorf("usage: seq [FIRST] LAST")
	}
	if err != nil {
		return t.errorf("seq: %v", err)
	}
	w := bufio.NewWriterSize(t.hc.Stdout, 64<<10)
	for i := first; i <= last; i++ {
		w.WriteString(strconv.Itoa(i))
		w.WriteByte('\n')
	}
	return w.Flush()
}

func toolTee(t *toolCall) error {
	fl, args := t.flags("")
	data, err := io.ReadAll(t.hc.Stdin)
	if err != nil {
		return err
	}
	t.hc.Stdout.Write(data)
	app := has(fl, "a")
	for _, a := range args {
		p := t.abs(a)
		content := data
		if app {
			old, _ := t.view.ReadFile(p)
			content = append(old, data...)
		}
		if err := t.view.WriteFile(p, content, 0o644); err != nil {
			return t.errorf("tee: %v", err)
		}
	}
	return nil
}

// toolAwk understands the programs gofab's built-ins use: an optional
// condition $N == "text" (or $NF) and an action {print $N, …}.
func toolAwk(t *toolCall) error {
	if len(t.args) == 0 {
		return t.errorf("awk: no program")
	}
	prog := strings.TrimSpace(t.args[0])
	cond, action, _ := strings.Cut(prog, "{")
	action = strings.TrimSuffix(strings.TrimSpace(action), "}")
	cond = strings.TrimSpace(cond)
	field := func(fields []string, ref string) string {
		ref = strings.TrimSpace(ref)
		if ref == "$NF" {
			if len(fields) == 0 {
				return ""
			}
			return fields[len(fields)-1]
		}
		if ref == "$0" {
			return strings.Join(fields, " ")
		}
		n, err := strconv.Atoi(strings.TrimPrefix(ref, "$"))
		if err != nil || n < 1 || n > len(fields) {
			return ""
		}
		return fields[n-1]
	}
	sc := bufio.NewScanner(t.hc.Stdin)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if cond != "" {
			l, r, ok := strings.Cut(cond, "==")
			if !ok || field(fields, l) != strings.Trim(strings.TrimSpace(r), `"`) {
				continue
			}
		}
		refs := strings.Split(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(action), "print")), ",")
		var out []string
		for _, r := range refs {
			out = append(out, field(fields, r))
		}
		fmt.Fprintln(t.hc.Stdout, strings.Join(out, " "))
	}
	return nil
}
