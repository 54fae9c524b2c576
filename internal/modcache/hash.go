// Package modcache is gofab's module cache: a read-only,
// content-addressed store of recipe module trees shared by every project
// (GOFAB_MODCACHE), laid out as Go's module cache is, with the h1: hashes
// (golang.org/x/mod/sumdb/dirhash's Hash1) that gofab.sum records.
package modcache

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/module"
)

// File is one file of a module tree, by its slash-separated name in it.
type File struct {
	Name string
	Data []byte
}

// Summary is the list dirhash.Hash1 hashes: a line "sha256  path@version/name"
// for each file, sorted by name. Its hash is the tree's h1: hash, and its
// lines let a run check each file it loads without rehashing the tree.
type Summary struct {
	text  []byte
	files map[string]string // name in the tree → hex sha256
}

// Summarize builds the summary of module m's files.
func Summarize(m module.Version, files []File) *Summary {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	var b bytes.Buffer
	s := &Summary{files: map[string]string{}}
	for _, f := range sorted {
		sum := fmt.Sprintf("%x", sha256.Sum256(f.Data))
		fmt.Fprintf(&b, "%s  %s@%s/%s\n", sum, m.Path, m.Version, f.Name)
		s.files[f.Name] = sum
	}
	s.text = b.Bytes()
	return s
}

// ParseSummary reads a summary written by Bytes for module m.
func ParseSummary(m module.Version, text []byte) (*Summary, error) {
	s := &Summary{text: text, files: map[string]string{}}
	prefix := m.Path + "@" + m.Version + "/"
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		rel, under := strings.CutPrefix(name, prefix)
		if !ok || !under || len(sum) != 64 {
			return nil, fmt.Errorf("%s@%s: malformed file list line %q", m.Path, m.Version, sc.Text())
		}
		s.files[rel] = sum
	}
	return s, sc.Err()
}

// Bytes is the summary's text.
func (s *Summary) Bytes() []byte { return s.text }

// Hash is the tree's h1: hash, as dirhash.Hash1 computes it.
func (s *Summary) Hash() string { return h1(s.text) }

// Names lists the tree's files.
func (s *Summary) Names() []string {
	names := make([]string, 0, len(s.files))
	for n := range s.files {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// CheckFile reports whether data is the tree's file name.
func (s *Summary) CheckFile(name string, data []byte) error {
	want, ok := s.files[name]
	if !ok {
		return fmt.Errorf("%s is not part of the module's recorded tree", name)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(data)); got != want {
		return fmt.Errorf("%s was changed after it was verified (sha256 %s, recorded %s)", name, got, want)
	}
	return nil
}

// ModHash is the h1: hash of a module's gofab.mod content, as gofab.sum's
// "/gofab.mod" lines record it.
func ModHash(data []byte) string {
	return h1(fmt.Appendf(nil, "%x  gofab.mod\n", sha256.Sum256(data)))
}

func h1(summary []byte) string {
	sum := sha256.Sum256(summary)
	return "h1:" + base64.StdEncoding.EncodeToString(sum[:])
}

// Has reports whether the tree has file name.
func (s *Summary) Has(name string) bool {
	_, ok := s.files[name]
	return ok
}
