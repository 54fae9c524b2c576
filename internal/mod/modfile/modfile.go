// Package modfile reads and writes gofab.mod and gofab.sum: the manifest
// that pins the recipe modules a project requires, and the hashes that
// prove them. gofab.mod uses go.mod's syntax (golang.org/x/mod/modfile
// parses and prints it) with gofab's own verbs:
//
//	module example.com/ops/myproject
//	gofab 0.2
//	require git.example.com/ops/recipes v1.4.2
//	source git.example.com/ops/recipes ssh://git@git.example.com/ops/recipes.git
//	alias ops git.example.com/ops/recipes
//	replace git.example.com/ops/recipes => ../recipes
package modfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Name is the manifest's file name; SumName the hashes'.
const (
	Name    = "gofab.mod"
	SumName = "gofab.sum"
)

// File is a parsed gofab.mod. Edits go through its methods so Format keeps
// the user's comments and layout.
type File struct {
	// Module is the module's path ("" when the file has no module line).
	Module string
	// Gofab is the gofab version the module needs ("0.2"), or "".
	Gofab string
	// Require lists the required modules and versions, in file order.
	Require []module.Version
	// Replace maps a module path to a local directory used instead (as
	// written: relative to the file's directory).
	Replace map[string]string
	// Source maps a module path to the git URL it is fetched from, when
	// that is not https://PATH.
	Source map[string]string
	// Alias maps a short name to a module path: require("ops/nginx") is
	// require("<path>/nginx").
	Alias map[string]string

	name   string
	syntax *modfile.FileSyntax
}

