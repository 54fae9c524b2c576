package bench

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gofab/gofab/internal/mod/modcache"
)

// BenchmarkInventory10k: gofab hosts and gofab hosts --list on an Ansible
// inventory of 10,000 hosts in 100 groups, with a group_vars/ file per
// group, a group_vars/all/ directory and host_vars/ for 100 hosts (median
// of 11 runs each), and ansible-inventory --list on the same files in the
// same run (median of 3) for the ratio, when it is installed. The
// machine's speed is measured in the same run too: gofab's figures are
// also given as multiples of bench/startupref's start-up (x-startupref),
// which does not move with the machine as milliseconds do.
func BenchmarkInventory10k(b *testing.B) {
	dir := b.TempDir()
	gofab := build(b, dir, "./cmd/gofab")
	ref := build(b, dir, "./bench/startupref")
	var ini strings.Builder
	files := []modcache.File{
		{Name: "group_vars/all/common.yml", Data: []byte("domain: example.com\nusers: [{name: ops, shell: /bin/bash}]\n")},
		{Name: "fabfile.lua", Data: []byte(`hosts(require("inventory").file("hosts.ini"))` + "\n")},
	}
	for g := 0; g < 100; g++ {
		fmt.Fprintf(&ini, "[g%02d]\n", g)
		for h := 0; h < 100; h++ {
			fmt.Fprintf(&ini, "h%02d-%02d.example.com ansible_host=10.0.%d.%d rack=%d\n", g, h, g, h+1, h%4)
		}
		fmt.Fprintf(&ini, "[g%02d:vars]\nzone=z%d\n", g, g%5)
		files = append(files,
			modcache.File{Name: fmt.Sprintf("group_vars/g%02d.yml", g), Data: []byte(fmt.Sprintf("group_index: %d\nntp: [ntp1, ntp2]\n", g))},
			modcache.File{Name: fmt.Sprintf("host_vars/h%02d-00.example.com.yml", g), Data: []byte("leader: yes\n")})
	}
	writeTree(b, dir, append(files, modcache.File{Name: "hosts.ini", Data: []byte(ini.String())}))
	env := []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	type run struct {
		name string
		n    int
		argv []string
	}
	runs := []run{
		{"gofab-hosts", 11, []string{gofab, "hosts"}},
		{"gofab-hosts-list", 11, []string{gofab, "hosts", "--list"}},
	}
	if bin, err := exec.LookPath("ansible-inventory"); err == nil {
		runs = append(runs, run{"ansible-inventory-list", 3, []string{bin, "-i", "hosts.ini", "--list"}})
	}
	// Measured whichever runs -bench selects, so every ratio has it.
	refMs := medianRunIn(b, dir, env, []string{ref, "--version"}, 21)
	for _, r := range runs {
		b.Run(r.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ms := medianRunIn(b, dir, env, r.argv, r.n)
				b.ReportMetric(ms, "median-ms")
				b.ReportMetric(refMs, "startupref-ms")
				b.ReportMetric(ms/refMs, "x-startupref")
			}
		})
	}
}
