package modfile

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/mod/module"
)

// Sum holds gofab.sum: for each module version, the h1: hash of its tree
// and of its gofab.mod, as go.sum does ("path version h1:…" and
// "path version/gofab.mod h1:…").
type Sum struct {
	// Tree and Mod map "path@version" to a hash.
	Tree map[string]string
	Mod  map[string]string
}

// Key is the map key of a module version in Sum.
func Key(m module.Version) string { return m.Path + "@" + m.Version }

// NewSum returns an empty Sum.
func NewSum() *Sum { return &Sum{Tree: map[string]string{}, Mod: map[string]string{}} }

// ParseSum parses gofab.sum data; name is used in file:line errors.
func ParseSum(name string, data []byte) (*Sum, error) {
	s := NewSum()
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || !strings.HasPrefix(f[2], "h1:") {
			return nil, fmt.Errorf("%s:%d: want \"path version h1:hash\"", name, n)
		}
		if v, ok := strings.CutSuffix(f[1], "/"+Name); ok {
			s.Mod[f[0]+"@"+v] = f[2]
		} else {
			s.Tree[f[0]+"@"+f[1]] = f[2]
		}
	}
	return s, sc.Err()
}

// ReadSum reads gofab.sum at path; a missing file is an empty Sum.
func ReadSum(path string) (*Sum, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return NewSum(), nil
	}
	if err != nil {
		return nil, err
	}
	return ParseSum(displayName(path), data)
}

// Format prints the sum sorted, as go.sum is.
func (s *Sum) Format() []byte {
	var lines []string
	for k, h := range s.Tree {
		p, v, _ := strings.Cut(k, "@")
		lines = append(lines, p+" "+v+" "+h)
	}
	for k, h := range s.Mod {
		p, v, _ := strings.Cut(k, "@")
		lines = append(lines, p+" "+v+"/"+Name+" "+h)
	}
	slices.Sort(lines)
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.Bytes()
}

// Keep drops the tree hashes of module versions not in trees and the
// gofab.mod hashes of those not in mods (every version the requirement
// graph reaches: MVS reads their gofab.mod).
func (s *Sum) Keep(trees, mods []module.Version) {
	for table, keep := range map[*map[string]string][]module.Version{&s.Tree: trees, &s.Mod: mods} {
		in := map[string]bool{}
		for _, m := range keep {
			in[Key(m)] = true
		}
		for k := range *table {
			if !in[k] {
				delete(*table, k)
			}
		}
	}
}

// MismatchError is a hash that differs from gofab.sum's.
type MismatchError struct {
	Module module.Version
	// What is "tree" or "gofab.mod"; Where says where the bad copy is.
	What, Where string
	Want, Got   string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s@%s: %s hash mismatch in %s: gofab.sum has %s, found %s (a moved tag or a changed copy: nothing was run)",
		e.Module.Path, e.Module.Version, e.What, e.Where, e.Want, e.Got)
}

// Check compares a hash with the sum's entry; a missing entry is an error
// too, unless add is true, when it is recorded.
func (s *Sum) Check(m module.Version, mod bool, got, where string, add bool) error {
	table, what := s.Tree, "tree"
	if mod {
		table, what = s.Mod, Name
	}
	want, ok := table[Key(m)]
	switch {
	case !ok && add:
		table[Key(m)] = got
		return nil
	case !ok:
		return fmt.Errorf("%s@%s: missing from gofab.sum (run gofab mod download or gofab get %s@%s)", m.Path, m.Version, m.Path, m.Version)
	case want != got:
		return &MismatchError{Module: m, What: what, Where: where, Want: want, Got: got}
	}
	return nil
}
