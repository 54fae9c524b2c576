// Command startupref is BenchmarkStartup's reference: a binary that links
// only the packages gofab must use (gopher-lua, x/crypto/ssh, pkg/sftp,
// urfave/cli/v2) and answers --version from an empty urfave/cli app. It
// is the floor on start-up for any program built on them.
package main

import (
	"os"

	"github.com/pkg/sftp"
	"github.com/urfave/cli/v2"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/ssh"
)

// The packages are linked in, as gofab's are, with their init functions.
var (
	_ = sftp.NewClient
	_ = ssh.Dial
	_ = lua.NewState
)

func main() {
	app := &cli.App{Name: "startupref", Version: "0"}
	if err := app.Run(os.Args); err != nil {
		os.Exit(1)
	}
}
