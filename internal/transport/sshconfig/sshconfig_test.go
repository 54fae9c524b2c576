package sshconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestResolve checks ssh_config(5)'s rules one case at a time: the first
// value wins, Host patterns (with negation), tokens, IdentityFile
// accumulating, Include, Match, overrides on top, and the errors.
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "inc.conf"), []byte("Host inc\n  Port 2022\n"), 0o600)
	local := Local{User: "me", Home: dir, UID: 1000, Hostname: "laptop.lan"}
	cases := []struct {
		name, config, host string
		ov                 Overrides
		check              func(c *Config) string // "" when right
		err                string
	}{
		{name: "defaults", config: "", host: "h", check: func(c *Config) string {
			return expect(c.HostName == "h" && c.User == "me" && c.Port == 22 && !c.IdentityFilesSet && c.StrictHostKeyChecking == "ask" && c.ServerAliveCountMax == 3, c)
		}},
		{name: "first value wins", config: "Host h\n  Port 1\nHost *\n  Port 2\n  User u\n", host: "h", check: func(c *Config) string {
			return expect(c.Port == 1 && c.User == "u", c)
		}},
		{name: "negated pattern", config: "Host * !db*\n  User web\nHost *\n  User other\n", host: "db1", check: func(c *Config) string {
			return expect(c.User == "other", c)
		}},
		{name: "pattern list with ?", config: "Host x a?c\n  Port 7\n", host: "abc", check: func(c *Config) string {
			return expect(c.Port == 7, c)
		}},
		{name: "hostname token", config: "Host web*\n  HostName %h.example.com\n", host: "web1", check: func(c *Config) string {
			return expect(c.HostName == "web1.example.com", c)
		}},
		{name: "identity files accumulate", config: "Host h\n  IdentityFile ~/.ssh/a\nHost *\n  IdentityFile /k/b\n", host: "h", check: func(c *Config) string {
			return expect(reflect.DeepEqual(c.IdentityFiles, []string{"~/.ssh/a", "/k/b"}) && c.IdentityFilesSet, c)
		}},
		{name: "include", config: "Include " + filepath.Join(dir, "inc.conf") + "\n", host: "inc", check: func(c *Config) string {
			return expect(c.Port == 2022, c)
		}},
		{name: "match host after hostname", config: "Host web\n  HostName 10.0.0.5\nMatch host 10.0.0.*\n  User matched\n", host: "web", check: func(c *Config) string {
			return expect(c.User == "matched", c)
		}},
		{name: "match originalhost", config: "Host web\n  HostName 10.0.0.5\nMatch originalhost web\n  Port 99\n", host: "web", check: func(c *Config) string {
			return expect(c.Port == 99, c)
		}},
		{name: "match user sees the override", config: "Match user deploy\n  Port 2201\n", host: "h", ov: Overrides{User: "deploy"}, check: func(c *Config) string {
			return expect(c.Port == 2201 && c.User == "deploy", c)
		}},
		{name: "match localuser and all", config: "Match localuser me\n  ServerAliveInterval 9\nMatch all\n  ConnectTimeout 7\n", host: "h", check: func(c *Config) string {
			return expect(c.ServerAliveInterval == 9 && c.ConnectTimeout == 7*time.Second, c)
		}},
		{name: "overrides win", config: "Host h\n  User cfg\n  Port 1\n  HostName a\n  ProxyJump j\n", host: "h",
			ov: Overrides{User: "ov", Port: 2, HostName: "b", IdentityFile: "/k/inv", ProxyJump: "k", ForwardAgent: true}, check: func(c *Config) string {
				return expect(c.User == "ov" && c.Port == 2 && c.HostName == "b" && c.IdentityFiles[0] == "/k/inv" && c.ProxyJump == "k" && c.ForwardAgent, c)
			}},
		{name: "proxyjump none", config: "Host h\n  ProxyJump none\nHost *\n  ProxyJump j\n", host: "h", check: func(c *Config) string {
			return expect(c.ProxyJump == "", c)
		}},
		{name: "strict host key checking", config: "Host h\n  StrictHostKeyChecking accept-new\n", host: "h", check: func(c *Config) string {
			return expect(c.StrictHostKeyChecking == "accept-new", c)
		}},
		{name: "forward agent", config: "Host h\n  ForwardAgent yes\n", host: "h", check: func(c *Config) string {
			return expect(c.ForwardAgent, c)
		}},
		{name: "equals sign and quotes", config: "Host=h\n  User=\"a b\"\n", host: "h", check: func(c *Config) string {
			return expect(c.User == "a b", c)
		}},
		{name: "known hosts files", config: "Host h\n  UserKnownHostsFile ~/kh1 %d/kh2\n  IdentitiesOnly yes\n", host: "h", check: func(c *Config) string {
			return expect(reflect.DeepEqual(c.UserKnownHostsFiles, []string{filepath.Join(dir, "kh1"), filepath.Join(dir, "kh2")}) && c.IdentitiesOnly, c)
		}},
		{name: "known hosts default", config: "Host other\n  UserKnownHostsFile none\n", host: "h", check: func(c *Config) string {
			return expect(len(c.UserKnownHostsFiles) == 2 && strings.HasSuffix(c.UserKnownHostsFiles[0], ".ssh/known_hosts"), c)
		}},
		{name: "keep-alives", config: "ServerAliveInterval 15\nServerAliveCountMax 5\nConnectTimeout none\n", host: "h", check: func(c *Config) string {
			return expect(c.ServerAliveInterval == 15 && c.ServerAliveCountMax == 5 && c.ConnectTimeout == 0, c)
		}},
		{name: "bad port", config: "Port 99999\n", host: "h", err: "bad Port"},
		{name: "bad connect timeout", config: "ConnectTimeout soon\n", host: "h", err: "bad ConnectTimeout"},
		{name: "bad keep-alive", config: "ServerAliveCountMax many\n", host: "h", err: "bad serveralivecountmax"},
		{name: "bad strict host key checking", config: "StrictHostKeyChecking maybe\n", host: "h", err: "bad StrictHostKeyChecking"},
		{name: "match without criterion", config: "Match\n  Port 1\n", host: "h", err: `"Match" has no value`},
		{name: "unsupported match", config: "Match exec true\n  Port 1\n", host: "h", err: "not supported"},
		{name: "keyword without value", config: "Host h\n  User\n", host: "h", err: `"User" has no value`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config")
			os.WriteFile(path, []byte(c.config), 0o600)
			cfg, err := NewLoader(local, path).Resolve(c.host, c.ov)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := c.check(cfg); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func expect(ok bool, c *Config) string {
	if ok {
		return ""
	}
	return fmt.Sprintf("unexpected config: %+v", *c)
}

// TestHostAliases lists literal Host names, Include files too, skipping
// wildcards and negations.
func TestHostAliases(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.conf")
	os.WriteFile(inc, []byte("Host from-include\n"), 0o600)
	path := filepath.Join(dir, "config")
	os.WriteFile(path, []byte("Host web1 web2 web*\nHost !bad db1\nInclude "+inc+"\nHost web1\n"), 0o600)
	got, err := NewLoader(Local{Home: dir}, path).HostAliases()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"web1", "web2", "db1", "from-include"}; !reflect.DeepEqual(got, want) {
		t.Errorf("HostAliases = %q, want %q", got, want)
	}
}
