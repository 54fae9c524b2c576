package inventory

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/gofab/gofab/internal/base/fuzzy"
)

// Selected is one host a pattern picked.
type Selected struct {
	// Name is the inventory name, or the host string of a host the
	// inventory does not know (gofab -H any.host:2222 works as in Fabric).
	Name string
	// Known is false for such a host string.
	Known bool
}

// NoMatchError is a pattern term that matched no host.
type NoMatchError struct{ Msg string }

func (e *NoMatchError) Error() string { return e.Msg }

// Select returns the hosts pattern picks, in the order the terms name them.
// Terms are separated by commas or colons: a group name gives its hosts
// (children's included), a glob (web*) the hosts and groups it matches, a
// range (web[1:3]) its names, @FILE the terms of FILE (one a line), and
// anything else a host by name — one the inventory does not know is taken
// as a host string to connect to. A term starting with & keeps only hosts
// also in it; one starting with ! removes its hosts. A colon followed by
// digits is a port, not a separator. Finish must have been called.
func (inv *Inventory) Select(pattern string, readFile func(string) ([]byte, error)) ([]Selected, error) {
	terms, err := inv.splitPattern(pattern, readFile, 0)
	if err != nil {
		return nil, err
	}
	if len(terms) == 1 && terms[0][0] != '&' && terms[0][0] != '!' {
		return inv.term(terms[0], true) // one name, group or glob: no set to build
	}
	var union []Selected
	seen := map[string]bool{}
	var inter []map[string]bool
	exclude := map[string]bool{}
	for _, t := range terms {
		op := byte(0)
		if t[0] == '&' || t[0] == '!' {
			op, t = t[0], strings.TrimSpace(t[1:])
			if t == "" {
				return nil, fmt.Errorf("pattern %q: %c needs a name after it", pattern, op)
			}
		}
		hosts, err := inv.term(t, op == 0)
		if err != nil {
			return nil, err
		}
		switch op {
		case '&':
			set := make(map[string]bool, len(hosts))
			for _, h := range hosts {
				set[h.Name] = true
			}
			inter = append(inter, set)
		case '!':
			for _, h := range hosts {
				exclude[h.Name] = true
			}
		default:
			if union == nil { // room for the usual single term
				union = make([]Selected, 0, len(hosts))
				seen = make(map[string]bool, len(hosts))
			}
			for _, h := range hosts {
				if !seen[h.Name] {
					seen[h.Name] = true
					union = append(union, h)
				}
			}
		}
	}
	out := union[:0:0]
	for _, h := range union {
		if exclude[h.Name] || !inAll(inter, h.Name) {
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

func inAll(sets []map[string]bool, name string) bool {
	for _, s := range sets {
		if !s[name] {
			return false
		}
	}
	return true
}

// term resolves one term. adHoc allows a name the inventory does not know
// (a host string) in a union term.
func (inv *Inventory) term(t string, adHoc bool) ([]Selected, error) {
	if inv.HasGroup(t) {
		return known(inv.Members(t)), nil
	}
	if _, ok := inv.resolved[t]; ok {
		return []Selected{{Name: t, Known: true}}, nil
	}
	if strings.HasPrefix(t, "~") {
		return inv.regexTerm(t)
	}
	if base, sub, ok := splitSubscript(t); ok && inv.matchesSomething(base) {
		hosts, err := inv.term(base, false)
		if err != nil {
			return nil, err
		}
		return sub.apply(hosts), nil
	}
	var globbed []string
	if isGlob(t) {
		globbed = inv.globNames(t)
	}
	if isRange(t) && len(globbed) == 0 {
		names, err := ExpandRange(t)
		if err != nil {
			return nil, err
		}
		var out []Selected
		for _, n := range names {
			_, ok := inv.resolved[n]
			if ok || adHoc {
				out = append(out, Selected{Name: n, Known: ok})
			}
		}
		return out, nil
	}
	if isGlob(t) {
		if _, err := path.Match(t, ""); err != nil {
			return nil, fmt.Errorf("bad glob %q: %v", t, err)
		}
		if len(globbed) == 0 {
			return nil, &NoMatchError{Msg: fmt.Sprintf("pattern %q matches no host or group%s", t, inv.didYouMean(t))}
		}
		return known(globbed), nil
	}
	if adHoc {
		return []Selected{{Name: t}}, nil
	}
	return nil, &NoMatchError{Msg: Unknown(inv, t)}
}

// enumerate is Ansible's order for a glob or regex: the hosts of each
// matching group (groups in declaration order), then each matching host,
// each host once.
func (inv *Inventory) enumerate(match func(string) bool) []string {
	var names []string
	seen := map[string]bool{}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			names = append(names, h)
		}
	}
	for i, g := range append([]string{All}, inv.gorder...) {
		if g == All && i > 0 {
			continue // all comes first, as in Ansible, wherever it was declared
		}
		if match(g) {
			for _, h := range inv.Members(g) {
				add(h)
			}
		}
	}
	for _, h := range inv.order {
		if match(h) {
			add(h)
		}
	}
	return names
}

// globNames is what t, read as a glob, matches (nil for a bad glob).
// When it matches something, brackets in t are a character class, as in
// Ansible (worker-[1:3] is worker-1, worker-: and worker-3), not a range.
func (inv *Inventory) globNames(t string) []string {
	if _, err := path.Match(t, ""); err != nil {
		return nil
	}
	return inv.enumerate(func(name string) bool { ok, _ := path.Match(t, name); return ok })
}

// matchesSomething reports whether t names a group or host, or matches
// one as a glob.
func (inv *Inventory) matchesSomething(t string) bool {
	if inv.HasGroup(t) {
		return true
	}
	if _, ok := inv.resolved[t]; ok {
		return true
	}
	return isGlob(t) && len(inv.globNames(t)) > 0
}

// regexTerm is ~REGEX: the groups and hosts whose names the regular
// expression matches from their start (Python's re.match).
func (inv *Inventory) regexTerm(t string) ([]Selected, error) {
	re, err := regexp.Compile(`^(?:` + t[1:] + `)`)
	if err != nil {
		return nil, fmt.Errorf("bad regular expression %q: %v", t, err)
	}
	names := inv.enumerate(re.MatchString)
	if len(names) == 0 {
		return nil, &NoMatchError{Msg: fmt.Sprintf("pattern %q matches no host or group", t)}
	}
	return known(names), nil
}

// subscript is a trailing [i], [-i], [i:j] or [i:] on a pattern: the
// hosts at those positions (j included), as in Ansible.
type subscript struct {
	start, end int
	single     bool
}

// subscriptRE matches a pattern term with a subscript (compiled on first use).
var subscriptRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(.+)\[(?:(-?[0-9]+)|([0-9]+):([0-9]+)?)\]$`)
})

// splitSubscript splits web[0] into web and its subscript.
func splitSubscript(t string) (string, subscript, bool) {
	m := subscriptRE().FindStringSubmatch(t)
	if m == nil {
		return "", subscript{}, false
	}
	if m[2] != "" {
		i, _ := strconv.Atoi(m[2])
		return m[1], subscript{start: i, single: true}, true
	}
	start, _ := strconv.Atoi(m[3])
	end := -1
	if m[4] != "" {
		end, _ = strconv.Atoi(m[4])
	}
	return m[1], subscript{start: start, end: end}, true
}

func (s subscript) apply(hosts []Selected) []Selected {
	n := len(hosts)
	if s.single {
		i := s.start
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil
		}
		return hosts[i : i+1]
	}
	end := s.end + 1
	if s.end < 0 || end > n {
		end = n
	}
	if s.start >= end {
		return nil
	}
	return hosts[s.start:end]
}

func known(names []string) []Selected {
	out := make([]Selected, len(names))
	for i, n := range names {
		out[i] = Selected{Name: n, Known: true}
	}
	return out
}

// Unknown says name is no host or group of inv, suggesting the closest.
func Unknown(inv *Inventory, name string) string {
	return fmt.Sprintf("%q is no host or group of the inventory%s", name, inv.didYouMean(name))
}

// didYouMean suggests the closest group or host name.
func (inv *Inventory) didYouMean(t string) string {
	t = strings.Trim(t, "*?")
	best, bestD := "", 1<<30
	for _, list := range [][]string{inv.GroupNames(), inv.order} {
		for _, n := range list {
			if d := fuzzy.Distance(t, n); d < bestD {
				best, bestD = n, d
			}
		}
	}
	if best != "" && bestD <= max(2, len(t)/3) {
		return fmt.Sprintf(", did you mean %q?", best)
	}
	if len(inv.gorder) > 0 {
		return " (gofab hosts --graph shows the groups)"
	}
	return ""
}

// isGlob reports whether t holds glob characters; [addr] at the start
// (after an optional user@) is an IPv6 address, not a class.
func isGlob(t string) bool {
	if strings.ContainsAny(t, "*?") {
		return true
	}
	if _, rest, ok := strings.Cut(t, "@"); ok {
		t = rest
	}
	return strings.Contains(t, "[") && !strings.HasPrefix(t, "[")
}

// isRange reports whether t holds a [a:b] range rather than a glob class.
func isRange(t string) bool {
	open := strings.IndexByte(t, '[')
	if open < 1 { // [..] at the start is an IPv6 address
		return false
	}
	end := strings.IndexByte(t[open:], ']')
	if end < 0 {
		return false
	}
	parts := strings.Split(t[open+1:open+end], ":")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return false
		}
	}
	return true
}

// maxPatternFiles bounds @file nesting.
const maxPatternFiles = 8

// splitPattern splits a pattern into terms, reading @file terms.
func (inv *Inventory) splitPattern(pattern string, readFile func(string) ([]byte, error), depth int) ([]string, error) {
	var terms []string
	split, err := inv.splitTerms(pattern)
	if err != nil {
		return nil, err
	}
	for _, t := range split {
		if !strings.HasPrefix(t, "@") {
			terms = append(terms, t)
			continue
		}
		if depth >= maxPatternFiles || readFile == nil {
			return nil, fmt.Errorf("pattern %q: @file not allowed here", t)
		}
		data, err := readFile(t[1:])
		if err != nil {
			return nil, fmt.Errorf("host list %s: %w", t[1:], err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			sub, err := inv.splitPattern(line, readFile, depth+1)
			if err != nil {
				return nil, err
			}
			terms = append(terms, sub...)
		}
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("empty host pattern %q", pattern)
	}
	return terms, nil
}

// splitTerms splits on commas, and on colons that are neither inside
// brackets, nor part of an IPv6 address, nor before a port number. A field
// whose colon-separated parts are not all operators, globs, ranges or
// names the inventory knows stays whole: it is a host string, checked
// later (bad:host:99999x is one bad host, not three hosts to look up).
func (inv *Inventory) splitTerms(p string) ([]string, error) {
	var out []string
	for _, field := range strings.Split(p, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		if strings.Count(field, ":") > 1 && !strings.ContainsAny(field, "&!*?[@") && isIPv6ish(field) {
			out = append(out, field)
			continue
		}
		parts := slices.DeleteFunc(splitColons(field), func(p string) bool { return p == "" })
		if len(parts) == 0 {
			continue
		}
		if len(parts) > 1 && !hasOperator(parts) {
			var known, unknown []string
			for _, t := range parts {
				if inv.patternTerm(t) {
					known = append(known, t)
				} else {
					unknown = append(unknown, t)
				}
			}
			switch {
			case len(unknown) == 0:
			case len(known) > 0 && !strings.Contains(field, "@"):
				// A pattern with a name that is not there.
				return nil, &NoMatchError{Msg: Unknown(inv, unknown[0])}
			default:
				parts = []string{field}
			}
		}
		out = append(out, parts...)
	}
	return out, nil
}

// hasOperator reports whether a part is an intersection or an exclusion:
// then the field is a pattern, whatever its other parts are.
func hasOperator(parts []string) bool {
	for _, p := range parts {
		if p != "" && (p[0] == '&' || p[0] == '!') {
			return true
		}
	}
	return false
}

// patternTerm reports whether t can only be part of a pattern: an
// operator term, a glob, a range, @file, or a group or host the inventory
// knows.
func (inv *Inventory) patternTerm(t string) bool {
	if t == "" {
		return false
	}
	if t[0] == '&' || t[0] == '!' || t[0] == '@' || isGlob(t) || isRange(t) || inv.HasGroup(t) {
		return true
	}
	_, ok := inv.resolved[t]
	return ok
}

// splitColons splits field on colons outside brackets that do not start
// a port number. An unclosed bracket does not hide the colons after it.
func splitColons(field string) []string {
	if parts, ok := splitColonsBracketed(field, true); ok {
		return parts
	}
	parts, _ := splitColonsBracketed(field, false)
	return parts
}

// splitColonsBracketed splits field, keeping colons inside brackets when
// brackets is set; ok is false when a bracket was left open.
func splitColonsBracketed(field string, brackets bool) (parts []string, ok bool) {
	var cur strings.Builder
	depth := 0
	for i := 0; i < len(field); i++ {
		c := field[i]
		switch {
		case brackets && c == '[':
			depth++
		case brackets && c == ']' && depth > 0:
			depth--
		case c == ':' && depth == 0 && !portFollows(field[i+1:]):
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	return append(parts, strings.TrimSpace(cur.String())), depth == 0
}

// portFollows reports whether s starts with a port number that ends the
// term (digits, then the end or another colon).
func portFollows(s string) bool {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n > 0 && (n == len(s) || s[n] == ':')
}

// isIPv6ish reports whether s is made of hex digits, colons and dots only
// (after an optional user@): a bare IPv6 address.
func isIPv6ish(s string) bool {
	if _, rest, ok := strings.Cut(s, "@"); ok {
		s = rest
	}
	for _, r := range s {
		if !(r == ':' || r == '.' || unicode.Is(unicode.ASCII_Hex_Digit, r)) {
			return false
		}
	}
	return true
}

// MaxHostFile bounds an @file host list (10,000 host names take about
// 300 KB).
const MaxHostFile = 16 << 20

// ReadHostFile reads an @file host list, at most MaxHostFile bytes, and
// gives up when ctx ends: a fifo nobody writes, or /dev/zero, neither
// hangs nor grows gofab.
func ReadHostFile(ctx context.Context, name string) ([]byte, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() { // opening a fifo waits for its writer
		f, err := os.Open(name)
		ch <- opened{f, err}
	}()
	var f *os.File
	select {
	case o := <-ch:
		if o.err != nil {
			return nil, o.err
		}
		f = o.f
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, context.Cause(ctx)
	}
	defer f.Close()
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Now()) })
	defer stop()
	data, err := io.ReadAll(io.LimitReader(f, MaxHostFile+1))
	switch {
	case ctx.Err() != nil:
		return nil, context.Cause(ctx)
	case err != nil:
		return nil, err
	case len(data) > MaxHostFile:
		return nil, fmt.Errorf("larger than %d MiB: not a host list", MaxHostFile>>20)
	}
	return data, nil
}
