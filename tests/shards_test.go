package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofab/gofab/internal/run/executor"
	"github.com/gofab/gofab/internal/testdouble/simfleet"
)

const shardFabfile = `
local files = require("files")
task("t", function()
  run("uname -r")
  files.write("/tmp/shard-test", "done by " .. env.host .. " in run " .. env.run .. "\n") -- a change in every run
end)
task("report", {runs_once = true, shard = 0}, function() print("one report for the fleet") end)
`

// summaryOf returns the summary event's hosts of a JSON event stream:
// host → status/changed.
func summaryOf(t *testing.T, events string) map[string]string {
	t.Helper()
	got := map[string]string{}
	n := 0
	for _, line := range strings.Split(events, "\n") {
		var ev struct {
			Type  string
			Hosts []struct {
				Host, Status string
				Changed      int
			}
		}
		if json.Unmarshal([]byte(line), &ev) != nil || ev.Type != "summary" {
			continue
		}
		n++
		for _, h := range ev.Hosts {
			got[h.Host] = fmt.Sprintf("%s/%d", h.Status, h.Changed)
		}
	}
	if n != 1 {
		t.Errorf("%d summary events, want 1", n)
	}
	return got
}

// TestShards: four shard processes over a thousand simulated hosts split
// the selection (each host in exactly one shard, as gofab hosts --shard
// says), and their merged events give the summary one process gives;
// a task with {shard = 0} runs in shard 0 only.
func TestShards(t *testing.T) {
	t.Parallel() // self-contained (its own fleet, files or shells): runs beside the other parallel tests, after the serial ones
	const n, shards = 1000, 4
	f := simulated(t, n)
	p := newProject(t, shardFabfile, "")
	hostsFile := "@" + filepath.Join(f.dir, "hosts.txt")
	args := []string{"-S", f.sshConfig(), "-H", hostsFile, "t", "report"}
	single := p.runFor(5*time.Minute, []string{"GOFAB_STATE_DIR=" + t.TempDir()}, append([]string{"--output", "json", "--set", "run=single"}, args...)...)
	wantCode(t, single, 0)
	want := summaryOf(t, single.stdout)
	if len(want) != n {
		t.Fatalf("the single run's summary has %d hosts", len(want))
	}
	// gofab hosts --shard: a partition of the selection.
	seen := map[string]int{}
	for i := 0; i < shards; i++ {
		r := p.run(nil, "hosts", "--shard", fmt.Sprintf("%d/%d", i, shards), "-H", hostsFile)
		wantCode(t, r, 0)
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if line != "" {
				seen[strings.Fields(line)[0]]++
			}
		}
	}
	for _, h := range f.hosts {
		if seen[h] != 1 {
			t.Fatalf("host %s is in %d shards", h, seen[h])
		}
	}
	// The shards, at once, each with its own events and state.
	var files []string
	done := make(chan result, shards)
	for i := 0; i < shards; i++ {
		ev := filepath.Join(p.dir, fmt.Sprintf("shard-%d.jsonl", i))
		files = append(files, ev)
		go func() {
			done <- p.runFor(5*time.Minute, []string{"GOFAB_STATE_DIR=" + p.dir}, append([]string{"-q", "--set", "run=sharded", "--shard", fmt.Sprintf("%d/%d", i, shards), "--events", ev}, args...)...)
		}()
	}
	reports := 0
	for i := 0; i < shards; i++ {
		r := <-done
		wantCode(t, r, 0)
		reports += strings.Count(r.stdout, "one report for the fleet")
	}
	if reports != 1 {
		t.Errorf("the {shard = 0} task ran %d times, want once", reports)
	}
	r := p.run(nil, append([]string{"report", "merge", "--output", "json", "-o", "merged.html"}, files...)...)
	wantCode(t, r, 0)
	mustContain(t, r, fmt.Sprintf("%d hosts: %d ok, 0 failed, 0 unreachable", n, n))
	got := summaryOf(t, r.stdout)
	if len(got) != len(want) {
		t.Errorf("merged summary: %d hosts, want %d", len(got), len(want))
	}
	for h, w := range want {
		if got[h] != w {
			t.Errorf("host %s: merged %q, single %q", h, got[h], w)
			break
		}
	}
	if strings.Count(r.stdout, `"type":"run_start"`) != 1 || strings.Count(r.stdout, `"type":"task_start","time"`)+strings.Count(r.stdout, `"task":"t","time":`) == 0 {
		t.Errorf("merged stream: %d run_start", strings.Count(r.stdout, `"type":"run_start"`))
	}
	page, err := os.ReadFile(filepath.Join(p.dir, "merged.html"))
	if err != nil || !strings.Contains(string(page), simfleet.Addr(n-1)) {
		t.Errorf("merged page: %v", err)
	}
}

