// Package event defines gofab's machine-readable events, one Go type
// each: what --output json prints, --events FILE records, --report and
// gofab report merge read. Each event is one line of JSON: the type's
// fields, "type" (its name), "time" (RFC 3339, UTC) and, for an event
// about one host, "host". docs/events.md is generated from these types
// (Doc), so the documented contract is the code's.
package event

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// Event is one event; Type is its name in JSON ("type").
type Event interface{ Type() string }

// Names of the events, as "type" gives them.
const (
	NameRunStart     = "run_start"
	NameTaskStart    = "task_start"
	NameTaskEnd      = "task_end"
	NameShard        = "shard"
	NameBatchStart   = "batch_start"
	NameBatchEnd     = "batch_end"
	NameBarrierWait  = "barrier_wait"
	NameBarrierPass  = "barrier_pass"
	NameHostStart    = "host_start"
	NameHostEnd      = "host_end"
	NameCommandStart = "command_start"
	NameCommandEnd   = "command_end"
	NameOutput       = "output"
	NameChange       = "change"
	NameTransfer     = "transfer"
	NameSecrets      = "secrets"
	NameSummary      = "summary"
	NameTasksNotRun  = "tasks_not_run"
	NameError        = "error"
)

// RunStart begins a run.
type RunStart struct {
	Fabfile string   `json:"fabfile" doc:"the fabfile's path (empty for an ad-hoc command without one)"`
	Tasks   []string `json:"tasks" doc:"the task calls named on the command line"`
	Version string   `json:"version" doc:"gofab's version"`
	Shard   string   `json:"shard,omitempty" doc:"i/N under --shard"`
	Command string   `json:"command,omitempty" doc:"the ad-hoc command (gofab -- CMD)"`
}

// TaskStart begins a task call.
type TaskStart struct {
	Task string `json:"task" doc:"the task's name"`
}

// TaskEnd ends a task call.
type TaskEnd struct {
	Task     string         `json:"task" doc:"the task's name"`
	Duration float64        `json:"duration" doc:"seconds"`
	Counts   map[string]int `json:"counts" doc:"hosts by status (ok, failed, unreachable, not run)"`
	Error    string         `json:"error,omitempty" doc:"why the task stopped (max_fail, an interrupt)"`
}

// Shard says which hosts a shard selected for a task (under --shard).
type Shard struct {
	Task     string   `json:"task" doc:"the task's name (empty for an ad-hoc command)"`
	Shard    string   `json:"shard" doc:"i/N"`
	Selected []string `json:"selected" doc:"the hosts this shard runs"`
}

// BatchStart begins a batch of a rolling task.
type BatchStart struct {
	Task  string `json:"task" doc:"the task's name"`
	Batch int    `json:"batch" doc:"the batch's number, from 1"`
	Size  int    `json:"size" doc:"hosts in the batch"`
}

// BatchEnd ends a batch.
type BatchEnd struct {
	Task  string `json:"task" doc:"the task's name"`
	Batch int    `json:"batch" doc:"the batch's number, from 1"`
}

// BarrierWait: a host waits at barrier().
type BarrierWait struct {
	Task string `json:"task" doc:"the task's name"`
}

// BarrierPass: a host passes barrier().
type BarrierPass struct {
	Task string `json:"task" doc:"the task's name"`
}

// HostStart begins a task on a host.
type HostStart struct {
	Task string `json:"task" doc:"the task's name"`
}

// HostEnd ends a task on a host.
type HostEnd struct {
	Task     string  `json:"task" doc:"the task's name"`
	Status   string  `json:"status" doc:"ok, failed, unreachable or not run"`
	Duration float64 `json:"duration" doc:"seconds"`
	Changed  int     `json:"changed" doc:"things changed on the host"`
	Error    string  `json:"error" doc:"the error, empty when ok"`
}

// CommandStart begins a command on a host.
type CommandStart struct {
	Kind    string `json:"kind" doc:"run, sudo, local or helper"`
	Command string `json:"command" doc:"the command line (secrets as ***)"`
}

// CommandEnd ends a command: ExitCode when it ran to its end, else Error.
type CommandEnd struct {
	Kind     string  `json:"kind" doc:"run, sudo, local or helper"`
	Command  string  `json:"command" doc:"the command line (secrets as ***)"`
	Duration float64 `json:"duration" doc:"seconds"`
	ExitCode *int    `json:"exit_code,omitempty" doc:"the exit status, when the command ran to its end"`
	Error    string  `json:"error,omitempty" doc:"why it did not (transport, timeout, interrupt)"`
}

// Output is one line a host printed.
type Output struct {
	Host   string `json:"host" doc:"the host"`
	Stream string `json:"stream" doc:"out, err, run, sudo, warning, print, …"`
	Text   string `json:"text" doc:"the line, without its newline"`
}

// Change: a built-in function changed something on a host.
type Change struct {
	What string `json:"what" doc:"what changed, as the report shows it"`
}

