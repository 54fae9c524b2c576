package hostio

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/ui/output"
	"github.com/gofab/gofab/luart"
)

// countingConn answers every command with exit status 0 and counts them.
type countingConn struct{ runs int }

func (c *countingConn) Run(_ context.Context, cmd *host.Cmd) (int, error) {
	c.runs++
	if cmd.Stdin != nil {
		go io.Copy(io.Discard, cmd.Stdin)
	}
	return 0, nil
}

func (c *countingConn) Close() error { return nil }

// TestDestResolvedWhenRun: a command's destination is dialled only when
// the command goes there: one --check skips dials nothing, one for
// ThisMachine runs on the local connection and never dials the task's
// host, and one for TaskHost dials it once.
func TestDestResolvedWhenRun(t *testing.T) {
	tests := []struct {
		name       string
		check      bool
		c          Command
		wantErr    error
		dials      int
		hostRuns   int
		localRuns  int
		wantedKind host.Kind
	}{
		{"skipped under --check", true, Command{Line: "touch /x"}, ErrSkipped, 0, 0, 0, host.KindRun},
		{"this machine", false, Command{Line: "touch /x", Dest: ThisMachine}, nil, 0, 0, 1, host.KindLocal},
		{"the task's host", false, Command{Line: "touch /x"}, nil, 1, 1, 0, host.KindRun},
		{"through sudo", false, Command{Line: "touch /x", Sudo: true}, nil, 1, 1, 0, host.KindSudo},
		{"a probe under --check", true, Command{Line: "test -e /x", Dest: TaskHost}, nil, 1, 1, 0, host.KindRun},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remote, local := &countingConn{}, &countingConn{}
			dials := 0
			var err error
			mod := luart.Module{Funcs: []luart.Func{{Name: "cmd", Fn: func(st *luart.State) int {
				_, err = Run(st, st.Context(), tt.c)
				return 0
			}}}}
			prog, cerr := luart.Compile("fabfile.lua", []byte(`task("t", function() cmd() end)`), luart.Options{Modules: []luart.Module{mod}})
			if cerr != nil {
				t.Fatal(cerr)
			}
			he := &luart.HostEnv{
				Addr: host.Addr{Host: "web1"}, HostString: "web1", Hosts: 1, Run: &luart.RunOptions{Check: tt.check},
				Out:     output.New(io.Discard, false).Host("web1"),
				Connect: func(context.Context) (host.Conn, error) { dials++; return remote, nil },
				Local:   local,
			}
			if _, rerr := prog.RunTask(context.Background(), he, "t", luart.Args{}); rerr != nil {
				t.Fatal(rerr)
			}
			if !errors.Is(err, tt.wantErr) || dials != tt.dials || remote.runs != tt.hostRuns || local.runs != tt.localRuns {
				t.Errorf("err %v, %d dials, %d on the host, %d here; want %v, %d, %d, %d", err, dials, remote.runs, local.runs, tt.wantErr, tt.dials, tt.hostRuns, tt.localRuns)
			}
			if k := tt.c.kind(); k != tt.wantedKind {
				t.Errorf("kind %v, want %v", k, tt.wantedKind)
			}
		})
	}
}
