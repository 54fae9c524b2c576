package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// inventoryFabfile declares hosts from every source; every host is an
// address of the testbed's loopback sshd.
const inventoryFabfile = `
local inv = require("inventory")
local json = require("json")

hosts {
  ["web1.eu"] = {groups = {"web", "eu"}, vars = {weight = 3}, address = "127.0.0.2"},
  ["web2.eu"] = {groups = {"web", "eu"}, address = "127.0.0.3"},
  ["web3.eu"] = {groups = {"web", "eu"}, address = "127.0.0.4"},
  ["db1.eu"]  = {groups = {"db", "eu"}, vars = {pg = "15"}, address = "127.0.0.5"},
}
group("web", {vars = {http_port = 8080}})
hosts(inv.file("inventory/hosts.ini"))
hosts(inv.file("inventory/hosts.yml"))
hosts(inv.command("./cloud-hosts --json"))
hosts(inv.ssh_config("jump-*"))
hosts(function() return {"127.0.0.30"} end)

task("deploy", {on = "web:&eu:!web3.eu"}, function()
  puts(host.name, host.vars.http_port, host.vars.weight or 1, table.concat(host.groups, ","))
end)

task("where", function()
  local r = run("echo $SSH_CONNECTION", {quiet = true})
  puts("at", host.name, r.stdout:match("(%S+) %S+%s*$"))
end)

task("vars", function()
  puts("vars", host.name, json.encode(host.vars), env.level, env.from_host)
end)

task("fanout", {runs_once = true}, function()
  local res = execute("where", {on = "app:cloud"})
  local names = {}
  for h in pairs(res) do table.insert(names, h) end
  table.sort(names)
  puts("executed", table.concat(names, " "))
end)

task("json", function()
  local t = json.decode('{"a": [1, 2.5, "x"], "b": {"c": true}, "n": null}')
  puts("decoded", t.a[1], t.a[2], t.a[3], tostring(t.b.c), tostring(t.n))
  puts("encoded", json.encode({list = {1, 2}, name = "x", empty = {}}))
end)
`

// newInventoryProject writes the fabfile, an INI, a YAML inventory, a
// counting dynamic-inventory command and an ssh_config with Host entries.
func newInventoryProject(t *testing.T) *project {
	t.Helper()
	extra := "Host jump-a\n  HostName 127.0.0.31\nHost jump-b\n  HostName 127.0.0.32\nHost other\n  HostName 127.0.0.33\nHost jump-*\n  LogLevel ERROR\n"
	p := newProject(t, inventoryFabfile, extra)
	os.Mkdir(filepath.Join(p.dir, "inventory"), 0o755)
	p.write("inventory/hosts.ini", `# apps
[app]
app1.eu ansible_host=127.0.0.11
app2.eu ansible_host=127.0.0.12

[eu:children]
app
`)
	p.write("inventory/hosts.yml", `all:
  children:
    batch:
      hosts:
        batch1.us: {ansible_host: 127.0.0.21}
`)
	p.write("cloud-hosts", `#!/bin/sh
echo x >> "$(dirname "$0")/count.txt"
echo '{"cloud": {"hosts": ["c1.eu"], "vars": {"tier": "gold"}}, "_meta": {"hostvars": {"c1.eu": {"ansible_host": "127.0.0.13"}}}}'
`)
	os.Chmod(filepath.Join(p.dir, "cloud-hosts"), 0o755)
	return p
}

