package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gofab/gofab/internal/host"
	yaml "go.yaml.in/yaml/v3"
)

// maxRange bounds how many names one range pattern may expand to.
const maxRange = 100000

// ExpandRange expands Ansible's host ranges: web[01:20].eu gives web01.eu
// … web20.eu (leading zeros keep their width), db[a:c] gives dba dbb dbc,
// and [1:10:2] steps by 2. Several ranges multiply. A name without a range
// comes back alone.
func ExpandRange(name string) ([]string, error) {
	open := strings.IndexByte(name, '[')
	if open < 0 {
		return []string{name}, nil
	}
	end := strings.IndexByte(name[open:], ']')
	if end < 0 {
		return nil, fmt.Errorf("range in %q: missing ]", name)
	}
	end += open
	spec := name[open+1 : end]
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("range [%s] in %q: write [start:end] or [start:end:step]", spec, name)
	}
	step := 1
	if len(parts) == 3 {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("range [%s] in %q: step must be a positive number", spec, name)
		}
		step = n
	}
	var items []string
	lo, hi := parts[0], parts[1]
	if lo == "" {
		lo = "0" // as Ansible: mail[:5] is mail0 … mail5
	}
	if a, errA := strconv.Atoi(lo); errA == nil {
		b, errB := strconv.Atoi(hi)
		if errB != nil || b < a || a < 0 {
			return nil, fmt.Errorf("range [%s] in %q: end must be a number not below start", spec, name)
		}
		if (b-a)/step >= maxRange {
			return nil, fmt.Errorf("range [%s] in %q: more than %d names", spec, name, maxRange)
		}
		width := 0
		if len(lo) > 1 && lo[0] == '0' {
			width = len(lo)
		}
		for i := a; i <= b; i += step {
			items = append(items, fmt.Sprintf("%0*d", width, i))
		}
	} else {
		if len(lo) != 1 || len(hi) != 1 || lo[0] > hi[0] || !isLetter(lo[0]) || !isLetter(hi[0]) {
			return nil, fmt.Errorf("range [%s] in %q: give numbers or single letters, start before end", spec, name)
		}
		for c := lo[0]; c <= hi[0]; c += byte(step) {
			items = append(items, string(c))
			if int(c)+step > 255 {
				break
			}
		}
	}
	rest, err := ExpandRange(name[end+1:])
	if err != nil {
		return nil, err
	}
	if len(items)*len(rest) > maxRange {
		return nil, fmt.Errorf("range in %q: more than %d names", name, maxRange)
	}
	out := make([]string, 0, len(items)*len(rest))
	for _, it := range items {
		for _, r := range rest {
			out = append(out, name[:open]+it+r)
		}
	}
	return out, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// ParseError is a problem at a line of an inventory file.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Parse reads an inventory file: YAML when the name ends in .yml or .yaml
// or the content starts like YAML, JSON when it starts with {, else INI.
func Parse(name string, data []byte) (*Inventory, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")):
		return ParseJSON(name, data)
	case strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml") || bytes.HasPrefix(trimmed, []byte("---")):
		inv, err := ParseYAML(name, data)
		if err != nil && looksINI(trimmed) {
			// As Ansible does, which tries its ini plugin after yaml: an
			// INI inventory named hosts.yml is read as INI.
			if ini, iniErr := ParseINI(name, data); iniErr == nil {
				return ini, nil
			}
		}
		return inv, err
	}
	return ParseINI(name, data)
}

// looksINI reports whether an inventory starts like INI: its first line
// that is not a comment is a [section] header.
func looksINI(data []byte) bool {
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' || line[0] == ';' {
			continue
		}
		return line[0] == '[' && line[len(line)-1] == ']' && !bytes.ContainsAny(line, ",'\"")
	}
	return false
}

// ParseINI reads Ansible's INI inventory: host lines (name or range, an
// optional :port, then key=value vars) before any section or under
// [group]; [group:vars] with key=value lines; [group:children] with group
// names. Comments start with # or ;.
func ParseINI(name string, data []byte) (*Inventory, error) {
	p := &iniParser{inv: New(), file: name, group: Ungrouped, kind: "hosts",
		declared: map[string]bool{All: true, Ungrouped: true}, pending: map[string][]pendingChild{}}
	p.inv.grow(bytes.Count(data, []byte{'\n'}) + 1)
	p.line = 0
	for line := range strings.Lines(string(data)) { // one copy, sliced
		p.line++
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		var err error
		// A [section] ends with ]; "[2001:db8::1]:2222" is a host line, as
		// in Ansible.
		if line[0] == '[' && !ipv6WithPort(strings.Fields(line)[0]) {
			err = p.section(line)
		} else {
			l := iniLine{text: line}
			if p.kind == "hosts" {
				l.hostLine()
			}
			err = p.entry(&l)
		}
		if err != nil {
			return nil, err
		}
	}
	p.undefinedChildren()
	return p.inv, nil
}

