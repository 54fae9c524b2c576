// Package modcache is gofab's module cache: a read-only,
// content-addressed store of recipe module trees shared by every project
// (GOFAB_MODCACHE), laid out as Go's module cache is, with the h1: hashes
// (golang.org/x/mod/sumdb/dirhash's Hash1) that gofab.sum records.
package modcache

import (
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
// Lookups search the text itself: a run reads the summaries of every
// module but looks up only the files it loads.
type Summary struct {
	text   []byte
	prefix string // "path@version/"
}

// Summarize builds the summary of module m's files.
func Summarize(m module.Version, files []File) *Summary {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	var b bytes.Buffer
	for _, f := range sorted {
		fmt.Fprintf(&b, "%x  %s@%s/%s\n", sha256.Sum256(f.Data), m.Path, m.Version, f.Name)
	}
	return &Summary{text: b.Bytes(), prefix: m.Path + "@" + m.Version + "/"}
}

// ParseSummary reads a summary written by Bytes for module m. Its lines
// are checked when a file is looked up; its hash is what proves it.
func ParseSummary(m module.Version, text []byte) (*Summary, error) {
	if len(text) > 0 && text[len(text)-1] != '\n' {
		return nil, fmt.Errorf("%s@%s: truncated file list", m.Path, m.Version)
	}
	return &Summary{text: text, prefix: m.Path + "@" + m.Version + "/"}, nil
}

// Bytes is the summary's text.
func (s *Summary) Bytes() []byte { return s.text }

// Hash is the tree's h1: hash, as dirhash.Hash1 computes it.
func (s *Summary) Hash() string { return h1(s.text) }

// sum is the recorded hex sha256 of file name, or "".
func (s *Summary) sum(name string) string {
	key := []byte("  " + s.prefix + name + "\n")
	for text := s.text; ; {
		i := bytes.Index(text, key)
		if i < 0 {
			return ""
		}
		if i >= 64 && (i == 64 || text[i-65] == '\n') {
			return string(text[i-64 : i])
		}
		text = text[i+len(key):]
	}
}

// Has reports whether the tree has file name.
func (s *Summary) Has(name string) bool { return s.sum(name) != "" }

// CheckFile reports whether data is the tree's file name.
func (s *Summary) CheckFile(name string, data []byte) error {
	want := s.sum(name)
	if want == "" {
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
