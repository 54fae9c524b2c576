package sshconfig

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzResolve: any ssh_config text either resolves a host to a config
// with a host name and a port in range, or gives an error; it never
// panics or loops.
func FuzzResolve(f *testing.F) {
	f.Add("Host web*\n  HostName %h.example\n  Port 2222\n  User deploy\nHost *\n  IdentityFile ~/.ssh/id_%r\n", "web1")
	f.Add("Match host x exec true\n  Port 1\nInclude nope/*\n", "x")
	f.Add("Host \"quoted name\" !neg\n  ProxyJump a,b\n  ServerAliveInterval 5s\n", "quoted name")
	f.Add("Port 99999\n", "h")
	f.Fuzz(func(t *testing.T, config, hostName string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config")
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		l := NewLoader(Local{User: "me", Home: dir, Hostname: "here"}, path)
		cfg, err := l.Resolve(hostName, Overrides{})
		if err != nil {
			return
		}
		if cfg.Port < 1 || cfg.Port > 65535 {
			t.Fatalf("port %d out of range", cfg.Port)
		}
		l.HostAliases()
	})
}
