package stdlib

import (
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/gopher-lua/parse"

	"github.com/gofab/gofab/luart"
)

// TestMetaMatchesRegistry checks the LuaLS definitions name exactly the
// registered functions and parse as Lua.
func TestMetaMatchesRegistry(t *testing.T) {
	defined := map[string]bool{}
	files := luart.MetaFiles(All())
	if files["gofab.lua"] == "" || files["files.lua"] == "" {
		t.Fatalf("missing definition files: %d files", len(files))
	}
	for name, src := range files {
		if _, err := parse.Parse(strings.NewReader(src), name); err != nil {
			t.Fatalf("definitions do not parse: %v", err)
		}
		for _, m := range regexp.MustCompile(`(?m)^function ([\w.]+)\(`).FindAllStringSubmatch(src, -1) {
			defined[m[1]] = true
		}
	}
	registered := map[string]bool{}
	for _, m := range All() {
		for _, f := range m.Funcs {
			name := f.Name
			if m.Name != "" {
				name = m.Name + "." + name
			}
			if registered[name] {
				t.Errorf("%s is registered twice", name)
			}
			registered[name] = true
			if !defined[name] {
				t.Errorf("%s has no definition", name)
			}
			if f.Doc == "" {
				t.Errorf("%s has no documentation", name)
			}
		}
	}
	for name := range defined {
		if !registered[name] {
			t.Errorf("definition of %s names no registered function", name)
		}
	}
}
