package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// keywords are the ssh_config keywords gofab resolves and prints.
var keywords = []string{"host", "user", "hostname", "port", "identityfile", "identitiesonly", "userknownhostsfile",
	"stricthostkeychecking", "connecttimeout", "serveraliveinterval", "serveralivecountmax", "proxyjump", "proxycommand"}

// TestSSHConfigMatchesSSHG compares "gofab ssh-config" with "ssh -G" for
// several configurations and hosts.
func TestSSHConfigMatchesSSHG(t *testing.T) {
	t.Parallel() // self-contained (its own fleet, files or shells): runs beside the other parallel tests, after the serial ones
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client")
	}
	dir := t.TempDir()
	inc := filepath.Join(dir, "included.conf")
	os.WriteFile(inc, []byte("Host inc*\n  User incuser\n  Port 2022\n"), 0o644)
	configs := map[string]string{
		"first value wins, tokens, match user": `
Host web*
  HostName %h.example.com
  User deploy
  IdentityFile ~/.ssh/id_%r_%h
  IdentityFile /k/two
Match user bob host db1
  Port 2200
Host *
  User nobody
  Port 22
  ServerAliveInterval 15
  ProxyJump jump1,jump2:2222
`,
		"negation, include, match criteria": `
Host *.prod !db.prod
  User produser
Include ` + inc + `
Host a
  StrictHostKeyChecking accept-new
  ProxyCommand ssh -W %h:%p jump
  UserKnownHostsFile ~/kh1 %d/kh_%h
  IdentitiesOnly yes
Match !user root host b
  StrictHostKeyChecking no
  HostName %h.internal
Match originalhost c localuser root
  ConnectTimeout 7
  ServerAliveCountMax 5
Host *
  StrictHostKeyChecking yes
`,
		"equals signs, quotes, none": `
Host=quoted
  HostName="real.example.org"
  User = "some user"
  ProxyJump none
  IdentityFile "/path with space/key"
Host *
  ProxyJump gw
  ConnectTimeout=3
`,
	}
	hostArgs := []string{"web1", "bob@db1", "db1", "other", "web.prod", "db.prod", "incx", "a", "b", "alice@b", "c",
		"x:2201", "quoted", "zed@quoted:2", "[::1]:2200"}
	for name, cfg := range configs {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, h := range hostArgs {
			t.Run(name+"/"+h, func(t *testing.T) {
				sshArgs := []string{"-G", "-F", path}
				target := h
				if i := strings.LastIndex(h, ":"); i > 0 && !strings.HasSuffix(h, "]") {
					port := h[i+1:]
					target = strings.Trim(h[:i], "[]")
					if at := strings.Index(target, "@"); at >= 0 {
						target = target[:at+1] + strings.Trim(target[at+1:], "[]")
					}
					sshArgs = append(sshArgs, "-p", port)
				}
				want, err := exec.Command("ssh", append(sshArgs, target)...).Output()
				if err != nil {
					t.Fatalf("ssh -G: %v", err)
				}
				got, err := exec.Command(gofabBin, "ssh-config", "-S", path, h).CombinedOutput()
				if err != nil {
					t.Fatalf("gofab ssh-config: %v\n%s", err, got)
				}
				for _, k := range keywords {
					w, g := pick(string(want), k), pick(string(got), k)
					if !reflect.DeepEqual(w, g) {
						t.Errorf("%s: gofab %q, ssh -G %q", k, g, w)
					}
				}
			})
		}
	}
}

func pick(out, key string) []string {
	var vals []string
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			vals = append(vals, v)
		}
	}
	return vals
}
