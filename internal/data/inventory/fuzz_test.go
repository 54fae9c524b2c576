package inventory

import (
	"strings"
	"testing"
)

// FuzzParse feeds inventory files of every format: parsing never panics,
// errors are ParseErrors naming the file, and a parsed inventory resolves
// (or reports a cycle) and answers a pattern.
func FuzzParse(f *testing.F) {
	f.Add("hosts.ini", iniSample)
	f.Add("hosts.ini", "[a:children]\nb\n[b:children]\na\n")
	f.Add("hosts.ini", "web[01:03] x=1 'q'=\"v\"\n[g:vars]\nk=v\n")
	f.Add("hosts.yml", "all:\n  hosts:\n    a: {ansible_port: 22}\n  children:\n    g:\n      hosts: {b: null}\n")
	f.Add("c.json", `{"g": {"hosts": ["a"], "vars": {"x": 1}, "children": ["h"]}, "h": ["b"], "_meta": {"hostvars": {"a": {"y": [1, 2]}}}}`)
	f.Fuzz(func(t *testing.T, name, data string) {
		inv, err := Parse(name, []byte(data))
		if err != nil {
			if _, ok := err.(*ParseError); !ok || !strings.HasPrefix(err.Error(), name) {
				t.Fatalf("error %T %q does not name %s", err, err, name)
			}
			return
		}
		if err := inv.Finish(); err != nil {
			return
		}
		for _, n := range inv.HostNames() {
			if _, ok := inv.Lookup(n); !ok {
				t.Fatalf("host %q declared but not resolved", n)
			}
		}
		inv.Select("all:!ungrouped", nil)
	})
}

// FuzzSelect: any pattern either selects hosts or gives an error; it
// never panics, and never selects an excluded host.
func FuzzSelect(f *testing.F) {
	for _, p := range []string{"web:&eu:!web3.eu", "web*", "db[1:3]", "@x", "::1", "[::1]:22", "a:b:c", "!", "&web", "web[0:100000]"} {
		f.Add(p)
	}
	inv, err := ParseINI("h.ini", []byte(iniSample))
	if err != nil {
		f.Fatal(err)
	}
	if err := inv.Finish(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		sel, err := inv.Select(pattern+":!web1.eu", nil)
		if err != nil {
			return
		}
		for _, h := range sel {
			if h.Name == "web1.eu" {
				t.Fatalf("pattern %q selected an excluded host", pattern)
			}
		}
	})
}
