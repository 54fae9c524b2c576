package main

import (
	"fmt"
	"sort"

	"github.com/gofab/gofab/luart"
)

// fabricEnvFlags are Fabric 1 env keys gofab honours as the default of a
// flag: the flag, when given, wins.
var fabricEnvFlags = map[string]string{
	"warn_only":           "warn-only",
	"skip_bad_hosts":      "skip-bad-hosts",
	"no_agent":            "no-agent",
	"no_keys":             "no-keys",
	"forward_agent":       "forward-agent",
	"abort_on_prompts":    "abort-on-prompts",
	"timeout":             "timeout",
	"command_timeout":     "command-timeout",
	"connection_attempts": "connection-attempts",
	"keepalive":           "keepalive",
	"pool_size":           "pool-size",
	"user":                "user",
	"port":                "port",
	"gateway":             "gateway",
	"key_filename":        "identity",
	"ssh_config_path":     "ssh-config",
	"parallel":            "parallel",
	"serial":              "serial",
}

// fabricEnvRefused are Fabric 1 env keys with no gofab meaning, and the
// gofab way, when a fabfile sets them; a key whose value is only refused
// when false (or true) names that value.
var fabricEnvRefused = map[string]string{
	"abort_exception":            "gofab raises a Lua error; catch it with pcall",
	"all_hosts":                  "gofab does not expose the run's host list in env",
	"always_use_pty":             "gofab runs commands without a pty; pass {pty = true} to the calls that need one",
	"combine_stderr":             "stdout and stderr are kept apart; with {pty = true} they are merged",
	"command":                    "env.command is not set by gofab",
	"command_prefixes":           "use prefix(cmd, fn)",
	"cwd":                        "use cd(dir, fn)",
	"dedupe_hosts=false":         "gofab always drops duplicate hosts",
	"disable_known_hosts":        "gofab always checks host keys; --accept-new-host-keys records new ones",
	"eagerly_disconnect":         "gofab keeps one connection per host for the run",
	"gss_auth":                   "gofab has no GSS-API authentication",
	"gss_deleg":                  "gofab has no GSS-API authentication",
	"gss_kex":                    "gofab has no GSS-API authentication",
	"key":                        "give a key file: -i FILE, env.key_filename or a host's identity",
	"passwords":                  "per-host passwords: use GOFAB_PASSWORD, -I or keys",
	"path":                       "use path(dir, fn)",
	"prompts":                    "answer a command's questions with {stdin = ...}",
	"rcfile":                     "gofab reads no rc file",
	"reject_unknown_hosts=false": "gofab refuses unknown host keys; --accept-new-host-keys records new ones",
	"shell":                      "gofab runs commands in the login shell, as ssh does",
	"skip_unknown_tasks":         "an unknown task is an error before anything runs",
	"ok_ret_codes":               "pass {ok_codes = {...}} to run or sudo",
	"sudo_passwords":             "use GOFAB_SUDO_PASSWORD or --sudo-password-prompt",
	"sudo_prefix":                "gofab builds the sudo command itself",
	"sudo_prompt":                "gofab sets a unique sudo prompt itself",
	"sudo_user":                  "pass {user = ...} to sudo",
	"system_known_hosts":         "gofab reads /etc/ssh/ssh_known_hosts already",
	"tasks":                      "env.tasks is not set by gofab",
	"use_exceptions_for":         "gofab raises Lua errors; catch them with pcall",
	"use_shell":                  "gofab runs commands in the login shell, as ssh does",
	"use_ssh_config=false":       "gofab always reads the ssh config (-S FILE picks another)",
	"version":                    "env.version is not set by gofab (gofab --version)",
}

// applyFabricEnv lays the Fabric env keys a fabfile set on cfg, where
// their flag was not given, and refuses the keys gofab has no use for.
func applyFabricEnv(cfg *Config, prog *luart.Program) error {
	if prog == nil {
		return nil
	}
	keys := make([]string, 0, len(prog.Env))
	for k := range prog.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := prog.Env[k]
		if why, ok := fabricEnvRefused[k]; ok {
			return fmt.Errorf("%s: env.%s: %s", prog.Path, k, why)
		}
		if b, isBool := v.(bool); isBool {
			if why, ok := fabricEnvRefused[fmt.Sprintf("%s=%t", k, b)]; ok {
				return fmt.Errorf("%s: env.%s = %t: %s", prog.Path, k, b, why)
			}
		}
		flag, ok := fabricEnvFlags[k]
		if !ok || cfg.given[flag] {
			continue
		}
		var values []string
		switch x := v.(type) {
		case bool:
			if !x {
				continue
			}
			values = []string{"true"}
		case []any:
			for _, e := range x {
				values = append(values, fmt.Sprint(e))
			}
		default:
			values = []string{fmt.Sprint(x)}
		}
		for _, s := range values {
			if err := cfg.setFlag(flag, s); err != nil {
				return fmt.Errorf("%s: env.%s = %v: %v", prog.Path, k, v, err)
			}
		}
	}
	return nil
}
