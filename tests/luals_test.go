package tests

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib"
	lua "github.com/yuin/gopher-lua"
)

// The definitions gofab types writes, checked by the real language server
// editors run: lua-language-server (LuaLS) 3.19.1, from GOFAB_LUALS (its
// binary) or the build in ../shared/tools, unpacked here.

var luals struct {
	once sync.Once
	bin  string
	why  string
}

// lualsBinary returns the LuaLS binary, or skips the test with one line.
func lualsBinary(t *testing.T) string {
	t.Helper()
	luals.once.Do(func() {
		if bin := os.Getenv("GOFAB_LUALS"); bin != "" {
			luals.bin = bin
			return
		}
		tarballs, _ := filepath.Glob(filepath.Join(repoRoot, "..", "shared", "tools", "luals-*.tar.gz"))
		if len(tarballs) == 0 {
			luals.why = "no lua-language-server: set GOFAB_LUALS or put luals-*.tar.gz in ../shared/tools"
			return
		}
		dir, err := os.MkdirTemp("", "gofab-luals-")
		if err != nil {
			luals.why = err.Error()
			return
		}
		if out, err := exec.Command("tar", "-xzf", tarballs[len(tarballs)-1], "-C", dir).CombinedOutput(); err != nil {
			luals.why = fmt.Sprintf("unpack %s: %v %s", tarballs[0], err, out)
			return
		}
		luals.bin = filepath.Join(dir, "bin", "lua-language-server")
	})
	if luals.bin == "" {
		t.Skip(luals.why)
	}
	return luals.bin
}

// diagnostic is one LuaLS finding.
type diagnostic struct {
	File     string // relative to the checked directory
	Line     int    // from 1
	Severity int    // 1 error, 2 warning, 3 information, 4 hint
	Code     string
	Message  string
}

func (d diagnostic) String() string {
	return fmt.Sprintf("%s:%d [%d] %s (%s)", d.File, d.Line, d.Severity, d.Message, d.Code)
}

// checkWithLuaLS runs LuaLS's --check on dir at the Hint level and
// returns every finding.
func checkWithLuaLS(t *testing.T, dir string) []diagnostic {
	t.Helper()
	out := filepath.Join(t.TempDir(), "check.json")
	cmd := exec.Command(lualsBinary(t), "--check", dir, "--checklevel=Hint", "--check_format=json",
		"--check_out_path="+out, "--logpath="+t.TempDir())
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	// It exits 1 when it found something, and writes no file when not.
	b, runErr := cmd.CombinedOutput()
	data, err := os.ReadFile(out)
	if err != nil {
		if runErr != nil || !strings.Contains(string(b), "no problems found") {
			t.Fatalf("lua-language-server: %v\n%s", runErr, b)
		}
		return nil
	}
	if strings.TrimSpace(string(data)) == "[]" { // no findings
		return nil
	}
	var byURI map[string][]struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		Severity int    `json:"severity"`
		Range    struct {
			Start struct{ Line int } `json:"start"`
		} `json:"range"`
	}
	if err := json.Unmarshal(data, &byURI); err != nil {
		t.Fatalf("LuaLS's check.json: %v", err)
	}
	var diags []diagnostic
	for uri, list := range byURI {
		u, _ := url.Parse(uri)
		rel, _ := filepath.Rel(dir, u.Path)
		for _, d := range list {
			diags = append(diags, diagnostic{File: rel, Line: d.Range.Start.Line + 1, Severity: d.Severity, Code: d.Code, Message: d.Message})
		}
	}
	slices.SortFunc(diags, func(a, b diagnostic) int { return strings.Compare(a.String(), b.String()) })
	return diags
}

