package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/gofab/gofab/internal/base/event"
)

// NotRun is the status the merged summary gives a host a shard selected
// but never reported (its process was killed, or its events are lost).
const NotRun = "not run"

// mergeEvent is one event line of a shard, with what merging needs.
type mergeEvent struct {
	raw  []byte
	src  int
	seq  int // line in its source, to keep a source's order
	drop bool

	Type      string    `json:"type"`
	Time      time.Time `json:"time"`
	Task      string    `json:"task"`
	Batch     int       `json:"batch"`
	Selected  []string  `json:"selected"`
	Decrypted int64     `json:"decrypted"`
	// A host_end's.
	Host     string  `json:"host"`
	Status   string  `json:"status"`
	Changed  int     `json:"changed"`
	Duration float64 `json:"duration"`
	Error    string  `json:"error"`
}

// Merge writes the events of the shards of one run (each as --output
// json or --events wrote it) to w as the events of one run that ran every
// host: in time order, one run_start, each task's start and end once, the
// summaries made one, where the hosts a shard selected and never reported
// are NotRun. It returns the merged summary's hosts and statuses, in the
// order of the selection.
func Merge(w io.Writer, inputs ...io.Reader) ([]SummaryHost, error) {
	var all []*mergeEvent
	for i, r := range inputs {
		evs, err := readEvents(r, i)
		if err != nil {
			return nil, fmt.Errorf("events file %d: %w", i+1, err)
		}
		all = append(all, evs...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	hosts := foldSpans(all)
	bw := bufio.NewWriter(w)
	runStarted := false
	var last time.Time
	var decrypted int64
	for _, ev := range all {
		last = ev.Time
		switch {
		case ev.drop:
			continue
		case ev.Type == event.NameRunStart:
			if runStarted {
				continue
			}
			runStarted = true
			ev.raw = withoutField(ev.raw, "shard")
		case ev.Type == event.NameSecrets:
			decrypted += ev.Decrypted
			continue
		}
		bw.Write(ev.raw)
		bw.WriteByte('\n')
	}
	if decrypted > 0 {
		bw.Write(event.Line(event.Secrets{Decrypted: decrypted}, "", last))
	}
	summary := hosts.summary()
	counts := map[string]int{}
	for _, h := range summary {
		counts[h.Status]++
	}
	bw.Write(event.Line(event.Summary{Hosts: summary, Counts: counts}, "", last))
	return summary, bw.Flush()
}

// SummaryHost is a host of a merged summary.
type SummaryHost = event.SummaryHost

func readEvents(r io.Reader, src int) ([]*mergeEvent, error) {
	var out []*mergeEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		ev := &mergeEvent{raw: append([]byte(nil), line...), src: src, seq: n}
		if err := json.Unmarshal(line, ev); err != nil {
			// A shard killed while writing leaves half a line: the end.
			if !sc.Scan() {
				break
			}
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		out = append(out, ev)
	}
	return out, sc.Err()
}

// mergedHosts gathers what the summaries and shard events say of hosts.
type mergedHosts struct {
	order    []string
	selected map[string]bool
	status   map[string]SummaryHost
	// ended is what host_end events say, for hosts of a shard that
	// ended before its summary (killed).
	ended map[string]SummaryHost
}

// foldSpans marks the duplicate run-level events to drop (a task's start
// but the first, its end but the last, the same for batches; the shards'
// summaries and shard events, replaced by one summary) and gathers the
// hosts.
func foldSpans(all []*mergeEvent) *mergedHosts {
	h := &mergedHosts{selected: map[string]bool{}, status: map[string]SummaryHost{}, ended: map[string]SummaryHost{}}
	occurrence := map[string]int{} // src/task → task_starts seen
	first := map[string]bool{}
	lastEnd := map[string]*mergeEvent{}
	key := func(ev *mergeEvent) string {
		return fmt.Sprintf("%s#%d/%d", ev.Task, occurrence[fmt.Sprint(ev.src, "/", ev.Task)], ev.Batch)
	}
	for _, ev := range all {
		switch ev.Type {
		case event.NameTaskStart:
			occurrence[fmt.Sprint(ev.src, "/", ev.Task)]++
			fallthrough
		case event.NameBatchStart:
			k := ev.Type + key(ev)
			ev.drop = first[k]
			first[k] = true
		case event.NameTaskEnd, event.NameBatchEnd:
			k := ev.Type + key(ev)
			if prev := lastEnd[k]; prev != nil {
				prev.drop = true
			}
			lastEnd[k] = ev
		case event.NameShard:
			ev.drop = true
			for _, s := range ev.Selected {
				if !h.selected[s] {
					h.selected[s] = true
					h.order = append(h.order, s)
				}
			}
		case event.NameHostEnd:
			s, seen := h.ended[ev.Host]
			if !seen || s.Status == "ok" {
				s.Status, s.Error = ev.Status, ev.Error
			}
			s.Host, s.Duration, s.Changed = ev.Host, s.Duration+ev.Duration, s.Changed+ev.Changed
			h.ended[ev.Host] = s
		case event.NameSummary:
			ev.drop = true
			var full struct {
				Hosts []SummaryHost `json:"hosts"`
			}
			json.Unmarshal(ev.raw, &full)
			for _, s := range full.Hosts {
				prev, seen := h.status[s.Host]
				if !seen && !h.selected[s.Host] {
					h.order = append(h.order, s.Host)
				}
				if seen { // in two shards' summaries (a task with a shard option ran it): as one run's
					s.Duration += prev.Duration
					s.Changed += prev.Changed
					if prev.Status != "ok" {
						s.Status, s.Error = prev.Status, prev.Error
					}
				}
				h.status[s.Host] = s
			}
		}
	}
	return h
}

// summary lists every host in selection order: as its shard's summary
// says, else as its host_end events say (its shard was killed after it
// ended), else NotRun.
func (h *mergedHosts) summary() []SummaryHost {
	out := make([]SummaryHost, 0, len(h.order))
	seen := map[string]bool{}
	for _, name := range h.order {
		if seen[name] {
			continue
		}
		seen[name] = true
		s, ok := h.status[name]
		if !ok {
			if s, ok = h.ended[name]; !ok {
				s = SummaryHost{Host: name, Status: NotRun}
			}
		}
		out = append(out, s)
	}
	return out
}

// withoutField is the event line raw without field (its numbers as they
// were written).
func withoutField(raw []byte, field string) []byte {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return raw
	}
	delete(m, field)
	return bytes.TrimSuffix(event.Encode(m), []byte("\n"))
}