// TestShardKilled: a shard killed mid-run leaves its unfinished hosts as
// "not run" in the merged recap, and --rerun-failed after merge --state
// runs exactly them.
func TestShardKilled(t *testing.T) {
	t.Parallel() // self-contained (its own fleet, files or shells): runs beside the other parallel tests, after the serial ones
	const n, shards = 200, 4
	var stalled []string
	var faults []string
	for i := 0; i < n && len(stalled) < 3; i++ {
		if executor.Owner(simfleet.Addr(i), shards) == 3 {
			stalled = append(stalled, simfleet.Addr(i))
			faults = append(faults, fmt.Sprint(i))
		}
	}
	f := simulated(t, n, "stall="+strings.Join(faults, ","))
	p := newProject(t, shardFabfile, "")
	hostsFile := "@" + filepath.Join(f.dir, "hosts.txt")
	args := []string{"-S", f.sshConfig(), "-t", "300", "--set", "run=killed", "-H", hostsFile, "t"}
	var files []string
	for i := 0; i < 3; i++ {
		ev := filepath.Join(p.dir, fmt.Sprintf("shard-%d.jsonl", i))
		files = append(files, ev)
		r := p.runFor(5*time.Minute, nil, append([]string{"-q", "--shard", fmt.Sprintf("%d/%d", i, shards), "--events", ev}, args...)...)
		wantCode(t, r, 0)
	}
	// Shard 3, through a fifo: killed once every host it can finish has.
	fifo := filepath.Join(t.TempDir(), "events")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gofabBin, append([]string{"-q", "--shard", "3/4", "--events", fifo}, args...)...)
	cmd.Dir, cmd.Env = p.dir, p.env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(3*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	in, err := os.Open(fifo)
	if err != nil {
		t.Fatal(err)
	}
	saved, _ := os.Create(filepath.Join(p.dir, "shard-3.jsonl"))
	files = append(files, saved.Name())
	mine, ended := 0, 0
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(saved, line)
		var ev struct {
			Type     string
			Selected []string
		}
		json.Unmarshal([]byte(line), &ev)
		switch ev.Type {
		case "shard":
			for _, h := range ev.Selected {
				if executor.Owner(h, shards) == 3 {
					mine++
				}
			}
		case "host_end":
			ended++
		}
		if mine > 0 && ended == mine-len(stalled) {
			cmd.Process.Kill()
		}
	}
	cmd.Wait()
	in.Close()
	saved.Close()
	r := p.run(nil, append([]string{"report", "merge", "--state"}, files...)...)
	wantCode(t, r, 1)
	mustContain(t, r, fmt.Sprintf("%d hosts: %d ok, 0 failed, 0 unreachable, %d not run", n, n-len(stalled), len(stalled)))
	// --rerun-failed from the merged state: the stalled hosts, and only them.
	r = p.runFor(time.Minute, nil, "--dry-run", "--rerun-failed", "--set", "run=rerun", "-S", f.sshConfig(), "t")
	for _, h := range stalled {
		mustContain(t, r, "["+h+"]")
	}
	if lines := strings.Count(r.stdout, "] run: uname -r"); lines != len(stalled) {
		t.Errorf("the rerun ran on %d hosts, want %d:\n%s", lines, len(stalled), r)
	}
}

// shardRecipe is one engine's commands in docs/shards.md: the command
// each of its N processes runs, with the environment the engine gives
// shard i, and the merge.
type shardRecipe struct {
	section string
	run     func(line string) bool // picks the shard command's line
	env     func(i int) []string
	merge   string // the merge command's prefix in the section
}

