// Package inventory holds the fleet a fabfile declares: hosts with their
// connection settings and vars, groups with children and vars, read from
// Lua tables, Ansible INI and YAML files, dynamic-inventory JSON and
// ssh_config; it merges each host's vars in a documented order and selects
// hosts with Ansible-style patterns (web:&eu:!web3.eu).
//
// An Inventory is built once per run, in the planning state, then frozen by
// Finish; after that it is read-only and safe to share between goroutines.
package inventory

import (
	"fmt"
	"maps"
	"sort"

	"github.com/gofab/gofab/internal/base/host"
)

// All is the group every host belongs to.
const All = "all"

// Ungrouped holds the hosts that are in no other group.
const Ungrouped = "ungrouped"

// Host is one host as a source declared it.
type Host struct {
	Name string
	// Groups are the groups the host was put in directly.
	Groups []string
	Vars   map[string]any
	// DirVars are the host's host_vars/ file(s) next to an Ansible
	// inventory: they beat Vars (see Resolved.Vars).
	DirVars map[string]any
	// Connection settings; empty when the source gave none.
	Address, User, Identity, Gateway string
	Port                             int

	// inGroups are the groups that list the host (see directGroups).
	inGroups []string
}

// Group is one group as a source declared it.
type Group struct {
	Name     string
	Hosts    []string
	Children []string
	Vars     map[string]any
	// DirVars are the group's group_vars/ file(s) next to an Ansible
	// inventory (see Resolved.Vars).
	DirVars map[string]any
	// Role marks a group made from env.roledefs: as in Fabric, its vars go
	// to a host only when the role selected it, so they are left out of
	// the inventory's merge.
	Role bool
}

// Resolved is a host with everything the inventory knows of it.
type Resolved struct {
	Name string
	// Groups are all the host's groups, ancestors included, without all
	// and ungrouped, in merge order.
	Groups []string
	// Vars are merged in Ansible's order of precedence: the groups' vars
	// from the inventory sources (all, then groups from parents to
	// children, by depth then name), then group_vars/all, then the other
	// groups' group_vars/ in the same order, then the host's own vars,
	// then its host_vars/.
	Vars map[string]any
	// Connection settings after the merge (ansible_host, ansible_user,
	// ansible_port, ansible_ssh_private_key_file, gofab_gateway or the
	// host's own fields).
	Address, User, Identity, Gateway string
	Port                             int
}

// Inventory is a set of hosts and groups.
type Inventory struct {
	hosts  map[string]*Host
	order  []string
	groups map[string]*Group
	gorder []string

	// member is each group's set of direct hosts.
	member map[string]map[string]bool

	resolved map[string]entry
	depth    map[string]int
	parents  map[string][]string
	// members lists each group's hosts, children's included.
	members map[string][]string
	// Warnings are what a source said of values it read differently
	// from earlier gofab versions (file:line: message).
	Warnings []string

	// groupSets caches, by a host's direct groups, all its groups and
	// their merged vars: hosts of one kind share them.
	groupSets map[string]*groupSet
}

type groupSet struct {
	groups []string
	vars   map[string]any
}

// entry is a host with its group set; Lookup merges the vars.
type entry struct {
	host *Host
	set  *groupSet
}

// get returns the merged var k.
func (e entry) get(k string) (any, bool) {
	if v, ok := e.host.DirVars[k]; ok {
		return v, true
	}
	if v, ok := e.host.Vars[k]; ok {
		return v, true
	}
	v, ok := e.set.vars[k]
	return v, ok
}

// New returns an empty inventory.
func New() *Inventory {
	return &Inventory{hosts: map[string]*Host{}, groups: map[string]*Group{}, member: map[string]map[string]bool{}}
}

// AddHost adds h, or merges it into the host of the same name: groups are
// added, vars and connection settings given override. A new host keeps
// h.Vars itself: the caller gives it up.
func (inv *Inventory) AddHost(h Host) {
	cur, ok := inv.hosts[h.Name]
	if !ok {
		vars := h.Vars
		if vars == nil {
			vars = map[string]any{}
		}
		cur = &Host{Name: h.Name, Vars: vars}
		inv.hosts[h.Name] = cur
		inv.order = append(inv.order, h.Name)
		h.Vars = nil
	}
	for _, g := range h.Groups {
		if !contains(cur.Groups, g) {
			cur.Groups = append(cur.Groups, g)
		}
		inv.addMember(inv.group(g), h.Name)
	}
	for k, v := range h.Vars {
		cur.Vars[k] = v
	}
	cur.DirVars = mergeVars(cur.DirVars, h.DirVars)
	setIf(&cur.Address, h.Address)
	setIf(&cur.User, h.User)
	setIf(&cur.Identity, h.Identity)
	setIf(&cur.Gateway, h.Gateway)
	if h.Port != 0 {
		cur.Port = h.Port
	}
	inv.resolved = nil
}

