// Package output prints what hosts say: every line prefixed with its host
// ("[web1] out: ..."), written whole under one lock so two hosts' bytes never
// share a line, with a stable colour per host on a terminal; or, for
// machines, one JSON object per event. It can also copy each host's lines
// into a log file of its own and keep a live status line on a terminal.
package output

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gofab/gofab/internal/base/event"
	"github.com/gofab/gofab/internal/base/redact"
)

// maxLine is how much of an unterminated line is held before it is written
// anyway, so a stream without newlines cannot grow memory without bound:
// a longer line is printed, logged and sent as events in pieces of this
// size (nothing is left out; each event stays small).
const maxLine = 256 << 10

var palette = []string{"\x1b[36m", "\x1b[32m", "\x1b[33m", "\x1b[35m", "\x1b[34m", "\x1b[96m", "\x1b[92m", "\x1b[93m", "\x1b[95m", "\x1b[94m"}

const reset = "\x1b[0m"

// hostColor is a host's colour, derived from its name so that it is the
// same in every run.
func hostColor(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	return palette[h.Sum32()%uint32(len(palette))]
}

// kindColors colour the words that say something went wrong.
var kindColors = map[string]string{"error": "\x1b[1;31m", "abort": "\x1b[1;31m", "warning": "\x1b[33m"}

// statusColors colour the statuses of the recap.
var statusColors = map[string]string{"ok": "\x1b[32m", "failed": "\x1b[1;31m", "unreachable": "\x1b[31m",
	"skipped": "\x1b[33m", "interrupted": "\x1b[33m"}

// Paint colours text as status words are (ok green, failed and
// unreachable red, skipped and interrupted yellow) when color is set.
func Paint(color bool, word, text string) string {
	if !color {
		return text
	}
	c, ok := statusColors[word]
	if !ok {
		return text
	}
	return c + text + reset
}

// Color reports whether the printer colours its output.
func (p *Printer) Color() bool { return p.color }

// Printer serialises lines from many hosts onto one writer, as text or as
// JSON events, copying each host's lines to its log file when asked, and
// keeping a live status line under them on a terminal.
type Printer struct {
	mu     sync.Mutex
	w      io.Writer
	errW   io.Writer // errors, warnings and the recap (text mode)
	paused func() bool
	tap    io.Writer // every event as JSON, in any mode (--report)
	tapErr error
	color  bool
	json   bool
	logDir string
	status string // the status line shown, "" for none
	logs   map[string]*os.File
	logErr error
	redact *redact.Set
}

// Options configure a Printer.
type Options struct {
	// Color colours host prefixes.
	Color bool
	// JSON writes one JSON object per event instead of text.
	JSON bool
	// LogDir, when set, gets one log file per host.
	LogDir string
	// Tap, when set, receives every event as a line of JSON, output
	// lines included, whatever the mode (for --report).
	Tap io.Writer
	// Paused, when set and true, keeps the status line off the screen
	// (a command has the terminal).
	Paused func() bool
	// Err, when set, receives error and warning lines and Printf messages
	// (the recap) in text mode, so command output alone goes to the main
	// writer.
	Err io.Writer
	// Redact holds the run's secrets: every line, message and event is
	// written with them replaced by ***, in every channel (screen, JSON,
	// log files, the tap).
	Redact *redact.Set
}

// New returns a Printer writing text to w, colouring host prefixes when
// color is true.
func New(w io.Writer, color bool) *Printer { return &Printer{w: w, errW: w, color: color} }

// NewWith returns a Printer with the given options.
func NewWith(w io.Writer, o Options) *Printer {
	p := &Printer{w: w, errW: o.Err, color: o.Color && !o.JSON, json: o.JSON, logDir: o.LogDir, paused: o.Paused, tap: o.Tap, redact: o.Redact}
	if p.errW == nil || p.json {
		p.errW = w
	}
	return p
}

// SetTap sends every event from now on, as a line of JSON, to w too
// (and to the taps set before).
func (p *Printer) SetTap(w io.Writer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tap != nil {
		w = io.MultiWriter(p.tap, w)
	}
	p.tap = w
}

// JSON reports whether the printer writes JSON events.
func (p *Printer) JSON() bool { return p.json }

