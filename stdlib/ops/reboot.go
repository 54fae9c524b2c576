package ops

import (
	"context"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib/hostio"
)

// rebootFunc is reboot(): it restarts the host and reconnects.
var rebootFunc = luart.Func{
	Name: "reboot",
	Doc: "Reboots the current host with sudo and returns once gofab has reconnected to it (Fabric's reboot).\n" +
		"options.wait is how many seconds the host may take to come back (default 120); options.command replaces \"reboot\".",
	Params: []luart.Param{luart.OptionsParam(rebootOptionsType)},
	Fn:     luaReboot,
}

// downTimeout bounds how long a host may take to drop the connection after
// the reboot command.
const downTimeout = 60 * time.Second

func luaReboot(st *luart.State) int {
	L := st.L
	st.RequireTask("reboot")
	opts := st.Opts()
	wait := 120 * time.Second
	if v, ok := opts["wait"]; ok {
		n, isNum := v.(lua.LNumber)
		d, err := host.Seconds(float64(n))
		if !isNum || err != nil || d == 0 {
			L.ArgError(1, "reboot: wait must be a number of seconds")
		}
		wait = d
	}
	command := opts.String("command")
	if command == "" {
		command = "reboot"
	}
	fail := func(format string, args ...any) {
		L.RaiseError("reboot %s: %s", st.HostString(), fmt.Sprintf(format, args...))
	}
	if st.Shown("running") {
		st.Out().Line(hostio.Would(st, "reboot"), command)
	}
	if check, _, _ := st.Mode(); check {
		st.Changed(1, "reboot (check)")
		return 0
	}
	conn := st.Conn()
	ctx := st.Context()
	// Detached, so the command returns before the host goes down.
	bg := "nohup sh -c " + host.Quote("sleep 1; "+command) + " >/dev/null 2>&1 &"
	if _, err := hostio.Helper(st, ctx, bg, true, nil); err != nil {
		fail("%v", err)
	}
	if w, ok := conn.(interface{ Wait() error }); ok {
		down := make(chan struct{})
		go func() { w.Wait(); close(down) }()
		select {
		case <-down:
		case <-time.After(downTimeout):
			fail("the host did not go down within %s", downTimeout)
		case <-ctx.Done():
			fail("interrupted")
		}
	}
	deadline, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var err error
	for {
		if err = st.Reconnect(deadline); err == nil {
			return 0
		}
		select {
		case <-deadline.Done():
			fail("not back within %s: %v", wait, err)
		case <-time.After(time.Second):
		}
	}
}
