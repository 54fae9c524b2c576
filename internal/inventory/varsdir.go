package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// varsExtensions are the file names Ansible's host_group_vars plugin
// reads for a group or host NAME: NAME, NAME.yml, NAME.yaml, NAME.json.
var varsExtensions = []string{"", ".yml", ".yaml", ".json"}

// LoadVarsDirs reads the group_vars/ and host_vars/ directories next to an
// inventory file (dir is the file's directory), as Ansible does: for each
// group (all included) and host, the file group_vars/NAME[.yml|.yaml|.json]
// and every such file inside a directory group_vars/NAME/ (in name order,
// later files winning). They become the groups' and hosts' DirVars, which
// beat the inventory file's vars (see Resolved.Vars).
func LoadVarsDirs(inv *Inventory, dir string) error {
	for _, kind := range []string{"group_vars", "host_vars"} {
		base := filepath.Join(dir, kind)
		entries, err := os.ReadDir(base)
		if err != nil {
			continue // no such directory: nothing to read
		}
		// Names found once, so 10,000 hosts cost no 40,000 stats.
		present := make(map[string]bool, len(entries))
		for _, e := range entries {
			present[e.Name()] = true
		}
		names := inv.order
		if kind == "group_vars" {
			names = append([]string{All}, inv.gorder...)
		}
		for _, n := range names {
			vars, err := readVarsFor(base, n, present)
			if err != nil {
				return err
			}
			if len(vars) == 0 {
				continue
			}
			if kind == "group_vars" {
				inv.AddGroup(Group{Name: n, DirVars: vars})
			} else {
				inv.AddHost(Host{Name: n, DirVars: vars})
			}
		}
	}
	return nil
}

// readVarsFor merges the vars files of name in base, whose entries are
// present.
func readVarsFor(base, name string, present map[string]bool) (map[string]any, error) {
	var files []string
	for _, ext := range varsExtensions {
		if !present[name+ext] {
			continue
		}
		p := filepath.Join(base, name+ext)
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			continue
		case fi.IsDir() && ext == "":
			err := filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && !strings.HasPrefix(d.Name(), ".") && contains(varsExtensions, filepath.Ext(f)) {
					files = append(files, f)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		case fi.Mode().IsRegular():
			files = append(files, p)
		}
	}
	sort.Strings(files)
	var vars map[string]any
	for _, f := range files {
		v, err := readVarsFile(f)
		if err != nil {
			return nil, err
		}
		vars = mergeVars(vars, v)
	}
	return vars, nil
}

// readVarsFile reads one YAML (1.1, as Ansible) or JSON vars file.
func readVarsFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(data, []byte("$ANSIBLE_VAULT")) {
		return nil, &ParseError{File: path, Line: 1, Msg: "an Ansible Vault file: gofab cannot decrypt Ansible Vault; keep the values elsewhere (an environment variable, --set, a file gofab does not read as vars)"}
	}
	var vars map[string]any
	if filepath.Ext(path) == ".json" {
		if err := json.Unmarshal(data, &vars); err != nil {
			return nil, &ParseError{File: path, Msg: err.Error()}
		}
		return normalize(vars), nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ParseError{File: path, Msg: err.Error()}
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	yaml11(&root)
	if err := root.Content[0].Decode(&vars); err != nil {
		return nil, &ParseError{File: path, Line: root.Content[0].Line, Msg: fmt.Sprintf("a vars file is a mapping of names to values: %v", err)}
	}
	return normalize(vars), nil
}
