package executor

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/ui/output"
	"github.com/gofab/gofab/luart"
)

// gatedDialer holds every Dial until the test lets it through, and
// counts the dials in flight.
type gatedDialer struct {
	inside  atomic.Int32
	arrived chan struct{}
	gate    chan struct{}
}

func (d *gatedDialer) Dial(ctx context.Context, _ host.Addr) (host.Conn, error) {
	d.inside.Add(1)
	defer d.inside.Add(-1)
	d.arrived <- struct{}{}
	select {
	case <-d.gate:
		return nopConn{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (d *gatedDialer) Identity(host.Addr) (string, int, error) { return "deploy", 22, nil }

type nopConn struct{}

func (nopConn) Run(context.Context, *host.Cmd) (int, error) { return 0, nil }
func (nopConn) Close() error                                { return nil }

// TestAdmitBoundsHostsNotConnected: with Admit = 3, twelve hosts whose
// handshakes are held start their task (and make their Lua state) three
// at a time: the rest wait before their state is made, and each one
// admitted connection lets one more in.
func TestAdmitBoundsHostsNotConnected(t *testing.T) {
	const admit, hosts = 3, 12
	var started, connected atomic.Int32
	var mu sync.Mutex
	var worst int32
	probe := luart.Module{Name: "probe", Funcs: []luart.Func{
		{Name: "connect", Fn: func(st *luart.State) int {
			n := started.Add(1)
			mu.Lock()
			worst = max(worst, n-connected.Load())
			mu.Unlock()
			st.Conn()
			connected.Add(1)
			return 0
		}},
	}}
	prog, err := luart.Compile("fabfile.lua", []byte(`task("t", function() require("probe").connect() end)`),
		luart.Options{Modules: []luart.Module{probe}})
	if err != nil {
		t.Fatal(err)
	}
	d := &gatedDialer{arrived: make(chan struct{}, hosts), gate: make(chan struct{})}
	ex := New(Config{Admit: admit}, Deps{Program: prog, Dialer: d, Local: nopConn{}, Printer: output.New(io.Discard, false)})
	var sel Selection
	for i := 1; i <= hosts; i++ {
		sel.CLIHosts = append(sel.CLIHosts, fmt.Sprintf("10.0.0.%d", i))
	}
	done := make(chan []HostResult)
	go func() {
		res, err := ex.RunTask(context.Background(), "t", luart.Args{}, sel, Call{})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	for i := 0; i < hosts; i++ {
		<-d.arrived
		if n := started.Load() - connected.Load(); n > admit {
			t.Errorf("%d hosts started without a connection, want at most %d", n, admit)
		}
		d.gate <- struct{}{}
	}
	for _, r := range <-done {
		if r.Status != OK {
			t.Errorf("%s: %s %s", r.Host, r.Status, r.Err)
		}
	}
	if worst > admit {
		t.Errorf("up to %d hosts were started and not connected, want at most %d", worst, admit)
	}
	if started.Load() != hosts {
		t.Errorf("%d hosts ran the task, want %d", started.Load(), hosts)
	}
}

// TestAdmitBarrier: hosts waiting at a barrier before connecting give
// their place back, so a task with more hosts than Admit still passes it.
func TestAdmitBarrier(t *testing.T) {
	prog, err := luart.Compile("fabfile.lua", []byte(`task("b", function() barrier() end)`), luart.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ex := New(Config{Admit: 2}, Deps{Program: prog, Dialer: &gatedDialer{}, Local: nopConn{}, Printer: output.New(io.Discard, false)})
	sel := Selection{CLIHosts: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a deadlock fails, not hangs
	defer cancel()
	res, err := ex.RunTask(ctx, "b", luart.Args{}, sel, Call{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != OK {
			t.Errorf("%s: %s %s", r.Host, r.Status, r.Err)
		}
	}
}
