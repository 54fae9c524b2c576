package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/gofab/gofab/internal/base/host"
)

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
