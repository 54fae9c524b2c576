package event

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite docs/events.md")

// TestDocIsCurrent: docs/events.md is what the types say.
func TestDocIsCurrent(t *testing.T) {
	var b bytes.Buffer
	Doc(&b)
	path := filepath.Join("..", "..", "..", "docs", "events.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(have, b.Bytes()) {
		t.Errorf("docs/events.md is not what internal/base/event says (go test ./internal/base/event -update rewrites it): %v", err)
	}
}

// TestLine: the JSON of events as --output json has always printed them
// (keys sorted, numbers as Go prints them, <>& as they are, omitted
// fields absent).
func TestLine(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 5, time.UTC)
	zero := 0
	for _, c := range []struct {
		ev   Event
		host string
		want string
	}{
		{RunStart{Fabfile: "f.lua", Tasks: []string{"a"}, Version: "0.2.0"}, "",
			`{"fabfile":"f.lua","tasks":["a"],"time":"2026-12-05T10:00:00.000000005Z","type":"run_start","version":"0.2.0"}`},
		{RunStart{Tasks: nil, Command: "uname -r"}, "",
			`{"command":"uname -r","fabfile":"","tasks":null,"time":"2026-12-05T10:00:00.000000005Z","type":"run_start","version":""}`},
		{CommandEnd{Kind: "run", Command: "a && b > c", Duration: 0.25, ExitCode: &zero}, "web1",
			`{"command":"a && b > c","duration":0.25,"exit_code":0,"host":"web1","kind":"run","time":"2026-12-05T10:00:00.000000005Z","type":"command_end"}`},
		{CommandEnd{Kind: "sudo", Command: "x", Duration: 1e-7, Error: "timeout"}, "web1",
			`{"command":"x","duration":1e-7,"error":"timeout","host":"web1","kind":"sudo","time":"2026-12-05T10:00:00.000000005Z","type":"command_end"}`},
		{Summary{Hosts: []SummaryHost{{Host: "h", Status: "ok", Duration: 1.5}}, Counts: map[string]int{"ok": 1}}, "",
			`{"counts":{"ok":1},"hosts":[{"changed":0,"duration":1.5,"error":"","host":"h","status":"ok"}],"time":"2026-12-05T10:00:00.000000005Z","type":"summary"}`},
		{Output{Host: "h", Stream: "out", Text: "<b>"}, "",
			`{"host":"h","stream":"out","text":"<b>","time":"2026-12-05T10:00:00.000000005Z","type":"output"}`},
	} {
		if got := string(Line(c.ev, c.host, at)); got != c.want+"\n" {
			t.Errorf("%T:\n got %s want %s", c.ev, got, c.want)
		}
	}
}
