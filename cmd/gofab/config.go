package main

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// Config is what gofab's flags say, read once by readConfig: the one place
// a flag is looked up by name (each field's `flag` tag; TestConfigFlags
// checks that every flag has its field and every field its flag). Nothing
// below cmd sees the flag parser.
//
// Where a connection or run setting comes from, the first that gives it
// wins:
//
//  1. the host string (user@host:port) and the inventory's per-host
//     variables (ansible_user, ansible_port, a host's user and port);
//  2. the command line: the flags, and GOFAB_SHARD for --shard;
//  3. the fabfile's Fabric env keys (env.user, env.timeout, …: applyFabricEnv
//     lays them on the fields whose flag was not given); --set KEY=VALUE
//     sets them before the fabfile runs, so the fabfile's own assignment
//     wins, as in Fabric;
//  4. ssh_config (-S FILE, or ~/.ssh/config and /etc/ssh/ssh_config), and
//     for a host's address, key and jump host the inventory over it;
//  5. the flags' defaults.
type Config struct {
	Fabfile string   `flag:"fabfile"`
	Include []string `flag:"include"`
	Mod     string   `flag:"mod"`
	Set     []string `flag:"set"`

	List       bool   `flag:"list"`
	Shortlist  bool   `flag:"shortlist"`
	ListFormat string `flag:"list-format"`
	Display    string `flag:"display"`

	Hosts        []string `flag:"hosts"`
	Roles        []string `flag:"roles"`
	ExcludeHosts []string `flag:"exclude-hosts"`
	StrictHosts  bool     `flag:"strict-hosts"`
	Shard        string   `flag:"shard"`

	User               string   `flag:"user"`
	Port               int      `flag:"port"`
	Identity           []string `flag:"identity"`
	SSHConfig          string   `flag:"ssh-config"`
	Gateway            string   `flag:"gateway"`
	Timeout            float64  `flag:"timeout"`
	ConnectionAttempts int      `flag:"connection-attempts"`
	Keepalive          float64  `flag:"keepalive"`
	MaxHandshakes      int      `flag:"max-handshakes"`
	AcceptNewHostKeys  bool     `flag:"accept-new-host-keys"`
	RejectUnknownHosts bool     `flag:"reject-unknown-hosts"`
	ForwardAgent       bool     `flag:"forward-agent"`
	NoAgent            bool     `flag:"no-agent"`
	NoKeys             bool     `flag:"no-keys"`

	Password              string `flag:"password"`
	InitialPasswordPrompt bool   `flag:"initial-password-prompt"`
	SudoPasswordPrompt    bool   `flag:"sudo-password-prompt"`
	AbortOnPrompts        bool   `flag:"abort-on-prompts"`
	Yes                   bool   `flag:"yes"`

	WarnOnly       bool    `flag:"warn-only"`
	CommandTimeout float64 `flag:"command-timeout"`
	PoolSize       int     `flag:"pool-size"`
	Serial         bool    `flag:"serial"`
	Parallel       bool    `flag:"parallel"`
	SkipBadHosts   bool    `flag:"skip-bad-hosts"`
	KeepGoing      bool    `flag:"keep-going"`
	RerunFailed    bool    `flag:"rerun-failed"`
	Check          bool    `flag:"check"`
	Diff           bool    `flag:"diff"`
	DryRun         bool    `flag:"dry-run"`
	MaxOutput      int     `flag:"max-output"`

	Output  string   `flag:"output"`
	LogDir  string   `flag:"log-dir"`
	Events  string   `flag:"events"`
	Report  string   `flag:"report"`
	Hide    []string `flag:"hide"`
	Show    []string `flag:"show"`
	NoColor bool     `flag:"no-color"`
	Quiet   bool     `flag:"quiet"`

	// given holds the names of the flags given on the command line (or by
	// their environment variable).
	given map[string]bool
}

// readConfig reads the main command's flags, as c and the commands above
// it hold them.
func readConfig(c *cli.Context) (Config, error) {
	var cfg Config
	given, err := readFlags(c, &cfg)
	cfg.given = given
	return cfg, err
}

// flagsOf reads a command's own flags into a T, a struct of fields
// tagged `flag:"name"` (readFlags).
func flagsOf[T any](c *cli.Context) (T, error) {
	var f T
	_, err := readFlags(c, &f)
	return f, err
}

// readFlags fills the fields of the struct dst points to from the flags
// their `flag` tags name: the innermost command that was given a flag
// gives its value, else the innermost that defines it gives its default.
// It returns the names of the flags given. A tag naming no flag is an
// error (a misspelt name must not read as the zero value), unless it says
// `flag:"name,optional"`: a flag only some of the commands sharing the
// struct have.
func readFlags(c *cli.Context, dst any) (given map[string]bool, err error) {
	v := reflect.ValueOf(dst).Elem()
	given = map[string]bool{}
	// The flags each command of the lineage was given (on the command
	// line or by their environment variable), innermost first, listed
	// once: c.IsSet, asked per flag, matched every flag's names by regexp
	// and cost 0.7 ms a run.
	lineage := c.Lineage()
	local := make([][]string, len(lineage))
	for i, cc := range lineage {
		local[i] = cc.LocalFlagNames()
	}
	for i := 0; i < v.NumField(); i++ {
		name, opt, _ := strings.Cut(v.Type().Field(i).Tag.Get("flag"), ",")
		if name == "" {
			continue
		}
		if c.Value(name) == nil {
			if opt == "optional" {
				continue
			}
			return nil, fmt.Errorf("internal error: no flag --%s for %s.%s", name, v.Type().Name(), v.Type().Field(i).Name)
		}
		from := c
		for j, names := range local {
			if slices.Contains(names, name) {
				from, given[name] = lineage[j], true
				break
			}
		}
		switch f := v.Field(i).Addr().Interface().(type) {
		case *string:
			*f = from.String(name)
		case *bool:
			*f = from.Bool(name)
		case *int:
			*f = from.Int(name)
		case *float64:
			*f = from.Float64(name)
		case *[]string:
			*f = from.StringSlice(name)
		default:
			return nil, fmt.Errorf("internal error: %s.%s: no flag has type %s", v.Type().Name(), v.Type().Field(i).Name, v.Field(i).Type())
		}
	}
	return given, nil
}

// setFlag sets the field of cfg whose flag is name from text, as the flag
// would parse it (a repeatable flag's values add up).
func (cfg *Config) setFlag(name, text string) error {
	v := reflect.ValueOf(cfg).Elem()
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).Tag.Get("flag") != name {
			continue
		}
		switch f := v.Field(i).Addr().Interface().(type) {
		case *string:
			*f = text
		case *bool:
			b, err := strconv.ParseBool(text)
			if err != nil {
				return fmt.Errorf("%q is not true or false", text)
			}
			*f = b
		case *int:
			n, err := strconv.ParseInt(text, 0, 64)
			if err != nil || n != int64(int(n)) {
				return fmt.Errorf("%q is not a whole number", text)
			}
			*f = int(n)
		case *float64:
			x, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return fmt.Errorf("%q is not a number", text)
			}
			*f = x
		case *[]string:
			*f = append(*f, text)
		}
		cfg.given[name] = true
		return nil
	}
	return fmt.Errorf("internal error: no setting for --%s", name)
}
