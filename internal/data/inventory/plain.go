package inventory

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
)

// SourceKey marks the plain form of an inventory read from a source.
const SourceKey = "_inventory"

// Plain returns the inventory as plain data, the form the Lua inventory
// module hands a fabfile and hosts() takes back:
//
//	{_inventory = source, hosts = {name = {groups, vars, user, port, …}},
//	 groups = {name = {hosts, children, vars}},
//	 host_order = {names…}, group_order = {names…}}
//
// The orders keep the source's declaration order (which a Lua table's keys
// lose): Ansible lists hosts and groups in the file's order.
func (inv *Inventory) Plain(source string) map[string]any {
	hosts := make(map[string]any, len(inv.order))
	for _, n := range inv.order {
		h := inv.hosts[n]
		spec := map[string]any{"groups": strs(h.Groups), "vars": h.Vars}
		if len(h.DirVars) > 0 {
			spec["dir_vars"] = h.DirVars
		}
		for k, v := range map[string]string{"address": h.Address, "user": h.User, "identity": h.Identity, "gateway": h.Gateway} {
			if v != "" {
				spec[k] = v
			}
		}
		if h.Port != 0 {
			spec["port"] = int64(h.Port)
		}
		hosts[n] = spec
	}
	groups := make(map[string]any, len(inv.gorder))
	for _, n := range inv.gorder {
		g := inv.groups[n]
		spec := map[string]any{"hosts": strs(g.Hosts), "children": strs(g.Children), "vars": g.Vars}
		if len(g.DirVars) > 0 {
			spec["dir_vars"] = g.DirVars
		}
		groups[n] = spec
	}
	return map[string]any{SourceKey: source, "hosts": hosts, "groups": groups,
		"host_order": strs(inv.order), "group_order": strs(inv.gorder)}
}

func strs(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// FromPlain reads what hosts() was given: the plain form Plain returns; a
// table of host name = spec (spec: groups, vars, user, port, identity,
// gateway, address; or true); or a list of host names. Names may hold
// ranges.
func FromPlain(v any) (*Inventory, error) {
	inv := New()
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			name, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("a list of hosts holds a %T, not a name", e)
			}
			if err := addSpec(inv, name, nil); err != nil {
				return nil, err
			}
		}
	case string:
		if err := addSpec(inv, x, nil); err != nil {
			return nil, err
		}
	case map[string]any:
		if _, ok := x[SourceKey]; ok {
			return fromSource(inv, x)
		}
		for _, n := range slices.Sorted(maps.Keys(x)) {
			spec, _ := x[n].(map[string]any)
			if b, isBool := x[n].(bool); x[n] != nil && spec == nil && !(isBool && b) {
				return nil, fmt.Errorf("host %s: give a table of groups, vars, user, port, identity, gateway, address (or true)", n)
			}
			if err := addSpec(inv, n, spec); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("hosts() takes a table of hosts, a list of names, or an inventory source, not a %T", v)
	}
	return inv, nil
}

