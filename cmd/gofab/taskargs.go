package main

import (
	"fmt"
	"strings"

	"github.com/gofab/gofab/internal/run/executor"
	"github.com/gofab/gofab/luart"
)

// taskCall is one "task:arg,k=v" from the command line.
type taskCall struct {
	name string
	args luart.Args
	sel  executor.Selection
}

// parseTaskCall parses Fabric's task argument syntax: "name:a,b,k=v", with
// \, and \= escaping, and host=/hosts=/role=/roles=/exclude_hosts= (lists
// separated by ;) taken as the task's host selection.
func parseTaskCall(s string) (taskCall, error) {
	name, rest, _ := strings.Cut(s, ":")
	tc := taskCall{name: name, args: luart.Args{Named: map[string]string{}}}
	if name == "" {
		return tc, fmt.Errorf("empty task name in %q", s)
	}
	if rest == "" {
		return tc, nil
	}
	for _, part := range splitEscaped(rest, ',') {
		kv := splitEscaped(part, '=')
		if len(kv) == 1 {
			tc.args.Positional = append(tc.args.Positional, unescape(kv[0]))
			continue
		}
		key := unescape(kv[0])
		val := unescape(strings.Join(kv[1:], "="))
		list := strings.FieldsFunc(val, func(r rune) bool { return r == ';' })
		switch key {
		case "host", "hosts":
			tc.sel.ArgHosts = append(tc.sel.ArgHosts, list...)
		case "role", "roles":
			tc.sel.ArgRoles = append(tc.sel.ArgRoles, list...)
		case "exclude_hosts":
			tc.sel.ArgExclude = append(tc.sel.ArgExclude, list...)
		default:
			tc.args.Named[key] = val
		}
	}
	return tc, nil
}

// splitEscaped splits s on sep, except where sep is preceded by a backslash.
func splitEscaped(s string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == sep {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func unescape(s string) string {
	return strings.NewReplacer(`\,`, ",", `\=`, "=", `\\`, `\`).Replace(s)
}

// parseSet turns --set values into env entries: "k=v" is a string, a bare
// "k" is true, and dotted keys make nested tables in luart.
func parseSet(values []string) (map[string]any, error) {
	out := map[string]any{}
	for _, v := range values {
		for _, item := range splitEscaped(v, ',') {
			if item == "" {
				continue
			}
			kv := splitEscaped(item, '=')
			key := unescape(kv[0])
			if key == "" || strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") || strings.Contains(key, "..") {
				return nil, fmt.Errorf("--set %q: bad key", item)
			}
			if len(kv) == 1 {
				out[key] = true
				continue
			}
			out[key] = unescape(strings.Join(kv[1:], "="))
		}
	}
	return out, nil
}

// splitList splits comma-separated flag values (-H a,b -H c).
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
