// Package output prints what hosts say: every line prefixed with its host
// ("[web1] out: ..."), written whole under one lock so two hosts' bytes never
// share a line, with a stable colour per host on a terminal.
package output

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
)

// maxLine is how much of an unterminated line is held before it is written
// anyway, so a stream without newlines cannot grow memory without bound.
const maxLine = 4 << 20

var palette = []string{"\x1b[36m", "\x1b[32m", "\x1b[33m", "\x1b[35m", "\x1b[34m", "\x1b[96m", "\x1b[92m", "\x1b[93m", "\x1b[95m", "\x1b[94m"}

const reset = "\x1b[0m"

// Printer serialises lines from many hosts onto one writer.
type Printer struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
	next  int
}

// New returns a Printer writing to w, colouring host prefixes when color is
// true.
func New(w io.Writer, color bool) *Printer { return &Printer{w: w, color: color} }

// Printf writes an unprefixed message; a newline is added when missing.
func (p *Printer) Printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(msg) == 0 || msg[len(msg)-1] != '\n' {
		msg += "\n"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	io.WriteString(p.w, msg)
}

// Host returns the line writer for one host; call it once per host so each
// gets its own colour.
func (p *Printer) Host(name string) *Host {
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix := "[" + name + "]"
	if p.color {
		prefix = palette[p.next%len(palette)] + prefix + reset
		p.next++
	}
	return &Host{p: p, Name: name, prefix: prefix}
}

// Host prints lines prefixed with one host's name.
type Host struct {
	p      *Printer
	Name   string
	prefix string
}

// Line prints "[host] kind: text" for each line of text ("[host] text" when
// kind is empty).
func (h *Host) Line(kind, text string) {
	if len(text) > 0 && text[len(text)-1] == '\n' {
		text = text[:len(text)-1]
	}
	var b bytes.Buffer
	for {
		ln, rest, more := strings.Cut(text, "\n")
		h.format(&b, kind, ln)
		if !more {
			break
		}
		text = rest
	}
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	h.p.w.Write(b.Bytes())
}

func (h *Host) format(b *bytes.Buffer, kind, text string) {
	text = trimCR(text)
	b.WriteString(h.prefix)
	b.WriteByte(' ')
	if kind != "" {
		b.WriteString(kind)
		b.WriteString(": ")
	}
	b.WriteString(text)
	b.WriteByte('\n')
}

func trimCR(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\r' {
		s = s[:len(s)-1]
	}
	return s
}

// Stream returns a writer that prints each complete line it is given as
// "[host] kind: line" as soon as the newline arrives. Close prints what is
// left of an unterminated last line.
func (h *Host) Stream(kind string) *LineWriter { return &LineWriter{h: h, kind: kind} }

// LineWriter turns a byte stream into prefixed lines. It is not safe for
// concurrent use; give each stream its own.
type LineWriter struct {
	h    *Host
	kind string
	buf  []byte
}

// Write buffers p and prints every complete line in it.
func (w *LineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	var out bytes.Buffer
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.h.format(&out, w.kind, string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		w.h.format(&out, w.kind, string(w.buf))
		w.buf = nil
	}
	if out.Len() > 0 {
		w.h.p.mu.Lock()
		w.h.p.w.Write(out.Bytes())
		w.h.p.mu.Unlock()
	}
	if len(w.buf) == 0 {
		w.buf = nil // let a large consumed buffer go
	}
	return len(p), nil
}

// Close prints an unterminated last line, if any.
func (w *LineWriter) Close() error {
	if len(w.buf) > 0 {
		w.h.Line(w.kind, string(w.buf))
		w.buf = nil
	}
	return nil
}
