// Command startupfeat is a second reference for BenchmarkStartupRatio:
// bench/startupref (the packages gofab must use, answering --version from
// an empty urfave/cli app) plus the libraries gofab's features are built
// on, linked in with their init functions as gofab links them: YAML
// inventories, age and SSH-key secrets, git-hosted recipe modules (go-git
// brings ssh_config with it), the module proxy over HTTP, known_hosts, the
// agent, the terminal, the shell parser and interpreter of --check and
// gofab test, diffs and the HTML report. No program that has those features and
// links these libraries can start faster: Go runs every linked package's
// init before main.
package main

import (
	"html/template"
	"net/http"
	"os"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"github.com/go-git/go-git/v5"
	"github.com/gofrs/flock"
	"github.com/pkg/sftp"
	"github.com/pmezard/go-difflib/difflib"
	"github.com/skeema/knownhosts"
	"github.com/urfave/cli/v2"
	lua "github.com/yuin/gopher-lua"
	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/mod/modfile"
	"golang.org/x/term"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// The packages are linked in, as gofab's are, with their init functions.
var (
	_ = sftp.NewClient
	_ = ssh.Dial
	_ = lua.NewState
	_ = age.Decrypt
	_ = agessh.ParseRecipient
	_ = git.CloneContext
	_ = flock.New
	_ = difflib.GetUnifiedDiffString
	_ = knownhosts.New
	_ = yaml.Unmarshal
	_ = agent.NewClient
	_ = modfile.Parse
	_ = term.IsTerminal
	_ = interp.New
	_ = syntax.NewParser
	_ = template.New
	_ = http.Get
)

func main() {
	app := &cli.App{Name: "startupfeat", Version: "0"}
	if err := app.Run(os.Args); err != nil {
		os.Exit(1)
	}
}
