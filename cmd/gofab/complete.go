package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gofab/gofab/internal/compose"
	"github.com/gofab/gofab/internal/mod/modfile"

	"github.com/urfave/cli/v2"

	"github.com/gofab/gofab/internal/transport/sshconfig"
	"github.com/gofab/gofab/luart"
)

// filesDirective asks the shell to complete file names itself.
const filesDirective = "__files__"

// valueKinds says what each flag's value is, for completion.
var valueKinds = map[string]string{
	"fabfile": "file", "identity": "file", "ssh-config": "file", "include": "file", "log-dir": "file",
	"hosts": "hosts", "exclude-hosts": "hosts", "gateway": "hosts",
	"roles": "groups",
	"hide":  "levels", "show": "levels",
	"output": "formats",
}

// completeWord starts a completion request: gofab __complete WORD...
// prints the candidates for the last word of a gofab command line, one a
// line as value<TAB>description, for the bash, zsh and fish scripts alike
// (one description of the command line for the three shells).
const completeWord = "__complete"

func printCompletions(app *cli.App, words []string, env environ) {
	for _, cand := range completions(app, words, env) {
		fmt.Fprintln(env.stdout, cand)
	}
}

// completions returns the candidates for the last of words (the words
// after "gofab"; the last is the one being typed).
func completions(app *cli.App, words []string, env environ) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, before := words[len(words)-1], words[:len(words)-1]
	byName := map[string]cli.Flag{}
	for _, f := range everyFlag() {
		for _, n := range f.Names() {
			byName[n] = f
		}
	}
	flagOf := func(w string) cli.Flag { // nil when w is no flag of gofab's
		if !strings.HasPrefix(w, "-") {
			return nil
		}
		return byName[strings.TrimLeft(w, "-")]
	}
	wantsValue := func(w string) bool { f := flagOf(w); return f != nil && takesValue(f) }
	// What the words so far say: -f's fabfile, -S's ssh config, the
	// subcommand, and whether the previous word wants a value.
	var fabfile, sshConfig, sub string
	for i, w := range before {
		if f := flagOf(w); f != nil {
			if takesValue(f) && i+1 < len(before) {
				switch f.Names()[0] {
				case "fabfile":
					fabfile = before[i+1]
				case "ssh-config":
					sshConfig = before[i+1]
				}
			}
			continue
		}
		if sub == "" && (i == 0 || !wantsValue(before[i-1])) && app.Command(w) != nil {
			sub = w
		}
	}
	var want string
	if len(before) > 0 && wantsValue(before[len(before)-1]) {
		if want = valueKinds[flagOf(before[len(before)-1]).Names()[0]]; want == "" {
			return nil
		}
	}
	src := &sources{env: env, fabfile: fabfile, sshConfig: sshConfig}
	switch {
	case want != "":
		return src.values(want, cur)
	case strings.HasPrefix(cur, "-"):
		var out []string
		for _, f := range everyFlag() {
			for _, n := range f.Names() {
				out = append(out, dashed(n)+"\t"+flagUsage(f))
			}
		}
		return filter(out, cur)
	case sub == "completion":
		return filter([]string{"bash", "zsh", "fish"}, cur)
	case sub == "test" || sub == "types":
		return []string{filesDirective}
	case sub == "hosts" || sub == "ssh-config":
		return src.values("hosts", cur)
	case sub == "mod" || sub == "get":
		return filter(moduleCompletions(app.Command(sub), before), cur)
	case sub != "":
		return nil
	}
	// A task (or, first, a subcommand).
	out := src.tasks(cur)
	if onlyFlags(before, wantsValue) {
		for _, cmd := range app.Commands {
			if !cmd.Hidden && cmd.Name != "help" {
				out = append(out, cmd.Name+"\t"+cmd.Usage)
			}
		}
	}
	return filter(out, cur)
}

func takesValue(f cli.Flag) bool {
	d, ok := f.(cli.DocGenerationFlag)
	return ok && d.TakesValue()
}

// onlyFlags reports whether words are only flags and their values.
func onlyFlags(words []string, wantsValue func(string) bool) bool {
	for i := 0; i < len(words); i++ {
		if !strings.HasPrefix(words[i], "-") {
			return false
		}
		if wantsValue(words[i]) {
			i++
		}
	}
	return true
}

// everyFlag is gofab's flags with --version and --help.
func everyFlag() []cli.Flag { return append(flags(), cli.VersionFlag, cli.HelpFlag) }

