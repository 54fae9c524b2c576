package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gofab/gofab/internal/base/outfile"
	"github.com/gofab/gofab/internal/compose"
	"github.com/gofab/gofab/internal/run/lint"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib"
	"github.com/gofab/gofab/stdlib/fabtest"
)

// inventoryDoc is docs/reference.md's inventory section.
//
//go:embed inventory.md
var inventoryDoc string

// DefaultTypesDir is where "gofab types" and "gofab init" put the LuaLS
// definitions.
const DefaultTypesDir = ".gofab/types"

// typesCommand is gofab types.
func typesCommand(env environ) *cli.Command {
	return &cli.Command{
		Name:      "types",
		Usage:     "write LuaLS definitions of every global and module, and a .luarc.json pointing at them",
		ArgsUsage: "[DIR]",
		Flags:     []cli.Flag{modFlag},
		Action: func(c *cli.Context) error {
			dir := DefaultTypesDir
			if c.NArg() > 0 {
				dir = c.Args().First()
			}
			if err := writeTypes(env.stdout, dir, ".luarc.json"); err != nil {
				return err
			}
			return linkModules(c, env, ".luarc.json")
		},
	}
}

// authoringCommands are the subcommands for writing recipes.
func authoringCommands(env environ) []*cli.Command {
	fabfileFlag := &cli.StringFlag{Name: "fabfile", Aliases: []string{"f"}, Usage: "fabfile `PATH`"}
	includeFlag := &cli.StringSliceFlag{Name: "include", Usage: "also look for modules in `DIR`"}
	return []*cli.Command{
		replCommand(env),
		{
			Name:      "check",
			Usage:     "check the fabfile and its modules without connecting anywhere; problems print as file:line:col: message",
			ArgsUsage: " ",
			Flags: []cli.Flag{fabfileFlag, includeFlag,
				&cli.StringFlag{Name: "format", Value: "text", Usage: "`FORMAT` of the report: text or json"}},
			Action: func(c *cli.Context) error { return checkAction(c, env) },
		},
		typesCommand(env),
		{
			Name:  "init",
			Usage: "write a starter fabfile.lua and the editor files",
			Action: func(c *cli.Context) error {
				if _, err := os.Stat(DefaultFabfile); err == nil {
					return usageErr("%s already exists; not overwriting it", DefaultFabfile)
				}
				if err := writeFile(DefaultFabfile, starterFabfile); err != nil {
					return usageErr("init: %v", err)
				}
				fmt.Fprintf(env.stdout, "wrote %s\n", DefaultFabfile)
				if _, err := os.Stat(starterTestFile); err != nil {
					if err := writeFile(starterTestFile, starterTest); err != nil {
						return usageErr("init: %v", err)
					}
					fmt.Fprintf(env.stdout, "wrote %s (run it with gofab test)\n", starterTestFile)
				}
				if err := writeTypes(env.stdout, DefaultTypesDir, ".luarc.json"); err != nil {
					return err
				}
				return writeVSCodeTasks(env.stdout)
			},
		},
		{
			Name:      "completion",
			Usage:     "print a shell completion script (bash, zsh or fish) that also completes task names",
			ArgsUsage: "bash|zsh|fish",
			Action:    func(c *cli.Context) error { return completionAction(c, env) },
		},
		{
			Name:   "__tasks",
			Hidden: true,
			Usage:  "print the current fabfile's task names, for shell completion",
			Flags:  []cli.Flag{fabfileFlag, includeFlag},
			Action: func(c *cli.Context) error {
				cfg, err := readConfig(c)
				if err != nil {
					return err
				}
				prog, err := loadProgram(c.Context, cfg, environ{stdin: env.stdin, stdout: io.Discard, stderr: io.Discard, getenv: env.getenv, secrets: env.secrets}, true)
				if err != nil {
					return &exitError{code: exitUsage}
				}
				for _, t := range prog.Listed() {
					fmt.Fprintln(env.stdout, t.Name)
					for _, a := range t.Aliases {
						fmt.Fprintln(env.stdout, a)
					}
				}
				return nil
			},
		},
		{
			Name:   "docs",
			Usage:  "print the reference of every function and flag (docs/reference.md)",
			Action: func(c *cli.Context) error { return writeDocs(env.stdout, c.App) },
		},
	}
}

const starterFabfile = `-- fabfile.lua: gofab tasks. Run "gofab -l" to list them, "gofab check" to
-- check this file, and open it in an editor with lua-language-server for
-- completion (gofab init wrote .luarc.json and .gofab/types for it).
local files = require("files")

env.hosts = {"local"}

task("uptime", "Show how long each host has been up", function()
  run("uptime")
end)

task("motd", {doc = "Set the message of the day"}, function(args)
  local changed = files.write("/tmp/motd-example", (args[1] or "hello") .. "\n")
  puts(changed and "updated" or "unchanged")
end)
`

