package inventory

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// yaml11Bools are the words YAML 1.1 (which Ansible's PyYAML reads)
// makes booleans and YAML 1.2 leaves strings.
var yaml11Bools = map[string]string{
	"yes": "true", "Yes": "true", "YES": "true", "on": "true", "On": "true", "ON": "true",
	"no": "false", "No": "false", "NO": "false", "off": "false", "Off": "false", "OFF": "false",
}

// yaml11 retypes n's plain scalars as YAML 1.1 reads them: yes/no/on/off
// are booleans, and a date stays the text Ansible prints for it
// (2024-01-02), not a time.
func yaml11(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Style == 0 {
		switch n.Tag {
		case "!!str":
			if b, ok := yaml11Bools[n.Value]; ok {
				n.Tag, n.Value = "!!bool", b
			}
		case "!!timestamp":
			n.Tag = "!!str"
		}
	}
	for _, c := range n.Content {
		yaml11(c)
	}
}

// ParseYAML reads Ansible's YAML inventory: top-level groups (usually
// all), each with hosts (name: vars or null), vars and children (more
// groups).
func ParseYAML(name string, data []byte) (*Inventory, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ParseError{File: name, Msg: err.Error()}
	}
	inv := New()
	if len(root.Content) == 0 {
		return inv, nil
	}
	yaml11(&root)
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, &ParseError{File: name, Line: doc.Line, Msg: "an inventory is a mapping of group names"}
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if err := yamlGroup(inv, name, doc.Content[i].Value, doc.Content[i+1], nil); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

func yamlGroup(inv *Inventory, file, group string, n *yaml.Node, path []string) error {
	fail := func(n *yaml.Node, format string, args ...any) error {
		return &ParseError{File: file, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
	}
	if indexOf(path, group) >= 0 {
		return fail(n, "group children form a cycle: %s -> %s", strings.Join(path, " -> "), group)
	}
	inv.AddGroup(Group{Name: group})
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fail(n, "group %s: expected hosts, vars and children", group)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		switch key.Value {
		case "hosts":
			if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
				continue
			}
			if val.Kind != yaml.MappingNode {
				return fail(val, "group %s: hosts must be a mapping of host names", group)
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				if k := val.Content[j]; k.Tag == "!!int" || k.Tag == "!!float" {
					return fail(k, "host name %s is a number: quote it (\"%s\"), as Ansible requires", k.Value, k.Value)
				}
				var vars map[string]any
				if hv := val.Content[j+1]; !(hv.Kind == yaml.ScalarNode && hv.Tag == "!!null") {
					if err := hv.Decode(&vars); err != nil {
						return fail(hv, "host %s: vars: %v", val.Content[j].Value, err)
					}
				}
				if err := addHostPattern(inv, val.Content[j].Value, group, normalize(vars)); err != nil {
					return fail(val.Content[j], "%v", err)
				}
			}
		case "vars":
			var vars map[string]any
			if err := val.Decode(&vars); err != nil {
				return fail(val, "group %s: vars: %v", group, err)
			}
			inv.AddGroup(Group{Name: group, Vars: normalize(vars)})
		case "children":
			if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
				continue
			}
			if val.Kind != yaml.MappingNode {
				return fail(val, "group %s: children must be a mapping of groups", group)
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				child := val.Content[j].Value
				inv.AddGroup(Group{Name: group, Children: []string{child}})
				if err := yamlGroup(inv, file, child, val.Content[j+1], append(path, group)); err != nil {
					return err
				}
			}
		default:
			return fail(key, "group %s: unknown key %q (hosts, vars or children)", group, key.Value)
		}
	}
	return nil
}

// ParseJSON reads what an Ansible dynamic-inventory script prints for
// --list: {"group": {"hosts": [...], "vars": {...}, "children": [...]},
// "_meta": {"hostvars": {"host": {...}}}}; a group may also be a plain
// list of hosts. The JSON is decoded once, into plain data.
func ParseJSON(name string, data []byte) (*Inventory, error) {
	var top map[string]any
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, &ParseError{File: name, Msg: "not Ansible inventory JSON: " + err.Error()}
	}
	fail := func(format string, args ...any) error {
		return &ParseError{File: name, Msg: fmt.Sprintf(format, args...)}
	}
	inv := New()
	// Map order is random: go by name, so the output is stable.
	for _, group := range slices.Sorted(maps.Keys(top)) {
		if group == "_meta" {
			continue
		}
		var hosts []any
		switch g := top[group].(type) {
		case []any:
			hosts = g
		case map[string]any:
			var ok bool
			if hosts, ok = g["hosts"].([]any); !ok && g["hosts"] != nil {
				return nil, fail("group %s: hosts must be a list of names", group)
			}
			vars, ok := g["vars"].(map[string]any)
			if !ok && g["vars"] != nil {
				return nil, fail("group %s: vars must be an object", group)
			}
			children, err := stringList(g["children"])
			if err != nil {
				return nil, fail("group %s: children %v", group, err)
			}
			inv.AddGroup(Group{Name: group, Vars: normalize(vars), Children: children})
		default:
			return nil, fail("group %s: give an object with hosts, vars and children, or a list of hosts", group)
		}
		for _, h := range hosts {
			hs, ok := h.(string)
			if !ok {
				return nil, fail("group %s: a host name is not a string", group)
			}
			if err := addHostPattern(inv, hs, group, nil); err != nil {
				return nil, fail("group %s: %v", group, err)
			}
		}
	}
	if meta, ok := top["_meta"].(map[string]any); ok {
		hostvars, ok := meta["hostvars"].(map[string]any)
		if !ok && meta["hostvars"] != nil {
			return nil, fail("_meta.hostvars must be an object")
		}
		for _, h := range slices.Sorted(maps.Keys(hostvars)) {
			vars, ok := hostvars[h].(map[string]any)
			if !ok {
				return nil, fail("_meta.hostvars.%s must be an object", h)
			}
			if err := checkName(h); err != nil {
				return nil, fail("_meta.hostvars: %v", err)
			}
			inv.AddHost(Host{Name: h, Vars: normalize(vars)})
		}
	}
	inv.sortHosts()
	return inv, nil
}

// normalize turns decoded YAML or JSON into plain data, in place: whole
// float64s become int64.
func normalize(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = plain(v)
	}
	return m
}

func plain(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
		return x
	case int:
		return int64(x)
	case map[string]any:
		return normalize(x)
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
		return x
	}
	return v
}