// linesWith returns the sorted stdout lines containing marker.
func linesWith(r result, marker string) []string {
	var out []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, marker) {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// TestInventorySources: every source declares hosts that are really
// reached (the sshd sees the inventory's address), and the issue's
// example selects web:&eu:!web3.eu with merged vars and groups.
func TestInventorySources(t *testing.T) {
	needTestbed(t)
	p := newInventoryProject(t)
	r := p.run(nil, "check")
	wantCode(t, r, 0) // hosts, group, host.vars and the inventory module are known
	r = p.run(nil, "deploy")
	wantCode(t, r, 0)
	got := linesWith(r, "] web")
	want := []string{"[web1.eu] web1.eu 8080 3 eu,web", "[web2.eu] web2.eu 8080 1 eu,web"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("deploy printed %q, want %q\n%s", got, want, r)
	}
	r = p.run(nil, "-H", "all", "where")
	wantCode(t, r, 0)
	got = linesWith(r, " at ")
	want = []string{
		"[127.0.0.30] at 127.0.0.30 127.0.0.30", "[app1.eu] at app1.eu 127.0.0.11", "[app2.eu] at app2.eu 127.0.0.12",
		"[batch1.us] at batch1.us 127.0.0.21", "[c1.eu] at c1.eu 127.0.0.13", "[db1.eu] at db1.eu 127.0.0.5",
		"[jump-a] at jump-a 127.0.0.31", "[jump-b] at jump-b 127.0.0.32",
		"[web1.eu] at web1.eu 127.0.0.2", "[web2.eu] at web2.eu 127.0.0.3", "[web3.eu] at web3.eu 127.0.0.4",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("where on all printed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// execute() takes a pattern too.
	r = p.run(nil, "fanout")
	wantCode(t, r, 0)
	mustContain(t, r, "executed app1.eu app2.eu c1.eu")
	r = p.run(nil, "-H", "local", "json")
	wantCode(t, r, 0)
	mustContain(t, r, "decoded 1 2.5 x true nil", `encoded {"empty":{},"list":[1,2],"name":"x"}`)
}

// TestInventoryReadOnce: an inventory command declared at the top level
// runs once per gofab run, whatever the number of hosts and tasks.
func TestInventoryReadOnce(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
local inv = require("inventory")
hosts(inv.command("./fleet"))
task("one", {on = "fleet"}, function() run("true") end)
task("two", {on = "fleet"}, function() puts(host.vars.n) end)
`, "")
	var b strings.Builder
	b.WriteString(`#!/bin/sh
echo x >> count.txt
cat <<'EOF'
{"fleet": {"hosts": [`)
	for i := 0; i < 50; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"n%02d"`, i)
	}
	b.WriteString(`]}, "_meta": {"hostvars": {`)
	for i := 0; i < 50; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"n%02d": {"ansible_host": "127.0.2.%d", "n": %d}`, i, i+1, i)
	}
	b.WriteString("}}}\nEOF\n")
	p.write("fleet", b.String())
	os.Chmod(filepath.Join(p.dir, "fleet"), 0o755)
	r := p.run(nil, "-q", "one", "two")
	wantCode(t, r, 0)
	mustContain(t, r, "50 hosts: 50 ok, 0 failed", "[n49] 49")
	count, _ := os.ReadFile(filepath.Join(p.dir, "count.txt"))
	if n := strings.Count(string(count), "x"); n != 1 {
		t.Errorf("the inventory command ran %d times for 50 hosts and 2 tasks, want 1", n)
	}
}

// TestVarMergeOrder: all → parent group → child group → host → --set,
// seen by the task as host.vars and as env keys, and by gofab hosts.
func TestVarMergeOrder(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
local json = require("json")
hosts {["h1"] = {groups = {"child"}, address = "127.0.0.2",
  vars = {level = "host", from_host = "h"}}}
hosts {["h2"] = {groups = {"child"}, address = "127.0.0.3"}}
group("all", {vars = {level = "all", from_all = "a", from_parent = "all"}})
group("parent", {children = {"child"}, vars = {level = "parent", from_parent = "p", from_child = "parent"}})
group("child", {vars = {level = "child", from_child = "c"}})
task("vars", {on = "parent"}, function()
  puts("vars", json.encode(host.vars), env.level, env.from_child)
end)
`, "")
	r := p.run(nil, "vars")
	wantCode(t, r, 0)
	mustContain(t, r,
		`[h1] vars {"from_all":"a","from_child":"c","from_host":"h","from_parent":"p","level":"host"} host c`,
		`[h2] vars {"from_all":"a","from_child":"c","from_parent":"p","level":"child"} child c`)
	r = p.run(nil, "--set", "level=cli", "vars")
	wantCode(t, r, 0)
	mustContain(t, r, `[h1] vars {"from_all":"a","from_child":"c","from_host":"h","from_parent":"p","level":"cli"} cli c`)
	r = p.run(nil, "hosts", "--host", "h1", "--output", "json", "--set", "level=cli")
	wantCode(t, r, 0)
	var h struct {
		Groups []string
		Vars   map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil {
		t.Fatalf("gofab hosts --host --output json: %v\n%s", err, r)
	}
	if strings.Join(h.Groups, ",") != "parent,child" || h.Vars["level"] != "cli" || h.Vars["from_parent"] != "p" {
		t.Errorf("gofab hosts --host h1: %+v", h)
	}
}

// TestPatternOperators runs a task with -H patterns of every kind and
// checks which hosts it ran on.
func TestPatternOperators(t *testing.T) {
	needTestbed(t)
	p := newInventoryProject(t)
	os.WriteFile(filepath.Join(p.dir, "list.txt"), []byte("# on call\nweb1.eu\ndb*\n"), 0o600)
	cases := []struct{ pattern, want string }{
		{"web", "web1.eu web2.eu web3.eu"},
		{"web*", "web1.eu web2.eu web3.eu"},
		{"web:db", "db1.eu web1.eu web2.eu web3.eu"},
		{"eu:&web", "web1.eu web2.eu web3.eu"},
		{"eu:!web:!app", "db1.eu"},
		{"eu:cloud:!web:!app", "c1.eu db1.eu"},
		{"web[1:2].eu", "web1.eu web2.eu"},
		{"app[1:2].eu,batch1.us", "app1.eu app2.eu batch1.us"},
		{"@list.txt", "db1.eu web1.eu"},
		{"127.0.0.40", "127.0.0.40"},
	}
	for _, c := range cases {
		r := p.run(nil, "-H", c.pattern, "where")
		wantCode(t, r, 0)
		var got []string
		for _, l := range linesWith(r, " at ") {
			got = append(got, strings.Fields(l)[2])
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("-H %s ran on %q, want %s\n%s", c.pattern, got, c.want, r)
		}
	}
	// -R takes groups (roles), and a pattern matching nothing is an error
	// that suggests a name, before anything connects.
	r := p.run(nil, "-R", "app", "where")
	wantCode(t, r, 0)
	if n := len(linesWith(r, " at ")); n != 2 {
		t.Errorf("-R app ran on %d hosts, want 2", n)
	}
	r = p.run(nil, "-H", "webb*", "where")
	wantCode(t, r, 2)
	mustContain(t, r, `pattern "webb*" matches no host or group, did you mean "web"?`)
	mustNotContain(t, r, " at ")
}

// TestHostsCommand: gofab hosts lists, filters, graphs and shows a host,
// honouring flags written before or after it.
func TestHostsCommand(t *testing.T) {
	needTestbed(t)
	p := newInventoryProject(t)
	r := p.run(nil, "hosts", "web:&eu:!web3.eu")
	wantCode(t, r, 0)
	if !regexp.MustCompile(`(?m)^web1\.eu +eu,web +127\.0\.0\.2\nweb2\.eu +eu,web +127\.0\.0\.3\n$`).MatchString(r.stdout) {
		t.Errorf("gofab hosts web:&eu:!web3.eu:\n%s", r)
	}
	r = p.run(nil, "-H", "app", "hosts")
	wantCode(t, r, 0)
	if n := strings.Count(r.stdout, "\n"); n != 2 || !strings.Contains(r.stdout, "app2.eu") {
		t.Errorf("gofab -H app hosts:\n%s", r)
	}
	r = p.run(nil, "hosts", "--graph")
	wantCode(t, r, 0)
	mustContain(t, r, "@all:", "  |--@eu:\n  |  |--@app:\n  |  |  |--app1.eu", "  |--@cloud:\n  |  |--c1.eu")
	r = p.run(nil, "hosts", "--host", "c1.eu")
	wantCode(t, r, 0)
	mustContain(t, r, "c1.eu\n  groups: cloud\n  connect: 127.0.0.13", `tier = "gold"`)
	r = p.run(nil, "hosts", "--host", "web9.eu")
	wantCode(t, r, 2)
	mustContain(t, r, `"web9.eu" is no host or group of the inventory, did you mean "web1.eu"?`)
	// Fabric's env.hosts and env.roledefs are visible as hosts and groups.
	q := newProject(t, `
env.hosts = {"127.0.0.2"}
env.roledefs = {web = {"127.0.0.3", "127.0.0.4"}, db = {hosts = {"127.0.0.5"}, vars = {pg = 15}}}
task("t", function() puts(env.pg) end)
`, "")
	r = q.run(nil, "hosts", "--graph")
	wantCode(t, r, 0)
	mustContain(t, r, "  |--@db:\n  |  |--127.0.0.5", "  |--@web:\n  |  |--127.0.0.3\n  |  |--127.0.0.4", "  |--@ungrouped:\n  |  |--127.0.0.2")
	r = q.run(nil, "-R", "db", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.5] 15")
}

// TestInventoryErrors: bad inventories stop the run before anything
// connects, with exit status 2 and one clear line.
func TestInventoryErrors(t *testing.T) {
	needTestbed(t)
	cases := []struct {
		name, fabfile, file, want string
	}{
		{"ini", `hosts(require("inventory").file("bad.ini"))`, "[web]\nok1\nweb1 port\n", "bad.ini:3: expected key=value"},
		{"yaml", `hosts(require("inventory").file("bad.yml"))`, "all:\n  hosts: [a]\n", "bad.yml:2: group all: hosts must be a mapping"},
		{"command", `hosts(require("inventory").command("echo cloud api down >&2; exit 3"))`, "", `failed (exit status 3): cloud api down`},
		{"json", `hosts(require("inventory").command("echo not json"))`, "", "not Ansible inventory JSON"},
		{"cycle", `group("a", {children = {"b"}}) group("b", {children = {"a"}})`, "", "group children form a cycle"},
		{"bad key", `hosts {web1 = {prot = 22}}`, "", `host web1: unknown key "prot"`},
		{"missing file", `hosts(require("inventory").file("nope.ini"))`, "", "nope.ini: no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProject(t, c.fabfile+"\ntask(\"t\", {hosts = {\"127.0.0.2\"}}, function() run(\"echo connected\") end)\n", "")
			if c.file != "" {
				name := "bad.ini"
				if c.name == "yaml" {
					name = "bad.yml"
				}
				p.write(name, c.file)
			}
			r := p.run(nil, "t")
			wantCode(t, r, 2)
			mustContain(t, r, c.want)
			mustNotContain(t, r, "connected")
			if lines := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; lines != 1 {
				t.Errorf("%d lines on stderr, want one:\n%s", lines, r)
			}
		})
	}
}

// TestInventoryConnectionSettings: a host's identity, gateway, user and
// port from the inventory are the ones used.
func TestInventoryConnectionSettings(t *testing.T) {
	needTestbed(t)
	proxy := passThrough(t)
	_, proxyPort, _ := strings.Cut(proxy.addr, ":")
	p := newProject(t, fmt.Sprintf(`
hosts {
  ["keyed"] = {address = "127.0.0.2", identity = %q},
  ["jumped"] = {address = "127.0.0.3", gateway = %q},
  ["other-user"] = {address = "127.0.0.4", user = %q},
}
task("who", {on = "all"}, function() puts("who", host.name, run("whoami", {quiet = true}).stdout) end)
`, tb.Key, "127.0.0.1:"+proxyPort, tb.NPUser), "")
	p.trust(proxy)
	// No key in the ssh config: only the inventory's identity can log in.
	p.editConfig("IdentityFile "+tb.Key, "IdentityFile "+filepath.Join(p.dir, "no-such-key"))
	r := p.run(nil, "who")
	// jumped and other-user have no key: they fail to authenticate; keyed
	// logs in with the inventory's key.
	mustContain(t, r, "[keyed] who keyed "+tb.User)
	p.editConfig("IdentityFile "+filepath.Join(p.dir, "no-such-key"), "IdentityFile "+tb.Key)
	before := proxy.accepted.Load()
	r = p.run(nil, "who")
	wantCode(t, r, 0)
	mustContain(t, r, "[jumped] who jumped "+tb.User, "[other-user] who other-user "+tb.NPUser)
	if n := proxy.accepted.Load() - before; n != 1 {
		t.Errorf("%d connections through the gateway, want 1 (jumped's)", n)
	}
}
