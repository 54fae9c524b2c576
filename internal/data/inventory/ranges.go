package inventory

import (
	"fmt"
	"strconv"
	"strings"
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