// iniLine is a line of an INI inventory; a host line of a hosts section
// comes with its fields and typed vars (see hostLine).
type iniLine struct {
	text   string
	fields []string
	vars   map[string]any
	// boolKey is the first key whose value is true/yes/no text (see
	// booleanText), boolValue that value.
	boolKey, boolValue string
	err                error
}

// hostLine splits a host line and types its vars (see iniValue).
func (l *iniLine) hostLine() {
	if l.fields, l.err = splitFields(l.text); l.err != nil {
		return
	}
	l.vars = make(map[string]any, len(l.fields)-1)
	for _, f := range l.fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			l.err = fmt.Errorf("expected key=value after the host name, got %q", f)
			return
		}
		v = shlexWord(v)
		if l.boolKey == "" && booleanText(v) {
			l.boolKey, l.boolValue = k, v
		}
		l.vars[k] = iniValue(v)
	}
}

// iniParser is ParseINI's state: the section it is in, and the children
// named in [parent:children] before their own section. Such a child joins
// the parent when its section comes, as in Ansible (so the parent's
// children are in the order their sections appear).
type iniParser struct {
	inv         *Inventory
	file        string
	line        int
	group, kind string
	declared    map[string]bool
	pending     map[string][]pendingChild
	order       []string // pending children, first named first
	// warnedBoolean: the file's one warning of a true/yes/no value given.
	warnedBoolean bool
}

type pendingChild struct {
	parent string
	line   int
}

func (p *iniParser) fail(format string, args ...any) error {
	return &ParseError{File: p.file, Line: p.line, Msg: fmt.Sprintf(format, args...)}
}

// section starts [group], [group:vars] or [group:children].
func (p *iniParser) section(line string) error {
	if !strings.HasSuffix(line, "]") {
		return p.fail("section header %q lacks a closing ]", line)
	}
	head := strings.TrimSpace(line[1 : len(line)-1])
	p.group, p.kind = head, "hosts"
	if g, k, ok := strings.Cut(head, ":"); ok {
		p.group, p.kind = g, k
	}
	if p.group == "" || strings.ContainsAny(p.group, " \t") {
		return p.fail("bad group name %q", p.group)
	}
	switch p.kind {
	case "hosts", "vars", "children":
	default:
		return p.fail("unknown section kind %q (hosts, vars or children)", p.kind)
	}
	p.inv.AddGroup(Group{Name: p.group})
	if p.kind != "vars" && !p.declared[p.group] {
		p.declared[p.group] = true
		for _, c := range p.pending[p.group] {
			p.inv.AddGroup(Group{Name: c.parent, Children: []string{p.group}})
		}
		delete(p.pending, p.group)
	}
	return nil
}

// entry reads a line of the current section.
func (p *iniParser) entry(l *iniLine) error {
	if p.kind == "hosts" {
		if l.err != nil {
			return p.fail("%v", l.err)
		}
		if l.boolKey != "" {
			p.warnBoolean(l.boolKey, l.boolValue)
		}
		if err := addHostPattern(p.inv, l.fields[0], p.group, l.vars); err != nil {
			return p.fail("%v", err)
		}
		return nil
	}
	fields, err := splitFields(l.text)
	if err != nil {
		return p.fail("%v", err)
	}
	if p.kind == "children" {
		return p.child(fields)
	}
	k, v, ok := strings.Cut(l.text, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return p.fail("expected key=value in [%s:vars]", p.group)
	}
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	if booleanText(v) {
		p.warnBoolean(k, v)
	}
	p.inv.AddGroup(Group{Name: p.group, Vars: map[string]any{k: iniValue(v)}})
	return nil
}

// child reads a line of [group:children].
func (p *iniParser) child(fields []string) error {
	if len(fields) != 1 {
		return p.fail("expected one group name in [%s:children]", p.group)
	}
	child := fields[0]
	if strings.ContainsAny(child, "[]") {
		return p.fail("expected a group name in [%s:children], got %s (a range names hosts, not groups; Ansible refuses it too)", p.group, child)
	}
	if p.declared[child] {
		p.inv.AddGroup(Group{Name: p.group, Children: []string{child}})
		return nil
	}
	if _, seen := p.pending[child]; !seen {
		p.order = append(p.order, child)
	}
	p.pending[child] = append(p.pending[child], pendingChild{p.group, p.line})
	return nil
}

// undefinedChildren warns of children the file named and never defined,
// and adds them as empty groups (Ansible refuses the file).
func (p *iniParser) undefinedChildren() {
	for _, child := range p.order {
		for _, c := range p.pending[child] {
			p.inv.Warnings = append(p.inv.Warnings, fmt.Sprintf("%s:%d: [%s:children] names %s, a group the file never defines (Ansible refuses this file); gofab takes it as an empty group",
				p.file, c.line, c.parent, child))
			p.inv.AddGroup(Group{Name: c.parent, Children: []string{child}})
		}
	}
}

