package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
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
