package executor

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gofab/gofab/internal/host"
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

// addr parses the target's host string.
func (t target) addr() (host.Addr, error) {
	if t.host == "" {
		return host.Addr{}, nil
	}
	return host.Parse(t.host)
}

// UsageError is a problem with what the user asked for (unknown role or
// task): exit status 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// hostsFor resolves the host list of task t.
func hostsFor(p *luart.Program, t *luart.Task, sel Selection) ([]target, error) {
	var hosts, roles []string
	switch {
	case len(sel.ArgHosts)+len(sel.ArgRoles) > 0:
		hosts, roles = sel.ArgHosts, sel.ArgRoles
	case len(sel.CLIHosts)+len(sel.CLIRoles) > 0:
		hosts, roles = sel.CLIHosts, sel.CLIRoles
	case t != nil && len(t.Hosts)+len(t.Roles) > 0:
		hosts, roles = t.Hosts, t.Roles
	case p != nil:
		hosts, roles = p.Hosts, p.Roles
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
		for _, h := range list {
			exclude[h] = true
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
	for _, h := range hosts {
		add(h, "")
	}
	for _, r := range roles {
		var def luart.Role
		ok := false
		if p != nil {
			def, ok = p.Roledefs[r]
		}
		if !ok {
			return nil, &UsageError{Msg: fmt.Sprintf("unknown role %q%s", r, known(p))}
		}
		for _, h := range def.Hosts {
			add(h, r)
		}
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

// roleVars merges the vars of the roles that selected a host, in order.
func roleVars(p *luart.Program, roles []string) map[string]any {
	if p == nil || len(roles) == 0 {
		return nil
	}
	vars := map[string]any{}
	for _, r := range roles {
		for k, v := range p.Roledefs[r].Vars {
			vars[k] = v
		}
	}
	return vars
}
