package cuisine

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/host"
	"github.com/gofab/gofab/internal/remote"
	"github.com/gofab/gofab/internal/transfer"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib/ops"
)

// Keys of the scoped settings mode_local/mode_remote/mode_sudo/mode_user.
const (
	modeSudo  = "cuisine.sudo"
	modeLocal = "cuisine.local"
)

// target is where and as whom a cuisine call acts: the current host or
// this machine, as the login user or root.
type target struct {
	st    *luart.State
	sudo  bool
	local bool
	check bool
	// changes are the commands that changed the host, for the events.
	changes []string
}

// on returns the target of a call given its options (use_sudo).
func on(st *luart.State, o luart.Opts) *target {
	t := &target{st: st}
	t.sudo, _ = st.Settings.Values[modeSudo].(bool)
	t.local, _ = st.Settings.Values[modeLocal].(bool)
	if o.Bool("use_sudo") {
		t.sudo = true
	}
	t.check, _, _ = st.Mode()
	return t
}

func (t *target) conn() host.Conn {
	if t.local {
		return t.st.LocalConn()
	}
	return t.st.Conn()
}

// files returns the target's side of file transfers.
func (t *target) files() *transfer.Host { return ops.TransferOn(t.st, t.conn()) }

func (t *target) exec(command string, stdin *string, show bool) remote.Result {
	kind := "run"
	if t.sudo {
		kind = "sudo"
	}
	req := remote.Request{Command: command, Kind: kind, Sudo: t.sudo, Helper: !show}
	if t.sudo {
		req.SudoPassword = t.st.Run().SudoPassword
	}
	if stdin != nil {
		req.Stdin = strings.NewReader(*stdin)
	}
	if show {
		req.Out = t.st.Out()
		req.ShowRunning = t.st.Shown("running")
		req.ShowStderr = t.st.Shown("stderr")
	}
	res, err := remote.Execute(t.st.Context(), t.conn(), req)
	if err != nil {
		t.st.L.RaiseError("%s: %v", command, err)
	}
	return res
}

// probe runs a read-only command, in --check too, and returns its output
// and exit status.
func (t *target) probe(command string) (string, int) {
	res := t.exec(command, nil, false)
	return res.Stdout, res.Code
}

// change runs a command that changes the host and raises an error when it
// fails; under --check it only says what it would run.
func (t *target) change(command string, stdin ...string) {
	t.changes = append(t.changes, command)
	if t.check {
		if t.st.Shown("running") {
			t.st.Out().Line("would run", command)
		}
		return
	}
	var in *string
	if len(stdin) > 0 {
		in = &stdin[0]
	}
	res := t.exec(command, in, true)
	if res.Code != 0 {
		msg := strings.TrimSpace(res.Stderr)
		if msg == "" {
			msg = fmt.Sprintf("exit status %d", res.Code)
		}
		t.st.L.RaiseError("%s on %s: %s", command, t.st.HostString(), msg)
	}
}

// done pushes a result table {changed = ...} with extra fields, counts a
// change for the recap and marks results of --check.
func (t *target) done(changed bool, fields map[string]lua.LValue) int {
	L := t.st.L
	r := L.CreateTable(0, len(fields)+2)
	r.RawSetString("changed", lua.LBool(changed))
	if t.check {
		r.RawSetString("check", lua.LTrue)
	}
	for k, v := range fields {
		r.RawSetString(k, v)
	}
	if changed {
		t.st.Changed(1, t.changes...)
	}
	L.Push(r)
	return 1
}

// q quotes a word for the remote shell.
func q(s string) string { return remote.Quote(s) }
