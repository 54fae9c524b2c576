package host

import (
	"io"

	"github.com/gofab/gofab/internal/base/event"
)

// Printer prints one host's lines and machine-readable events; gofab's
// internal/ui/output.Host is the one the CLI uses.
type Printer interface {
	// Line prints one line of a kind ("run", "out", "warning", ...).
	Line(kind, text string)
	// Event records a machine-readable event (--output json, --events).
	Event(ev event.Event)
	// Stream returns a writer printing each complete line as a line of
	// kind; Close prints an unterminated last line.
	Stream(kind string) io.WriteCloser
}
