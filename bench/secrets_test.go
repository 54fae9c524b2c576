package bench

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofab/gofab/internal/data/sops"
	"github.com/gofab/gofab/internal/mod/modcache"
)

// secretsBed is a project with an age identity, 500 hosts in [web] and
// 100 secrets in group_vars: encrypted (web.sops.yaml) in one copy, in
// clear (web.yml) in the other.
type secretsBed struct {
	gofab, plain, sealed string
	env                  []string
	values               sops.Tree
}

func newSecretsBed(b *testing.B) *secretsBed {
	dir := b.TempDir()
	s := &secretsBed{gofab: build(b, dir, "./cmd/gofab"), plain: filepath.Join(dir, "plain"), sealed: filepath.Join(dir, "sealed")}
	identity, recipient, err := sops.NewIdentity()
	if err != nil {
		b.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(keys, []byte(identity), 0o600); err != nil {
		b.Fatal(err)
	}
	s.env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "SOPS_AGE_KEY_FILE=" + keys}
	var ini strings.Builder
	ini.WriteString("[web]\n")
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&ini, "web%03d.example.com\n", i)
	}
	var yaml strings.Builder
	for i := 0; i < 100; i++ {
		v := make([]byte, 12)
		rand.Read(v)
		s.values = append(s.values, sops.Item{Key: fmt.Sprintf("secret_%03d", i), Value: hex.EncodeToString(v)})
		fmt.Fprintf(&yaml, "secret_%03d: %s\n", i, s.values[i].Value)
	}
	sealed, err := sops.Encrypt(append(sops.Tree(nil), s.values...), sops.YAML, []string{recipient}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	common := []modcache.File{
		{Name: "hosts.ini", Data: []byte(ini.String())},
		{Name: "fabfile.lua", Data: []byte(`hosts(require("inventory").file("hosts.ini"))` + "\n")},
	}
	writeTree(b, s.plain, append(common, modcache.File{Name: "group_vars/web.yml", Data: []byte(yaml.String())}))
	writeTree(b, s.sealed, append(common, modcache.File{Name: "group_vars/web.sops.yaml", Data: sealed}))
	return s
}

// BenchmarkSecrets: what encrypted vars cost a run. gofab hosts on 500
// hosts whose group_vars hold 100 secrets, encrypted and in clear (median
// of 11 each; their difference is the run's decryption, done once); the
// decryption alone in this process; ansible-inventory --list on the same
// files with an Ansible Vault file and in clear (median of 3), when
// ansible-vault is installed; and the cost of redaction on 100 MB of
// output, the same task run with and without a secrets file loaded
// (median of 5 alternating pairs).
func BenchmarkSecrets(b *testing.B) {
	s := newSecretsBed(b)
	b.Run("decrypt-in-process", func(b *testing.B) {
		data, err := os.ReadFile(filepath.Join(s.sealed, "group_vars", "web.sops.yaml"))
		if err != nil {
			b.Fatal(err)
		}
		ids := &sops.Identities{Getenv: func(k string) string { return strings.TrimPrefix(s.env[2], "SOPS_AGE_KEY_FILE=") }}
		ids.Getenv = func(k string) string {
			if k == "SOPS_AGE_KEY_FILE" {
				return strings.TrimPrefix(s.env[2], "SOPS_AGE_KEY_FILE=")
			}
			return ""
		}
		for i := 0; i < b.N; i++ {
			if _, _, err := sops.Decrypt(data, sops.YAML, ids); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct{ name, dir string }{{"gofab-hosts-clear", s.plain}, {"gofab-hosts-sops", s.sealed}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.ReportMetric(medianRunIn(b, c.dir, s.env, []string{s.gofab, "hosts"}, 11), "median-ms")
			}
		})
	}
	if vault, err := exec.LookPath("ansible-vault"); err == nil {
		s.ansible(b, vault)
	}
	b.Run("redaction-100MB", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.ReportMetric(s.redactionRatio(b), "ratio")
		}
	})
}

// ansible measures ansible-inventory --list with the vars in clear and
// in an Ansible Vault file.
func (s *secretsBed) ansible(b *testing.B, vault string) {
	dir := filepath.Join(filepath.Dir(s.plain), "vault")
	var yaml strings.Builder
	for _, it := range s.values {
		fmt.Fprintf(&yaml, "%s: %s\n", it.Key, it.Value)
	}
	writeTree(b, dir, []modcache.File{
		{Name: "hosts.ini", Data: []byte(readFileB(b, filepath.Join(s.plain, "hosts.ini")))},
		{Name: "group_vars/web.yml", Data: []byte(yaml.String())},
		{Name: "pw", Data: []byte("vault-password\n")},
	})
	runIn(b, dir, nil, vault, "encrypt", "--vault-password-file", "pw", "group_vars/web.yml")
	inv, err := exec.LookPath("ansible-inventory")
	if err != nil {
		return
	}
	for _, c := range []struct{ name, dir string }{{"ansible-inventory-clear", s.plain}, {"ansible-inventory-vault", dir}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.ReportMetric(medianRunIn(b, c.dir, nil, []string{inv, "-i", "hosts.ini", "--list", "--vault-password-file", filepath.Join(dir, "pw")}, 3), "median-ms")
			}
		})
	}
}

func readFileB(b *testing.B, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}

// redactionRatio runs a task printing 100 MB of lines on the local host,
// with the 100 secrets loaded and without, and returns the ratio of the
// medians of five alternating pairs.
func (s *secretsBed) redactionRatio(b *testing.B) float64 {
	dir := filepath.Join(filepath.Dir(s.plain), "output")
	task := `task("out", function() run("yes 'a line of ordinary build output, 64 bytes long, nothing secret' | head -c 100000000", {quiet = false}) end)` + "\n"
	writeTree(b, dir, []modcache.File{
		{Name: "clear.lua", Data: []byte(task)},
		{Name: "sealed.lua", Data: []byte(`local s = require("secrets").load("web.sops.yaml")` + "\n" + task)},
		{Name: "web.sops.yaml", Data: []byte(readFileB(b, filepath.Join(s.sealed, "group_vars", "web.sops.yaml")))},
	})
	run := func(fabfile string) time.Duration {
		cmd := exec.Command(s.gofab, "-f", fabfile, "-H", "local", "out")
		cmd.Dir, cmd.Env = dir, s.env
		start := time.Now()
		if out, err := cmd.Output(); err != nil || len(out) < 100_000_000 {
			b.Fatalf("%s: %v (%d bytes)", fabfile, err, len(out))
		}
		return time.Since(start)
	}
	var clear, sealed []time.Duration
	for i := 0; i < 5; i++ {
		clear = append(clear, run("clear.lua"))
		sealed = append(sealed, run("sealed.lua"))
	}
	slices.Sort(clear)
	slices.Sort(sealed)
	b.ReportMetric(float64(clear[2].Milliseconds()), "clear-ms")
	b.ReportMetric(float64(sealed[2].Milliseconds()), "secrets-ms")
	return float64(sealed[2]) / float64(clear[2])
}
