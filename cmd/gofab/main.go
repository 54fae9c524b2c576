// Command gofab runs Lua recipes (fabfile.lua) across many SSH hosts at
// once, the way Fabric's fab runs fabfile.py.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gofab/gofab/internal/base/host"
)

// teardownLimit bounds how long the second Ctrl-C waits for remote
// commands to be killed.
const teardownLimit = 1500 * time.Millisecond

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	// SIGHUP (the terminal went away) and SIGTERM are handled like Ctrl-C:
	// remote commands are stopped, the recap and the rerun state written.
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-sigs
		fmt.Fprintln(os.Stderr, "\ngofab: interrupted, stopping remote commands (press Ctrl-C again to quit at once)")
		cancel(interrupted{sig.(syscall.Signal)})
		<-sigs
		// Tear down at once: remote commands are killed without their
		// grace period, and gofab exits whatever is still pending.
		host.Teardown()
		fmt.Fprintln(os.Stderr, "gofab: killing remote commands and quitting")
		time.AfterFunc(teardownLimit, func() { os.Exit(interruptStatus(ctx)) })
	}()
	env := environ{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv,
	}
	tuneGC(os.Getenv)
	stop := startProfiles(os.Getenv)
	code := run(ctx, os.Args, env)
	stop()
	os.Exit(code)
}
