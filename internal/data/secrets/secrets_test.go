package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gofab/gofab/internal/data/sops"
)

// TestLoadOnce: a hundred goroutines loading one file decrypt it once,
// and every encrypted value (not the _unencrypted one, not the short one)
// is hidden.
func TestLoadOnce(t *testing.T) {
	dir := t.TempDir()
	tree, err := sops.Parse([]byte("password: hunter2-pw\nname_unencrypted: visible-name\npin: \"12\"\n"), sops.YAML)
	if err != nil {
		t.Fatal(err)
	}
	data, err := sops.Encrypt(tree, sops.YAML, []string{TestRecipient}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s.yaml")
	os.WriteFile(path, data, 0o600)
	s := NewTest()
	var warned []string
	s.Warn = func(m string) { warned = append(warned, m) }
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := s.Load(path); err != nil || v["password"] != "hunter2-pw" {
				t.Errorf("Load: %v %v", v, err)
			}
		}()
	}
	wg.Wait()
	if n := s.Decryptions(); n != 1 {
		t.Errorf("%d decryptions, want 1", n)
	}
	if got := s.Redact.String("hunter2-pw visible-name 12"); got != "*** visible-name 12" {
		t.Errorf("redacted: %q", got)
	}
	if len(warned) != 1 || warned[0] != "s.yaml: pin is shorter than 4 characters: gofab cannot hide it in output" {
		t.Errorf("warnings: %q", warned)
	}
}

// TestResolve: paths relative to the fabfile, inside the project, links
// followed; a file outside is refused, one that does not exist yet is not
// (reading it says so).
func TestResolve(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "app", "secrets"), 0o755)
	os.WriteFile(filepath.Join(root, "gofab.mod"), nil, 0o644)
	os.WriteFile(filepath.Join(root, "app", "secrets", "a.yaml"), nil, 0o600)
	outside := filepath.Join(t.TempDir(), "b.yaml")
	os.WriteFile(outside, nil, 0o600)
	os.Symlink(outside, filepath.Join(root, "app", "link.yaml"))
	if got := ProjectRoot(filepath.Join(root, "app")); got != root {
		t.Errorf("ProjectRoot = %s, want %s", got, root)
	}
	dir := filepath.Join(root, "app")
	for _, c := range []struct {
		name    string
		outside bool
	}{{"secrets/a.yaml", false}, {"secrets/new.yaml", false}, {"../gofab.mod", false},
		{outside, true}, {"link.yaml", true}, {"../../x.yaml", true}} {
		_, err := Resolve(root, dir, c.name)
		if errors.Is(err, ErrOutside) != c.outside {
			t.Errorf("Resolve(%q): %v", c.name, err)
		}
	}
}
