package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const reportFab = `
local files = require("files")
task("t", function()
  run("echo hello; echo oops >&2")
  files.write(env.dst .. "/w-" .. env.host, "x\n")
  put("fabfile.lua", env.dst .. "/put-" .. env.host)
  if env.host == "127.0.0.3" then abort("bad host") end
end)
`

// TestJSONOutput parses every line of --output json and checks the
// events of a run with one failing host.
func TestJSONOutput(t *testing.T) {
	needTestbed(t)
	p := newProject(t, reportFab, "")
	r := p.run([]string{"GOFAB_PASSWORD=" + tb.Password}, "-H", "127.0.0.2,127.0.0.3", "--set", "dst="+remoteDir(t), "--output", "json", "t")
	wantCode(t, r, 1)
	mustNotContain(t, r, tb.Password)
	byType := map[string][]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON: %q (%v)", line, err)
		}
		if ev["time"] == nil {
			t.Errorf("event without time: %q", line)
		}
		typ, _ := ev["type"].(string)
		byType[typ] = append(byType[typ], ev)
	}
	for typ, n := range map[string]int{"task_start": 1, "task_end": 1, "host_start": 2, "host_end": 2, "command_start": 2, "command_end": 2, "transfer": 2, "summary": 1} {
		if len(byType[typ]) != n {
			t.Errorf("%d %s events, want %d", len(byType[typ]), typ, n)
		}
	}
	var sawOut, sawErr bool
	for _, ev := range byType["output"] {
		sawOut = sawOut || ev["stream"] == "out" && ev["text"] == "hello"
		sawErr = sawErr || ev["stream"] == "err" && ev["text"] == "oops"
	}
	if !sawOut || !sawErr {
		t.Errorf("output events lack stdout or stderr lines: %v", byType["output"])
	}
	for _, ev := range byType["command_end"] {
		if ev["exit_code"] != 0.0 || ev["duration"] == nil {
			t.Errorf("command_end %v", ev)
		}
	}
	for _, ev := range byType["host_end"] {
		if ev["changed"] != 2.0 {
			t.Errorf("host_end changed = %v, want 2 (a write and a put)", ev["changed"])
		}
		if (ev["host"] == "127.0.0.3") != (ev["status"] == "failed") {
			t.Errorf("host_end %v", ev)
		}
	}
	if s := byType["summary"]; len(s) == 1 {
		counts := s[0]["counts"].(map[string]any)
		if counts["ok"] != 1.0 || counts["failed"] != 1.0 {
			t.Errorf("summary counts %v", counts)
		}
	}
	if strings.Contains(r.stdout, " done · ") {
		t.Error("a status line in JSON output")
	}
}

// TestRecapAndLogDir checks the recap's changed column and error line,
// and the per-host log files.
func TestRecapAndLogDir(t *testing.T) {
	needTestbed(t)
	p := newProject(t, reportFab, "")
	logs := filepath.Join(p.dir, "logs")
	r := p.run(nil, "-H", "127.0.0.2,127.0.0.3", "--set", "dst="+remoteDir(t), "--log-dir", logs, "t")
	wantCode(t, r, 1)
	mustContain(t, r, "127.0.0.2  ok", "2 changed", "127.0.0.3  failed", "fabfile.lua:7: aborted: bad host")
	mustNotContain(t, r, " done · ") // not a terminal
	runs, _ := os.ReadDir(logs)
	if len(runs) != 1 {
		t.Fatalf("%d run directories in --log-dir, want 1", len(runs))
	}
	for _, h := range []string{"127.0.0.2", "127.0.0.3"} {
		data, err := os.ReadFile(filepath.Join(logs, runs[0].Name(), h+".log"))
		if err != nil || !strings.Contains(string(data), "["+h+"] out: hello") || strings.Contains(string(data), "out: hello\n["+other(h)) {
			t.Errorf("log of %s: %v\n%s", h, err, data)
		}
	}
}

func other(h string) string {
	if h == "127.0.0.2" {
		return "127.0.0.3"
	}
	return "127.0.0.2"
}

// TestRerunFailed runs a task where two of four hosts fail, then with
// --rerun-failed only on those two.
func TestRerunFailed(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("t", function()
  puts("ran")
  if env.host == "127.0.0.3" or env.host == "127.0.0.5:1" then run("false") end
  run("true")
end)
task("other", function() puts("other ran") end)`, "")
	r := p.run(nil, "-H", hosts(2, 3)+",127.0.0.5:1", "t")
	wantCode(t, r, 1)
	r = p.run(nil, "--rerun-failed", "--keep-going", "t", "other")
	wantCode(t, r, 1)
	mustContain(t, r, "[127.0.0.3] ran", "127.0.0.5:1", "other: no host failed in its previous run")
	mustNotContain(t, r, "[127.0.0.2] ran", "[127.0.0.4] ran", "other ran")
	state, err := os.ReadFile(filepath.Join(p.dir, ".local/state/gofab/runs.json"))
	if err != nil || !strings.Contains(string(state), `"127.0.0.3"`) {
		t.Errorf("state file: %v\n%s", err, state)
	}
}