// Transfer: a put, get or sync.
type Transfer struct {
	Op          string `json:"op" doc:"put, get, sync, …"`
	Source      string `json:"source" doc:"where from"`
	Destination string `json:"destination" doc:"where to"`
	Files       int    `json:"files" doc:"files transferred"`
	Error       string `json:"error,omitempty" doc:"why it failed"`
}

// Secrets counts the secrets files the run decrypted.
type Secrets struct {
	Decrypted int64 `json:"decrypted" doc:"files decrypted (once each per run)"`
}

// SummaryHost is one host's line of the recap.
type SummaryHost struct {
	Host     string  `json:"host"`
	Status   string  `json:"status"`
	Duration float64 `json:"duration"`
	Changed  int     `json:"changed"`
	Error    string  `json:"error"`
}

// Summary is the run's recap, once at its end.
type Summary struct {
	Hosts  []SummaryHost  `json:"hosts" doc:"each host: host, status, duration, changed, error (first line)"`
	Counts map[string]int `json:"counts" doc:"hosts by status"`
}

// TasksNotRun: tasks left out after one failed (without --keep-going).
type TasksNotRun struct {
	Tasks []string `json:"tasks" doc:"the task calls not run"`
	After string   `json:"after" doc:"the task that failed"`
}

// Error: an event that could not be written as JSON.
type Error struct {
	Error string `json:"error" doc:"why"`
}

// Type methods name each event.
func (RunStart) Type() string     { return NameRunStart }
func (TaskStart) Type() string    { return NameTaskStart }
func (TaskEnd) Type() string      { return NameTaskEnd }
func (Shard) Type() string        { return NameShard }
func (BatchStart) Type() string   { return NameBatchStart }
func (BatchEnd) Type() string     { return NameBatchEnd }
func (BarrierWait) Type() string  { return NameBarrierWait }
func (BarrierPass) Type() string  { return NameBarrierPass }
func (HostStart) Type() string    { return NameHostStart }
func (HostEnd) Type() string      { return NameHostEnd }
func (CommandStart) Type() string { return NameCommandStart }
func (CommandEnd) Type() string   { return NameCommandEnd }
func (Output) Type() string       { return NameOutput }
func (Change) Type() string       { return NameChange }
func (Transfer) Type() string     { return NameTransfer }
func (Secrets) Type() string      { return NameSecrets }
func (Summary) Type() string      { return NameSummary }
func (TasksNotRun) Type() string  { return NameTasksNotRun }
func (Error) Type() string        { return NameError }

// All are the events in the order docs/events.md lists them, with
// whether each is about one host (and so has "host").
var All = []struct {
	Event   Event
	PerHost bool
}{
	{RunStart{}, false}, {TaskStart{}, false}, {TaskEnd{}, false}, {Shard{}, false},
	{BatchStart{}, false}, {BatchEnd{}, false}, {BarrierWait{}, true}, {BarrierPass{}, true},
	{HostStart{}, true}, {HostEnd{}, true}, {CommandStart{}, true}, {CommandEnd{}, true},
	{Output{}, false}, {Change{}, true}, {Transfer{}, true}, {Secrets{}, false},
	{Summary{}, false}, {TasksNotRun{}, false}, {Error{}, false},
}

// Line is ev as one line of JSON, newline-terminated: its fields, "type",
// "time" (at, UTC) and "host" when host is not empty, every object's keys
// in sorted order and <, > and & as they are (commands are full of them).
func Line(ev Event, host string, at time.Time) []byte {
	m := fieldsOf(reflect.ValueOf(ev))
	m["type"] = ev.Type()
	m["time"] = at.UTC().Format(time.RFC3339Nano)
	if host != "" {
		m["host"] = host
	}
	return Encode(m)
}

// Encode is an event's fields m as its line of JSON (see Line); what
// cannot be encoded gives an "error" event instead.
func Encode(m map[string]any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		b.Reset()
		enc.Encode(map[string]any{"type": NameError, "error": err.Error()})
	}
	return b.Bytes()
}

// fieldsOf is struct v's fields as encoding/json names and omits them, in
// a map, so that the encoder sorts every object's keys (nested ones too).
func fieldsOf(v reflect.Value) map[string]any {
	t := v.Type()
	m := make(map[string]any, t.NumField()+3)
	for i := 0; i < t.NumField(); i++ {
		name, omitEmpty := jsonName(t.Field(i))
		if f := v.Field(i); !omitEmpty || !isEmpty(f) {
			m[name] = plain(f)
		}
	}
	return m
}

// plain is v's value with every struct in it a map (see fieldsOf).
func plain(v reflect.Value) any {
	switch {
	case v.Kind() == reflect.Struct:
		return fieldsOf(v)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct && !v.IsNil():
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plain(v.Index(i))
		}
		return out
	}
	return v.Interface()
}

// jsonName is a field's name in JSON and whether it is omitted when empty.
func jsonName(f reflect.StructField) (string, bool) {
	name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name, opts == "omitempty"
}

// isEmpty is encoding/json's "empty" for omitempty.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return v.IsZero()
}