func fromSource(inv *Inventory, x map[string]any) (*Inventory, error) {
	hosts, _ := x["hosts"].(map[string]any)
	groups, _ := x["groups"].(map[string]any)
	for _, n := range sourceOrder(x["group_order"], groups) {
		spec, _ := groups[n].(map[string]any)
		g, err := GroupFromPlain(n, spec)
		if err != nil {
			return nil, err
		}
		inv.AddGroup(g)
	}
	for _, n := range sourceOrder(x["host_order"], hosts) {
		spec, _ := hosts[n].(map[string]any)
		if err := addSpec(inv, n, spec); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

// sourceOrder returns the keys of m in the order a source gave (names
// missing from it, added in Lua, follow sorted), or sorted.
func sourceOrder(order any, m map[string]any) []string {
	list, _ := order.([]any)
	out := make([]string, 0, len(m))
	seen := map[string]bool{}
	for _, e := range list {
		if n, ok := e.(string); ok && m[n] != nil && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(m)) {
		if !seen[n] {
			out = append(out, n)
		}
	}
	return out
}

var hostKeys = []string{"groups", "vars", "user", "port", "identity", "gateway", "address", "forward_agent", "dir_vars"}

func addSpec(inv *Inventory, name string, spec map[string]any) error {
	for k := range spec {
		if !contains(hostKeys, k) {
			return fmt.Errorf("host %s: unknown key %q (known: %s)", name, k, strings.Join(hostKeys, ", "))
		}
	}
	h := Host{}
	var err error
	if h.Groups, err = stringList(spec["groups"]); err != nil {
		return fmt.Errorf("host %s: groups: %v", name, err)
	}
	if h.Vars, err = varsTable(spec["vars"]); err != nil {
		return fmt.Errorf("host %s: vars %v", name, err)
	}
	if h.DirVars, err = varsTable(spec["dir_vars"]); err != nil {
		return fmt.Errorf("host %s: dir_vars %v", name, err)
	}
	for k, dst := range map[string]*string{"user": &h.User, "identity": &h.Identity, "gateway": &h.Gateway, "address": &h.Address} {
		if v, ok := spec[k]; ok {
			s, isStr := v.(string)
			if !isStr {
				return fmt.Errorf("host %s: %s must be a string", name, k)
			}
			*dst = s
		}
	}
	if v, ok := spec["port"]; ok {
		p, isInt := v.(int64)
		if !isInt || p < 1 || p > 65535 {
			return fmt.Errorf("host %s: port must be a number from 1 to 65535", name)
		}
		h.Port = int(p)
	}
	if fa, ok := spec["forward_agent"]; ok {
		if h.Vars == nil {
			h.Vars = map[string]any{}
		}
		h.Vars["forward_agent"] = fa
	}
	h.Vars = maps.Clone(h.Vars) // the spec may be a source's, shared
	_, err = addHosts(inv, name, h)
	return err
}

// GroupFromPlain reads group()'s table: hosts, children and vars.
func GroupFromPlain(name string, spec map[string]any) (Group, error) {
	g := Group{Name: name}
	for k := range spec {
		if k != "hosts" && k != "children" && k != "vars" && k != "dir_vars" {
			return g, fmt.Errorf("group %s: unknown key %q (hosts, children, vars)", name, k)
		}
	}
	var err error
	var hosts []string
	if hosts, err = stringList(spec["hosts"]); err != nil {
		return g, fmt.Errorf("group %s: hosts: %v", name, err)
	}
	for _, h := range hosts {
		names, err := ExpandRange(h)
		if err != nil {
			return g, fmt.Errorf("group %s: %v", name, err)
		}
		g.Hosts = append(g.Hosts, names...)
	}
	if g.Children, err = stringList(spec["children"]); err != nil {
		return g, fmt.Errorf("group %s: children: %v", name, err)
	}
	if g.Vars, err = varsTable(spec["vars"]); err != nil {
		return g, fmt.Errorf("group %s: vars %v", name, err)
	}
	if g.DirVars, err = varsTable(spec["dir_vars"]); err != nil {
		return g, fmt.Errorf("group %s: dir_vars %v", name, err)
	}
	return g, nil
}

// varsTable reads a table of name = value (an empty table may come as an
// empty list).
func varsTable(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	vars, ok := v.(map[string]any)
	if !ok {
		if l, isList := v.([]any); !isList || len(l) > 0 {
			return nil, fmt.Errorf("must be a table of name = value")
		}
	}
	return vars, nil
}

// stringList accepts nil, a string or a list of strings (an empty table
// comes as an empty map).
func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{x}, nil
	case map[string]any:
		if len(x) == 0 {
			return nil, nil
		}
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d is not a string", i+1)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("must be a list of names")
}

// WriteGraph prints the group tree under all, Ansible's --graph style:
// groups with @, hosts under their direct groups.
func (inv *Inventory) WriteGraph(w io.Writer) {
	children := map[string][]string{}
	hasParent := map[string]bool{}
	for _, n := range inv.gorder {
		for _, c := range inv.groups[n].Children {
			children[n] = append(children[n], c)
			hasParent[c] = true
		}
	}
	direct := map[string][]string{}
	for _, n := range inv.order {
		for _, g := range inv.hosts[n].Groups {
			direct[g] = append(direct[g], n)
		}
	}
	for _, g := range inv.gorder {
		for _, h := range inv.groups[g].Hosts {
			if !contains(direct[g], h) {
				direct[g] = append(direct[g], h)
			}
		}
	}
	var top []string
	for _, n := range inv.GroupNames() {
		if n != All && !hasParent[n] {
			top = append(top, n)
		}
	}
	ungrouped := inv.Members(Ungrouped)
	fmt.Fprintln(w, "@all:")
	var walk func(g string, indent string)
	walk = func(g string, indent string) {
		fmt.Fprintf(w, "%s|--@%s:\n", indent, g)
		kids := append([]string(nil), children[g]...)
		sort.Strings(kids)
		for _, c := range kids {
			walk(c, indent+"|  ")
		}
		hs := direct[g]
		if g == Ungrouped {
			hs = ungrouped
		}
		for _, h := range hs {
			fmt.Fprintf(w, "%s|  |--%s\n", indent, h)
		}
	}
	for _, g := range top {
		if g == Ungrouped && len(ungrouped) == 0 {
			continue
		}
		walk(g, "  ")
	}
	if !contains(top, Ungrouped) && len(ungrouped) > 0 {
		walk(Ungrouped, "  ")
	}
}
