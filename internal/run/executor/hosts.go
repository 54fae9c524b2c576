package executor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/data/inventory"
	"github.com/gofab/gofab/luart"
)

// Selection is what chose the hosts of one task run, from most to least
// specific: per-task arguments (task:hosts=a;b), the command line (-H, -R),
// the task's options, then env.hosts and env.roles.
type Selection struct {
	// ArgHosts, ArgRoles and ArgExclude come from "task:hosts=a;b,roles=r".
	ArgHosts, ArgRoles, ArgExclude []string
	// CLIHosts, CLIRoles and CLIExclude come from -H, -R and -x.
	CLIHosts, CLIRoles, CLIExclude []string
}

// target is one host a task runs on, with the roles that selected it.
type target struct {
	host  string
	roles []string
}

// name is the target's name in output: its host string, or "local" for a
// task that runs without hosts.
func (t target) name() string {
	if t.host == "" {
		return host.Local
	}
	return t.host
}

// addr parses the target's host string; the inventory's user and port
// apply when the string gives none.
func (t target) addr(inv *inventory.Inventory) (host.Addr, error) {
	if t.host == "" {
		return host.Addr{}, nil
	}
	a, err := host.Parse(t.host)
	if err != nil {
		return a, err
	}
	if r, ok := lookup(inv, t.host); ok {
		if a.User == "" {
			a.User = r.User
		}
		if a.Port == 0 {
			a.Port = r.Port
		}
	}
	return a, nil
}

func lookup(inv *inventory.Inventory, name string) (*inventory.Resolved, bool) {
	if inv == nil {
		return nil, false
	}
	return inv.Lookup(name)
}

// UsageError is a problem with what the user asked for (unknown role or
// task): exit status 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// EmptySelection is a host list whose patterns all resolve, to no host: an
// empty group, an intersection without common hosts, everything
// excluded. As in Ansible it runs on no host (a warning), unless the run
// is strict about hosts; it never falls back to the local machine.
type EmptySelection struct{ Pattern string }

func (e *EmptySelection) Error() string {
	return fmt.Sprintf("pattern %q selects no host (its groups are empty or do not overlap): nothing to run there", e.Pattern)
}

// hostLists picks the host patterns and roles that apply: execute()'s
// arguments, else -H/-R, else the task's own, else env.hosts/env.roles.
func hostLists(p *luart.Program, t *luart.Task, sel Selection) (hosts, roles []string) {
	switch {
	case len(sel.ArgHosts)+len(sel.ArgRoles) > 0:
		return sel.ArgHosts, sel.ArgRoles
	case len(sel.CLIHosts)+len(sel.CLIRoles) > 0:
		return sel.CLIHosts, sel.CLIRoles
	case t != nil && len(t.Hosts)+len(t.Roles) > 0:
		return t.Hosts, t.Roles
	case p != nil:
		return p.Hosts, p.Roles
	}
	return nil, nil
}

// hostsFor resolves the host list of task t. Every host list is a list
// of patterns (see inventory.Select); roles are group names.
func hostsFor(ctx context.Context, p *luart.Program, t *luart.Task, sel Selection) ([]target, error) {
	readFile := func(name string) ([]byte, error) { return inventory.ReadHostFile(ctx, name) }
	hosts, roles := hostLists(p, t, sel)
	inv := inventory.New()
	if p != nil && p.Inventory != nil {
		inv = p.Inventory
	}
	if err := inv.Finish(); err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	excludes := [][]string{sel.ArgExclude, sel.CLIExclude}
	if p != nil {
		excludes = append(excludes, p.ExcludeHosts)
	}
	if t != nil {
		excludes = append(excludes, t.ExcludeHosts)
	}
	exclude := map[string]bool{}
	for _, list := range excludes {
		if len(list) == 0 {
			continue
		}
		picked, err := inv.Select(strings.Join(list, ","), readFile)
		if err != nil {
			return nil, &UsageError{Msg: err.Error()}
		}
		for _, h := range picked {
			exclude[h.Name] = true
		}
	}
	var out []target
	index := map[string]int{}
	add := func(h, role string) {
		if h == "" || exclude[h] {
			return
		}
		i, seen := index[h]
		if !seen {
			index[h] = len(out)
			out = append(out, target{host: h})
			i = len(out) - 1
		}
		if role != "" {
			out[i].roles = append(out[i].roles, role)
		}
	}
	if len(hosts) > 0 {
		pattern := strings.Join(hosts, ",")
		picked, err := inv.Select(pattern, readFile)
		if err != nil {
			return nil, &UsageError{Msg: err.Error()}
		}
		for _, h := range picked {
			if _, err := host.Parse(h.Name); err != nil {
				return nil, &UsageError{Msg: err.Error()}
			}
			add(h.Name, "")
		}
	}
	for _, r := range roles {
		if !inv.HasGroup(r) {
			return nil, &UsageError{Msg: fmt.Sprintf("unknown role %q%s", r, known(p))}
		}
		for _, h := range inv.Members(r) {
			add(h, r)
		}
	}
	if len(out) == 0 && len(hosts)+len(roles) > 0 {
		return nil, &EmptySelection{Pattern: strings.Join(append(append([]string{}, hosts...), roles...), ",")}
	}
	return out, nil
}

func known(p *luart.Program) string {
	if p == nil || len(p.Roledefs) == 0 {
		return " (env.roledefs defines none)"
	}
	names := make([]string, 0, len(p.Roledefs))
	for n := range p.Roledefs {
		names = append(names, n)
	}
	sort.Strings(names)
	return " (known roles: " + strings.Join(names, ", ") + ")"
}

// hostVars merges a host's inventory vars and then the vars of the roles
// (env.roledefs) that selected it, in order.
func hostVars(p *luart.Program, r *inventory.Resolved, roles []string) map[string]any {
	vars := map[string]any{}
	if r != nil {
		vars = r.Vars
	}
	if p == nil {
		return vars
	}
	for _, r := range roles {
		for k, v := range p.Roledefs[r].Vars {
			vars[k] = v
		}
	}
	return vars
}
