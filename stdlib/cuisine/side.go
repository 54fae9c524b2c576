package cuisine

import (
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/shell"
	"github.com/gofab/gofab/internal/transport/transfer"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib/hostio"
)

// Keys of the scoped settings mode_local/mode_remote/mode_sudo/mode_user.
const (
	modeSudo  = "cuisine.sudo"
	modeLocal = "cuisine.local"
)

// side is where and as whom a cuisine call acts: the current host or
// this machine, as the login user or root.
type side struct {
	st *luart.State
	// call names the cuisine call for messages: cuisine.package_ensure("nginx").
	call string
	// sudo makes changes as root; probeSudo reads as root too (use_sudo,
	// mode_sudo). Package, service and user functions change as root but
	// probe as the login user, so learning that nothing needs doing never
	// needs a password.
	sudo, probeSudo bool
	local           bool
	check           bool
	// dry is --dry-run: reads find nothing, so what a call depends on
	// (a user an earlier step makes) is unknown, and the call plans.
	dry bool
	// changes are the commands that changed the host, for the events.
	changes []string
}

// Settings.Values key holding the cuisine call in progress.
const callKey = "cuisine.call"

// on returns the side a call acts on given its options (use_sudo).
func on(st *luart.State, useSudo bool) *side {
	t := &side{st: st}
	t.call, _ = st.Settings.Values[callKey].(string)
	t.sudo, _ = st.Settings.Values[modeSudo].(bool)
	t.local, _ = st.Settings.Values[modeLocal].(bool)
	if useSudo {
		t.sudo = true
	}
	t.probeSudo = t.sudo
	t.check, _, t.dry = st.Mode()
	return t
}

// onOpts is on for the running call, with its options' use_sudo when its
// options declare one (CuisineOptions and the types built on it).
func onOpts(st *luart.State) *side {
	var o struct {
		UseSudo bool `lua:"use_sudo"`
	}
	if t := st.OptsType(); t != nil && t.Has("use_sudo") {
		st.DecodeOpts(&o)
	}
	return on(st, o.UseSudo)
}

// describeCall names a call for messages, with its first argument when
// that is a string or a list of strings.
func describeCall(name string, L *lua.LState) string {
	arg := ""
	switch v := L.Get(1).(type) {
	case lua.LString:
		arg = strconv.Quote(string(v))
	case *lua.LTable:
		var items []string
		for i := 1; i <= v.Len() && i <= 5; i++ {
			items = append(items, strconv.Quote(lua.LVAsString(v.RawGetInt(i))))
		}
		if v.Len() > 5 {
			items = append(items, "…")
		}
		arg = "{" + strings.Join(items, ", ") + "}"
	}
	return "cuisine." + name + "(" + arg + ")"
}

// conn is the target's connection, for its files.
func (t *side) conn() host.Conn { return t.dest().Conn(t.st) }

// dest is where the target's commands run.
func (t *side) dest() hostio.Dest {
	if t.local {
		return hostio.ThisMachine
	}
	return hostio.TaskHost
}

// files returns the target's side of file transfers.
func (t *side) files() *transfer.Host { return hostio.FilesOn(t.st, t.conn()) }

// fail raises an error naming the cuisine call and the host.
func (t *side) fail(format string, args ...any) {
	call := t.call
	if call == "" {
		call = "cuisine"
	}
	t.st.L.RaiseError("%s on %s: %s", call, t.st.HostString(), fmt.Sprintf(format, args...))
}

// exec runs a command for the call: a change (show: echoed, with its
// stderr) or a probe (hidden, read-only, so it runs under --check too).
func (t *side) exec(command string, stdin *string, show, sudo bool) shell.Result {
	c := hostio.Command{Line: command, Dest: t.dest(), Sudo: sudo, Show: show, HideStdout: true, ReadOnly: !show}
	if stdin != nil {
		c.Stdin = strings.NewReader(*stdin)
	}
	res, err := hostio.Run(t.st, t.st.Context(), c)
	if err != nil {
		if show {
			t.fail("%s: %v", command, err)
		}
		t.fail("%v", err)
	}
	return res
}

// probe runs a read-only command, in --check too, and returns its output
// and exit status.
func (t *side) probe(command string) (string, int) {
	res := t.exec(command, nil, false, t.probeSudo)
	return res.Stdout, res.Code
}

// probeRoot is probe as root, for what only root may read.
func (t *side) probeRoot(command string) (string, int) {
	res := t.exec(command, nil, false, true)
	return res.Stdout, res.Code
}

// change runs a command that changes the host and raises an error when it
// fails; under --check it only says what it would run.
func (t *side) change(command string, stdin ...string) {
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
	res := t.exec(command, in, true, t.sudo)
	if res.Code != 0 {
		msg := strings.TrimSpace(res.Stderr)
		if msg == "" {
			msg = fmt.Sprintf("exit status %d", res.Code)
		}
		t.fail("%s: %s", command, msg)
	}
}

// done pushes the result of a call that may change the host: changed,
// then a details table (fields, and check = true under --check); it
// counts a change for the recap.
func (t *side) done(changed bool, fields map[string]lua.LValue) int {
	L := t.st.L
	d := L.CreateTable(0, len(fields)+1)
	if t.check {
		d.RawSetString("check", lua.LTrue)
	}
	for k, v := range fields {
		d.RawSetString(k, v)
	}
	if changed {
		t.st.Changed(1, t.changes...)
	}
	L.Push(lua.LBool(changed))
	L.Push(d)
	return 2
}

// q quotes a word for the remote shell.
func q(s string) string { return host.Quote(s) }

// unknownUser ends a call about user name that no read found: under
// --check it would be created first, under --dry-run reads find nothing;
// either way the call plans instead of failing.
func (t *side) unknownUser(name string, changed bool) int {
	if !t.check && !t.dry {
		t.fail("no user %q", name)
	}
	if t.dry && t.st.Shown("running") {
		t.st.Out().Line("would", fmt.Sprintf("%s (user %q is not known under --dry-run)", t.call, name))
	}
	return t.done(changed, nil)
}
