package inventory

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestExpandRange(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "web1", want: []string{"web1"}},
		{in: "web[1:3].eu", want: []string{"web1.eu", "web2.eu", "web3.eu"}},
		{in: "web[08:10]", want: []string{"web08", "web09", "web10"}},
		{in: "db[a:c]", want: []string{"dba", "dbb", "dbc"}},
		{in: "n[1:5:2]", want: []string{"n1", "n3", "n5"}},
		{in: "r[1:2]c[a:b]", want: []string{"r1ca", "r1cb", "r2ca", "r2cb"}},
		{in: "web[3:1]", err: "end must be"},
		{in: "web[1:x]", err: "end must be"},
		{in: "web[1:3", err: "missing ]"},
		{in: "web[1]", err: "[start:end]"},
		{in: "web[0:1000000]", err: "more than"},
	}
	for _, c := range cases {
		got, err := ExpandRange(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ExpandRange(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ExpandRange(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

const iniSample = `# fleet
lonely.example ansible_port=2200

[web]
web[1:3].eu http_port=8080
web9.us

[db]
db1.eu ansible_user=postgres pg="15"

[eu:children]
web
db

[eu:vars]
region=eu
weight=1

[web:vars]
weight=3
`

func TestParseFormats(t *testing.T) {
	yamlSample := `
all:
  vars:
    weight: 0
  hosts:
    lonely.example:
      ansible_port: 2200
  children:
    eu:
      vars: {region: eu, weight: 1}
      children:
        web:
          vars: {weight: 3}
          hosts:
            web[1:3].eu: {http_port: 8080}
            web9.us:
        db:
          hosts:
            db1.eu: {ansible_user: postgres, pg: "15"}
`
	jsonSample := `{
  "web": {"hosts": ["web1.eu", "web2.eu", "web3.eu", "web9.us"], "vars": {"weight": 3}},
  "db": ["db1.eu"],
  "eu": {"children": ["web", "db"], "vars": {"region": "eu", "weight": 1}},
  "ungrouped": {"hosts": ["lonely.example"]},
  "_meta": {"hostvars": {"web1.eu": {"http_port": 8080}, "web2.eu": {"http_port": 8080}, "web3.eu": {"http_port": 8080},
    "db1.eu": {"ansible_user": "postgres", "pg": "15"}, "lonely.example": {"ansible_port": 2200}}}
}`
	for _, c := range []struct{ name, data string }{
		{"hosts.ini", iniSample}, {"hosts.yml", yamlSample}, {"cloud.json", jsonSample},
	} {
		t.Run(c.name, func(t *testing.T) {
			inv, err := Parse(c.name, []byte(c.data))
			if err != nil {
				t.Fatal(err)
			}
			if err := inv.Finish(); err != nil {
				t.Fatal(err)
			}
			if inv.Len() != 6 {
				t.Fatalf("%d hosts, want 6: %v", inv.Len(), inv.HostNames())
			}
			web2, _ := inv.Lookup("web2.eu")
			if web2.Vars["weight"] != int64(3) || web2.Vars["region"] != "eu" || web2.Vars["http_port"] != int64(8080) {
				t.Errorf("web2.eu vars = %v: want the child group's weight 3 over eu's 1, eu's region, its own http_port", web2.Vars)
			}
			if !reflect.DeepEqual(web2.Groups, []string{"eu", "web"}) {
				t.Errorf("web2.eu groups = %q, want eu then web (parents first)", web2.Groups)
			}
			db, _ := inv.Lookup("db1.eu")
			// On an INI host line, pg="15" is unquoted and then read as a
			// Python literal, as Ansible does: the number 15.
			wantPG := any("15")
			if c.name == "hosts.ini" {
				wantPG = int64(15)
			}
			if db.User != "postgres" || db.Vars["pg"] != wantPG {
				t.Errorf("db1.eu user %q vars %v", db.User, db.Vars)
			}
			lonely, _ := inv.Lookup("lonely.example")
			if lonely.Port != 2200 || len(lonely.Groups) != 0 {
				t.Errorf("lonely.example port %d groups %q", lonely.Port, lonely.Groups)
			}
			got := names(t, inv, "web:&eu:!web3.eu")
			if want := "web1.eu web2.eu web9.us"; got != want {
				t.Errorf("web:&eu:!web3.eu = %s, want %s", got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ name, data, want string }{
		{"h.ini", "[web\nx", "h.ini:1: section header"},
		{"h.ini", "[web:stuff]\n", "h.ini:1: unknown section kind"},
		{"h.ini", "ok\nweb1 port\n", "h.ini:2: expected key=value"},
		{"h.ini", "\n\n[g:vars]\nnovalue\n", "h.ini:4: expected key=value"},
		{"h.ini", "web[1:x]\n", "h.ini:1: range"},
		{"h.ini", "a:99999\n", "h.ini:1: port"},
		{"h.ini", "a \"unterminated\n", "h.ini:1: unterminated quote"},
		{"h.ini", "..\n", "h.ini:1: bad host name"},
		{"h.ini", "ok\nesc\x1bc\x07bell\n", `h.ini:2: bad host name "esc\x1bc\abell"`},
		{"h.ini", "[g]\nweb\u009b1\n", `h.ini:2: bad host name`},
		{"h.yml", "all:\n  hosts:\n    \"esc\\ec\": {}\n", `bad host name "esc\x1bc"`},
		{"c.json", `{"_meta": {"hostvars": {"a\u001b": {}}}}`, `bad host name "a\x1b"`},
		{"h.yml", "all:\n  hosts: [a, b]\n", "h.yml:2: group all: hosts must be a mapping"},
		{"h.yml", "all:\n  bogus: 1\n", "h.yml:2: group all: unknown key"},
		{"h.yml", "all: [\n", "h.yml: yaml"},
		{"c.json", `{"web": {"hosts": "a"}}`, "c.json: group web"},
		{"c.json", `{"web": `, "c.json: not Ansible inventory JSON"},
		// What Ansible refuses, gofab refuses with file:line.
		{"h.ini", "[a:children]\nweb[1:3]\n", "h.ini:2: expected a group name in [a:children], got web[1:3]"},
		{"h.yml", "all:\n  hosts:\n    123:\n", "h.yml:3: host name 123 is a number"},
		{"h.yml", "all:\n  hosts:\n    1.5:\n", "h.yml:3: host name 1.5 is a number"},
	}
	for _, c := range cases {
		_, err := Parse(c.name, []byte(c.data))
		var pe *ParseError
		if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s, %q) = %v, want an error with %q", c.name, c.data, err, c.want)
		}
	}
}

// TestControlCharactersInNames: a host name no parser looked at (a
// group's list given by the API) is refused when the inventory is
// finished.
func TestControlCharactersInNames(t *testing.T) {
	inv := New()
	inv.AddGroup(Group{Name: "web", Hosts: []string{"ok", "bell\a"}})
	if err := inv.Finish(); err == nil || !strings.Contains(err.Error(), `bad host name "bell\a"`) {
		t.Errorf("Finish = %v", err)
	}
}

func TestCycle(t *testing.T) {
	inv, err := ParseINI("h.ini", []byte("[a:children]\nb\n[b:children]\nc\n[c:children]\na\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Finish(); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("Finish = %v, want a cycle error", err)
	}
}

func names(t *testing.T, inv *Inventory, pattern string) string {
	t.Helper()
	sel, err := inv.Select(pattern, func(name string) ([]byte, error) {
		if name == "list.txt" {
			return []byte("# comment\nweb1.eu\n\ndb*\n"), nil
		}
		return nil, fmt.Errorf("no file %s", name)
	})
	if err != nil {
		return "error: " + err.Error()
	}
	var out []string
	for _, s := range sel {
		n := s.Name
		if !s.Known {
			n += "(ad hoc)"
		}
		out = append(out, n)
	}
	return strings.Join(out, " ")
}

func TestSelect(t *testing.T) {
	inv, err := ParseINI("h.ini", []byte(iniSample))
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Finish(); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ pattern, want string }{
		{"web", "web1.eu web2.eu web3.eu web9.us"},
		{"eu", "web1.eu web2.eu web3.eu web9.us db1.eu"},
		{"all", "lonely.example web1.eu web2.eu web3.eu web9.us db1.eu"},
		{"ungrouped", "lonely.example"},
		{"web*", "web1.eu web2.eu web3.eu web9.us"},
		{"*.eu", "web1.eu web2.eu web3.eu db1.eu"},
		{"web:db", "web1.eu web2.eu web3.eu web9.us db1.eu"},
		{"web,db", "web1.eu web2.eu web3.eu web9.us db1.eu"},
		{"eu:&web", "web1.eu web2.eu web3.eu web9.us"},
		{"eu:!web", "db1.eu"},
		{"web:&*.eu:!web3.eu", "web1.eu web2.eu"},
		{"web[1:2].eu", "web1.eu web2.eu"},
		{"@list.txt", "web1.eu db1.eu"},
		{"other.host:2222", "other.host:2222(ad hoc)"},
		{"deploy@10.1.1.1:22,web1.eu", "deploy@10.1.1.1:22(ad hoc) web1.eu"},
		{"::1", "::1(ad hoc)"},
		{"[::1]:22", "[::1]:22(ad hoc)"},
		{"bad:host:99999x", "bad:host:99999x(ad hoc)"},
		{"*,0@0:!web1.eu", "lonely.example web2.eu web3.eu web9.us db1.eu 0@0(ad hoc)"},
		{"::1:!web1.eu", ":1(ad hoc)"}, // nonsense, refused later as a host string
		{"web:othr", `error: "othr" is no host or group of the inventory (gofab hosts --graph shows the groups)`},
		{"web:!web9.us", "web1.eu web2.eu web3.eu"},
		{"webb*", `error: pattern "webb*" matches no host or group, did you mean "web"?`},
		{"web:&nope", `error: "nope" is no host or group of the inventory (gofab hosts --graph shows the groups)`},
		{"web:!", `error: pattern "web:!": ! needs a name after it`},
		{"@missing.txt", "error: host list missing.txt: no file missing.txt"},
	}
	for _, c := range cases {
		if got := names(t, inv, c.pattern); got != c.want {
			t.Errorf("Select(%q) = %s, want %s", c.pattern, got, c.want)
		}
	}
}

func TestFromPlain(t *testing.T) {
	inv, err := FromPlain(map[string]any{
		"web1.eu": map[string]any{"groups": []any{"web", "eu"}, "vars": map[string]any{"weight": int64(3)}},
		"db1.eu":  map[string]any{"groups": []any{"db"}, "user": "postgres", "port": int64(2222)},
		"n[1:2]":  true,
	})
	if err != nil {
		t.Fatal(err)
	}
	inv.AddGroup(Group{Name: "web", Vars: map[string]any{"http_port": int64(8080), "weight": int64(1)}})
	if err := inv.Finish(); err != nil {
		t.Fatal(err)
	}
	web, _ := inv.Lookup("web1.eu")
	if web.Vars["http_port"] != int64(8080) || web.Vars["weight"] != int64(3) {
		t.Errorf("web1.eu vars %v: the host's weight must beat the group's", web.Vars)
	}
	db, _ := inv.Lookup("db1.eu")
	if db.User != "postgres" || db.Port != 2222 {
		t.Errorf("db1.eu %+v", db)
	}
	if _, ok := inv.Lookup("n2"); !ok {
		t.Error("range n[1:2] did not declare n2")
	}
	// Hosts of one range line do not share their vars.
	shared, _ := ParseINI("h.ini", []byte("r[1:2] x=1\n"))
	shared.AddHost(Host{Name: "r1", Vars: map[string]any{"y": int64(2)}})
	shared.Finish()
	if r2, _ := shared.Lookup("r2"); r2.Vars["y"] != nil {
		t.Errorf("r2 got r1's var: %v", r2.Vars)
	}
	// Round trip through the plain form a source returns.
	again, err := FromPlain(inv.Plain("test"))
	if err != nil {
		t.Fatal(err)
	}
	again.Finish()
	if got, _ := again.Lookup("web1.eu"); !reflect.DeepEqual(got, web) {
		t.Errorf("round trip: %+v, want %+v", got, web)
	}
	for _, bad := range []any{
		map[string]any{"h": map[string]any{"prot": int64(1)}},
		map[string]any{"h": map[string]any{"port": int64(70000)}},
		map[string]any{"h": "x"},
		[]any{int64(3)},
		map[string]any{"..": true},
	} {
		if _, err := FromPlain(bad); err == nil {
			t.Errorf("FromPlain(%v) accepted", bad)
		}
	}
}

// BenchmarkResolve10000 parses a 10,000-host INI inventory (ranges, vars
// and children), resolves every host and selects with a pattern.
func BenchmarkResolve10000(b *testing.B) {
	var sb strings.Builder
	for g := 0; g < 10; g++ {
		fmt.Fprintf(&sb, "[web%d]\nweb%d-[0001:1000].example weight=%d\n[web%d:vars]\nhttp_port=80%02d\n", g, g, g, g, g)
	}
	sb.WriteString("[eu:children]\n")
	for g := 0; g < 5; g++ {
		fmt.Fprintf(&sb, "web%d\n", g)
	}
	benchResolve(b, ParseINI, "hosts.ini", []byte(sb.String()))
}

// benchResolve parses data with parse, resolves every host and selects
// with a pattern over the benchmark's 10 groups of 1,000 hosts.
func benchResolve(b *testing.B, parse func(string, []byte) (*Inventory, error), name string, data []byte) {
	b.ReportAllocs()
	for b.Loop() {
		inv, err := parse(name, data)
		if err != nil {
			b.Fatal(err)
		}
		if err := inv.Finish(); err != nil {
			b.Fatal(err)
		}
		sel, err := inv.Select("web*:&eu:!web1-000[1:9].example", nil)
		if err != nil || len(sel) != 4991 {
			b.Fatalf("%d hosts, %v", len(sel), err)
		}
	}
}

// BenchmarkResolveCommand10000 parses what a dynamic-inventory command
// prints for 10,000 hosts (groups, children, _meta hostvars), resolves
// every host and selects with a pattern.
func BenchmarkResolveCommand10000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("{")
	for g := 0; g < 10; g++ {
		fmt.Fprintf(&sb, `"web%d": {"hosts": [`, g)
		for i := 0; i < 1000; i++ {
			if i > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `"web%d-%04d.example"`, g, i)
		}
		fmt.Fprintf(&sb, `], "vars": {"http_port": %d}},`, 8000+g)
	}
	sb.WriteString(`"eu": {"children": ["web0", "web1", "web2", "web3", "web4"]}, "_meta": {"hostvars": {`)
	for g := 0; g < 10; g++ {
		for i := 0; i < 1000; i++ {
			if g+i > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `"web%d-%04d.example": {"ansible_host": "10.%d.%d.%d", "weight": %d}`, g, i, g, i/250, i%250, i%7)
		}
	}
	sb.WriteString("}}}")
	benchResolve(b, ParseJSON, "cloud-hosts", []byte(sb.String()))
}

// TestPortPrecedence: as in Ansible, a port var on the host's own line
// beats the host:port it follows, which beats a group's port var.
func TestPortPrecedence(t *testing.T) {
	inv, err := ParseINI("hosts", []byte(`host1:2201 ansible_port=2300
host2:2202
host3

[all:vars]
ansible_port=2400
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Finish(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"host1": 2300, "host2": 2202, "host3": 2400} {
		if r, _ := inv.Lookup(name); r.Port != want {
			t.Errorf("%s port %d, want %d", name, r.Port, want)
		}
	}
}

// TestINIInYAMLFile: an INI inventory named hosts.yml is read as INI, as
// Ansible does; a YAML mistake in a real YAML file is still reported.
func TestINIInYAMLFile(t *testing.T) {
	inv, err := Parse("hosts.yml", []byte("# kolla-style\n[web]\nweb1 ansible_port=2201\nweb2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Finish(); err != nil {
		t.Fatal(err)
	}
	if got := inv.Members("web"); len(got) != 2 {
		t.Errorf("web = %v", got)
	}
	if _, err := Parse("hosts.yml", []byte("all:\n  hosts:\n    web1:\n   bad: [\n")); err == nil {
		t.Error("malformed YAML accepted")
	}
}

// TestAnsibleHostForms: forms real inventories use that Ansible reads: a
// range with no start, an IPv6 address with a port.
func TestAnsibleHostForms(t *testing.T) {
	inv, err := ParseINI("hosts", []byte("[mail]\nmail[:2].example.com\n[db]\n[2001:db8::1]:2222\n2001:db8::2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Finish(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(inv.Members("mail"), " "); got != "mail0.example.com mail1.example.com mail2.example.com" {
		t.Errorf("mail = %s", got)
	}
	if got := strings.Join(inv.Members("db"), " "); got != "2001:db8::1 2001:db8::2" {
		t.Errorf("db = %s", got)
	}
	if r, _ := inv.Lookup("2001:db8::1"); r.Port != 2222 {
		t.Errorf("2001:db8::1 port %d, want 2222", r.Port)
	}
}

// TestParseWarnings: what Ansible reads differently from gofab 0.2, or
// refuses where gofab goes on, is said once with file:line.
func TestParseWarnings(t *testing.T) {
	cases := []struct{ data, want string }{
		{"[web]\nw1 flag=true\nw2 other=no\n", `h.ini:2: flag=true is the string "true", as in Ansible`},
		{"[a:children]\nb\n", "h.ini:2: [a:children] names b, a group the file never defines"},
	}
	for _, c := range cases {
		inv, err := Parse("h.ini", []byte(c.data))
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Warnings) != 1 || !strings.HasPrefix(inv.Warnings[0], c.want) {
			t.Errorf("%q: warnings %q, want one starting %q", c.data, inv.Warnings, c.want)
		}
	}
	inv, _ := Parse("h.ini", []byte("[web]\nw1 flag=True\n"))
	if len(inv.Warnings) != 0 {
		t.Errorf("True is a boolean in Ansible too: %q", inv.Warnings)
	}
}
