package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/gofab/gofab/internal/data/sops"
	yaml "go.yaml.in/yaml/v3"
)

// varsExtensions are the file names Ansible's host_group_vars plugin
// reads for a group or host NAME: NAME, NAME.yml, NAME.yaml, NAME.json.
var varsExtensions = []string{"", ".yml", ".yaml", ".json", ".sops.yaml", ".sops.yml", ".sops.json"}

// Decrypter decrypts an encrypted (SOPS) vars file: name is its path,
// data its content. Its values come back as plain data.
type Decrypter func(name string, data []byte) (map[string]any, error)

// LoadVarsDirs reads the group_vars/ and host_vars/ directories next to an
// inventory file (dir is the file's directory), as Ansible does: for each
// group (all included) and host, the file group_vars/NAME[.yml|.yaml|.json]
// and every such file inside a directory group_vars/NAME/ (in name order,
// later files winning). They become the groups' and hosts' DirVars, which
// beat the inventory file's vars (see Resolved.Vars).
func LoadVarsDirs(inv *Inventory, dir string) error {
	return ReadVarsDirs(dir, nil).Apply(inv)
}

// VarsDirs are the group_vars/ and host_vars/ directories next to an
// inventory file, read and parsed in the background (ReadVarsDirs) while
// the file itself is parsed, then applied to it (Apply).
type VarsDirs struct {
	done  chan struct{}
	kinds [2]*varsDir // group_vars, host_vars
}

// varsDir is one directory: its entries, the vars files of each, and
// every file parsed.
type varsDir struct {
	base   string
	files  map[string][]string // entry name → its vars files, sorted
	walk   map[string]error    // entry name → error walking it
	parsed map[string]parsedVars
}

type parsedVars struct {
	vars map[string]any
	err  error
}

// ReadVarsDirs starts reading the vars directories next to an inventory
// file in dir. Every vars file in them is parsed, whether an inventory
// names it or not; an error counts only for a file Apply uses.
//
// A SOPS-encrypted file (NAME.sops.yaml, or any vars file sops wrote) is
// decrypted with decrypt, as the community.sops vars plugin does for
// Ansible; with decrypt nil it is an error.
func ReadVarsDirs(dir string, decrypt Decrypter) *VarsDirs {
	v := &VarsDirs{done: make(chan struct{})}
	go func() {
		defer close(v.done)
		for i, kind := range []string{"group_vars", "host_vars"} {
			v.kinds[i] = readVarsDir(filepath.Join(dir, kind), decrypt)
		}
	}()
	return v
}

// readVarsDir lists base (missing: nothing to read) and parses its files
// on a few goroutines (10,000 hosts may have thousands of files).
func readVarsDir(base string, decrypt Decrypter) *varsDir {
	d := &varsDir{base: base, files: map[string][]string{}, walk: map[string]error{}, parsed: map[string]parsedVars{}}
	entries, err := os.ReadDir(base)
	if err != nil {
		return d
	}
	var all []string
	for _, e := range entries {
		p := filepath.Join(base, e.Name())
		fi, err := os.Stat(p)
		switch {
		case err != nil:
		case fi.IsDir():
			err := filepath.WalkDir(p, func(f string, de fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !de.IsDir() && !strings.HasPrefix(de.Name(), ".") && contains(varsExtensions, filepath.Ext(f)) {
					d.files[e.Name()] = append(d.files[e.Name()], f)
				}
				return nil
			})
			if err != nil {
				d.walk[e.Name()] = err
			}
		case fi.Mode().IsRegular():
			d.files[e.Name()] = []string{p}
		}
		all = append(all, d.files[e.Name()]...)
	}
	results := make([]parsedVars, len(all))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0)*2, len(all)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i].vars, results[i].err = readVarsFile(all[i], decrypt)
			}
		}()
	}
	for i := range all {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, f := range all {
		d.parsed[f] = results[i]
	}
	return d
}

// Apply waits for the directories to be read and gives each group (all
// first) and host of inv its vars from them, in inv's order; the error
// is the first one met in that order.
func (v *VarsDirs) Apply(inv *Inventory) error {
	<-v.done
	groups := append([]string{All}, inv.gorder...)
	for i, names := range [][]string{groups, inv.order} {
		d := v.kinds[i]
		if len(d.files) == 0 && len(d.walk) == 0 {
			continue
		}
		for _, n := range names {
			vars, err := d.varsFor(n)
			switch {
			case err != nil:
				return err
			case len(vars) == 0:
			case i == 0:
				inv.AddGroup(Group{Name: n, DirVars: vars})
			default:
				inv.AddHost(Host{Name: n, DirVars: vars})
			}
		}
	}
	return nil
}

// varsFor merges the vars files of name: NAME, NAME.yml, NAME.yaml and
// NAME.json, files or (NAME alone) directories, in path order.
func (d *varsDir) varsFor(name string) (map[string]any, error) {
	var files []string
	for _, ext := range varsExtensions {
		if err := d.walk[name+ext]; err != nil && ext == "" {
			return nil, err
		}
		if list := d.files[name+ext]; len(list) > 0 && (ext == "" || list[0] == filepath.Join(d.base, name+ext)) {
			files = append(files, list...)
		}
	}
	// Encrypted files after the others, as Ansible's community.sops
	// plugin runs after host_group_vars: their values win.
	sort.Slice(files, func(i, j int) bool {
		si, sj := strings.Contains(files[i], ".sops."), strings.Contains(files[j], ".sops.")
		if si != sj {
			return sj
		}
		return files[i] < files[j]
	})
	var vars map[string]any
	for _, f := range files {
		p := d.parsed[f]
		if p.err != nil {
			return nil, p.err
		}
		vars = mergeVars(vars, p.vars)
	}
	return vars, nil
}

// readVarsFile reads one YAML (1.1, as Ansible) or JSON vars file.
func readVarsFile(path string, decrypt Decrypter) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if isSOPS(path, data) {
		if decrypt == nil {
			return nil, &ParseError{File: path, Msg: "a SOPS-encrypted vars file: gofab decrypts it when a fabfile reads the inventory (inventory.file)"}
		}
		vars, err := decrypt(path, data)
		if err != nil {
			return nil, &ParseError{File: path, Msg: err.Error()}
		}
		return normalize(vars), nil
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

// isSOPS reports whether a vars file is SOPS-encrypted: named
// NAME.sops.yaml (or .yml, .json), or holding sops's metadata.
func isSOPS(path string, data []byte) bool {
	return strings.Contains(filepath.Base(path), ".sops.") || sops.Encrypted(data, sops.FormatOf(path))
}
