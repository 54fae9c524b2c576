// Package runstate remembers, from one gofab run to the next, which hosts
// did not succeed at each task of each fabfile, so --rerun-failed can run
// a task again on just those. The state is one JSON file:
//
//	{"/abs/path/fabfile.lua": {"deploy": {"failed": ["web2"], "time": "…"}}}
//
// kept in $GOFAB_STATE_DIR, else $XDG_STATE_HOME/gofab, else
// ~/.local/state/gofab, as runs.json.
package runstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofab/gofab/internal/base/outfile"
)

// Entry is how a task ended in the last run that ran it.
type Entry struct {
	// Failed are the hosts that failed, were unreachable, were skipped or
	// were interrupted.
	Failed []string `json:"failed"`
	// Status is how each of those hosts ended (failed, unreachable,
	// skipped, interrupted).
	Status map[string]string `json:"status,omitempty"`
	Time   time.Time         `json:"time"`
}

// File is the state file's content.
type File struct {
	path string
	runs map[string]map[string]Entry
	// Redact, when set, takes secrets out of what Save writes (an
	// ad-hoc command is recorded as its task).
	Redact func([]byte) []byte
}

// Path returns the state file's path for the environment getenv reads.
func Path(getenv func(string) string) string {
	if d := getenv("GOFAB_STATE_DIR"); d != "" {
		return filepath.Join(d, "runs.json")
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "gofab", "runs.json")
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".local", "state", "gofab", "runs.json")
}

// Load reads the state file; a missing file is an empty state. A file that
// cannot be read or parsed gives an empty state and the error, so a run
// that does not need the state can go on (and replace the file).
func Load(path string) (*File, error) {
	f := &File{path: path, runs: map[string]map[string]Entry{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("run state: %w", err)
	}
	if err := json.Unmarshal(data, &f.runs); err != nil {
		f.runs = map[string]map[string]Entry{}
		return f, fmt.Errorf("run state %s: %w", path, err)
	}
	return f, nil
}

// Failed returns the hosts that did not succeed in the last run of task,
// and whether such a run is recorded.
func (f *File) Failed(fabfile, task string) ([]string, bool) {
	e, ok := f.runs[fabfile][task]
	return e.Failed, ok
}

// Record sets the hosts that did not succeed at task in this run, with
// how each ended (host → status).
func (f *File) Record(fabfile, task string, failed []string, status map[string]string) {
	if f.runs[fabfile] == nil {
		f.runs[fabfile] = map[string]Entry{}
	}
	if failed == nil {
		failed = []string{}
	}
	f.runs[fabfile][task] = Entry{Failed: failed, Status: status, Time: time.Now().UTC()}
}

// Save writes the state file atomically.
func (f *File) Save() error {
	data, err := json.MarshalIndent(f.runs, "", "  ")
	if err != nil {
		return err
	}
	if f.Redact != nil {
		data = f.Redact(data)
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("run state: %w", err)
	}
	err = outfile.Write(f.path, 0o600, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
	if err != nil {
		return fmt.Errorf("run state: %w", err)
	}
	return nil
}
