package main

import (
	"context"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/gofab/gofab/luart"
)

// TestConfigFlags: every flag of the main command has its Config field,
// and every field's tag names a flag (a misspelt tag would read as zero).
func TestConfigFlags(t *testing.T) {
	var names []string
	for _, f := range flags() {
		names = append(names, f.Names()[0])
	}
	var tags []string
	ct := reflect.TypeOf(Config{})
	for i := 0; i < ct.NumField(); i++ {
		if tag := ct.Field(i).Tag.Get("flag"); tag != "" {
			tags = append(tags, tag)
			if !slices.Contains(names, tag) {
				t.Errorf("Config.%s reads --%s, which is no flag", ct.Field(i).Name, tag)
			}
		}
	}
	for _, n := range names {
		if !slices.Contains(tags, n) {
			t.Errorf("--%s has no Config field", n)
		}
	}
}

// readArgs parses args (without the program name) with the main
// command's flags and returns the Config read from them.
func readArgs(t *testing.T, args ...string) Config {
	t.Helper()
	var cfg Config
	app := &cli.App{Name: "gofab", Flags: flags(), Writer: io.Discard, ErrWriter: io.Discard,
		Action: func(c *cli.Context) error {
			var err error
			cfg, err = readConfig(c)
			return err
		}}
	if err := app.RunContext(context.Background(), append([]string{"gofab"}, args...)); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return cfg
}

// TestReadConfig: each kind of flag lands in its field, defaults
// included, and the flags given are known as given.
func TestReadConfig(t *testing.T) {
	cfg := readArgs(t, "-u", "ops", "--port", "2222", "-H", "a,b", "-H", "c", "-t", "2.5", "-w", "--hide", "running")
	want := map[string]any{
		"User": "ops", "Port": 2222, "Hosts": []string{"a", "b", "c"}, "Timeout": 2.5, "WarnOnly": true,
		"Hide": []string{"running"}, "Output": "text", "MaxOutput": 64, "ConnectionAttempts": 1, "Serial": false,
	}
	v := reflect.ValueOf(cfg)
	for field, w := range want {
		if got := v.FieldByName(field).Interface(); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", field, got, w)
		}
	}
	t.Setenv("GOFAB_SHARD", "1/2")
	cfg = readArgs(t, "-u", "ops", "--port", "2222", "-H", "a,b", "-H", "c", "-t", "2.5", "-w", "--hide", "running")
	if cfg.Shard != "1/2" {
		t.Errorf("Shard = %q, want GOFAB_SHARD's 1/2", cfg.Shard)
	}
	for name, given := range map[string]bool{"user": true, "port": true, "hosts": true, "timeout": true, "warn-only": true, "shard": true, "output": false, "serial": false} {
		if cfg.given[name] != given {
			t.Errorf("given[%q] = %v, want %v", name, cfg.given[name], given)
		}
	}
}

// TestApplyFabricEnv: a Fabric env key sets its setting unless its flag
// was given; a value of the wrong type and a key gofab refuses are one
// line naming the fabfile and the key.
func TestApplyFabricEnv(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]any
		check   func(Config) bool
		wantErr string
	}{
		{"sets", nil, map[string]any{"user": "deploy", "port": 2200, "warn_only": true, "timeout": 1.5, "key_filename": []any{"a", "b"}},
			func(c Config) bool {
				return c.User == "deploy" && c.Port == 2200 && c.WarnOnly && c.Timeout == 1.5 && slices.Equal(c.Identity, []string{"a", "b"}) && c.given["port"]
			}, ""},
		{"flag wins", []string{"-u", "ops", "--port", "22"}, map[string]any{"user": "deploy", "port": 2200},
			func(c Config) bool { return c.User == "ops" && c.Port == 22 }, ""},
		{"false leaves the default", []string{}, map[string]any{"warn_only": false, "serial": false},
			func(c Config) bool { return !c.WarnOnly && !c.Serial }, ""},
		{"other keys are the fabfile's", nil, map[string]any{"myapp": "x", "hosts": []any{"a"}},
			func(c Config) bool { return c.User == "" && len(c.Hosts) == 0 }, ""},
		{"not a number", nil, map[string]any{"port": "ssh"}, nil, `fab.lua: env.port = ssh: "ssh" is not a whole number`},
		{"not a bool", nil, map[string]any{"serial": "yes"}, nil, `fab.lua: env.serial = yes: "yes" is not true or false`},
		{"refused", nil, map[string]any{"use_shell": true}, nil, "fab.lua: env.use_shell: gofab runs commands in the login shell"},
		{"refused when false", nil, map[string]any{"use_ssh_config": false}, nil, "fab.lua: env.use_ssh_config = false: gofab always reads the ssh config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := readArgs(t, tt.args...)
			err := applyFabricEnv(&cfg, &luart.Program{Path: "fab.lua", Env: tt.env})
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case !tt.check(cfg):
				t.Errorf("config not as wanted: %+v", cfg)
			}
		})
	}
}

// TestCheckNumbers: a setting out of range is refused whether a flag or
// the fabfile's env gave it; the defaults pass.
func TestCheckNumbers(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]any
		want string
	}{
		{nil, nil, ""},
		{[]string{"-t", "0"}, nil, "--timeout 0: must be a number above 0"},
		{[]string{"-z", "-1"}, nil, "--pool-size -1: must be a number of 0 or more"},
		{[]string{"-T", "NaN"}, nil, "--command-timeout NaN: must be a finite number"},
		{[]string{"--port", "70000"}, nil, "--port 70000: must be a port from 1 to 65535"},
		{nil, map[string]any{"connection_attempts": 0}, "--connection-attempts 0: must be a number above 0"},
		{[]string{"-z", "0"}, nil, ""},
	}
	for _, tt := range tests {
		cfg := readArgs(t, tt.args...)
		if err := applyFabricEnv(&cfg, &luart.Program{Path: "fab.lua", Env: tt.env}); err != nil {
			t.Fatal(err)
		}
		err := checkNumbers(cfg)
		if got := errText(err); got != tt.want {
			t.Errorf("%v %v: got %q, want %q", tt.args, tt.env, got, tt.want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// BenchmarkReadConfig is what reading the flags costs a run's start-up
// (15 µs; asking urfave/cli's IsSet per flag made it 0.7 ms).
func BenchmarkReadConfig(b *testing.B) {
	app := &cli.App{Name: "gofab", Flags: flags(), Writer: io.Discard, ErrWriter: io.Discard,
		Action: func(c *cli.Context) error {
			for i := 0; i < b.N; i++ {
				if _, err := readConfig(c); err != nil {
					return err
				}
			}
			return nil
		}}
	if err := app.RunContext(context.Background(), []string{"gofab", "-H", "a", "-w", "-u", "x"}); err != nil {
		b.Fatal(err)
	}
}
