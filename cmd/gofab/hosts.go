package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/data/inventory"
	"github.com/gofab/gofab/internal/run/executor"
)

// hostsCommand is "gofab hosts": the inventory as gofab resolved it.
func hostsCommand(env environ) *cli.Command {
	return &cli.Command{
		Name:      "hosts",
		Usage:     "list the hosts a PATTERN selects (default: -H/-R, else all) with their groups; --graph shows the group tree, --host NAME one host's merged vars, --list the inventory as ansible-inventory --list prints it",
		ArgsUsage: "[PATTERN]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "fabfile", Aliases: []string{"f"}, Usage: "fabfile `PATH`"},
			&cli.StringFlag{Name: "ssh-config", Aliases: []string{"S"}, Usage: "ssh config `FILE` instead of ~/.ssh/config"},
			&cli.StringSliceFlag{Name: "set", Usage: "set env `KEY=VALUE`"},
			&cli.StringSliceFlag{Name: "hosts", Aliases: []string{"H"}, Usage: "host `PATTERN`s"},
			&cli.StringSliceFlag{Name: "roles", Aliases: []string{"R"}, Usage: "`GROUPS` (roles)"},
			&cli.StringSliceFlag{Name: "include", Usage: "also look for modules in `DIR`"},
			&cli.StringFlag{Name: "output", Usage: "`FORMAT`: text or json"},
			&cli.BoolFlag{Name: "graph", Usage: "show the group tree"},
			&cli.BoolFlag{Name: "list", Usage: "print the inventory as ansible-inventory --list does (JSON)"},
			&cli.StringFlag{Name: "host", Usage: "print host `NAME`'s groups and merged vars"},
			&cli.StringFlag{Name: "shard", EnvVars: []string{"GOFAB_SHARD"}, Usage: "only the hosts of shard `I/N` (as gofab --shard I/N runs them)"},
		},
		Action: func(c *cli.Context) error { return hostsAction(c, env) },
	}
}

// hostsFlags are gofab hosts' own flags.
type hostsFlags struct {
	Graph bool   `flag:"graph"`
	List  bool   `flag:"list"`
	Host  string `flag:"host"`
}

func hostsAction(c *cli.Context, env environ) error {
	cfg, err := readConfig(c)
	if err != nil {
		return err
	}
	f, err := flagsOf[hostsFlags](c)
	if err != nil {
		return err
	}
	prog, err := loadProgram(c.Context, cfg, env, true)
	if err != nil {
		return err
	}
	// Vars from encrypted files show as ***, as in every other output.
	env.stdout = redactingWriter{w: env.stdout, redact: env.secrets.Redact.Bytes}
	inv := prog.Inventory
	jsonOut := cfg.Output == "json"
	if f.Graph {
		inv.WriteGraph(env.stdout)
		return nil
	}
	if f.List {
		return writeJSON(env.stdout, inv.AnsibleList())
	}
	if name := f.Host; name != "" {
		if _, ok := inv.Lookup(name); !ok {
			if _, err := inv.Select(name, nil); err != nil {
				return usageErr("%v", err)
			}
			return usageErr("%s", inventory.Unknown(inv, name))
		}
		return printHost(env.stdout, prog.Set, inv, name, jsonOut)
	}
	var terms []string
	terms = append(terms, c.Args().Slice()...)
	terms = append(terms, splitList(cfg.Hosts)...)
	terms = append(terms, splitList(cfg.Roles)...)
	pattern := strings.Join(terms, ",")
	if pattern == "" {
		pattern = inventory.All
	}
	picked, err := inv.Select(pattern, func(name string) ([]byte, error) { return inventory.ReadHostFile(c.Context, name) })
	if err != nil {
		return usageErr("%v", err)
	}
	shard, err := parseShard(cfg.Shard, env)
	if err != nil {
		return err
	}
	picked = slices.DeleteFunc(picked, func(h inventory.Selected) bool { return !shard.Owns(h.Name) })
	// -H takes host strings as a run does; a PATTERN names the inventory's.
	adHoc := c.NArg() == 0 && len(cfg.Hosts) > 0
	resolved := make([]*inventory.Resolved, len(picked))
	for i, h := range picked {
		r, ok := lookupHost(inv, h.Name, jsonOut)
		switch {
		case !ok && (h.Known || !adHoc):
			return usageErr("%s", inventory.Unknown(inv, h.Name))
		case !ok: // a host string of -H or a hosts file, not in the inventory
			r = &inventory.Resolved{Name: h.Name}
		}
		resolved[i] = r
	}
	if len(picked) == 0 {
		// Every term resolved (an unknown name is an error above): an
		// empty group or intersection selects no host, as in Ansible.
		fmt.Fprintf(env.stderr, "warning: %s\n", (&executor.EmptySelection{Pattern: pattern}).Error())
	}
	if jsonOut {
		list := make([]map[string]any, len(resolved))
		for i, r := range resolved {
			list[i] = hostJSON(r, prog.Set)
		}
		return writeJSON(env.stdout, list)
	}
	writeHostTable(env.stdout, resolved)
	fmt.Fprintf(env.stderr, "%d hosts\n", len(picked))
	return nil
}