// writeTypes writes the registry's LuaLS definition files into dir and
// points luarc (created or updated) at them.
func writeTypes(w io.Writer, dir, luarc string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageErr("types: %v", err)
	}
	files := luart.MetaFiles(stdlib.All())
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := writeFile(filepath.Join(dir, name), files[name]); err != nil {
			return usageErr("types: %v", err)
		}
	}
	if err := addLibrary(luarc, dir); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %d definition files to %s and %s\n", len(names), dir, luarc)
	return nil
}

// addLibrary makes sure luarc (.luarc.json) lists dir in
// workspace.library, for Lua 5.1, keeping the rest of the file.
func addLibrary(luarc, dir string) error {
	cfg := map[string]any{}
	if data, err := os.ReadFile(luarc); err == nil {
		if err := json.Unmarshal(data, &cfg); err != nil {
			return usageErr("types: %s is not JSON (%v); not touching it", luarc, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return usageErr("types: %v", err)
	}
	cfg["runtime.version"] = "Lua 5.1"
	lib, _ := cfg["workspace.library"].([]any)
	if !slices.Contains(lib, any(dir)) {
		lib = append(lib, dir)
	}
	cfg["workspace.library"] = lib
	cfg["workspace.checkThirdParty"] = false
	data, _ := json.MarshalIndent(cfg, "", "  ")
	if err := writeFile(luarc, string(data)+"\n"); err != nil {
		return usageErr("types: %v", err)
	}
	return nil
}

// vscodeTasks is the VS Code task gofab init writes: "gofab check" with a
// problem matcher for its file:line:col: message lines, so problems show
// in the editor (Terminal > Run Task, or bound to save).
const vscodeTasks = `{
  "version": "2.0.0",
  "tasks": [
    {
      "label": "gofab check",
      "type": "shell",
      "command": "gofab",
      "args": ["check"],
      "group": "test",
      "presentation": {"reveal": "silent", "clear": true},
      "problemMatcher": {
        "owner": "gofab",
        "source": "gofab check",
        "fileLocation": ["relative", "${workspaceFolder}"],
        "severity": "warning",
        "pattern": {
          "regexp": "^(.+?):(\\d+):(\\d+): (.*)$",
          "file": 1,
          "line": 2,
          "column": 3,
          "message": 4
        }
      }
    }
  ]
}
`

// vscodeTasksFile is where gofab init writes vscodeTasks.
const vscodeTasksFile = ".vscode/tasks.json"

// writeVSCodeTasks writes .vscode/tasks.json unless one exists.
func writeVSCodeTasks(w io.Writer) error {
	if _, err := os.Stat(vscodeTasksFile); err == nil {
		fmt.Fprintf(w, "kept %s (it exists; see README for the gofab check task)\n", vscodeTasksFile)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(vscodeTasksFile), 0o755); err != nil {
		return usageErr("init: %v", err)
	}
	if err := writeFile(vscodeTasksFile, vscodeTasks); err != nil {
		return usageErr("init: %v", err)
	}
	fmt.Fprintf(w, "wrote %s (the gofab check task)\n", vscodeTasksFile)
	return nil
}

// writeFile writes a file gofab makes for the person (see outfile.Write).
func writeFile(path, content string) error {
	return outfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := io.WriteString(w, content)
		return err
	})
}

var locRE = regexp.MustCompile(`^(.+?):(\d+): (.*)$`)

func checkAction(c *cli.Context, env environ) error {
	f, err := flagsOf[struct {
		Format string `flag:"format"`
	}](c)
	if err != nil {
		return err
	}
	format := f.Format
	if format != "text" && format != "json" {
		return usageErr("--format must be text or json")
	}
	cfg, err := readConfig(c)
	if err != nil {
		return err
	}
	path, err := findFabfile(cfg.Fabfile)
	if err != nil {
		return err
	}
	if path == "" {
		return usageErr("fabfile not found: no %s here or in any parent directory (use -f)", DefaultFabfile)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return usageErr("fabfile: %v", err)
	}
	search := luart.SearchPath(path, cfg.Include, env.getenv("GOFAB_PATH"), env.getenv("HOME"))
	finder, err := loadModules(cfg, env, path)
	if err != nil {
		return err
	}
	o := lint.Options{Modules: stdlib.All(), SearchPath: search, Finder: finder}
	// Loading runs the top level: an error there is a problem too, and the
	// declared tasks let execute() calls be checked. Syntax errors are
	// reported by the lint itself.
	sshHosts, err := sshHostLister(cfg)
	if err != nil {
		return err
	}
	var extra []luart.Module
	if strings.HasSuffix(path, "_test.lua") { // a recipe's unit tests (gofab test)
		extra = append(extra, fabtest.Module(nil))
	}
	prog, err := compose.Compile(path, src, luart.Options{SearchPath: search, Finder: finder, Context: c.Context,
		SSHHosts: sshHosts}, extra...)
	if c.Context.Err() != nil {
		return &exitError{code: interruptStatus(c.Context), msg: "interrupted while checking the fabfile"}
	}
	var loadErr *lint.Finding
	var syntax *luart.SyntaxError
	switch {
	case errors.As(err, &syntax):
	case err != nil:
		loadErr = &lint.Finding{File: path, Line: 1, Col: 1, Message: err.Error()}
		if m := locRE.FindStringSubmatch(err.Error()); m != nil {
			loadErr.File, loadErr.Message = m[1], m[3]
			loadErr.Line, _ = strconv.Atoi(m[2])
		}
	default:
		o.Tasks = []string{}
		for _, t := range prog.Tasks {
			o.Tasks = append(o.Tasks, t.Name)
			o.Tasks = append(o.Tasks, t.Aliases...)
		}
	}
	findings := lint.Check(path, src, o)
	if loadErr != nil && !slices.ContainsFunc(findings, func(f lint.Finding) bool { return f.File == loadErr.File && f.Line == loadErr.Line }) {
		findings = append([]lint.Finding{*loadErr}, findings...)
	}
	printFindings(env.stdout, format, findings)
	if lint.Failed(findings) {
		return &exitError{code: exitFailed}
	}
	return nil
}

