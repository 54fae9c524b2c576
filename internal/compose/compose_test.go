package compose

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/run/executor"
	"github.com/gofab/gofab/internal/ui/output"
	"github.com/gofab/gofab/luart"
)

// refusingDialer fails every dial: a run that reaches it connected.
type refusingDialer struct{ dials *int }

func (d refusingDialer) Dial(context.Context, host.Addr) (host.Conn, error) {
	*d.dials++
	return nil, errors.New("dialed")
}

func (refusingDialer) Identity(host.Addr) (string, int, error) { return "deploy", 2222, nil }

// TestExecutorDryRun: with --dry-run the run goes through without dialing
// (the dialer only says logins and ports); without it, the same run
// dials.
func TestExecutorDryRun(t *testing.T) {
	prog, err := Compile("fabfile.lua", []byte(`task("t", function() run("uname -r") end)`), luart.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{true, false} {
		var out bytes.Buffer
		dials := 0
		ex := Executor(executor.Config{Run: &luart.RunOptions{DryRun: dry}},
			executor.Deps{Program: prog, Dialer: refusingDialer{&dials}, Printer: output.NewWith(&out, output.Options{})})
		results, err := ex.RunTask(context.Background(), "t", luart.Args{}, executor.Selection{CLIHosts: []string{"web1"}}, executor.Call{})
		ex.Close()
		if err != nil {
			t.Fatal(err)
		}
		ok := len(results) == 1 && results[0].Status == executor.OK
		if dry && (!ok || dials != 0 || !strings.Contains(out.String(), "uname -r")) {
			t.Errorf("dry run: results %+v, %d dials, output %q; want ok, no dial, the command echoed", results, dials, out.String())
		}
		if !dry && (ok || dials == 0) {
			t.Errorf("real run: results %+v after %d dials; want a failed dial", results, dials)
		}
	}
}

// TestCompileModules: a fabfile sees stdlib's modules, and extra ones
// only when given.
func TestCompileModules(t *testing.T) {
	src := []byte(`assert(type(run) == "function" and type(put) == "function")`)
	if _, err := Compile("fabfile.lua", src, luart.Options{}); err != nil {
		t.Fatalf("stdlib's functions missing: %v", err)
	}
	uses := []byte(`assert(type(extra_fn) == "function")`)
	if _, err := Compile("fabfile.lua", uses, luart.Options{}); err == nil {
		t.Error("extra_fn defined without the module that has it")
	}
	extra := luart.Module{Funcs: []luart.Func{{Name: "extra_fn", Fn: func(*luart.State) int { return 0 }}}}
	if _, err := Compile("fabfile.lua", uses, luart.Options{}, extra); err != nil {
		t.Errorf("extra module's function missing: %v", err)
	}
}
