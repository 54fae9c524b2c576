package tests

import (
	"testing"
)

// What a Fabric 1 user hits in the first hour of porting (issue 31).

// TestRunLocalNeverDials (item 8): run_local runs on this machine even
// when the task's host cannot be reached.
func TestRunLocalNeverDials(t *testing.T) {
	p := newProject(t, `task("build", function() run_local("echo built-here") end)`, "")
	r := p.run(nil, "-H", "127.0.0.2:1", "build") // nothing listens on port 1
	wantCode(t, r, 0)
	mustContain(t, r, "out: built-here")
	mustNotContain(t, r, "connect", "refused")
}