// copyTree copies the files of src below dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		writeFile(t, filepath.Join(dst, rel), string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLanguageServerCleanOnGoodFiles: zero LuaLS findings, hints
// included, on the generated definitions, every shipped recipe, every Lua
// example of README and docs/, and gofab init's starter files.
func TestLanguageServerCleanOnGoodFiles(t *testing.T) {
	lualsBinary(t)
	dir := t.TempDir()
	if r := gofab(t, dir, nil, "", "types"); r.code != 0 {
		t.Fatalf("gofab types: %s", r)
	}
	copyTree(t, filepath.Join(repoRoot, "fabfiles"), filepath.Join(dir, "fabfiles"))
	initDir := t.TempDir()
	if r := gofab(t, initDir, nil, "", "init"); r.code != 0 {
		t.Fatalf("gofab init: %s", r)
	}
	for _, name := range []string{"fabfile.lua", "fabfile_test.lua"} {
		data, err := os.ReadFile(filepath.Join(initDir, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "init", name), string(data))
	}
	docs, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	n := 0
	for _, doc := range append(docs, filepath.Join(repoRoot, "README.md")) {
		text, _ := os.ReadFile(doc)
		for _, m := range regexp.MustCompile("(?s)```lua\n(.*?)```").FindAllSubmatch(text, -1) {
			n++
			writeFile(t, filepath.Join(dir, "examples", fmt.Sprintf("%s_%d.lua", filepath.Base(doc), n)), string(m[1]))
		}
	}
	diags := checkWithLuaLS(t, dir)
	for _, d := range diags {
		t.Errorf("LuaLS: %s", d)
	}
	t.Logf("LuaLS on the definitions, fabfiles/, %d examples and gofab init's files: %d findings", n, len(diags))
}

// TestLanguageServerFlagsMistakes: every deliberate mistake warns under
// LuaLS, including a misspelled option of every function that takes
// options (one call each, generated from the registry).
func TestLanguageServerFlagsMistakes(t *testing.T) {
	lualsBinary(t)
	dir := t.TempDir()
	if r := gofab(t, dir, nil, "", "types"); r.code != 0 {
		t.Fatalf("gofab types: %s", r)
	}
	type mistake struct{ line, want string }
	mistakes := []mistake{
		{`rnu("uptime")`, "Undefined global `rnu`"},
		{`run(42)`, "Cannot assign `integer` to parameter"},
		{`put("a", "b", {mode = true})`, "Cannot assign `boolean` to `(string|integer)?`"},
		{`print(run("uptime").stdot)`, "Undefined field `stdot`"},
		{`task("x", {rols = {"web"}}, function() end)`, "(not an option)"},
		{`require("files").wirte("/etc/x", "y")`, "Undefined field `wirte`"},
		{`run("uptime", {quiett = true})`, "(not an option)"},
		{`sudo("id", {usr = "root"})`, "(not an option)"},
		{`run("x", {evn = {A = "b"}})`, "(not an option)"},
	}
	for _, m := range stdlib.All() {
		for _, c := range m.Classes {
			for _, f := range c.Methods {
				if call := misspelledCall(f, "an"+c.Name+":"+f.Name); call != "" {
					mistakes = append(mistakes, mistake{call, "(not an option)"})
				}
			}
		}
		for _, f := range m.Funcs {
			name := f.Name
			if m.Name != "" {
				name = fmt.Sprintf("require(%q).%s", m.Name, f.Name)
			}
			if call := misspelledCall(f, name); call != "" {
				mistakes = append(mistakes, mistake{call, "(not an option)"})
			}
		}
	}
	var src strings.Builder
	for _, m := range stdlib.All() {
		for _, c := range m.Classes {
			fmt.Fprintf(&src, "local an%s ---@type %s\n", c.Name, c.Name)
		}
	}
	first := strings.Count(src.String(), "\n") + 1
	for _, m := range mistakes {
		src.WriteString(m.line + "\n")
	}
	writeFile(t, filepath.Join(dir, "mistakes_test.lua"), src.String())
	diags := checkWithLuaLS(t, dir)
	caught := 0
	for i, m := range mistakes {
		found := slices.ContainsFunc(diags, func(d diagnostic) bool {
			return d.File == "mistakes_test.lua" && d.Line == first+i && d.Severity <= 2 && strings.Contains(d.Message, m.want)
		})
		if found {
			caught++
		} else {
			t.Errorf("LuaLS does not flag line %d %s (want %q)", i+1, m.line, m.want)
		}
	}
	for _, d := range diags {
		if d.File != "mistakes_test.lua" {
			t.Errorf("LuaLS on the definitions: %s", d)
		}
	}
	t.Logf("LuaLS flags %d of %d mistakes", caught, len(mistakes))
}

