// Package secrets holds a run's decrypted files: each SOPS file is
// decrypted once per run, on first use, whatever the number of hosts and
// Lua states that read it, and every value it holds is registered with
// the run's redaction Set so no output shows it.
package secrets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"filippo.io/age"

	"github.com/gofab/gofab/internal/base/redact"
	"github.com/gofab/gofab/internal/data/sops"
)

// Store is one run's secrets. Safe for concurrent use.
type Store struct {
	// Redact is the run's redaction set (shared with the output).
	Redact *redact.Set
	// IDs find the user's identities, on first decryption.
	IDs *sops.Identities
	// Warn says what cannot be redacted (a value too short), once each.
	Warn func(msg string)

	mu          sync.Mutex
	files       map[string]*file
	warned      map[string]bool
	decryptions atomic.Int64
}

type file struct {
	once  sync.Once
	plain map[string]any
	err   error
}

// New returns a Store with its own redaction set, finding identities in
// the environment (getenv, nil for os.Getenv) and home.
func New(getenv func(string) string, home string) *Store {
	return &Store{Redact: &redact.Set{}, IDs: &sops.Identities{Getenv: getenv, Home: home}}
}

// Decryptions is how many files were decrypted so far.
func (s *Store) Decryptions() int64 { return s.decryptions.Load() }

// Load returns the plain values of the SOPS file at path (absolute),
// decrypting it on the first call of the run.
func (s *Store) Load(path string) (map[string]any, error) {
	s.mu.Lock()
	if s.files == nil {
		s.files = map[string]*file{}
	}
	f, ok := s.files[path]
	if !ok {
		f = &file{}
		s.files[path] = f
	}
	s.mu.Unlock()
	f.once.Do(func() {
		data, err := os.ReadFile(path)
		if err != nil {
			f.err = err
			return
		}
		f.plain, f.err = s.Decrypt(path, data)
	})
	return f.plain, f.err
}

// Decrypt decrypts a file's content (counted) and registers the values
// that were encrypted in it (a key ending in _unencrypted stays shown).
func (s *Store) Decrypt(name string, data []byte) (map[string]any, error) {
	s.decryptions.Add(1)
	t, meta, err := sops.Decrypt(data, sops.FormatOf(name), s.IDs)
	if err != nil {
		return nil, err
	}
	var texts, keys []string
	meta.EncryptedLeaves(t, func(path []string, v any) {
		if _, isBool := v.(bool); !isBool {
			if text := fmt.Sprint(v); text != "" {
				texts, keys = append(texts, text), append(keys, strings.Join(path, "."))
			}
		}
	})
	for _, i := range s.Redact.Add(texts...) { // one matcher for the whole file
		s.warn(fmt.Sprintf("%s: %s is shorter than %d characters: gofab cannot hide it in output", filepath.Base(name), keys[i], redact.MinLen))
	}
	return t.Plain(), nil
}

// Add registers a value the run must not show (a sudo or login
// password, a value given to secrets.hide); what names it in the warning
// for a value too short to hide.
func (s *Store) Add(what, value string) {
	if s != nil && value != "" && len(s.Redact.Add(value)) > 0 {
		s.warn(fmt.Sprintf("%s is shorter than %d characters: gofab cannot hide it in output", what, redact.MinLen))
	}
}

// First reports whether key is new to the run (for warnings given once).
func (s *Store) First(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.warned == nil {
		s.warned = map[string]bool{}
	}
	if s.warned["\x00"+key] {
		return false
	}
	s.warned["\x00"+key] = true
	return true
}

func (s *Store) warn(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.warned == nil {
		s.warned = map[string]bool{}
	}
	if s.Warn != nil && !s.warned[msg] {
		s.warned[msg] = true
		s.Warn(msg)
	}
}

// ErrOutside is wrapped by the error for a secrets file outside the
// project.
var ErrOutside = errors.New("outside the project")

// Resolve returns the absolute path of a secrets file named in a recipe:
// relative to dir (the fabfile's), and inside root (the project) once
// links are followed.
func Resolve(root, dir, name string) (string, error) {
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, os.ErrNotExist) {
		real, err = filepath.Abs(p) // reading it says so; gofab check and -l need not
	}
	if err != nil {
		return "", err
	}
	rootReal, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	if _, statErr := os.Lstat(p); statErr != nil {
		if rootAbs, err := filepath.Abs(root); err == nil {
			rootReal = rootAbs // compare like with like: neither path resolved
		}
	}
	if rel, err := filepath.Rel(rootReal, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is %w (%s): keep secrets files in the project", name, ErrOutside, root)
	}
	return real, nil
}

// ProjectRoot is the project a fabfile in dir belongs to: the nearest
// directory up from dir holding gofab.mod, .sops.yaml or .git, else dir.
func ProjectRoot(dir string) string {
	for d := dir; ; {
		for _, marker := range []string{"gofab.mod", ".sops.yaml", ".git"} {
			if _, err := os.Stat(filepath.Join(d, marker)); err == nil {
				return d
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// The test identity: gofab test decrypts fixtures encrypted to
// TestRecipient with it. It is public: never encrypt a real secret to it.
const (
	TestIdentity  = "AGE-SECRET-KEY-1C968UJJRS764PFN4ULFLYECTGCC45MMYK4CQUP69G3YL2W76MK5QTVTZM4"
	TestRecipient = "age18a43k9zm279uns4scsqgncq8jlv5dxgzjsyav89k7vnyvxgmwuxqcwhqs5"
)

// NewTest returns the store of a recipe test run: the test identity only,
// never the user's keys, so tests are the same on every machine.
func NewTest() *Store {
	id, err := age.ParseX25519Identity(TestIdentity)
	if err != nil {
		panic(err) // a constant
	}
	return &Store{Redact: &redact.Set{}, IDs: &sops.Identities{Getenv: func(string) string { return "" }, Home: "/nonexistent", Extra: []age.Identity{id}}}
}