// printFindings prints gofab check's findings, a line each or as JSON.
func printFindings(w io.Writer, format string, findings []lint.Finding) {
	if format == "json" {
		if findings == nil {
			findings = []lint.Finding{}
		}
		data, _ := json.MarshalIndent(findings, "", "  ")
		fmt.Fprintln(w, string(data))
		return
	}
	for _, f := range findings {
		fmt.Fprintln(w, f)
	}
}

func completionAction(c *cli.Context, env environ) error {
	script, ok := completionScripts[c.Args().First()]
	if !ok {
		return usageErr("completion takes bash, zsh or fish")
	}
	_, err := io.WriteString(env.stdout, script)
	return err
}

// completionScripts ask gofab __complete for the candidates of the word
// being typed (flags, their values, subcommands, tasks): one description
// of the command line, in Go, serves the three shells.
var completionScripts = map[string]string{
	"bash": `# gofab completion for bash: source <(gofab completion bash)
_gofab() {
  local line=${COMP_LINE:0:COMP_POINT} cur=${COMP_WORDS[COMP_CWORD]} c full
  local -a words out
  read -ra words <<< "$line"
  [[ -z $line || $line == *' ' ]] && words+=("")
  full=${words[${#words[@]}-1]}
  local IFS=$'\n'
  for c in $(gofab __complete "${words[@]:1}" 2>/dev/null); do
    c=${c%%$'\t'*}
    if [[ $c == __files__ ]]; then
      COMPREPLY=($(compgen -f -- "$cur"))
      return
    fi
    out+=("${c#"${full%"$cur"}"}")
  done
  COMPREPLY=("${out[@]}")
}
complete -F _gofab gofab
`,
	"zsh": `#compdef gofab
# gofab completion for zsh: gofab completion zsh > "${fpath[1]}/_gofab"
_gofab() {
  local -a lines vals descs
  local l
  lines=("${(@f)$(gofab __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ ${lines[1]} == __files__ ]]; then
    _files
    return
  fi
  for l in $lines; do
    [[ -z $l ]] && continue
    vals+=("${l%%$'\t'*}")
    descs+=("${l%%$'\t'*}  -- ${l#*$'\t'}")
  done
  compadd -Q -d descs -a vals
}
compdef _gofab gofab
`,
	"fish": `# gofab completion for fish: gofab completion fish > ~/.config/fish/completions/gofab.fish
function __gofab_complete
    set -l out (gofab __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)
    if test "$out[1]" = __files__
        __fish_complete_path (commandline -ct)
        return
    end
    printf '%s\n' $out
end
complete -c gofab -f -a '(__gofab_complete)'
`,
}

// writeDocs writes the reference of every Lua function (from the
// registry) and every command-line flag.
func writeDocs(w io.Writer, app *cli.App) error {
	var b strings.Builder
	b.WriteString("# gofab reference\n\nGenerated by `gofab docs` from gofab's function registry and flag list; do not edit.\n\n## Command line\n\n")
	b.WriteString("| flag | meaning |\n|---|---|\n")
	for _, f := range everyFlag() {
		var names []string
		for _, n := range f.Names() {
			names = append(names, "`"+dashed(n)+"`")
		}
		fmt.Fprintf(&b, "| %s | %s |\n", strings.Join(names, ", "), strings.ReplaceAll(flagUsage(f), "|", "\\|"))
	}
	b.WriteString("\n### Subcommands\n\n")
	for _, cmd := range app.Commands {
		if !cmd.Hidden {
			use := strings.TrimSpace("gofab " + cmd.Name + " " + strings.TrimSpace(cmd.ArgsUsage))
			fmt.Fprintf(&b, "- `%s`: %s\n", use, cmd.Usage)
		}
	}
	b.WriteString("\n" + inventoryDoc + "\n## Lua functions\n\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return luart.WriteReference(w, stdlib.All())
}
