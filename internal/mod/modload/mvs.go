package modload

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Graph is the module requirement graph MVS walks: each module version
// reached from the main module, with what it requires.
type Graph struct {
	Main  string
	Edges map[module.Version][]module.Version // the main module has Version ""
	// Selected is the build list: the highest version of each path
	// reached, as minimal version selection picks it.
	Selected map[string]string
}

// BuildGraph walks the requirements from the main module's (roots) by
// minimal version selection: every version reached is visited, and each
// path's highest is selected. reqs reads one module version's
// requirements. A cycle among module paths is refused.
func BuildGraph(mainPath string, roots []module.Version, reqs func(module.Version) ([]module.Version, error)) (*Graph, error) {
	g := &Graph{Main: mainPath, Edges: map[module.Version][]module.Version{}, Selected: map[string]string{}}
	mainV := module.Version{Path: mainPath}
	g.Edges[mainV] = roots
	queue := slices.Clone(roots)
	seen := map[module.Version]bool{mainV: true}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		if seen[m] {
			continue
		}
		seen[m] = true
		if cur, ok := g.Selected[m.Path]; !ok || semver.Compare(m.Version, cur) > 0 {
			g.Selected[m.Path] = m.Version
		}
		next, err := reqs(m)
		if err != nil {
			return nil, err
		}
		g.Edges[m] = next
		queue = append(queue, next...)
	}
	if cycle := g.cycle(); cycle != nil {
		return nil, fmt.Errorf("requirement cycle: %s", strings.Join(cycle, " → "))
	}
	return g, nil
}

// List is the build list sorted by path.
func (g *Graph) List() []module.Version {
	out := make([]module.Version, 0, len(g.Selected))
	for p, v := range g.Selected {
		out = append(out, module.Version{Path: p, Version: v})
	}
	slices.SortFunc(out, func(a, b module.Version) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Nodes lists every module version the graph reached (not the main
// module).
func (g *Graph) Nodes() []module.Version {
	var out []module.Version
	for m := range g.Edges {
		if m.Path != g.Main {
			out = append(out, m)
		}
	}
	return out
}

// cycle returns a cycle among the selected versions' paths, or nil.
func (g *Graph) cycle() []string {
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var found []string
	var visit func(path string) bool
	visit = func(path string) bool {
		state[path] = active
		stack = append(stack, path)
		for _, r := range g.Edges[module.Version{Path: path, Version: g.version(path)}] {
			switch state[r.Path] {
			case active:
				i := slices.Index(stack, r.Path)
				found = append(slices.Clone(stack[i:]), r.Path)
				return true
			case unvisited:
				if visit(r.Path) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[path] = done
		return false
	}
	if visit(g.Main) {
		return found
	}
	return nil
}

func (g *Graph) version(path string) string {
	if path == g.Main {
		return ""
	}
	return g.Selected[path]
}

// Lines prints the graph as "from to" lines, as go mod graph does.
func (g *Graph) Lines() []string {
	var out []string
	for from, tos := range g.Edges {
		for _, to := range tos {
			out = append(out, name(from)+" "+name(to))
		}
	}
	slices.Sort(out)
	return out
}

// Why returns the shortest requirement chain from the main module to a
// version of path, or nil when nothing needs it.
func (g *Graph) Why(path string) []string {
	start := module.Version{Path: g.Main}
	prev := map[module.Version]module.Version{}
	queue := []module.Version{start}
	seen := map[module.Version]bool{start: true}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		if m.Path == path && m != start {
			var chain []string
			for ; m != start; m = prev[m] {
				chain = append([]string{name(m)}, chain...)
			}
			return append([]string{g.Main}, chain...)
		}
		for _, r := range g.Edges[m] {
			if !seen[r] {
				seen[r] = true
				prev[r] = m
				queue = append(queue, r)
			}
		}
	}
	return nil
}

func name(m module.Version) string {
	if m.Version == "" {
		return m.Path
	}
	return m.Path + "@" + m.Version
}
