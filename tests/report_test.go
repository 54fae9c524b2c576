package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromium renders a page headless and returns the DOM after its script
// ran; with screenshot set it also writes a PNG there.
func chromium(t *testing.T, page, fragment, screenshot string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("GOFAB_REQUIRE_TESTBED") == "1" {
			t.Fatal("chromium is not installed (tests/testbed.sh installs it)")
		}
		t.Skip("no chromium")
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--window-size=1400,1000"}
	if screenshot != "" {
		args = append(args, "--screenshot="+screenshot)
	} else {
		args = append(args, "--dump-dom")
	}
	cmd := exec.Command(bin, append(args, "file://"+page+fragment)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, errOut.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("chromium hung")
	}
	return out.String()
}

var rowRE = regexp.MustCompile(`<tr class="s-([\w-]+)[^"]*" data-host="([^"]+)"`)

// TestReport: a real multi-host run (rolling batches, a barrier, a change,
// a failure, a sudo password) gives one self-contained page; in a real
// browser it shows a row per host, the failed host highlighted, and the
// status filter works.
func TestReport(t *testing.T) {
	needTestbed(t)
	base := "/tmp/gofab-report-" + uniqueSleep(0)
	t.Cleanup(func() { exec.Command("sh", "-c", "rm -rf "+base+"*").Run() })
	p := newProject(t, `
local files = require("files")
task("prep", {batch = {1, "50%"}}, function() run("echo preparing") end)
task("deploy", function()
  barrier()
  sudo("echo deploying")
  files.write("`+base+`-" .. env.host, "v1\n")
  if env.host == "127.0.0.4" then run("echo boom >&2; exit 3") end
end)
`, "")
	page := filepath.Join(p.dir, "run.html")
	r := p.run([]string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, "-H", hosts(2, 5), "--keep-going", "--diff", "--report", page, "prep", "deploy")
	wantCode(t, r, 1)
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatalf("no report: %v\n%s", err, r)
	}
	for _, bad := range []string{"http://", "https://", "<link", "src=", tb.Password} {
		if bytes.Contains(html, []byte(bad)) {
			t.Errorf("the page holds %q: not self-contained or not redacted", bad)
		}
	}
	dom := chromium(t, page, "", "")
	rows := rowRE.FindAllStringSubmatch(dom, -1)
	if len(rows) != 5 {
		t.Fatalf("%d host rows, want 5\n%s", len(rows), dom)
	}
	for _, row := range rows {
		if (row[1] == "failed") != (row[2] == "127.0.0.4") {
			t.Errorf("row %s has class %s", row[2], row[1])
		}
	}
	for _, want := range []string{`data-ready="1"`, "4 ok", "1 failed", "5 of 5 hosts"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page lacks %q\n%s", want, dom)
		}
	}
	dom = chromium(t, page, "#status=failed&host=127.0.0.4", "")
	rows = rowRE.FindAllStringSubmatch(dom, -1)
	if len(rows) != 1 || rows[0][2] != "127.0.0.4" || !strings.Contains(dom, "1 of 5 hosts") {
		t.Errorf("status filter: rows %v", rows)
	}
	for _, want := range []string{`class="o-run failing"`, "exited with code 3", "files.write " + base + "-127.0.0.4", "<strong>Diffs</strong>", "+v1"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the failed host's detail lacks %q", want)
		}
	}
	dom = chromium(t, page, "#q=127.0.0.5", "")
	if rows = rowRE.FindAllStringSubmatch(dom, -1); len(rows) != 1 || rows[0][2] != "127.0.0.5" {
		t.Errorf("text filter: rows %v", rows)
	}
	shot := filepath.Join(p.dir, "run.png")
	chromium(t, page, "#host=127.0.0.4", shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10000 {
		t.Errorf("screenshot: %v", err)
	}
	if os.Getenv("GOFAB_UPDATE_SCREENSHOT") == "1" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(repoRoot, "docs", "report.png"), data, 0o644)
	}

	// The same page from a saved --output json stream.
	events := filepath.Join(p.dir, "events.jsonl")
	r = p.run([]string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, "-H", hosts(2, 5), "--keep-going", "--output", "json", "prep", "deploy")
	os.WriteFile(events, []byte(r.stdout), 0o600)
	saved := filepath.Join(p.dir, "saved.html")
	r = p.run(nil, "report", events, "-o", saved)
	wantCode(t, r, 0)
	if dom := chromium(t, saved, "", ""); len(rowRE.FindAllString(dom, -1)) != 5 {
		t.Errorf("gofab report: not 5 rows")
	}
	r = p.run(nil, "report", filepath.Join(p.dir, "fabfile.lua"), "-o", saved)
	wantCode(t, r, 2)
	mustContain(t, r, "report: event line 2: invalid character")
}

