// Package report turns a run's events (gofab --output json) into one
// self-contained HTML page: a header with the counts, a timeline with a
// row per host and a bar per task and command (batches and barriers as
// bands), a table of hosts that filters by status and text, and each
// host's output and changes. The page needs no network: its data, style
// and script are inside it.
package report

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gofab/gofab/internal/base/event"
)

// The output a host keeps in the page is bounded by lines and by bytes:
// the first and the last lines, with a note of what was left out, and of
// a line longer than MaxLineBytes its start, with the bytes left out.
const (
	MaxLinesPerHost = 400
	MaxBytesPerHost = 512 << 10
	MaxLineBytes    = 4 << 10
)

// Report is a run as the page shows it. Times are seconds from the start.
type Report struct {
	Fabfile string   `json:"fabfile"`
	Tasks   []string `json:"tasks"`
	// Command is an ad-hoc run's command (gofab -- CMD).
	Command  string         `json:"command,omitempty"`
	Start    string         `json:"start"`
	Duration float64        `json:"duration"`
	Counts   map[string]int `json:"counts"`
	Hosts    []*Host        `json:"hosts"`
	Spans    []Span         `json:"spans"`
	Batches  []Span         `json:"batches"`
	Barriers []Barrier      `json:"barriers"`
	NotRun   []string       `json:"notRun,omitempty"`

	start time.Time
	byID  map[string]*Host
}

// Span is a task run or a batch: from, to, and which.
type Span struct {
	Task  string  `json:"task"`
	Batch int     `json:"batch,omitempty"`
	From  float64 `json:"from"`
	To    float64 `json:"to"`
}

// Barrier is when the hosts of a task were let through a barrier.
type Barrier struct {
	Task string  `json:"task"`
	At   float64 `json:"at"`
}

// Host is one host's story.
type Host struct {
	Name     string    `json:"name"`
	Status   string    `json:"status"`
	Duration float64   `json:"duration"`
	Changed  int       `json:"changed"`
	Error    string    `json:"error,omitempty"`
	Runs     []Run     `json:"runs"`
	Commands []Command `json:"commands"`
	Output   []Line    `json:"output"`
	Omitted  int       `json:"omitted,omitempty"`
	// OmittedBytes counts the bytes of the lines left out and of the long
	// lines' ends.
	OmittedBytes int      `json:"omittedBytes,omitempty"`
	Changes      []string `json:"changes,omitempty"`
	// Diffs are the --diff lines the host printed.
	Diffs []string `json:"diffs,omitempty"`

	tail []Line
	// headBytes and tailBytes are the text bytes of Output and tail.
	headBytes, tailBytes int
}

// Run is a task on a host.
type Run struct {
	Task   string  `json:"task"`
	From   float64 `json:"from"`
	To     float64 `json:"to"`
	Status string  `json:"status"`
	Error  string  `json:"error,omitempty"`
}

// Command is one command a host ran.
type Command struct {
	Kind    string  `json:"kind"`
	Command string  `json:"command"`
	From    float64 `json:"from"`
	To      float64 `json:"to"`
	Code    *int    `json:"code,omitempty"`
	Error   string  `json:"error,omitempty"`
	// Line is the index of its echo line in the host's output, or -1.
	Line int `json:"line"`
}

// Line is a line of a host's output.
type Line struct {
	At     float64 `json:"at"`
	Stream string  `json:"stream"`
	Text   string  `json:"text"`
}

