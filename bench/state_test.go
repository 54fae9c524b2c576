package bench

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/ui/output"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib"
)

// BenchmarkHostState measures what every host pays for its own Lua state:
// making it from the compiled 200-line fabfile in testdata/, running the
// top level, running a task that does nothing, and closing it.
func BenchmarkHostState(b *testing.B) {
	src, err := os.ReadFile("testdata/fabfile200.lua")
	if err != nil {
		b.Fatal(err)
	}
	prog, err := luart.Compile("fabfile200.lua", src, luart.Options{Modules: stdlib.Modules()})
	if err != nil {
		b.Fatal(err)
	}
	he := &luart.HostEnv{Addr: host.Addr{Host: "web1"}, HostString: "web1", Hosts: 1, Run: &luart.RunOptions{},
		Out: output.New(io.Discard, false).Host("web1")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := prog.RunTask(context.Background(), he, "noop", luart.Args{}); err != nil {
			b.Fatal(err)
		}
	}
}

// nopConn is a host.Conn whose every command succeeds at once.
type nopConn struct{}

func (nopConn) Run(context.Context, *host.Cmd) (int, error) { return 0, nil }
func (nopConn) Close() error                                { return nil }

// BenchmarkAdhocState measures what the ad-hoc command (gofab -- cmd)
// costs a host beyond its connection: a state of the empty program, the
// synthetic task's run() through the one command path, a Result, the
// state closed. The connection answers at once.
func BenchmarkAdhocState(b *testing.B) {
	prog, err := luart.Compile("gofab", nil, luart.Options{Modules: stdlib.Modules()})
	if err != nil {
		b.Fatal(err)
	}
	he := &luart.HostEnv{Addr: host.Addr{Host: "web1"}, HostString: "web1", Hosts: 1, Run: &luart.RunOptions{},
		Out:     output.New(io.Discard, false).Host("web1"),
		Connect: func(context.Context) (host.Conn, error) { return nopConn{}, nil }}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := prog.RunCommand(context.Background(), he, "uname -r"); err != nil {
			b.Fatal(err)
		}
	}
}