// AddGroup adds g, or merges it into the group of the same name. Hosts it
// names that are not known yet are added.
func (inv *Inventory) AddGroup(g Group) {
	cur := inv.group(g.Name)
	cur.Role = cur.Role || g.Role
	for _, h := range g.Hosts {
		if _, ok := inv.hosts[h]; !ok {
			inv.AddHost(Host{Name: h})
		}
		inv.addMember(cur, h)
	}
	for _, c := range g.Children {
		inv.group(c)
		if !contains(cur.Children, c) {
			cur.Children = append(cur.Children, c)
		}
	}
	for k, v := range g.Vars {
		cur.Vars[k] = v
	}
	cur.DirVars = mergeVars(cur.DirVars, g.DirVars)
	inv.resolved = nil
}

// addMember puts host h in group g directly.
func (inv *Inventory) addMember(g *Group, h string) {
	set := inv.member[g.Name]
	if set == nil {
		set = map[string]bool{}
		inv.member[g.Name] = set
	}
	if !set[h] {
		set[h] = true
		g.Hosts = append(g.Hosts, h)
	}
	inv.resolved = nil
}

// grow makes room for n more hosts.
func (inv *Inventory) grow(n int) {
	if len(inv.hosts) == 0 && n > 64 {
		inv.hosts = make(map[string]*Host, n)
		inv.order = make([]string, 0, n)
	}
}

// Merge adds every host and group of other.
func (inv *Inventory) Merge(other *Inventory) {
	for _, n := range other.gorder {
		inv.AddGroup(*other.groups[n])
	}
	for _, n := range other.order {
		h := *other.hosts[n]
		h.Vars = maps.Clone(h.Vars) // AddHost keeps a new host's map
		inv.AddHost(h)
	}
}

func (inv *Inventory) group(name string) *Group {
	g, ok := inv.groups[name]
	if !ok {
		g = &Group{Name: name, Vars: map[string]any{}}
		inv.groups[name] = g
		inv.gorder = append(inv.gorder, name)
	}
	return g
}

// sortHosts declares hosts and groups in name order (for sources whose
// order means nothing, such as JSON objects).
func (inv *Inventory) sortHosts() {
	sort.Strings(inv.order)
	sort.Strings(inv.gorder)
}

// Len returns the number of hosts.
func (inv *Inventory) Len() int { return len(inv.order) }

// HostNames returns the hosts in the order they were declared.
func (inv *Inventory) HostNames() []string { return append([]string(nil), inv.order...) }

// GroupNames returns the groups, sorted, all included.
func (inv *Inventory) GroupNames() []string {
	names := append([]string(nil), inv.gorder...)
	if _, ok := inv.groups[All]; !ok {
		names = append(names, All)
	}
	sort.Strings(names)
	return names
}

// HasGroup reports whether name is a group (all and ungrouped always are).
func (inv *Inventory) HasGroup(name string) bool {
	_, ok := inv.groups[name]
	return ok || name == All || name == Ungrouped
}

// Group returns a group as declared.
func (inv *Inventory) Group(name string) (Group, bool) {
	g, ok := inv.groups[name]
	if !ok {
		return Group{}, false
	}
	return *g, true
}

