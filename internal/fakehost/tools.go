package fakehost

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"mvdan.cc/sh/v3/syntax"
)

func toolCat(t *toolCall) error {
	_, files := t.flags("")
	if len(files) == 0 {
		_, err := io.Copy(t.hc.Stdout, t.hc.Stdin)
		return err
	}
	for _, f := range files {
		data, err := t.view.ReadFile(t.abs(f))
		if err != nil {
			return t.errorf("cat: %v", err)
		}
		t.hc.Stdout.Write(data)
	}
	return nil
}

// copyFile copies src's content (and mode) to dst, replacing a file there.
func (t *toolCall) copyFile(src, dst string) error {
	fi, err := t.view.Stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("-r not specified; omitting directory %s", src)
	}
	data, err := t.view.ReadFile(src)
	if err != nil {
		return err
	}
	if d, err := t.view.Stat(dst); err == nil && d.IsDir() {
		dst = path.Join(dst, path.Base(src))
	}
	return t.view.WriteFile(dst, data, fi.Mode().Perm())
}

func toolCp(t *toolCall) error {
	_, args := t.flags("")
	if len(args) != 2 {
		return t.errorf("cp: expected SOURCE DEST")
	}
	if err := t.copyFile(t.abs(args[0]), t.abs(args[1])); err != nil {
		return t.errorf("cp: %v", err)
	}
	return nil
}

func toolMv(t *toolCall) error {
	fl, args := t.flags("")
	if len(args) != 2 {
		return t.errorf("mv: expected SOURCE DEST")
	}
	src, dst := t.abs(args[0]), t.abs(args[1])
	if !has(fl, "T") {
		if d, err := t.view.Stat(dst); err == nil && d.IsDir() {
			dst = path.Join(dst, path.Base(src))
		}
	}
	if err := t.view.Rename(src, dst); err != nil {
		return t.errorf("mv: %v", err)
	}
	return nil
}

func toolRm(t *toolCall) error {
	fl, args := t.flags("")
	force := has(fl, "f")
	recursive := has(fl, "r") || has(fl, "R")
	for _, a := range args {
		p := t.abs(a)
		err := t.remove(p, recursive)
		if err != nil && !(force && errors.Is(err, fs.ErrNotExist)) {
			return t.errorf("rm: %v", err)
		}
	}
	return nil
}

// remove removes p, and what is under it when recursive.
func (t *toolCall) remove(p string, recursive bool) error {
	fi, err := t.view.Lstat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		if !recursive {
			return fmt.Errorf("cannot remove %s: Is a directory", p)
		}
		entries, _ := t.view.ReadDir(p)
		for _, e := range entries {
			if err := t.remove(path.Join(p, e.Name()), true); err != nil {
				return err
			}
		}
	}
	return t.view.Remove(p)
}

// parseMode reads an octal mode.
func parseMode(s string) (fs.FileMode, error) {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid mode: %q", s)
	}
	m := fs.FileMode(n & 0o777)
	if n&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	if n&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if n&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	return m, nil
}

func toolMkdir(t *toolCall) error {
	fl, args := t.flags("m")
	mode := fs.FileMode(0o755)
	if m, ok := fl["m"]; ok {
		var err error
		if mode, err = parseMode(m); err != nil {
			return t.errorf("mkdir: %v", err)
		}
	}
	parents := has(fl, "p")
	for _, a := range args {
		p := t.abs(a)
		var err error
		if parents {
			err = t.view.MkdirAll(p, mode)
		} else {
			err = t.view.Mkdir(p, mode)
		}
		if err == nil {
			err = t.view.Chmod(p, mode)
		}
		if err != nil {
			return t.errorf("mkdir: %v", err)
		}
	}
	return nil
}