// addHostPattern adds the hosts of a name that may hold a range and a
// :port to group.
func addHostPattern(inv *Inventory, pattern, group string, vars map[string]any) error {
	port := 0
	if ipv6WithPort(pattern) {
		end := strings.LastIndex(pattern, "]:")
		p, err := strconv.Atoi(pattern[end+2:])
		if err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("port %q is not a number from 1 to 65535", pattern[end+2:])
		}
		pattern, port = pattern[1:end], p
	} else if i := strings.LastIndexByte(pattern, ':'); i > 0 && !strings.Contains(pattern[i:], "]") && strings.Count(pattern, ":") == 1 {
		p, err := strconv.Atoi(pattern[i+1:])
		if err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("port %q is not a number from 1 to 65535", pattern[i+1:])
		}
		pattern, port = pattern[:i], p
	}
	if _, set := vars["ansible_port"]; port != 0 && !set {
		// Ansible keeps a host string's port as the host's ansible_port
		// var, so it beats the groups' ansible_port in the merged vars.
		if vars == nil {
			vars = map[string]any{}
		}
		vars["ansible_port"] = int64(port)
	}
	if !strings.Contains(pattern, "[") { // one host, not a range
		if err := checkName(pattern); err != nil {
			return err
		}
		inv.AddHost(Host{Name: pattern, Vars: vars, Port: port})
		inv.addMember(inv.group(group), pattern)
		return nil
	}
	names, err := addHosts(inv, pattern, Host{Vars: vars, Port: port})
	for _, n := range names {
		inv.addMember(inv.group(group), n)
	}
	return err
}

// ipv6WithPort reports whether pattern is an IPv6 address with a port,
// written as "[2001:db8::1]:2222".
func ipv6WithPort(pattern string) bool {
	end := strings.LastIndex(pattern, "]:")
	return strings.HasPrefix(pattern, "[") && end > 0 && strings.Count(pattern[1:end], ":") >= 2 && !strings.ContainsAny(pattern[1:end], "[]")
}

// addHosts adds a host h for each name pattern expands to (a range) and
// returns the names added; each host gets its own copy of h.Vars, since
// AddHost keeps the map.
func addHosts(inv *Inventory, pattern string, h Host) ([]string, error) {
	names, err := ExpandRange(pattern)
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		if err := checkName(n); err != nil {
			return names[:i], err
		}
		host := h
		host.Name = n
		if len(names) > 1 {
			host.Vars = maps.Clone(h.Vars) // each host of a range its own
		}
		inv.AddHost(host)
	}
	return names, nil
}

// checkName refuses host names that cannot be a host or a path component.
func checkName(n string) error {
	if n == "" || n == "." || n == ".." || strings.ContainsAny(n, " \t\r\n,;/\\'\"`$") || host.HasControl(n) {
		return fmt.Errorf("bad host name %q", n)
	}
	return nil
}

// splitFields splits a line on blanks, keeping quoted parts together.
func splitFields(s string) ([]string, error) {
	out := make([]string, 0, 4)
	quote := byte(0)
	start := -1 // where the current field began; -1 between fields
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
			if start < 0 {
				start = i
			}
		case c == ' ' || c == '\t':
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		case c == '#' && start < 0:
			i = len(s) // a comment after the fields
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out, nil
}

// booleanText reports whether v is a value gofab 0.2 read as a boolean
// and now keeps as text, as Ansible does (True and False are Python's
// booleans, typed as such).
func booleanText(v string) bool {
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no":
		return v != "True" && v != "False"
	}
	return false
}

// warnBoolean warns once per file of a boolean-looking text value.
func (p *iniParser) warnBoolean(k, v string) {
	if !p.warnedBoolean {
		p.warnedBoolean = true
		p.inv.Warnings = append(p.inv.Warnings, fmt.Sprintf("%s:%d: %s=%s is the string %q, as in Ansible (gofab 0.2 read a boolean); write True or False for a boolean",
			p.file, p.line, k, v, v))
	}
}

// iniValue types an INI value as Ansible's INI plugin does: a Python
// literal (22, 0x1F, 1.5, 'text', [..], {..}, True, None) is that value,
// anything else the text itself, so true, yes and 0755 stay strings. A
// value on a host line has been unquoted first (shlexWord), as Ansible
// splits host lines with shlex: disks="['/dev/sda']" is a list, port="22"
// the number 22; a [group:vars] value keeps its quotes, so "22" there is
// the string.
func iniValue(v string) any {
	if x, ok := pyLiteral(v); ok {
		return x
	}
	return v
}

// shlexWord removes the quoting of one field as Python's shlex (POSIX
// mode) does: '…' is literal, "…" honours \\, \" and \$, and outside quotes
// a backslash keeps the next character.
func shlexWord(f string) string {
	if !strings.ContainsAny(f, `'"\`) {
		return f
	}
	var b strings.Builder
	quote := byte(0)
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(f) && strings.IndexByte("\\\"$`", f[i+1]) >= 0:
				i++
				b.WriteByte(f[i])
			default:
				b.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '\\' && i+1 < len(f):
			i++
			b.WriteByte(f[i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

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