// dashed writes a flag's name as typed: -f, --fabfile.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagUsage is a flag's one-line help.
func flagUsage(f cli.Flag) string {
	if d, ok := f.(cli.DocGenerationFlag); ok {
		return d.GetUsage()
	}
	return ""
}

// filter keeps the candidates that start with prefix.
func filter(cands []string, prefix string) []string {
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// sources are where candidates come from: the fabfile and the ssh config.
type sources struct {
	env                environ
	fabfile, sshConfig string
	prog               *luart.Program
	loaded             bool
}

// program loads the fabfile quietly (nil when there is none or it fails).
func (s *sources) program() *luart.Program {
	if s.loaded {
		return s.prog
	}
	s.loaded = true
	path, err := findFabfile(s.fabfile)
	if err != nil || path == "" {
		return nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s.prog, _ = compose.Compile(path, src, luart.Options{Stdout: io.Discard,
		SearchPath: luart.SearchPath(path, nil, s.env.getenv("GOFAB_PATH"), s.env.getenv("HOME"))})
	return s.prog
}

// tasks are the fabfile's task names and aliases; after "task:" its
// Fabric-style arguments.
func (s *sources) tasks(cur string) []string {
	p := s.program()
	if p == nil {
		return nil
	}
	if name, _, ok := strings.Cut(cur, ":"); ok {
		var out []string
		for _, a := range []string{"hosts=", "roles=", "exclude_hosts="} {
			out = append(out, name+":"+a+"\tFabric's per-task "+strings.TrimSuffix(a, "="))
		}
		return out
	}
	var out []string
	for _, t := range p.Listed() {
		doc, _, _ := strings.Cut(strings.TrimSpace(t.Doc), "\n")
		out = append(out, t.Name+"\t"+doc)
		for _, a := range t.Aliases {
			out = append(out, a+"\t"+doc)
		}
	}
	return out
}

// values completes a flag's value of kind; lists (hosts, groups, levels)
// complete their last comma-separated item.
func (s *sources) values(kind, cur string) []string {
	var items []string
	switch kind {
	case "file":
		return []string{filesDirective}
	case "formats":
		items = []string{"text", "json"}
	case "levels":
		items = luart.AllLevels()
	case "groups":
		if p := s.program(); p != nil && p.Inventory != nil {
			items = p.Inventory.GroupNames()
		}
	case "hosts":
		items = append(items, "local")
		if p := s.program(); p != nil && p.Inventory != nil {
			items = append(append(items, p.Inventory.HostNames()...), p.Inventory.GroupNames()...)
		}
		files := sshconfig.DefaultFiles(sshconfig.CurrentLocal().Home)
		if s.sshConfig != "" {
			files = []string{s.sshConfig}
		}
		if hosts, err := sshconfig.NewLoader(sshconfig.CurrentLocal(), files...).HostAliases(); err == nil {
			items = append(items, hosts...)
		}
	}
	slices.Sort(items)
	items = slices.Compact(items)
	head, last := "", cur
	if i := strings.LastIndex(cur, ","); i >= 0 {
		head, last = cur[:i+1], cur[i+1:]
	}
	var out []string
	for _, it := range items {
		if strings.HasPrefix(it, last) {
			out = append(out, head+it)
		}
	}
	return out
}

// moduleCompletions are gofab mod's verbs after "mod", and the modules
// gofab.mod requires after "get" and "mod why".
func moduleCompletions(cmd *cli.Command, before []string) []string {
	verb := ""
	for i, w := range before {
		if w == cmd.Name {
			for _, rest := range before[i+1:] {
				if !strings.HasPrefix(rest, "-") {
					verb = rest
					break
				}
			}
		}
	}
	if cmd.Name == "mod" && verb == "" {
		var out []string
		for _, sc := range cmd.Subcommands {
			out = append(out, sc.Name+"\t"+sc.Usage)
		}
		return out
	}
	if cmd.Name == "get" || verb == "why" {
		return requiredModules()
	}
	return nil
}

// requiredModules lists the module paths and aliases of the working
// directory's gofab.mod.
func requiredModules() []string {
	root := projectRoot(".")
	if root == "" {
		return nil
	}
	f, err := modfile.ReadFile(filepath.Join(root, modfile.Name))
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range f.Require {
		out = append(out, r.Path+"\t"+r.Version)
	}
	for alias, path := range f.Alias {
		out = append(out, alias+"\t"+path)
	}
	return out
}
