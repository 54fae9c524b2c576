package main

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gofab/gofab/luart"
)

// listAction prints the task list in the -F format (--shortlist is short).
func listAction(cfg Config, env environ, prog *luart.Program) error {
	format := cfg.ListFormat
	if cfg.Shortlist {
		format = "short"
	}
	switch format {
	case "", "normal":
		listTasks(env.stdout, prog)
	case "short":
		for _, n := range prog.TaskNames() {
			fmt.Fprintln(env.stdout, n)
		}
	case "nested":
		listNested(env.stdout, prog)
	default:
		return usageErr("--list-format %q: give normal, short or nested", format)
	}
	return nil
}

// listTasks prints the tasks with the first line of their docs: the
// fabfile's own first, then each module's under its namespace.
func listTasks(w io.Writer, prog *luart.Program) {
	var b strings.Builder
	b.WriteString("Available tasks:\n\n")
	width := 0
	groups := map[string][]*luart.Task{}
	for _, t := range prog.Listed() {
		width = max(width, len(t.Name))
		ns := ""
		if i := strings.LastIndex(t.Name, "."); i >= 0 {
			ns = t.Name[:i]
		}
		groups[ns] = append(groups[ns], t)
	}
	names := make([]string, 0, len(groups))
	for ns := range groups {
		names = append(names, ns)
	}
	sort.Strings(names) // "" (the fabfile's own tasks) first
	for i, ns := range names {
		if ns != "" {
			if i > 0 {
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "  %s:\n", ns)
		}
		tasks := groups[ns]
		sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].Name < tasks[j].Name })
		for _, t := range tasks {
			first, _, _ := strings.Cut(strings.TrimSpace(t.Doc), "\n")
			fmt.Fprintf(&b, "    %-*s  %s\n", width, t.Name, first)
		}
	}
	io.WriteString(w, b.String())
}

// listNested prints the tasks as a tree of modules, each task by its
// short name, as fab -F nested does.
func listNested(w io.Writer, prog *luart.Program) {
	var b strings.Builder
	b.WriteString("Available tasks:\n\n")
	printed := map[string]bool{}
	for _, name := range prog.TaskNames() {
		parts := strings.Split(name, ".")
		for i := range parts[:len(parts)-1] {
			ns := strings.Join(parts[:i+1], ".")
			if !printed[ns] {
				printed[ns] = true
				fmt.Fprintf(&b, "    %s%s:\n", strings.Repeat("    ", i), parts[i])
			}
		}
		t, _ := prog.Task(name)
		first, _, _ := strings.Cut(strings.TrimSpace(t.Doc), "\n")
		fmt.Fprintf(&b, "    %s%s", strings.Repeat("    ", len(parts)-1), parts[len(parts)-1])
		if first != "" {
			b.WriteString("  " + first)
		}
		b.WriteByte('\n')
	}
	io.WriteString(w, b.String())
}

func displayTask(w io.Writer, prog *luart.Program, name string) error {
	t, ok := prog.Task(name)
	if !ok {
		return usageErr("%s", prog.UnknownTask(name))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Displaying detailed information for task '%s':\n\n", t.Name)
	doc := strings.TrimSpace(t.Doc)
	if doc == "" {
		doc = "No docstring provided"
	}
	for _, line := range strings.Split(doc, "\n") {
		fmt.Fprintf(&b, "    %s\n", line)
	}
	b.WriteByte('\n')
	for _, f := range []struct {
		label string
		vals  []string
	}{{"Hosts", t.Hosts}, {"Roles", t.Roles}, {"Excluded hosts", t.ExcludeHosts}, {"Aliases", t.Aliases}} {
		if len(f.vals) > 0 {
			fmt.Fprintf(&b, "    %s: %s\n", f.label, strings.Join(f.vals, ", "))
		}
	}
	if t.Default {
		b.WriteString("    Default task\n")
	}
	fmt.Fprintf(&b, "    Declared at %s:%d\n", t.File, t.Line)
	_, err := w.Write(b.Bytes())
	return err
}