// write writes b under the lock held by the caller, keeping the status
// line below it.
func (p *Printer) write(b []byte) { p.writeTo(p.w, b) }

// writeTo writes b to w (the main or the error writer), keeping the status
// line, which is on the main writer, below it.
func (p *Printer) writeTo(w io.Writer, b []byte) {
	if p.status == "" || p.paused != nil && p.paused() {
		w.Write(b)
		return
	}
	io.WriteString(p.w, "\r\x1b[K")
	w.Write(b)
	io.WriteString(p.w, p.status)
}

// toErr reports whether lines of kind go to the error writer.
func toErr(kind string) bool { return kind == "error" || kind == "warning" || kind == "abort" }

// SetStatus shows text as the live status line ("" removes it). Only call
// it when writing to a terminal.
func (p *Printer) SetStatus(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json || text == p.status {
		return
	}
	if p.paused != nil && p.paused() {
		p.status = text // drawn again with the next line once resumed
		return
	}
	io.WriteString(p.w, "\r\x1b[K"+text)
	p.status = text
}

// Printf writes an unprefixed message; a newline is added when missing.
// JSON printers leave messages out: events carry what they say.
func (p *Printer) Printf(format string, args ...any) {
	if p.json {
		return
	}
	msg := p.redact.String(fmt.Sprintf(format, args...))
	if len(msg) == 0 || msg[len(msg)-1] != '\n' {
		msg += "\n"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writeTo(p.errW, []byte(msg))
}

// Event writes one JSON event in JSON mode and to the tap (--events,
// --report), and does nothing otherwise.
func (p *Printer) Event(ev event.Event) { p.event(ev, "") }

// event writes ev, about host when it is not empty.
func (p *Printer) event(ev event.Event, host string) {
	if !p.json && p.tap == nil {
		return
	}
	b := p.redact.Bytes(event.Line(ev, host, time.Now()))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tapWrite(b)
	if p.json {
		p.write(b)
	}
}

// tapWrite copies an event to the tap, under the lock; the first error
// is kept for Close.
func (p *Printer) tapWrite(b []byte) {
	if p.tap == nil {
		return
	}
	if _, err := p.tap.Write(b); err != nil && p.tapErr == nil {
		p.tapErr = fmt.Errorf("event tap: %w", err)
	}
}

// outputEvent is the JSON event of one output line.
func outputEvent(host, kind, text string) []byte {
	stream := kind
	if stream == "" {
		stream = "print"
	}
	return event.Line(event.Output{Host: host, Stream: stream, Text: text}, "", time.Now())
}

// Close closes the hosts' log files and reports the first error writing
// them.
func (p *Printer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.logs {
		if err := f.Close(); err != nil && p.logErr == nil {
			p.logErr = err
		}
	}
	p.logs = nil
	if p.logErr == nil {
		return p.tapErr
	}
	return p.logErr
}

// logFile returns the host's log file, created on first use; p.mu is held.
func (p *Printer) logFile(name string) *os.File {
	if p.logDir == "" || p.logErr != nil {
		return nil
	}
	if f, ok := p.logs[name]; ok {
		return f
	}
	if p.logs == nil {
		p.logs = map[string]*os.File{}
	}
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == 0 {
			return '_'
		}
		return r
	}, name)
	f, err := os.OpenFile(filepath.Join(p.logDir, safe+".log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		p.logErr = fmt.Errorf("log file: %w", err)
		return nil
	}
	p.logs[name] = f
	return f
}

