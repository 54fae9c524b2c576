package shell

import (
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// ReadOnly reports whether a command line provably only reads: --check
// runs such a command as a probe, so a recipe decides on the host's real
// state (ls -1t releases, readlink current, test -e x, git rev-parse HEAD,
// cat f | wc -l). It is so when the line parses as POSIX shell made of
// pipelines and lists (&&, ||, ;, subshells, if, !) of known read-only
// programs with read-only arguments, whose only redirections read a file
// or write to /dev/null or another descriptor, and whose command and
// parameter substitutions are read-only too. Anything else — a write, an
// unknown program, a function definition, a loop, a parse error — is not.
func ReadOnly(line string) bool {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(line), "")
	if err != nil || len(f.Stmts) == 0 {
		return false
	}
	return stmtsReadOnly(f.Stmts)
}

func stmtsReadOnly(stmts []*syntax.Stmt) bool {
	for _, s := range stmts {
		if !stmtReadOnly(s) {
			return false
		}
	}
	return true
}

func stmtReadOnly(s *syntax.Stmt) bool {
	if s.Background || s.Coprocess {
		return false
	}
	for _, r := range s.Redirs {
		if !redirReadOnly(r) {
			return false
		}
	}
	switch c := s.Cmd.(type) {
	case nil:
		return true
	case *syntax.CallExpr:
		return callReadOnly(c)
	case *syntax.BinaryCmd:
		return stmtReadOnly(c.X) && stmtReadOnly(c.Y)
	case *syntax.Subshell:
		return stmtsReadOnly(c.Stmts)
	case *syntax.Block:
		return stmtsReadOnly(c.Stmts)
	case *syntax.IfClause:
		for ; c != nil; c = c.Else {
			if !stmtsReadOnly(c.Cond) || !stmtsReadOnly(c.Then) {
				return false
			}
		}
		return true
	}
	return false
}

// redirReadOnly allows reading a file, here-documents, descriptor dups
// and writing to /dev/null.
func redirReadOnly(r *syntax.Redirect) bool {
	switch r.Op {
	case syntax.RdrIn, syntax.DplIn, syntax.DplOut, syntax.Hdoc, syntax.DashHdoc:
		return r.Word == nil || wordReadOnly(r.Word)
	case syntax.RdrOut, syntax.AppOut, syntax.RdrAll, syntax.AppAll, syntax.ClbOut:
		return r.Word != nil && r.Word.Lit() == "/dev/null"
	}
	return false
}

// wordReadOnly is false for a word whose substitutions could write.
func wordReadOnly(w *syntax.Word) bool {
	ok := true
	syntax.Walk(w, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.CmdSubst:
			ok = ok && stmtsReadOnly(x.Stmts)
			return false
		case *syntax.ProcSubst, *syntax.ArithmExp:
			ok = false // arithmetic can assign: $((x=1))
		case *syntax.ParamExp:
			if x.Exp != nil && (x.Exp.Op == syntax.AssignUnset || x.Exp.Op == syntax.AssignUnsetOrNull) {
				ok = false // ${x:=y} assigns
			}
		}
		return ok
	})
	return ok
}

func callReadOnly(c *syntax.CallExpr) bool {
	for _, a := range c.Assigns {
		if a.Value != nil && !wordReadOnly(a.Value) {
			return false
		}
	}
	if len(c.Args) == 0 {
		return false // a bare assignment changes the shell
	}
	args := make([]string, len(c.Args))
	for i, w := range c.Args {
		if !wordReadOnly(w) {
			return false
		}
		args[i] = w.Lit() // "" when the word is not a plain literal
	}
	name := args[0]
	if name == "sudo" || name == "env" || name == "command" && len(args) > 1 && args[1] != "-v" {
		return false
	}
	if check, ok := readOnlyPrograms[name]; ok {
		return check == nil || check(args[1:])
	}
	return false
}

