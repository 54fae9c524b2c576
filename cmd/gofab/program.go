package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/compose"
	"github.com/gofab/gofab/internal/data/secrets"
	"github.com/gofab/gofab/internal/transport/connect"
	"github.com/gofab/gofab/internal/transport/sshconfig"
	"github.com/gofab/gofab/luart"
)

// findFabfile returns the fabfile to load: -f as given (a directory means
// its init.lua), else fabfile.lua or fabfile/init.lua in the working
// directory or the nearest parent that has one.
func findFabfile(flag string) (string, error) {
	if flag != "" {
		fi, err := os.Stat(flag)
		if err != nil {
			return "", usageErr("fabfile not found: %s", flag)
		}
		if fi.IsDir() {
			init := filepath.Join(flag, "init.lua")
			if _, err := os.Stat(init); err != nil {
				return "", usageErr("fabfile directory %s has no init.lua", flag)
			}
			return init, nil
		}
		return flag, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", usageErr("fabfile not found: %v", err)
	}
	p := luart.FindFabfile(wd)
	if rel, err := filepath.Rel(wd, p); err == nil && p != "" {
		return rel, nil
	}
	return p, nil
}

// loadProgram finds and compiles the fabfile (cfg.Fabfile, or searched
// upward); without one it is an error when required, else nil.
func loadProgram(ctx context.Context, cfg Config, env environ, required bool) (*luart.Program, error) {
	path, err := findFabfile(cfg.Fabfile)
	if err != nil {
		return nil, err
	}
	if path == "" {
		if required {
			return nil, usageErr("fabfile not found: no %s here or in any parent directory (use -f)", DefaultFabfile)
		}
		return nil, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("fabfile: %v", err)
	}
	set, err := parseSet(cfg.Set)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	search := luart.SearchPath(path, cfg.Include, env.getenv("GOFAB_PATH"), env.getenv("HOME"))
	sshHosts, err := sshHostLister(cfg)
	if err != nil {
		return nil, err
	}
	finder, err := loadModules(cfg, env, path)
	if err != nil {
		return nil, err
	}
	// Secrets files encrypted to an SSH key open with the keys the run
	// logs in with too (-i, ssh_config's IdentityFile for Host *).
	if env.secrets == nil { // an environ made for one purpose (completion)
		env.secrets = secrets.New(env.getenv, env.getenv("HOME"))
	}
	env.secrets.IDs.SSHKeys = append(env.secrets.IDs.SSHKeys, sshIdentityFiles(cfg)...)
	prog, err := compose.Compile(path, src, luart.Options{Set: set, Stdout: env.stdout, Stderr: env.stderr, SearchPath: search,
		Finder: finder, SSHHosts: sshHosts, Context: ctx, Secrets: env.secrets})
	if ctx.Err() != nil {
		return nil, &exitError{code: interruptStatus(ctx), msg: "interrupted while reading the fabfile"}
	}
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return prog, nil
}

// abortPrompter refuses every prompt (--abort-on-prompts).
type abortPrompter struct{}

func (abortPrompter) Prompt(msg string, _ bool) (string, error) {
	return "", fmt.Errorf("would prompt for %q, but --abort-on-prompts is set", strings.TrimSpace(msg))
}

// envString returns a string the fabfile set in env.
func envString(prog *luart.Program, key string) (string, bool) {
	if prog == nil {
		return "", false
	}
	v, ok := prog.Env[key].(string)
	return v, ok && v != ""
}

// sshFiles returns the ssh config files: -S FILE, or ~/.ssh/config and
// /etc/ssh/ssh_config.
func sshFiles(cfg Config) ([]string, error) {
	if f := cfg.SSHConfig; f != "" {
		if _, err := os.Stat(f); err != nil {
			return nil, usageErr("ssh config: %v", err)
		}
		return []string{f}, nil
	}
	return sshconfig.DefaultFiles(sshconfig.CurrentLocal().Home), nil
}

// sshHostLister lists the Host entries of the ssh config files in use,
// for inventory.ssh_config.
func sshHostLister(cfg Config) (func() ([]string, error), error) {
	files, err := sshFiles(cfg)
	if err != nil {
		return nil, err
	}
	return sshconfig.NewLoader(sshconfig.CurrentLocal(), files...).HostAliases, nil
}

// hostOverrides returns the inventory's per-host connection settings that
// ssh_config cannot know: address, key file and gateway. A key file that
// does not exist (as with -i) and a loop of gateways are errors.
func hostOverrides(prog *luart.Program) (map[string]sshconfig.Overrides, error) {
	if prog == nil || prog.Inventory == nil {
		return nil, nil
	}
	out := map[string]sshconfig.Overrides{}
	for _, n := range prog.Inventory.HostNames() {
		r, ok := prog.Inventory.Lookup(n)
		forward, _ := r.Vars["forward_agent"].(bool)
		if !ok || r.Address == "" && r.Identity == "" && r.Gateway == "" && !forward {
			continue
		}
		a, err := host.Parse(n)
		if err != nil {
			continue
		}
		if r.Identity != "" {
			path := r.Identity
			if strings.HasPrefix(path, "~") { // as ssh expands key files
				path, _ = (host.OS{}).Abs(path)
			}
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("host %s: identity file: %w", n, err)
			}
		}
		out[a.Host] = sshconfig.Overrides{HostName: r.Address, IdentityFile: r.Identity, ProxyJump: r.Gateway, ForwardAgent: forward}
	}
	return out, connect.CheckGateways(out)
}

// orEmptyProgram returns prog, or for an ad-hoc command without a
// fabfile an empty program: the synthetic task's run() is then the same
// as any task's.
func orEmptyProgram(prog *luart.Program, env environ) (*luart.Program, error) {
	if prog != nil {
		return prog, nil
	}
	return compose.Compile("gofab", nil, luart.Options{Stdout: env.stdout})
}

func sshConfigAction(c *cli.Context, env environ) error {
	if c.NArg() != 1 {
		return usageErr("ssh-config takes one HOST")
	}
	addr, err := host.Parse(c.Args().First())
	if err != nil {
		return usageErr("%v", err)
	}
	cfg, err := readConfig(c)
	if err != nil {
		return err
	}
	local := sshconfig.CurrentLocal()
	files := sshconfig.DefaultFiles(local.Home)
	if f := cfg.SSHConfig; f != "" {
		files = []string{f}
	}
	// The inventory's address, user, port, key and gateway apply as in a
	// run (the dialer's Resolve).
	prog, err := loadProgram(c.Context, cfg, env, false)
	if err != nil {
		if c.Context.Err() != nil {
			return err
		}
		fmt.Fprintf(env.stderr, "gofab: warning: %v: showing what ssh_config alone says\n", err)
		prog = nil
	}
	overrides, err := hostOverrides(prog)
	if err != nil {
		return usageErr("%v", err)
	}
	ov := overrides[addr.Host]
	ov.User, ov.Port = cfg.User, cfg.Port
	if prog != nil && prog.Inventory != nil {
		if r, ok := lookupHost(prog.Inventory, addr.String(), true); ok {
			addr.User, addr.Port = r.User, r.Port
		}
	}
	if addr.User != "" {
		ov.User = addr.User
	}
	if addr.Port != 0 {
		ov.Port = addr.Port
	}
	resolved, err := sshconfig.NewLoader(local, files...).Resolve(addr.Host, ov)
	if err != nil {
		return usageErr("%v", err)
	}
	var b bytes.Buffer
	resolved.WriteG(&b)
	_, err = env.stdout.Write(b.Bytes())
	return err
}