// Parse parses gofab.mod data; name is used in file:line errors.
func Parse(name string, data []byte) (*File, error) {
	lax, err := modfile.ParseLax(name, data, nil)
	if err != nil {
		return nil, err
	}
	f := &File{name: name, syntax: lax.Syntax, Replace: map[string]string{}, Source: map[string]string{}, Alias: map[string]string{}}
	for _, stmt := range lax.Syntax.Stmt {
		switch x := stmt.(type) {
		case *modfile.Line:
			err = f.add(x, x.Token[0], x.Token[1:])
		case *modfile.LineBlock:
			for _, l := range x.Line {
				if err = f.add(l, x.Token[0], l.Token); err != nil {
					break
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

// errorAt is an error at line's position in the file.
func (f *File) errorAt(l *modfile.Line, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", f.name, l.Start.Line, fmt.Sprintf(format, args...))
}

func (f *File) add(l *modfile.Line, verb string, args []string) error {
	want := map[string]int{"module": 1, "gofab": 1, "require": 2, "source": 2, "alias": 2, "replace": 3, "exclude": 2}
	n, known := want[verb]
	if !known {
		return f.errorAt(l, "unknown directive %q (gofab.mod knows module, gofab, require, replace, source, alias)", verb)
	}
	if len(args) != n {
		return f.errorAt(l, "%s takes %d arguments, not %d", verb, n, len(args))
	}
	args = slices.Clone(args) // the syntax tree keeps its quotes for Format
	for i, a := range args {
		if strings.HasPrefix(a, `"`) {
			u, err := strconv.Unquote(a)
			if err != nil {
				return f.errorAt(l, "%s: %v", a, err)
			}
			args[i] = u
		}
	}
	path := args[0]
	if verb != "gofab" && verb != "alias" {
		if err := module.CheckImportPath(path); err != nil {
			return f.errorAt(l, "%v", err)
		}
	}
	switch verb {
	case "module":
		if f.Module != "" {
			return f.errorAt(l, "second module line")
		}
		f.Module = path
	case "gofab":
		if !semver.IsValid("v" + path) {
			return f.errorAt(l, "gofab %q: want a version like 0.2", path)
		}
		f.Gofab = path
	case "require":
		if err := module.Check(path, args[1]); err != nil {
			return f.errorAt(l, "%v", err)
		}
		if slices.ContainsFunc(f.Require, func(v module.Version) bool { return v.Path == path }) {
			return f.errorAt(l, "%s required twice", path)
		}
		f.Require = append(f.Require, module.Version{Path: path, Version: args[1]})
	case "source":
		if strings.HasSuffix(args[1], ":") {
			return f.errorAt(l, "source %s %s: quote the URL (// starts a comment): source %s \"%s//…\"", path, args[1], path, args[1])
		}
		f.Source[path] = args[1]
	case "alias":
		if strings.ContainsAny(path, "./") || path == "" {
			return f.errorAt(l, "alias %q: a short name has no dot or slash", path)
		}
		if err := module.CheckImportPath(args[1]); err != nil {
			return f.errorAt(l, "alias %s: %v", path, err)
		}
		f.Alias[path] = args[1]
	case "replace":
		if args[1] != "=>" || !modfile.IsDirectoryPath(args[2]) {
			return f.errorAt(l, "replace: want replace PATH => ../dir (a local directory)")
		}
		f.Replace[path] = args[2]
	case "exclude":
		return f.errorAt(l, "exclude is not supported: pin the version you want with require")
	}
	return nil
}

// New returns a gofab.mod declaring module path and needing gofab version.
func New(path, gofab string) (*File, error) {
	if err := module.CheckImportPath(path); err != nil {
		return nil, err
	}
	return Parse(Name, []byte("module "+path+"\ngofab "+gofab+"\n"))
}

// ReadFile reads and parses a gofab.mod file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(displayName(path), data)
}

// displayName is path relative to the working directory when below it.
func displayName(path string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return path
}

// lines calls fn for every line with verb, in blocks too; fn returning
// true removes the line.
func (f *File) lines(verb string, fn func(*modfile.Line, []string) bool) {
	for _, stmt := range f.syntax.Stmt {
		switch x := stmt.(type) {
		case *modfile.Line:
			if len(x.Token) > 0 && x.Token[0] == verb && fn(x, x.Token[1:]) {
				x.Token = nil
			}
		case *modfile.LineBlock:
			if x.Token[0] == verb {
				for _, l := range x.Line {
					if len(l.Token) > 0 && fn(l, l.Token) {
						l.Token = nil
					}
				}
			}
		}
	}
}

// set replaces the one-argument line verb (module, gofab) or adds it.
func (f *File) set(verb, value string) {
	found := false
	f.lines(verb, func(l *modfile.Line, _ []string) bool {
		if !found {
			found = true
			l.Token = []string{verb, value}
		}
		return false
	})
	if !found {
		f.syntax.Stmt = append(f.syntax.Stmt, &modfile.Line{Token: []string{verb, value}})
	}
}

// keyed sets (or with value "" drops) the line "verb key value...".
func (f *File) keyed(verb, key string, value ...string) {
	found := false
	f.lines(verb, func(l *modfile.Line, args []string) bool {
		if len(args) == 0 || strings.Trim(args[0], `"`) != key {
			return false
		}
		if found || len(value) == 0 {
			return true
		}
		found = true
		prefix := l.Token[:len(l.Token)-len(args)]
		l.Token = append(slices.Clone(prefix), append([]string{key}, quoted(value)...)...)
		return false
	})
	if !found && len(value) > 0 {
		f.syntax.Stmt = append(f.syntax.Stmt, &modfile.Line{Token: append([]string{verb, key}, quoted(value)...)})
	}
}

// quoted quotes the values that need it ("//" in a URL starts a comment).
func quoted(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = modfile.AutoQuote(v)
	}
	return out
}

// SetRequire requires path at version, or drops the requirement when
// version is "".
func (f *File) SetRequire(path, version string) {
	f.Require = slices.DeleteFunc(f.Require, func(v module.Version) bool { return v.Path == path })
	if version != "" {
		f.Require = append(f.Require, module.Version{Path: path, Version: version})
		f.keyed("require", path, version)
		return
	}
	f.keyed("require", path)
}

// SetSource records the URL path is fetched from ("" drops it).
func (f *File) SetSource(path, url string) {
	if url == "" {
		delete(f.Source, path)
		f.keyed("source", path)
		return
	}
	f.Source[path] = url
	f.keyed("source", path, url)
}

// SetReplace replaces path by the local directory dir ("" drops it).
func (f *File) SetReplace(path, dir string) error {
	if dir == "" {
		delete(f.Replace, path)
		f.keyed("replace", path)
		return nil
	}
	if !modfile.IsDirectoryPath(dir) {
		return fmt.Errorf("replace %s => %s: want a local directory (./dir, ../dir or /dir)", path, dir)
	}
	f.Replace[path] = dir
	f.keyed("replace", path, "=>", dir)
	return nil
}

// SetAlias makes name a short name for path ("" drops it).
func (f *File) SetAlias(name, path string) error {
	if path == "" {
		delete(f.Alias, name)
		f.keyed("alias", name)
		return nil
	}
	if name == "" || strings.ContainsAny(name, "./") {
		return fmt.Errorf("alias %q: a short name has no dot or slash", name)
	}
	f.Alias[name] = path
	f.keyed("alias", name, path)
	return nil
}

// SetGofab records the gofab version the module needs.
func (f *File) SetGofab(v string) {
	f.Gofab = v
	f.set("gofab", v)
}

// Format prints the file in gofab.mod's canonical form, comments kept.
func (f *File) Format() []byte {
	f.syntax.Cleanup()
	return modfile.Format(f.syntax)
}

// Requires reports the version of path f requires, or "".
func (f *File) Requires(path string) string {
	for _, v := range f.Require {
		if v.Path == path {
			return v.Version
		}
	}
	return ""
}

// CheckGofab fails when the file needs a newer gofab than running.
func (f *File) CheckGofab(running string) error {
	if f.Gofab == "" {
		return nil
	}
	if semver.Compare(semver.MajorMinor("v"+f.Gofab), semver.MajorMinor("v"+running)) > 0 {
		return fmt.Errorf("%s needs gofab %s; this is gofab %s: upgrade gofab", f.name, f.Gofab, running)
	}
	return nil
}

// ErrNoModFile is returned by Find when no gofab.mod is found.
var ErrNoModFile = errors.New("no gofab.mod")

// Find returns the directory holding gofab.mod: dir or its nearest
// parent with one.
func Find(dir string) (string, error) {
	for {
		if fi, err := os.Stat(filepath.Join(dir, Name)); err == nil && fi.Mode().IsRegular() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoModFile
		}
		dir = parent
	}
}
