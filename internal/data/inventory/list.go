package inventory

// AnsibleList returns the inventory in the shape of `ansible-inventory
// --list` (and of a dynamic inventory script's --list): each group with
// its direct hosts and children in declaration order, all's children
// (ungrouped first, then every group without a parent), empty groups left
// out, and _meta.hostvars with each host's merged vars (hosts without
// vars left out). Finish must have been called.
func (inv *Inventory) AnsibleList() map[string]any {
	out := map[string]any{}
	for _, n := range inv.gorder {
		if n == All || n == Ungrouped {
			continue
		}
		g := inv.groups[n]
		entry := map[string]any{}
		if len(g.Hosts) > 0 {
			entry["hosts"] = strs(g.Hosts)
		}
		if len(g.Children) > 0 {
			entry["children"] = strs(g.Children)
		}
		if len(entry) > 0 {
			out[n] = entry
		}
	}
	if ungrouped := inv.Members(Ungrouped); len(ungrouped) > 0 {
		out[Ungrouped] = map[string]any{"hosts": strs(ungrouped)}
	}
	out[All] = map[string]any{"children": strs(append([]string{Ungrouped}, inv.topGroups()...))}
	hostvars := map[string]any{}
	for _, n := range inv.order {
		if r, ok := inv.Lookup(n); ok && len(r.Vars) > 0 {
			hostvars[n] = r.Vars
		}
	}
	out["_meta"] = map[string]any{"hostvars": hostvars}
	return out
}