// Finish checks the groups (a child that is its own ancestor is an error)
// and resolves every host's groups, vars and connection settings.
func (inv *Inventory) Finish() error {
	if inv.resolved != nil {
		return nil
	}
	for _, n := range inv.order {
		if host.HasControl(n) {
			return fmt.Errorf("bad host name %q: it holds a control character", n)
		}
	}
	inv.parents = map[string][]string{}
	for _, n := range inv.gorder {
		for _, c := range inv.groups[n].Children {
			if c == All {
				return fmt.Errorf("group %s: %q cannot be a child", n, All)
			}
			inv.parents[c] = append(inv.parents[c], n)
		}
	}
	inv.depth = map[string]int{All: 0}
	for _, n := range inv.gorder {
		if _, err := inv.groupDepth(n, nil); err != nil {
			return err
		}
	}
	inv.resolved = make(map[string]entry, len(inv.order))
	inv.members = map[string][]string{}
	inv.groupSets = map[string]*groupSet{}
	inv.directGroups()
	for _, n := range inv.order {
		e := inv.entry(inv.hosts[n], inv.hosts[n].inGroups)
		if _, err := e.port(); err != nil {
			inv.resolved = nil
			return fmt.Errorf("host %s: %w", n, err)
		}
		inv.resolved[n] = e
		if len(e.set.groups) == 0 {
			inv.members[Ungrouped] = append(inv.members[Ungrouped], n)
		}
	}
	top := inv.topGroups()
	for _, g := range inv.gorder {
		if g != All && g != Ungrouped {
			inv.members[g] = inv.walk(g, inv.groups[g].Children)
		}
	}
	inv.members[All] = inv.walk(All, top)
	return nil
}

// directGroups sets each host's inGroups: the groups that list it, in
// group order, from passes over the groups (not one over every group per
// host), in one array for all hosts.
func (inv *Inventory) directGroups() {
	count := make(map[*Host]int, len(inv.order))
	total := 0
	for _, g := range inv.gorder {
		for _, h := range inv.groups[g].Hosts {
			count[inv.hosts[h]]++
			total++
		}
	}
	flat := make([]string, 0, total)
	for _, n := range inv.order {
		h := inv.hosts[n]
		h.inGroups = flat[len(flat) : len(flat) : len(flat)+count[h]]
		flat = flat[:len(flat)+count[h]]
	}
	for _, g := range inv.gorder {
		for _, n := range inv.groups[g].Hosts {
			h := inv.hosts[n]
			h.inGroups = append(h.inGroups, g)
		}
	}
}

// topGroups are all's children besides ungrouped, in declaration order:
// the groups without a parent, and those declared under all.
func (inv *Inventory) topGroups() []string {
	var top []string
	for _, n := range inv.gorder {
		if ps := inv.parents[n]; n != All && n != Ungrouped && (len(ps) == 0 || contains(ps, All)) {
			top = append(top, n)
		}
	}
	return top
}

// walk lists group g's hosts in Ansible's order: the group's own hosts
// (all's: ungrouped's), then its children's level by level (children in
// the order they were added; below them Ansible iterates a set, in no
// order a file states), each host once. Finish has filled ungrouped.
func (inv *Inventory) walk(g string, children []string) []string {
	grp := inv.groups[g]
	if g != All && len(children) == 0 {
		if grp == nil {
			return nil
		}
		return grp.Hosts[:len(grp.Hosts):len(grp.Hosts)] // a leaf: its own hosts, each once already
	}
	var hosts []string
	var seenHost map[string]bool
	if g == All {
		seenHost = make(map[string]bool, len(inv.order))
		hosts = make([]string, 0, len(inv.order))
	} else {
		seenHost = map[string]bool{}
	}
	add := func(list []string) {
		for _, h := range list {
			if !seenHost[h] {
				seenHost[h] = true
				hosts = append(hosts, h)
			}
		}
	}
	if g == All {
		add(inv.members[Ungrouped])
	}
	if grp != nil {
		add(grp.Hosts)
	}
	seen := map[string]bool{g: true}
	for level := children; len(level) > 0; {
		var next []string
		for _, c := range level {
			if seen[c] {
				continue
			}
			seen[c] = true
			if grp := inv.groups[c]; grp != nil {
				add(grp.Hosts)
				next = append(next, grp.Children...)
			}
		}
		level = next
	}
	if g == All {
		add(inv.order) // every host is in all, whatever its groups
	}
	return hosts
}

// Members returns every host of group name, children's included, in
// Ansible's order (see walk). Finish must have been called.
func (inv *Inventory) Members(name string) []string {
	return inv.members[name]
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }

// mergeVars returns dst with src's vars set over it (dst may be nil).
func mergeVars(dst, src map[string]any) map[string]any {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]any, len(src))
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

func indexOf(list []string, s string) int {
	for i, e := range list {
		if e == s {
			return i
		}
	}
	return -1
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}
