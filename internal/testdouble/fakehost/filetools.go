package fakehost

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
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