// writeHostTable writes a line per host: name, groups and connection in
// columns two spaces apart, in one write (a tabwriter costs as much as
// the rest of a 10,000-host listing).
func writeHostTable(w io.Writer, hosts []*inventory.Resolved) {
	rows := make([][3]string, len(hosts))
	var width [2]int
	size := 0
	for i, r := range hosts {
		rows[i] = [3]string{r.Name, strings.Join(r.Groups, ","), connection(r)}
		width[0] = max(width[0], utf8.RuneCountInString(rows[i][0]))
		width[1] = max(width[1], utf8.RuneCountInString(rows[i][1]))
		size += len(rows[i][0]) + len(rows[i][1]) + len(rows[i][2])
	}
	var b bytes.Buffer
	b.Grow(size + len(rows)*(width[0]+width[1]+5))
	pad := func(s string, n int) {
		b.WriteString(s)
		b.WriteString(strings.Repeat(" ", n-utf8.RuneCountInString(s)+2))
	}
	for _, row := range rows {
		pad(row[0], width[0])
		if row[2] == "" {
			b.WriteString(row[1])
		} else {
			pad(row[1], width[1])
			b.WriteString(row[2])
		}
		b.WriteByte('\n')
	}
	w.Write(b.Bytes())
}

// lookupHost finds a host of the inventory by name or by a host string
// naming it (fabtest@web1, web1:2222), as -H does: the string's user and
// port win over the inventory's. Without vars, the result has no Vars.
func lookupHost(inv *inventory.Inventory, name string, vars bool) (*inventory.Resolved, bool) {
	lookup := inv.Connection
	if vars {
		lookup = inv.Lookup
	}
	if r, ok := lookup(name); ok {
		return r, true
	}
	a, err := host.Parse(name)
	if err != nil {
		return nil, false
	}
	r, ok := lookup(a.Host)
	if !ok {
		return nil, false
	}
	c := *r
	c.Name = name
	if a.User != "" {
		c.User = a.User
	}
	if a.Port != 0 {
		c.Port = a.Port
	}
	return &c, true
}

// connection describes where a host is reached, when the inventory says.
func connection(r *inventory.Resolved) string {
	var b strings.Builder
	if r.User != "" {
		b.WriteString(r.User + "@")
	}
	if r.Address != "" {
		b.WriteString(r.Address)
	} else if b.Len() > 0 || r.Port != 0 {
		b.WriteString(r.Name)
	}
	if r.Port != 0 {
		b.WriteString(":" + strconv.Itoa(r.Port))
	}
	if r.Gateway != "" {
		b.WriteString(" via " + r.Gateway)
	}
	return b.String()
}

func hostJSON(r *inventory.Resolved, set map[string]any) map[string]any {
	vars := map[string]any{}
	for k, v := range r.Vars {
		vars[k] = v
	}
	for k, v := range set {
		if !strings.Contains(k, ".") {
			vars[k] = v
		}
	}
	out := map[string]any{"name": r.Name, "groups": r.Groups, "vars": vars}
	for k, v := range map[string]string{"address": r.Address, "user": r.User, "identity": r.Identity, "gateway": r.Gateway} {
		if v != "" {
			out[k] = v
		}
	}
	if r.Port != 0 {
		out["port"] = r.Port
	}
	if r.Groups == nil {
		out["groups"] = []string{}
	}
	return out
}

func printHost(w io.Writer, set map[string]any, inv *inventory.Inventory, name string, jsonOut bool) error {
	r, _ := inv.Lookup(name)
	h := hostJSON(r, set)
	if jsonOut {
		return writeJSON(w, h)
	}
	fmt.Fprintf(w, "%s\n  groups: %s\n", r.Name, strings.Join(r.Groups, ", "))
	if c := connection(r); c != "" {
		fmt.Fprintf(w, "  connect: %s\n", c)
	}
	vars := h["vars"].(map[string]any)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := json.Marshal(vars[k])
		fmt.Fprintf(w, "  %s = %s\n", k, v)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// redactingWriter passes each write through redact (writes of whole
// lines or documents: a secret split between two writes is not caught).
type redactingWriter struct {
	w      io.Writer
	redact func([]byte) []byte
}

func (r redactingWriter) Write(p []byte) (int, error) {
	if _, err := r.w.Write(r.redact(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