// toolInstall handles install -d (directories) and install SRC DST, with
// -m, -o and -g.
func toolInstall(t *toolCall) error {
	fl, args := t.flags("mog")
	mode := fs.FileMode(0o755)
	if m, ok := fl["m"]; ok {
		var err error
		if mode, err = parseMode(m); err != nil {
			return t.errorf("install: %v", err)
		}
	}
	targets := args
	if has(fl, "d") {
		for _, a := range args {
			if err := t.view.MkdirAll(t.abs(a), mode); err != nil {
				return t.errorf("install: %v", err)
			}
		}
	} else {
		if len(args) != 2 {
			return t.errorf("install: expected SOURCE DEST")
		}
		if err := t.copyFile(t.abs(args[0]), t.abs(args[1])); err != nil {
			return t.errorf("install: %v", err)
		}
		targets = args[1:]
	}
	for _, a := range targets {
		p := t.abs(a)
		if err := t.view.Chmod(p, mode); err != nil {
			return t.errorf("install: %v", err)
		}
		if fl["o"] != "" || fl["g"] != "" {
			if err := t.view.Chown(p, fl["o"], fl["g"], true); err != nil {
				return t.errorf("install: %v", err)
			}
		}
	}
	return nil
}

func toolChmod(t *toolCall) error {
	fl, args := t.flags("")
	var mode fs.FileMode
	var ref fs.FileInfo
	if r, ok := fl["reference"]; ok {
		fi, err := t.view.Stat(t.abs(r))
		if err != nil {
			return t.errorf("chmod: %v", err)
		}
		ref = fi
	} else {
		if len(args) == 0 {
			return t.errorf("chmod: missing operand")
		}
		spec := args[0]
		args = args[1:]
		m, err := parseMode(spec)
		if err != nil && !symbolic(spec) {
			return t.errorf("chmod: %v", err)
		}
		mode = m
		if err != nil {
			for _, a := range args {
				if err := t.chmodSymbolic(t.abs(a), spec); err != nil {
					return t.errorf("chmod: %v", err)
				}
			}
			return nil
		}
	}
	for _, a := range args {
		m := mode
		if ref != nil {
			m = ref.Mode() &^ fs.ModeType
		}
		if err := t.view.Chmod(t.abs(a), m); err != nil {
			return t.errorf("chmod: %v", err)
		}
	}
	return nil
}

// symbolic reports whether spec is a simple symbolic mode: [ugoa]*[+-][rwx]+.
func symbolic(spec string) bool {
	i := strings.IndexAny(spec, "+-")
	return i >= 0 && strings.Trim(spec[:i], "ugoa") == "" && spec[i+1:] != "" && strings.Trim(spec[i+1:], "rwx") == ""
}

func (t *toolCall) chmodSymbolic(p, spec string) error {
	fi, err := t.view.Stat(p)
	if err != nil {
		return err
	}
	i := strings.IndexAny(spec, "+-")
	who := spec[:i]
	if who == "" || strings.Contains(who, "a") {
		who = "ugo"
	}
	var bits fs.FileMode
	for _, c := range spec[i+1:] {
		b := map[rune]fs.FileMode{'r': 4, 'w': 2, 'x': 1}[c]
		for _, w := range who {
			bits |= b << map[rune]uint{'u': 6, 'g': 3, 'o': 0}[w]
		}
	}
	m := fi.Mode() &^ fs.ModeType
	if spec[i] == '+' {
		m |= bits
	} else {
		m &^= bits
	}
	return t.view.Chmod(p, m)
}

func toolChown(t *toolCall) error {
	fl, args := t.flags("")
	noFollow := has(fl, "h")
	var owner, group string
	if r, ok := fl["reference"]; ok {
		o, g, err := t.view.Owner(t.abs(r))
		if err != nil {
			return t.errorf("chown: %v", err)
		}
		owner, group = o, g
	} else {
		if len(args) == 0 {
			return t.errorf("chown: missing operand")
		}
		spec := args[0]
		args = args[1:]
		if t.name == "chgrp" {
			group = spec
		} else {
			owner, group, _ = strings.Cut(spec, ":")
		}
	}
	if err := t.s.h.known(owner, group); err != nil {
		return t.errorf("chown: %v", err)
	}
	for _, a := range args {
		if err := t.view.Chown(t.abs(a), owner, group, !noFollow); err != nil {
			return t.errorf("chown: %v", err)
		}
	}
	return nil
}

