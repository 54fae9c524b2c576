package modfetch

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// repo makes a git repository with go-git itself (no git binary) and
// returns a function that commits content to a.lua, tagging the commit.
func repo(t *testing.T) (string, func(content string, tags ...string) string) {
	dir := t.TempDir()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := r.Worktree()
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return dir, func(content string, tags ...string) string {
		if err := os.WriteFile(filepath.Join(dir, "a.lua"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		wt.Add("a.lua")
		when = when.Add(time.Hour)
		sig := &object.Signature{Name: "t", Email: "t@example.com", When: when}
		h, err := wt.Commit("c", &git.CommitOptions{Author: sig, Committer: sig})
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range tags {
			if _, err := r.CreateTag(tag, h, nil); err != nil {
				t.Fatal(err)
			}
		}
		return h.String()
	}
}

func TestResolve(t *testing.T) {
	dir, commit := repo(t)
	commit("1", "v1.0.0")
	commit("2", "v1.1.0", "v2.0.0")
	head := commit("3")
	url := "file://" + dir
	for _, tc := range []struct {
		path, query, want string
	}{
		{"example.com/r", "v1.0.0", "v1.0.0"},
		{"example.com/r", "latest", "v1.1.0"},
		{"example.com/r/v2", "latest", "v2.0.0"},
		{"example.com/r", "master", "v1.1.1-0.20260102060405-" + head[:12]},
		{"example.com/r", head[:9], "v1.1.1-0.20260102060405-" + head[:12]},
		{"example.com/r/v2", head, "v2.0.1-0.20260102060405-" + head[:12]},
	} {
		f := &Fetcher{}
		rev, err := f.Resolve(t.Context(), url, tc.path, tc.query)
		if err != nil || rev.Version != tc.want {
			t.Errorf("Resolve(%s@%s) = %q, %v; want %q", tc.path, tc.query, rev.Version, err, tc.want)
		}
	}
	for _, tc := range []struct{ path, query, want string }{
		{"example.com/r", "v2.0.0", "should be v0 or v1"},
		{"example.com/r", "v1.9.0", "no tag v1.9.0"},
		{"example.com/r", "v1.0", "not a canonical version"},
		{"example.com/r", "nope", `no branch, tag or commit "nope"`},
	} {
		_, err := (&Fetcher{}).Resolve(t.Context(), url, tc.path, tc.query)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%s@%s): %v, want %q", tc.path, tc.query, err, tc.want)
		}
	}
	files, err := (&Fetcher{}).Files(t.Context(), url, head, "")
	if err != nil || len(files) != 1 || string(files[0].Data) != "3" {
		t.Fatalf("Files: %v %v", files, err)
	}
	if !regexp.MustCompile(`^\S+$`).MatchString(Redact("https://u:secret@h/r")) || strings.Contains(Redact("https://u:secret@h/r"), "secret") {
		t.Errorf("Redact kept the password: %s", Redact("https://u:secret@h/r"))
	}
}