// readOnlyPrograms are programs that only read; a check, when given,
// refuses the arguments that would make them write.
var readOnlyPrograms = map[string]func(args []string) bool{
	"ls": nil, "cat": nil, "head": nil, "tail": noneOf("-f", "-F", "--follow"), "wc": nil,
	"readlink": nil, "realpath": nil, "basename": nil, "dirname": nil, "stat": nil, "file": nil,
	"test": nil, "[": nil, "true": nil, "false": nil, "echo": nil, "printf": noneOf("-v"),
	"pwd": nil, "id": nil, "whoami": nil, "hostname": noArgs, "uname": nil, "date": noneOf("-s", "--set"),
	"df": nil, "du": nil, "free": nil, "uptime": nil, "nproc": nil, "getent": nil, "groups": nil,
	"grep": nil, "egrep": nil, "fgrep": nil, "cut": nil, "tr": nil, "sort": noneOf("-o", "--output"),
	"uniq": noPositional(1), "md5sum": nil, "sha1sum": nil, "sha256sum": nil, "cmp": nil, "diff": nil,
	"which": nil, "type": nil, "command": nil, "find": noneOf("-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0", "-fprintf", "-fls"),
	"dpkg-query": nil, "rpm": onlyFirst("-q", "-qa", "-qi", "-ql", "-qf"), "dpkg": onlyFirst("-l", "-L", "-s", "-S", "--status", "--list"),
	"systemctl": onlyFirst("is-active", "is-enabled", "is-failed", "status", "show", "cat", "list-units", "list-unit-files"),
	"git":       gitReadOnly, "ps": nil, "pgrep": nil, "lsb_release": nil,
}

// noneOf refuses any of flags.
func noneOf(flags ...string) func([]string) bool {
	return func(args []string) bool {
		for _, a := range args {
			for _, f := range flags {
				if a == f || strings.HasPrefix(a, f+"=") {
					return false
				}
			}
		}
		return true
	}
}

// noArgs allows the program alone (hostname NAME sets the name).
func noArgs(args []string) bool {
	return len(args) == 0 || len(args) == 1 && strings.HasPrefix(args[0], "-")
}

// noPositional allows at most n operands (uniq IN OUT writes OUT).
func noPositional(n int) func([]string) bool {
	return func(args []string) bool {
		count := 0
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				count++
			}
		}
		return count <= n
	}
}

// onlyFirst allows the program when its first argument is one of verbs.
func onlyFirst(verbs ...string) func([]string) bool {
	return func(args []string) bool {
		for _, a := range args {
			if strings.HasPrefix(a, "--") && a != "--status" && a != "--list" {
				continue // systemctl --quiet is-active
			}
			if a == "-q" && !slices.Contains(verbs, "-q") {
				continue
			}
			return slices.Contains(verbs, a)
		}
		return false
	}
}

// gitReadOnly allows git's commands that only read the repository.
func gitReadOnly(args []string) bool {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if args[0] == "-C" && len(args) > 1 {
			args = args[1:]
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return false
	}
	switch args[0] {
	case "rev-parse", "log", "status", "diff", "show", "describe", "ls-files", "ls-remote", "rev-list", "cat-file", "blame", "shortlog":
		return true
	case "branch", "tag", "remote":
		return len(args) == 1 || slices.ContainsFunc(args[1:], func(a string) bool {
			return a == "-v" || a == "-vv" || a == "--list" || a == "-l" || a == "-a" || a == "-r" || a == "--show-current" || a == "--contains"
		}) && !slices.ContainsFunc(args[1:], func(a string) bool { return !strings.HasPrefix(a, "-") && a != "--list" })
	case "config":
		return slices.Contains(args[1:], "--get") || slices.Contains(args[1:], "--list") || slices.Contains(args[1:], "-l")
	}
	return false
}

// CallsSudo reports whether a command line runs sudo itself (run("sudo
// -u postgres pg_dump db | gzip > f")): its password prompt is then
// answered as sudo()'s is.
func CallsSudo(line string) bool {
	if !strings.Contains(line, "sudo") {
		return false // most lines: no parse on every command's path
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(line), "")
	if err != nil {
		return strings.Contains(line, "sudo ")
	}
	found := false
	syntax.Walk(f, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.CallExpr); ok && len(c.Args) > 0 && c.Args[0].Lit() == "sudo" {
			found = true
		}
		return !found
	})
	return found
}