func toolLn(t *toolCall) error {
	fl, args := t.flags("")
	if !has(fl, "s") || len(args) != 2 {
		return t.errorf("ln: only ln -s [-f] TARGET LINK is emulated")
	}
	link := t.abs(args[1])
	force := has(fl, "f")
	if fi, err := t.view.Lstat(link); err == nil {
		if fi.IsDir() {
			link = path.Join(link, path.Base(args[0]))
		} else if force {
			t.view.Remove(link)
		}
	}
	if err := t.view.Symlink(args[0], link); err != nil {
		return t.errorf("ln: %v", err)
	}
	return nil
}

// toolReadlink prints a symlink's target (-f: the resolved path).
func toolReadlink(t *toolCall) error {
	fl, args := t.flags("")
	canon := has(fl, "f")
	for _, a := range args {
		p := t.abs(a)
		if canon {
			real, err := t.view.Real(p)
			if err != nil {
				return exitError(1)
			}
			fmt.Fprintln(t.hc.Stdout, real)
			continue
		}
		target, err := t.view.ReadLink(p)
		if err != nil {
			return exitError(1)
		}
		fmt.Fprintln(t.hc.Stdout, target)
	}
	return nil
}

func toolTouch(t *toolCall) error {
	_, args := t.flags("")
	for _, a := range args {
		p := t.abs(a)
		if _, err := t.view.Stat(p); err == nil {
			continue
		}
		if err := t.view.WriteFile(p, nil, 0o644); err != nil {
			return t.errorf("touch: %v", err)
		}
	}
	return nil
}

// toolStat handles stat -c FORMAT with %a %U %G %s %n %F.
func toolStat(t *toolCall) error {
	fl, args := t.flags("c")
	format, ok := fl["c"]
	if !ok {
		format = fl["format"]
	}
	for _, a := range args {
		p := t.abs(a)
		fi, err := t.view.Stat(p)
		if err != nil {
			return t.errorf("stat: cannot statx '%s': No such file or directory", a)
		}
		owner, group, _ := t.view.Owner(p)
		kind := "regular file"
		if fi.IsDir() {
			kind = "directory"
		}
		r := strings.NewReplacer("%a", strconv.FormatUint(uint64(fi.Mode().Perm()), 8), "%U", owner, "%G", group,
			"%s", strconv.FormatInt(fi.Size(), 10), "%n", a, "%F", kind)
		fmt.Fprintln(t.hc.Stdout, r.Replace(format))
	}
	return nil
}

func toolSha256sum(t *toolCall) error {
	fl, args := t.flags("")
	end := "\n"
	if has(fl, "z") {
		end = "\x00"
	}
	code := 0
	for _, a := range args {
		data, err := t.view.ReadFile(t.abs(a))
		if err != nil {
			fmt.Fprintf(t.hc.Stderr, "sha256sum: %s: %v\n", a, err)
			code = 1
			continue
		}
		fmt.Fprintf(t.hc.Stdout, "%x  %s%s", sha256.Sum256(data), a, end)
	}
	if code != 0 {
		return exitError(code)
	}
	return nil
}

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

func toolID(t *toolCall) error {
	fl, _ := t.flags("")
	u := has(fl, "u")
	n := has(fl, "n")
	switch {
	case t.name == "whoami" || (u && n):
		fmt.Fprintln(t.hc.Stdout, t.s.user)
	case u:
		fmt.Fprintln(t.hc.Stdout, t.s.h.uid(t.s.user))
	default:
		fmt.Fprintf(t.hc.Stdout, "uid=%d(%s) gid=%[1]d(%[2]s)\n", t.s.h.uid(t.s.user), t.s.user)
	}
	return nil
}