// Host returns the line writer for one host; call it once per host so each
// gets its own colour.
func (p *Printer) Host(name string) *Host {
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix := "[" + name + "]"
	if p.color {
		prefix = hostColor(name) + prefix + reset
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
	var lines []string
	for {
		ln, rest, more := strings.Cut(text, "\n")
		lines = append(lines, ln)
		if !more {
			break
		}
		text = rest
	}
	h.emit(kind, lines)
}

// emit prints whole lines of one kind: as text or JSON events, and into
// the host's log file.
func (h *Host) emit(kind string, lines []string) {
	var out, log, tap bytes.Buffer
	for _, ln := range lines {
		raw := h.p.redact.String(trimCR(ln))
		ln = Neutralize(raw)
		if h.p.tap != nil && !h.p.json {
			tap.Write(outputEvent(h.Name, kind, ln))
		}
		if h.p.json {
			out.Write(outputEvent(h.Name, kind, ln))
		} else if kind == "" && h.p.color {
			// The fabfile's own lines keep their colours (require("colors")).
			format(&out, h.prefix, "", keepColors(raw))
		} else {
			format(&out, h.prefix, h.paintKind(kind), ln)
		}
		if h.p.logDir != "" {
			format(&log, "["+h.Name+"]", kind, ln)
		}
	}
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	if h.p.json {
		h.p.tapWrite(out.Bytes())
	} else if tap.Len() > 0 {
		h.p.tapWrite(tap.Bytes())
	}
	if toErr(kind) {
		h.p.writeTo(h.p.errW, out.Bytes())
	} else {
		h.p.write(out.Bytes())
	}
	if f := h.p.logFile(h.Name); f != nil && log.Len() > 0 {
		if _, err := f.Write(log.Bytes()); err != nil && h.p.logErr == nil {
			h.p.logErr = fmt.Errorf("log file: %w", err)
		}
	}
}

// paintKind colours an error or warning kind word on a colour printer.
func (h *Host) paintKind(kind string) string {
	if c, ok := kindColors[kind]; ok && h.p.color {
		return c + kind + reset
	}
	return kind
}

// Event writes a JSON event about this host (see Printer.Event).
func (h *Host) Event(ev event.Event) { h.p.event(ev, h.Name) }

func format(b *bytes.Buffer, prefix, kind, text string) {
	b.WriteString(prefix)
	b.WriteByte(' ')
	if kind != "" {
		b.WriteString(kind)
		b.WriteString(": ")
	}
	b.WriteString(text)
	b.WriteByte('\n')
}

// sgr matches a terminal colour sequence (Select Graphic Rendition).
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// keepColors is Neutralize keeping colour sequences, and resetting the
// colour at the end so it cannot run past the line.
func keepColors(s string) string {
	if !strings.Contains(s, "\x1b[") {
		return Neutralize(s)
	}
	var b strings.Builder
	last := 0
	for _, loc := range sgr.FindAllStringIndex(s, -1) {
		b.WriteString(Neutralize(s[last:loc[0]]))
		b.WriteString(s[loc[0]:loc[1]])
		last = loc[1]
	}
	b.WriteString(Neutralize(s[last:]))
	b.WriteString(reset)
	return b.String()
}

// Neutralize removes what a host's output could do to the terminal it is
// shown on: escape sequences (CSI such as colours and cursor moves, OSC
// such as window titles, and the rest) are dropped, and other control
// characters but tab become U+FFFD, so a line stays one line after its
// prefix. Text without control characters comes back as is.
func Neutralize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f || c == 0xc2 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == 0x1b || r == 0x9b || r == 0x9d:
			i = skipEscape(rs, i)
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// skipEscape returns the index of the last rune of the escape sequence
// starting at rs[i].
func skipEscape(rs []rune, i int) int {
	kind := rs[i]
	if kind == 0x1b {
		if i+1 >= len(rs) {
			return i
		}
		i++
		switch rs[i] {
		case '[':
			kind = 0x9b
		case ']', 'P', '_', '^', 'X':
			kind = 0x9d
		default:
			return i // a two-character sequence (ESC c, ESC 7, …)
		}
	}
	for i++; i < len(rs); i++ {
		r := rs[i]
		if kind == 0x9b && r >= 0x40 && r <= 0x7e {
			return i // CSI ends with its final byte
		}
		if kind == 0x9d && (r == 0x07 || r == 0x9c || r == 0x1b && i+1 < len(rs) && rs[i+1] == '\\') {
			if r == 0x1b {
				i++
			}
			return i // OSC and strings end with BEL or ST
		}
	}
	return i
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
func (h *Host) Stream(kind string) io.WriteCloser { return &LineWriter{h: h, kind: kind} }

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
	var lines []string
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		lines = append(lines, string(w.buf))
		w.buf = nil
	}
	if len(lines) > 0 {
		w.h.emit(w.kind, lines)
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
