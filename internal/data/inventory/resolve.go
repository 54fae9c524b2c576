package inventory

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// groupDepth is 1 for a group without parents (a child of all), else one
// more than its deepest parent; path detects cycles.
func (inv *Inventory) groupDepth(name string, path []string) (int, error) {
	if d, ok := inv.depth[name]; ok {
		return d, nil
	}
	if i := indexOf(path, name); i >= 0 {
		return 0, fmt.Errorf("group children form a cycle: %s", strings.Join(append(path[i:], name), " -> "))
	}
	d := 1
	for _, p := range inv.parents[name] {
		pd, err := inv.groupDepth(p, append(path, name))
		if err != nil {
			return 0, err
		}
		d = max(d, pd+1)
	}
	inv.depth[name] = d
	return d, nil
}

// ancestors returns name and every group above it.
func (inv *Inventory) ancestors(name string, seen map[string]bool) {
	if seen[name] {
		return
	}
	seen[name] = true
	for _, p := range inv.parents[name] {
		inv.ancestors(p, seen)
	}
}

// entry makes h's entry from its own groups and those that list it
// (inGroups, in group order).
func (inv *Inventory) entry(h *Host, inGroups []string) entry {
	direct := inGroups
	if len(h.Groups) > 0 {
		direct = append([]string(nil), h.Groups...)
		for _, g := range inGroups {
			if !contains(direct, g) {
				direct = append(direct, g)
			}
		}
	}
	key := strings.Join(direct, "\x00") // no copy for one group
	set, ok := inv.groupSets[key]
	if !ok {
		set = inv.groupSet(direct)
		inv.groupSets[key] = set
	}
	return entry{host: h, set: set}
}

// groupSet returns every group above the direct groups, in merge order,
// and their vars merged: all first, then by depth, then by name.
func (inv *Inventory) groupSet(direct []string) *groupSet {
	seen := map[string]bool{}
	for _, g := range direct {
		inv.ancestors(g, seen)
	}
	groups := make([]string, 0, len(seen))
	for g := range seen {
		if g != All && g != Ungrouped {
			groups = append(groups, g)
		}
	}
	sort.Slice(groups, func(i, j int) bool {
		di, dj := inv.depth[groups[i]], inv.depth[groups[j]]
		if di != dj {
			return di < dj
		}
		return groups[i] < groups[j]
	})
	vars := map[string]any{}
	if g, ok := inv.groups[All]; ok {
		for k, v := range g.Vars {
			vars[k] = v
		}
	}
	for _, g := range groups {
		if !inv.groups[g].Role {
			for k, v := range inv.groups[g].Vars {
				vars[k] = v
			}
		}
	}
	// group_vars/ files beat every inventory file's group vars, as in
	// Ansible: all's first, then the others by depth.
	if g, ok := inv.groups[All]; ok {
		for k, v := range g.DirVars {
			vars[k] = v
		}
	}
	for _, g := range groups {
		for k, v := range inv.groups[g].DirVars {
			vars[k] = v
		}
	}
	return &groupSet{groups: groups, vars: vars}
}

// connection takes the connection settings from the host's own fields,
// else from the merged vars under Ansible's names.
func (e entry) connection() (*Resolved, error) {
	h := e.host
	str := func(own string, keys ...string) string {
		if own != "" {
			return own
		}
		for _, k := range keys {
			if v, ok := e.get(k); ok && v != nil {
				if s, isString := v.(string); isString {
					return s
				}
				return fmt.Sprint(v)
			}
		}
		return ""
	}
	r := &Resolved{Name: h.Name, Groups: e.set.groups}
	r.Address = str(h.Address, "ansible_host", "ansible_ssh_host")
	r.User = str(h.User, "ansible_user", "ansible_ssh_user")
	r.Identity = str(h.Identity, "ansible_ssh_private_key_file", "ansible_private_key_file")
	r.Gateway = str(h.Gateway, "gofab_gateway")
	if r.Gateway == "" {
		r.Gateway = JumpHost(str("", "ansible_ssh_common_args") + " " + str("", "ansible_ssh_extra_args"))
	}
	var err error
	r.Port, err = e.port()
	return r, err
}

// port returns the host's port, by Ansible's precedence: ansible_port in
// the host's own vars (written on its line: "host1:2201 ansible_port=2300"
// connects to 2300, as in Ansible, where the host's port is just the
// first value of that var), then the port of its host string, then
// ansible_port from its groups.
func (e entry) port() (int, error) {
	own := func(k string) (any, bool) {
		if v, ok := e.host.DirVars[k]; ok {
			return v, true
		}
		v, ok := e.host.Vars[k]
		return v, ok
	}
	if p, err := varPort(own); p != 0 || err != nil {
		return p, err
	}
	if e.host.Port != 0 {
		return e.host.Port, nil
	}
	return varPort(e.get)
}

// varPort is ansible_port (or ansible_ssh_port) as get finds it, or 0.
func varPort(get func(string) (any, bool)) (int, error) {
	for _, k := range []string{"ansible_port", "ansible_ssh_port"} {
		v, ok := get(k)
		if !ok || v == nil {
			continue
		}
		p := fmt.Sprint(v)
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return 0, fmt.Errorf("port %q is not a number from 1 to 65535", p)
		}
		return n, nil
	}
	return 0, nil
}

// Connection is Lookup without the merged vars: the host's groups and
// connection settings, for listings that show no more.
func (inv *Inventory) Connection(name string) (*Resolved, bool) {
	e, ok := inv.resolved[name]
	if !ok {
		return nil, false
	}
	r, _ := e.connection() // checked by Finish
	return r, true
}

// Lookup returns the resolved host name with its vars merged (a fresh
// copy the caller owns). Finish must have been called.
func (inv *Inventory) Lookup(name string) (*Resolved, bool) {
	r, ok := inv.Connection(name)
	if !ok {
		return nil, false
	}
	e := inv.resolved[name]
	r.Vars = make(map[string]any, len(e.set.vars)+len(e.host.Vars))
	for k, v := range e.set.vars {
		r.Vars[k] = v
	}
	for k, v := range e.host.Vars {
		r.Vars[k] = v
	}
	for k, v := range e.host.DirVars {
		r.Vars[k] = v
	}
	return r, true
}
