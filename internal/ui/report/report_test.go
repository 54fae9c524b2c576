package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBuild(t *testing.T) {
	var b strings.Builder
	ev := func(sec float64, typ, rest string) {
		fmt.Fprintf(&b, `{"type":%q,"time":"2026-12-02T10:00:%06.3fZ"%s}`+"\n", typ, sec, rest)
	}
	ev(0, "run_start", `,"fabfile":"f.lua","tasks":["t"]`)
	ev(0, "task_start", `,"task":"t"`)
	ev(0, "batch_start", `,"task":"t","batch":1,"size":2`)
	for _, h := range []string{"a", "b"} {
		ev(0.1, "host_start", `,"host":"`+h+`","task":"t"`)
		ev(0.2, "command_start", `,"host":"`+h+`","kind":"run","command":"x"`)
		ev(0.2, "output", `,"host":"`+h+`","stream":"run","text":"x"`)
		for i := 0; i < MaxLinesPerHost+50; i++ {
			ev(0.3, "output", `,"host":"`+h+`","stream":"out","text":"</script><b>"`)
		}
		code := "0"
		if h == "b" {
			code = "3"
		}
		ev(0.5, "command_end", `,"host":"`+h+`","kind":"run","command":"x","exit_code":`+code)
		ev(0.6, "barrier_pass", `,"host":"`+h+`","task":"t"`)
		ev(0.6, "change", `,"host":"`+h+`","what":"files.write /etc/x"`)
	}
	ev(0.7, "host_end", `,"host":"a","task":"t","status":"ok","duration":0.6,"changed":1`)
	ev(0.7, "host_end", `,"host":"b","task":"t","status":"failed","duration":0.6,"changed":1,"error":"boom"`)
	ev(0.8, "batch_end", `,"task":"t","batch":1`)
	ev(0.9, "task_end", `,"task":"t"`)
	rep, err := Build(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts["ok"] != 1 || rep.Counts["failed"] != 1 || rep.Fabfile != "f.lua" || len(rep.Batches) != 1 || len(rep.Barriers) != 1 {
		t.Fatalf("report %+v", rep)
	}
	hb := rep.byID["b"]
	if hb.Error != "boom" || len(hb.Commands) != 1 || *hb.Commands[0].Code != 3 || hb.Commands[0].Line != 0 ||
		hb.Omitted != 51 || len(hb.Output) != MaxLinesPerHost+1 || hb.Changes[0] != "files.write /etc/x" {
		t.Errorf("host b: %+v", hb)
	}
	var page bytes.Buffer
	if err := rep.Write(&page); err != nil {
		t.Fatal(err)
	}
	if strings.Count(page.String(), "</script>") != 1 {
		t.Error("output text closed the page's script")
	}
	if _, err := Build(strings.NewReader("{}\nnot json\n")); err == nil || !strings.Contains(err.Error(), "event line 2") {
		t.Errorf("bad line: %v", err)
	}
}

// TestBuildBoundsBytes: output of very long lines (no newlines for
// megabytes) makes a page of bounded size that says what was left out.
func TestBuildBoundsBytes(t *testing.T) {
	var b strings.Builder
	long := strings.Repeat("é", 1<<20) // 2 MiB of text, one line
	fmt.Fprintf(&b, `{"type":"host_start","time":"2026-12-02T10:00:00Z","host":"a","task":"t"}`+"\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&b, `{"type":"output","time":"2026-12-02T10:00:01Z","host":"a","stream":"out","text":%q}`+"\n", long)
	}
	fmt.Fprintf(&b, `{"type":"host_end","time":"2026-12-02T10:00:02Z","host":"a","task":"t","status":"ok"}`+"\n")
	rep, page := buildPage(t, b.String())
	if page.Len() > 2*MaxBytesPerHost {
		t.Errorf("page of %d bytes for one host, want at most %d", page.Len(), 2*MaxBytesPerHost)
	}
	h := rep.byID["a"]
	if h.OmittedBytes < 50*(len(long)-MaxLineBytes) || !strings.Contains(h.Output[0].Text, "bytes left out") {
		t.Errorf("omitted %d bytes; first line ends %q", h.OmittedBytes, h.Output[0].Text[len(h.Output[0].Text)-40:])
	}
	if !utf8.ValidString(h.Output[0].Text) {
		t.Error("a long line was cut inside a character")
	}
}

// TestPageOrderAndTitle: hosts sort as people read them (issue 30's page
// bullet) and an ad-hoc run is titled by its command.
func TestPageOrderAndTitle(t *testing.T) {
	names := []string{"web10", "127.0.0.10", "web2", "127.0.0.2", "db", "127.0.0.1", "web02a", "web2a"}
	var b strings.Builder
	fmt.Fprintf(&b, `{"type":"run_start","time":"2026-12-02T10:00:00Z","fabfile":"gofab","tasks":[],"command":"uptime -p"}`+"\n")
	for _, h := range names {
		fmt.Fprintf(&b, `{"type":"host_end","time":"2026-12-02T10:00:01Z","host":%q,"task":"","status":"ok"}`+"\n", h)
	}
	rep, page := buildPage(t, b.String())
	var got []string
	for _, h := range rep.Hosts {
		got = append(got, h.Name)
	}
	want := "127.0.0.1 127.0.0.2 127.0.0.10 db web2 web02a web2a web10"
	if strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
	if !strings.Contains(page.String(), "<title>gofab run: gofab -- uptime -p</title>") {
		t.Errorf("title: %.300s", page.String())
	}
}

// buildPage builds the report of events and writes its page.
func buildPage(t *testing.T, events string) (*Report, *bytes.Buffer) {
	t.Helper()
	rep, err := Build(strings.NewReader(events))
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := rep.Write(&page); err != nil {
		t.Fatal(err)
	}
	return rep, &page
}