// uid is 0 for root and 1000 and up for the others.
func (h *Host) uid(user string) int {
	if user == "root" {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, u := range sortedKeys(h.users) {
		if u == user {
			return 1000 + i
		}
	}
	return 65534
}

func toolHostname(t *toolCall) error {
	fmt.Fprintln(t.hc.Stdout, t.s.h.Name)
	return nil
}

func toolUname(t *toolCall) error {
	fl, _ := t.flags("")
	var parts []string
	all := has(fl, "a")
	if has(fl, "s") || all || len(fl) == 0 {
		parts = append(parts, "Linux")
	}
	if has(fl, "n") || all {
		parts = append(parts, t.s.h.Name)
	}
	if has(fl, "r") || all {
		parts = append(parts, "6.1.0-fake-amd64")
	}
	if has(fl, "m") || all {
		parts = append(parts, "x86_64")
	}
	fmt.Fprintln(t.hc.Stdout, strings.Join(parts, " "))
	return nil
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

// toolDpkgQuery answers dpkg-query -W [-f FORMAT] NAMES for the installed
// packages.
func toolDpkgQuery(t *toolCall) error {
	fl, names := t.flags("f")
	format := strings.TrimPrefix(fl["f"], "=") // dpkg takes -f=FORMAT too
	if format == "" {
		format = fl["showformat"]
	}
	if format == "" {
		format = "${Package}\t${Version}\n"
	}
	format = strings.ReplaceAll(format, `\n`, "\n")
	code := 0
	for _, n := range names {
		if !t.s.h.installed(n) {
			fmt.Fprintf(t.hc.Stderr, "dpkg-query: no packages found matching %s (h:packages({%q}) declares it installed)\n", n, n)
			code = 1
			continue
		}
		r := strings.NewReplacer("${Package}", n, "${Status}", "install ok installed", "${Version}", "1.0",
			"${db:Status-Abbrev}", "ii ")
		io.WriteString(t.hc.Stdout, r.Replace(format))
	}
	if code != 0 {
		return exitError(code)
	}
	return nil
}

func (h *Host) installed(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.packages[name]
}

// packageDirs are the directories a few common Debian packages lay down,
// so that a recipe writing their configuration finds them as on a real
// host.
var packageDirs = map[string][]string{
	"nginx":          {"/etc/nginx/sites-available", "/etc/nginx/sites-enabled", "/etc/nginx/conf.d", "/var/log/nginx"},
	"uwsgi-emperor":  {"/etc/uwsgi-emperor/vassals"},
	"php-fpm":        {"/etc/php/8.2/fpm/conf.d", "/etc/php/8.2/fpm/pool.d"},
	"logrotate":      {"/etc/logrotate.d"},
	"postfix":        {"/etc/postfix", "/var/spool/postfix"},
	"postgresql":     {"/etc/postgresql", "/var/lib/postgresql"},
	"ssl-cert":       {"/etc/ssl/certs", "/etc/ssl/private"},
	"openssh-server": {"/etc/ssh/sshd_config.d"},
	"apache2":        {"/etc/apache2/sites-available", "/etc/apache2/sites-enabled"},
	"uwsgi":          {"/etc/uwsgi/apps-available", "/etc/uwsgi/apps-enabled"},
}

// packageUsers are the system users some packages add.
var packageUsers = map[string]string{"postfix": "postfix", "postgresql": "postgres"}

// toolPackages is the package managers: apt-get, dnf, yum, zypper, apk
// and pacman install and remove packages (as root only); rpm -q, apk info
// -e and pacman -Q tell whether one is installed.
func toolPackages(t *toolCall) error {
	fl, words := t.flags("o")
	h := t.s.h
	var verb string
	switch t.name {
	case "pacman":
		switch {
		case has(fl, "Q"):
			verb = "query"
		case has(fl, "S") && len(words) > 0:
			verb = "install"
		case has(fl, "R"):
			verb = "remove"
		}
	case "rpm":
		if has(fl, "q") {
			verb = "query"
		}
	default:
		if len(words) > 0 {
			verb, words = words[0], words[1:]
		}
		if t.name == "apk" && verb == "info" && has(fl, "e") {
			verb = "query"
		}
	}
	switch verb {
	case "query":
		for _, n := range words {
			if !h.installed(n) {
				fmt.Fprintf(t.hc.Stderr, "package %s is not installed (h:packages({%q}) declares it installed)\n", n, n)
				return exitError(1)
			}
			fmt.Fprintf(t.hc.Stdout, "%s-1.0\n", n)
		}
		return nil
	case "install", "add", "remove", "purge", "del", "erase":
	default:
		return nil // update, upgrade, clean, makecache, refresh…
	}
	if t.s.user != "root" {
		return t.errorf("%s: permission denied (are you root?) (the recipe ran it as %s: use sudo() or {use_sudo = true})", t.name, t.s.user)
	}
	if verb == "install" || verb == "add" {
		h.Install(words...)
	} else {
		h.set(h.packages, words, false)
	}
	return nil
}

func has(fl map[string]string, k string) bool {
	_, ok := fl[k]
	return ok
}

// toolSystemctl tracks services: start, stop, restart, reload, enable,
// disable, is-active, is-enabled, status, daemon-reload.
func toolSystemctl(t *toolCall) error {
	var verb string
	var units []string
	quiet := false
	for _, a := range t.args {
		switch {
		case a == "--quiet" || a == "-q":
			quiet = true
		case strings.HasPrefix(a, "-"):
		case verb == "":
			verb = a
		default:
			units = append(units, a)
		}
	}
	if verb == "" {
		return nil
	}
	out := t.hc.Stdout
	if quiet {
		out = io.Discard
	}
	h := t.s.h
	switch verb {
	case "is-active", "status":
		for _, u := range units {
			if !h.running(u) {
				fmt.Fprintln(out, "inactive")
				return exitError(3)
			}
			fmt.Fprintln(out, "active")
		}
		return nil
	case "is-enabled":
		for _, u := range units {
			h.mu.Lock()
			on := h.enabled[strings.TrimSuffix(u, ".service")]
			h.mu.Unlock()
			if !on {
				fmt.Fprintln(out, "disabled")
				return exitError(1)
			}
			fmt.Fprintln(out, "enabled")
		}
		return nil
	case "daemon-reload":
	case "start", "restart", "reload", "reload-or-restart", "try-restart", "stop", "enable", "disable":
	default:
		return t.errorf("systemctl: unknown command %q", verb)
	}
	if t.s.user != "root" {
		return t.errorf("Failed to %s %s: Access denied (the recipe ran it as %s: use sudo())", verb, strings.Join(units, " "), t.s.user)
	}
	for _, u := range units {
		u = strings.TrimSuffix(u, ".service")
		switch verb {
		case "start", "restart", "reload-or-restart", "try-restart":
			h.Start(u)
		case "reload":
			if h.stopped(u) {
				return t.errorf("%s.service is not active, cannot reload. (the test declared it stopped with h:services({[%q] = \"stopped\"}), or the recipe stopped it; declare it running to reload it)", u, u)
			}
			h.Start(u) // a service the test said nothing about runs
		case "stop":
			h.Stop(u)
		case "enable":
			h.set(h.enabled, []string{u}, true)
		case "disable":
			h.set(h.enabled, []string{u}, false)
		}
	}
	return nil
}

// stopped reports whether unit was declared stopped (or stopped).
func (h *Host) stopped(unit string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	on, declared := h.services[strings.TrimSuffix(unit, ".service")]
	return declared && !on
}

func (h *Host) running(unit string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.services[strings.TrimSuffix(unit, ".service")]
}

// toolService is sysvinit's service NAME start|stop|restart|reload|status.
func toolService(t *toolCall) error {
	if len(t.args) < 2 {
		return t.errorf("usage: service NAME COMMAND")
	}
	verb := t.args[1]
	if verb == "status" {
		verb = "is-active"
	}
	sc := *t
	sc.args = []string{verb, t.args[0]}
	return toolSystemctl(&sc)
}

// toolGetent answers getent passwd|group NAME.
func toolGetent(t *toolCall) error {
	if len(t.args) < 2 {
		return exitError(1)
	}
	h := t.s.h
	for _, name := range t.args[1:] {
		h.mu.Lock()
		_, user := h.users[name]
		members, group := h.groups[name]
		h.mu.Unlock()
		switch {
		case t.args[0] == "passwd" && user:
			id := h.uid(name)
			fmt.Fprintf(t.hc.Stdout, "%s:x:%d:%d::%s:/bin/bash\n", name, id, id, Home(name))
		case t.args[0] == "group" && group:
			fmt.Fprintf(t.hc.Stdout, "%s:x:%d:%s\n", name, h.uid(name), strings.Join(members, ","))
		default:
			return exitError(2)
		}
	}
	return nil
}

// known fails on a strict host unless the user and group (either may be
// empty) exist. A host that is not strict assumes a user or group the test
// did not declare exists, as it assumes an unscripted program succeeds.
func (h *Host) known(user, group string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.strict {
		return nil
	}
	const hint = " (t.strict() is on: the user and group must exist; create them in the recipe or in the test's recipe setup)"
	if _, ok := h.users[user]; user != "" && !ok {
		return fmt.Errorf("invalid user: %q%s", user, hint)
	}
	if _, ok := h.groups[group]; group != "" && !ok {
		return fmt.Errorf("invalid group: %q%s", group, hint)
	}
	return nil
}

func (t *toolCall) needRoot() error {
	if t.s.user != "root" {
		return t.errorf("%s: Permission denied. (the recipe ran it as %s: use sudo())", t.name, t.s.user)
	}
	return nil
}

func toolUseradd(t *toolCall) error {
	if err := t.needRoot(); err != nil {
		return err
	}
	fl, args := t.flags("dgGsuc")
	if len(args) != 1 {
		return t.errorf("useradd: expected one user name")
	}
	name := args[0]
	t.s.h.mu.Lock()
	_, exists := t.s.h.users[name]
	t.s.h.users[name] = true
	if _, ok := t.s.h.groups[name]; !ok {
		t.s.h.groups[name] = nil
	}
	t.s.h.mu.Unlock()
	if exists {
		return t.errorf("useradd: user '%s' already exists", name)
	}
	if has(fl, "m") {
		home := Home(name)
		if d := fl["d"]; d != "" {
			home = d
		}
		root := t.s.h.FS.As("root")
		root.MkdirAll(home, 0o755)
		root.Chown(home, name, name, true)
	}
	return nil
}

func toolGroupadd(t *toolCall) error {
	if err := t.needRoot(); err != nil {
		return err
	}
	_, args := t.flags("g")
	for _, g := range args {
		t.s.h.mu.Lock()
		if _, ok := t.s.h.groups[g]; !ok {
			t.s.h.groups[g] = nil
		}
		t.s.h.mu.Unlock()
	}
	return nil
}

// toolUsermod handles usermod -a -G GROUP[,GROUP] USER.
func toolUsermod(t *toolCall) error {
	if err := t.needRoot(); err != nil {
		return err
	}
	fl, args := t.flags("Gg")
	if len(args) != 1 {
		return t.errorf("usermod: expected one user name")
	}
	h := t.s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, g := range strings.Split(fl["G"], ",") {
		if g == "" {
			continue
		}
		if _, ok := h.groups[g]; !ok {
			return t.errorf("usermod: group '%s' does not exist", g)
		}
		h.groups[g] = append(h.groups[g], args[0])
	}
	return nil
}