// TestShardRecipes runs the command lines of docs/shards.md as the
// engines would (four local processes, each with the environment its
// engine sets), then their merge, against 200 simulated hosts.
func TestShardRecipes(t *testing.T) {
	t.Parallel() // self-contained (its own fleet, files or shells): runs beside the other parallel tests, after the serial ones
	const n, shards = 200, 4
	doc := readFile(t, filepath.Join(repoRoot, "docs", "shards.md"))
	f := simulated(t, n)
	recipes := []shardRecipe{
		{"## Kubernetes", func(l string) bool { return strings.Contains(l, "--shard auto/4") },
			func(i int) []string { return []string{fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i)} }, "gofab report merge"},
		{"# GitHub Actions", func(l string) bool { return strings.Contains(l, "gofab --shard $SHARD/") },
			func(i int) []string { return []string{fmt.Sprintf("SHARD=%d", i)} }, "gofab report merge"},
		{"# GitLab CI", func(l string) bool { return strings.Contains(l, "CI_NODE_INDEX - 1") },
			func(i int) []string {
				return []string{fmt.Sprintf("CI_NODE_INDEX=%d", i+1), fmt.Sprintf("CI_NODE_TOTAL=%d", shards)}
			}, "gofab report merge"},
		{"## GNU parallel", func(l string) bool { return strings.HasPrefix(l, "parallel ") }, func(int) []string { return nil }, "gofab report merge"},
	}
	for _, rc := range recipes {
		t.Run(strings.Trim(rc.section, "# "), func(t *testing.T) {
			start := strings.Index(doc, rc.section)
			if start < 0 {
				t.Fatalf("docs/shards.md has no %q", rc.section)
			}
			section := doc[start:]
			if end := strings.Index(section[1:], "\n## "); end > 0 && !strings.HasPrefix(rc.section, "# ") {
				section = section[:end+1]
			}
			var runLine, mergeLine string
			for _, l := range strings.Split(section, "\n") {
				l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "- "))
				l = strings.TrimPrefix(l, "run: ")
				if runLine == "" && rc.run(l) {
					runLine = l
				}
				if mergeLine == "" && strings.HasPrefix(l, rc.merge) {
					mergeLine = l
				}
			}
			if runLine == "" || mergeLine == "" {
				t.Fatalf("no command lines found: run %q, merge %q", runLine, mergeLine)
			}
			dir := t.TempDir()
			for _, sub := range []string{"fabfile", "results", "ssh"} {
				os.Mkdir(filepath.Join(dir, sub), 0o755)
			}
			writeFile(t, filepath.Join(dir, "fabfile", "fabfile.lua"), `task("deploy", function() run("uname -r") end)`)
			hostsTxt := readFile(t, filepath.Join(f.dir, "hosts.txt"))
			writeFile(t, filepath.Join(dir, "fabfile", "hosts.txt"), hostsTxt)
			writeFile(t, filepath.Join(dir, "hosts.txt"), hostsTxt)
			writeFile(t, filepath.Join(dir, "fabfile.lua"), `task("deploy", function() run("uname -r") end)`)
			local := func(line string) string {
				line = strings.NewReplacer("/fabfile/", dir+"/fabfile/", "/results/", dir+"/results/", "/ssh/id_ed25519", filepath.Join(f.dir, "id_ed25519")).Replace(line)
				if strings.Contains(line, "--shard") { // the simulated fleet's ssh_config
					line = strings.Replace(line, "gofab ", "gofab -S "+f.sshConfig()+" ", 1)
				}
				return line
			}
			env := append(os.Environ(), "PATH="+filepath.Dir(gofabBin)+":"+os.Getenv("PATH"), "HOME="+dir, "GOFAB_STATE_DIR="+dir)
			sh := func(line string, extra []string) result {
				cmd := exec.Command("sh", "-c", line)
				cmd.Dir, cmd.Env = dir, append(append([]string{}, env...), extra...)
				var out, errb strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &errb
				timer := time.AfterFunc(3*time.Minute, func() { cmd.Process.Kill() })
				err := cmd.Run()
				timer.Stop()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				}
				return result{stdout: out.String(), stderr: errb.String(), code: code}
			}
			line := local(runLine)
			if strings.HasPrefix(runLine, "parallel ") {
				// GNU parallel runs its template once per argument.
				tmpl := line[strings.Index(line, "'")+1 : strings.LastIndex(line, "'")]
				done := make(chan result, shards)
				for i := 0; i < shards; i++ {
					go func() { done <- sh(strings.ReplaceAll(tmpl, "{}", fmt.Sprint(i)), nil) }()
				}
				for i := 0; i < shards; i++ {
					wantCode(t, <-done, 0)
				}
			} else {
				done := make(chan result, shards)
				for i := 0; i < shards; i++ {
					go func() { done <- sh(line, rc.env(i)) }()
				}
				for i := 0; i < shards; i++ {
					wantCode(t, <-done, 0)
				}
			}
			r := sh(local(mergeLine), nil)
			wantCode(t, r, 0)
			mustContain(t, r, fmt.Sprintf("%d hosts: %d ok, 0 failed, 0 unreachable", n, n))
			if pages, _ := filepath.Glob(filepath.Join(dir, "*", "run.html")); len(pages) == 0 {
				if _, err := os.Stat(filepath.Join(dir, "run.html")); err != nil {
					t.Errorf("no run.html written")
				}
			}
		})
	}
}