// misspelledCall is a call of f (named name) with a misspelled option,
// or "" when f takes no options.
func misspelledCall(f luart.Func, name string) string {
	idx, opts := f.OptionsArg()
	if opts == nil {
		return ""
	}
	var args []string
	for i, p := range f.Params {
		switch {
		case i == idx-1:
			args = append(args, "{zz_misspelled = true}")
		case strings.HasPrefix(p.Type, "fun("):
			args = append(args, "function() end")
		case strings.HasPrefix(p.Type, "string"):
			args = append(args, `"x"`)
		case strings.HasPrefix(p.Type, "integer"), strings.HasPrefix(p.Type, "number"):
			args = append(args, "1")
		case strings.HasPrefix(p.Type, "boolean"):
			args = append(args, "true")
		case p.Optional && i > idx-1:
		default:
			args = append(args, "{}")
		}
	}
	return name + "(" + strings.Join(args, ", ") + ")"
}

// TestEditorGlue: the VS Code task gofab init writes and README's Neovim
// (nvim-lint) parser read gofab check's real output: every line becomes a
// problem at the right file, line and column. VS Code's matcher is a
// JavaScript regexp, which this one is also in Go's syntax; nvim-lint's
// is a Lua pattern, run here by a Lua 5.1 (Neovim's LuaJIT is 5.1).
func TestEditorGlue(t *testing.T) {
	dir := t.TempDir()
	if r := gofab(t, dir, nil, "", "init"); r.code != 0 {
		t.Fatalf("gofab init: %s", r)
	}
	writeFile(t, filepath.Join(dir, "fabfile.lua"), "task(\"x\", function()\n  rnu(\"uptime\")\n  run(\"id\", {quiett = true})\nend)\n")
	var tasks struct {
		Tasks []struct {
			Label          string
			Command        string
			Args           []string
			ProblemMatcher struct {
				FileLocation []string
				Pattern      struct {
					Regexp                      string
					File, Line, Column, Message int
				}
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, ".vscode", "tasks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &tasks); err != nil {
		t.Fatalf("tasks.json: %v", err)
	}
	task := tasks.Tasks[0]
	if task.Command != "gofab" || !slices.Equal(task.Args, []string{"check"}) {
		t.Fatalf("the task runs %s %v", task.Command, task.Args)
	}
	r := gofab(t, dir, nil, "", task.Args...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 1 || len(lines) != 2 {
		t.Fatalf("gofab check: %s", r)
	}
	want := [][2]string{{"2", "3"}, {"3", "14"}}
	pm := task.ProblemMatcher
	re := regexp.MustCompile(pm.Pattern.Regexp)
	for i, ln := range lines {
		m := re.FindStringSubmatch(ln)
		if m == nil || m[pm.Pattern.File] != "fabfile.lua" || m[pm.Pattern.Line] != want[i][0] || m[pm.Pattern.Column] != want[i][1] || m[pm.Pattern.Message] == "" {
			t.Errorf("VS Code's matcher on %q: %q", ln, m)
		}
	}

	readme, _ := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	block := regexp.MustCompile("(?s)```lua nvim\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README has no Neovim snippet")
	}
	pat := regexp.MustCompile(`from_pattern\("([^"]+)"`).FindSubmatch(block[1])
	if pat == nil {
		t.Fatal("the Neovim snippet has no from_pattern")
	}
	L := lua.NewState()
	defer L.Close()
	for i, ln := range lines {
		L.SetGlobal("line", lua.LString(ln))
		L.SetGlobal("pat", lua.LString(pat[1]))
		if err := L.DoString(`file, lnum, col, msg = string.match(line, pat)`); err != nil {
			t.Fatal(err)
		}
		got := []string{L.GetGlobal("file").String(), L.GetGlobal("lnum").String(), L.GetGlobal("col").String()}
		if !slices.Equal(got, []string{"fabfile.lua", want[i][0], want[i][1]}) || L.GetGlobal("msg") == lua.LNil {
			t.Errorf("nvim-lint's pattern on %q: %q", ln, got)
		}
	}
}
