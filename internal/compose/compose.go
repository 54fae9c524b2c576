// Package compose assembles a run from its parts, the one place gofab and
// gofab test both do it: a fabfile compiled with the Lua modules stdlib
// lists, and an executor given its settings, its dialer, its local host
// and its printer. What only a process has (flags, the terminal, real SSH)
// stays in cmd; what only a test has (fake hosts) in recipetest.
package compose

import (
	"github.com/gofab/gofab/internal/run/executor"
	"github.com/gofab/gofab/internal/transport/connect"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib"
)

// Compile compiles a fabfile with the modules every run has (stdlib's)
// and extra ones (the testing module, for a test file); o.Modules is
// ignored.
func Compile(path string, src []byte, o luart.Options, extra ...luart.Module) (*luart.Program, error) {
	o.Modules = append(stdlib.Modules(), extra...)
	return luart.Compile(path, src, o)
}

// Executor makes a run's executor. With --dry-run (cfg.Run.DryRun) every
// host, the local one included, is reached through connections that go
// nowhere: deps' dialer only says logins and ports.
func Executor(cfg executor.Config, deps executor.Deps) *executor.Executor {
	if cfg.Run != nil && cfg.Run.DryRun {
		deps.Dialer, deps.Local = connect.DryDialer{Dialer: deps.Dialer}, connect.DryRun{}
	}
	return executor.New(cfg, deps)
}