// rawEvent is the union of the events' fields the page uses.
type rawEvent struct {
	Type     string         `json:"type"`
	Time     time.Time      `json:"time"`
	Host     string         `json:"host"`
	Task     string         `json:"task"`
	Status   string         `json:"status"`
	Duration float64        `json:"duration"`
	Changed  int            `json:"changed"`
	Error    string         `json:"error"`
	Kind     string         `json:"kind"`
	Command  string         `json:"command"`
	ExitCode *int           `json:"exit_code"`
	Stream   string         `json:"stream"`
	Text     string         `json:"text"`
	What     string         `json:"what"`
	Batch    int            `json:"batch"`
	Fabfile  string         `json:"fabfile"`
	Tasks    []string       `json:"tasks"`
	Counts   map[string]int `json:"counts"`
	Hosts    []struct {
		Host     string  `json:"host"`
		Status   string  `json:"status"`
		Duration float64 `json:"duration"`
		Changed  int     `json:"changed"`
		Error    string  `json:"error"`
	} `json:"hosts"`
	Op          string `json:"op"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Files       int    `json:"files"`
}

// Build reads events, one JSON object a line, and returns the report. A
// line that is not JSON is an error naming it.
func Build(r io.Reader) (*Report, error) {
	b := &builder{rep: &Report{Counts: map[string]int{}, byID: map[string]*Host{}},
		spans: map[string]int{}, batches: map[string]int{}, runs: map[string]int{},
		cmds: map[string][]int{}, barriers: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var ev rawEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, fmt.Errorf("event line %d: %v", n, err)
		}
		b.add(ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	rep := b.rep
	rep.Counts = map[string]int{}
	for _, h := range rep.Hosts {
		h.finish()
		if h.Status == "" {
			h.Status = "running"
		}
		rep.Counts[h.Status]++
	}
	return rep, nil
}

// builder folds events into a report, remembering what is still open:
// task spans, batches and runs by name, each host's commands, and each
// task's latest barrier.
type builder struct {
	rep      *Report
	spans    map[string]int   // task → index in Spans
	batches  map[string]int   // task/batch → index in Batches
	runs     map[string]int   // host\x00task → index in the host's Runs
	cmds     map[string][]int // host → its open commands
	barriers map[string]int   // task → index in Barriers
}

func (b *builder) add(ev rawEvent) {
	rep := b.rep
	if rep.start.IsZero() && !ev.Time.IsZero() {
		rep.start = ev.Time
		rep.Start = ev.Time.Format(time.RFC3339)
	}
	at := ev.Time.Sub(rep.start).Seconds()
	rep.Duration = max(rep.Duration, at)
	switch ev.Type {
	case event.NameRunStart:
		rep.Fabfile, rep.Tasks, rep.Command = ev.Fabfile, ev.Tasks, ev.Command
	case event.NameTaskStart:
		b.spans[ev.Task] = len(rep.Spans)
		rep.Spans = append(rep.Spans, Span{Task: ev.Task, From: at, To: at})
	case event.NameTaskEnd:
		if i, ok := b.spans[ev.Task]; ok {
			rep.Spans[i].To = at
		}
	case event.NameBatchStart:
		b.batches[fmt.Sprint(ev.Task, "/", ev.Batch)] = len(rep.Batches)
		rep.Batches = append(rep.Batches, Span{Task: ev.Task, Batch: ev.Batch, From: at, To: at})
	case event.NameBatchEnd:
		if i, ok := b.batches[fmt.Sprint(ev.Task, "/", ev.Batch)]; ok {
			rep.Batches[i].To = at
		}
	case event.NameBarrierPass:
		// One line per barrier: its hosts pass it at about the same time.
		if i, ok := b.barriers[ev.Task]; ok && at-rep.Barriers[i].At < 0.5 {
			return
		}
		b.barriers[ev.Task] = len(rep.Barriers)
		rep.Barriers = append(rep.Barriers, Barrier{Task: ev.Task, At: at})
	case event.NameTasksNotRun:
		rep.NotRun = ev.Tasks
	case event.NameSummary:
		for _, s := range ev.Hosts {
			h := rep.host(s.Host)
			h.Status, h.Duration, h.Changed, h.Error = s.Status, s.Duration, s.Changed, s.Error
		}
	default:
		b.addHostEvent(ev, at)
	}
}

// addHostEvent folds an event about one host.
func (b *builder) addHostEvent(ev rawEvent, at float64) {
	switch ev.Type {
	case event.NameHostStart, event.NameHostEnd, event.NameCommandStart, event.NameCommandEnd, event.NameOutput, event.NameChange, event.NameTransfer:
	default:
		return
	}
	h := b.rep.host(ev.Host)
	switch ev.Type {
	case event.NameHostStart:
		b.runs[ev.Host+"\x00"+ev.Task] = len(h.Runs)
		h.Runs = append(h.Runs, Run{Task: ev.Task, From: at, To: at, Status: "running"})
	case event.NameHostEnd:
		if i, ok := b.runs[ev.Host+"\x00"+ev.Task]; ok {
			h.Runs[i].To, h.Runs[i].Status, h.Runs[i].Error = at, ev.Status, ev.Error
		}
		h.Changed += ev.Changed
		h.Duration += ev.Duration
		if h.Status == "" || h.Status == "ok" {
			h.Status, h.Error = ev.Status, ev.Error
		}
	case event.NameCommandStart:
		b.cmds[ev.Host] = append(b.cmds[ev.Host], len(h.Commands))
		h.Commands = append(h.Commands, Command{Kind: ev.Kind, Command: ev.Command, From: at, To: at, Line: -1})
	case event.NameCommandEnd:
		// The latest open command of that text is the one that ended.
		open := b.cmds[ev.Host]
		for k := len(open) - 1; k >= 0; k-- {
			if c := &h.Commands[open[k]]; c.Command == ev.Command {
				c.To, c.Code, c.Error = at, ev.ExitCode, ev.Error
				b.cmds[ev.Host] = append(open[:k:k], open[k+1:]...)
				break
			}
		}
	case event.NameOutput:
		if c := h.lastCommand(ev.Stream, ev.Text); c != nil {
			c.Line = len(h.Output)
		}
		if ev.Stream == "diff" && len(h.Diffs) < MaxLinesPerHost {
			h.Diffs = append(h.Diffs, ev.Text)
		}
		h.addLine(Line{At: at, Stream: ev.Stream, Text: ev.Text})
	case event.NameChange:
		h.Changes = append(h.Changes, ev.What)
	case event.NameTransfer:
		if ev.Error == "" && ev.Files > 0 {
			h.Changes = append(h.Changes, fmt.Sprintf("%s %s -> %s (%d files)", ev.Op, ev.Source, ev.Destination, ev.Files))
		}
	}
}

func (rep *Report) host(name string) *Host {
	if name == "" {
		name = "local"
	}
	h, ok := rep.byID[name]
	if !ok {
		h = &Host{Name: name}
		rep.byID[name] = h
		rep.Hosts = append(rep.Hosts, h)
	}
	return h
}

// lastCommand returns the command an echo line (stream run, sudo or
// local) belongs to: the latest one started without its echo yet.
func (h *Host) lastCommand(stream, text string) *Command {
	if stream != "run" && stream != "sudo" && stream != "local" {
		return nil
	}
	for i := len(h.Commands) - 1; i >= 0; i-- {
		c := &h.Commands[i]
		if c.Line < 0 && c.Command == text {
			return c
		}
	}
	return nil
}

// addLine keeps the first and the last lines of a long output, within
// MaxLinesPerHost and MaxBytesPerHost, and the start of a long line.
func (h *Host) addLine(l Line) {
	if n := len(l.Text); n > MaxLineBytes {
		cut := MaxLineBytes
		for cut > 0 && !utf8.RuneStart(l.Text[cut]) {
			cut--
		}
		l.Text = l.Text[:cut] + fmt.Sprintf(" … (%d bytes left out)", n-cut)
		h.OmittedBytes += n - cut
	}
	head := MaxLinesPerHost / 4
	if len(h.tail) == 0 && h.Omitted == 0 && len(h.Output) < head && h.headBytes+len(l.Text) <= MaxBytesPerHost/4 {
		h.Output = append(h.Output, l)
		h.headBytes += len(l.Text)
		return
	}
	h.tail = append(h.tail, l)
	h.tailBytes += len(l.Text)
	for len(h.tail) > MaxLinesPerHost-head || h.tailBytes > MaxBytesPerHost-MaxBytesPerHost/4 {
		h.tailBytes -= len(h.tail[0].Text)
		h.OmittedBytes += len(h.tail[0].Text)
		h.tail = h.tail[1:]
		h.Omitted++
	}
}

func (h *Host) finish() {
	if h.Omitted > 0 {
		h.Output = append(h.Output, Line{Stream: "omitted", Text: fmt.Sprintf("… %d lines (%d bytes) left out …", h.Omitted, h.OmittedBytes)})
		// Echo lines past the head are indexed after the note.
		for i := range h.Commands {
			if h.Commands[i].Line >= len(h.Output)-1 {
				h.Commands[i].Line = -1
			}
		}
	}
	h.Output = append(h.Output, h.tail...)
	h.tail = nil
	if h.Runs == nil {
		h.Runs = []Run{}
	}
	if h.Commands == nil {
		h.Commands = []Command{}
	}
	if h.Output == nil {
		h.Output = []Line{}
	}
}

// title names the run: an ad-hoc run by its command, else the fabfile
// and its tasks.
func (rep *Report) title() string {
	if rep.Command != "" {
		return "gofab -- " + rep.Command
	}
	if len(rep.Tasks) > 0 {
		return rep.Fabfile + " " + strings.Join(rep.Tasks, " ")
	}
	return rep.Fabfile
}

// naturalLess orders names as people read them: runs of digits by their
// value, so 127.0.0.2 comes before 127.0.0.10 and web2 before web10.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

// digitRun is the length of the run of digits s starts with.
func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

//go:embed page.html
var pageHTML string

//go:embed page.js
var pageJS string

//go:embed page.css
var pageCSS string

// page is parsed on first use: a run that writes no report spends nothing
// on it at start-up.
var page = sync.OnceValue(func() *template.Template { return template.Must(template.New("report").Parse(pageHTML)) })

// Write writes the report as one self-contained HTML page.
func (rep *Report) Write(w io.Writer) error {
	sort.SliceStable(rep.Hosts, func(i, j int) bool { return naturalLess(rep.Hosts[i].Name, rep.Hosts[j].Name) })
	data, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	return page().Execute(w, map[string]any{
		"Title":  rep.title(),
		"Data":   template.JS(data),
		"Script": template.JS(pageJS),
		"Style":  template.CSS(pageCSS),
	})
}