// TestReportScales: a 1,000-host, 3-task run (its events, as
// --output json prints them) gives a page under 10 MB with every host's
// row; rendering it in headless Chromium grows linearly with the hosts:
// at most 30 times the render of a 100-host page measured beside it (a
// quadratic page takes about 100 times), so load on the machine falls on
// both. The render time is logged (under 2 s on a quiet machine).
func TestReportScales(t *testing.T) {
	dir := t.TempDir()
	small, smallPage, _ := renderScaled(t, dir, 100)
	large, page, dom := renderScaled(t, dir, 1000)
	if n := len(rowRE.FindAllString(dom, -1)); n != 1000 {
		t.Fatalf("%d rows, want 1000", n)
	}
	if limit := 30 * max(small, 100); large > limit {
		t.Errorf("rendering 1,000 hosts took %d ms, 100 hosts %d ms: want at most %d ms (linear growth)", large, small, limit)
	}
	t.Logf("1,000 hosts x 3 tasks: %d KiB page, rendered in %d ms (100 hosts: %d KiB, %d ms)", size(t, page)>>10, large, size(t, smallPage)>>10, small)
}

// renderScaled writes the events of a 3-task run on n hosts into dir,
// makes its page with gofab report and renders it in Chromium: the
// milliseconds the page says it took to render, the page and the DOM.
func renderScaled(t *testing.T, dir string, n int) (ms int, page, dom string) {
	t.Helper()
	events := filepath.Join(dir, fmt.Sprintf("events-%d.jsonl", n))
	f, err := os.Create(events)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	start := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	ev := func(at time.Duration, typ string, fields map[string]any) {
		fields["type"], fields["time"] = typ, start.Add(at).Format(time.RFC3339Nano)
		b, _ := json.Marshal(fields)
		w.Write(append(b, '\n'))
	}
	ev(0, "run_start", map[string]any{"fabfile": "fabfile.lua", "tasks": []string{"a", "b", "c"}})
	for task := 0; task < 3; task++ {
		name := string(rune('a' + task))
		t0 := time.Duration(task) * 10 * time.Second
		ev(t0, "task_start", map[string]any{"task": name})
		for h := 0; h < n; h++ {
			host := fmt.Sprintf("web%04d.example", h)
			at := t0 + time.Duration(h)*time.Millisecond
			ev(at, "host_start", map[string]any{"host": host, "task": name})
			for c := 0; c < 3; c++ {
				cmd := fmt.Sprintf("deploy step %d of %s", c, name)
				ev(at, "command_start", map[string]any{"host": host, "kind": "run", "command": cmd})
				ev(at, "output", map[string]any{"host": host, "stream": "run", "text": cmd})
				for l := 0; l < 3; l++ {
					ev(at, "output", map[string]any{"host": host, "stream": "out", "text": fmt.Sprintf("line %d of step %d: all is well on %s", l, c, host)})
				}
				at += 500 * time.Millisecond
				ev(at, "command_end", map[string]any{"host": host, "kind": "run", "command": cmd, "exit_code": 0, "duration": 0.5})
			}
			status := "ok"
			if h%97 == 0 {
				status = "failed"
			}
			ev(at, "host_end", map[string]any{"host": host, "task": name, "status": status, "duration": 1.5, "changed": 1})
		}
		ev(t0+9*time.Second, "task_end", map[string]any{"task": name})
	}
	w.Flush()
	f.Close()
	page = filepath.Join(dir, fmt.Sprintf("run-%d.html", n))
	p := newProject(t, "", "")
	cmd := exec.Command(gofabBin, "report", events, "-o", page)
	cmd.Dir, cmd.Env = p.dir, p.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gofab report: %v\n%s", err, out)
	}
	if sz := size(t, page); sz > 10<<20 {
		t.Fatalf("page: %d bytes (want under 10 MB)", sz)
	}
	dom = chromium(t, page, "", "")
	m := regexp.MustCompile(`data-render-ms="(\d+)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatal("the page did not say how long it took to render")
	}
	ms, _ = strconv.Atoi(m[1])
	return ms, page, dom
}

// size is a file's size in bytes.
func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestReportUnreachableRow: an unreachable host's row says why, in red,
// and its timeline row has a run to draw (at least 6 pixels wide).
func TestReportUnreachableRow(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("t", function() run("true") end)`, "")
	page := filepath.Join(p.dir, "run.html")
	r := p.run(nil, "-H", "127.0.0.2,127.0.0.1:1", "--keep-going", "--report", page, "t")
	wantCode(t, r, 1)
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`"name":"127\.0\.0\.1:1","status":"unreachable"[^}]*"error":"[^"]*connect`).Match(html) ||
		!regexp.MustCompile(`"runs":\[\{"task":"t","from":[0-9.e-]+,"to":[0-9.e-]+,"status":"unreachable"`).Match(html) {
		t.Errorf("the page's data for the unreachable host:\n%s", html)
	}
	dom := chromium(t, page, "", "")
	row := regexp.MustCompile(`<tr class="s-unreachable[^"]*" data-host="127\.0\.0\.1:1">.*?<td class="err">([^<]*)</td>`).FindStringSubmatch(dom)
	if row == nil || !strings.Contains(row[1], "connect") {
		t.Errorf("the unreachable host's row: %v", row)
	}
}
