package bench

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// transferBed is what the transfer benchmarks share: a gofab binary, an
// ssh config and fabfile, and a remote directory the testbed user owns.
type transferBed struct {
	gofab, cfg, fab, dir, remote string
	tb                           map[string]string
}

func newTransferBed(b *testing.B) *transferBed {
	tb := testbed(b)
	dir := b.TempDir()
	t := &transferBed{gofab: build(b, dir, "./cmd/gofab"), dir: dir, tb: tb}
	t.cfg = filepath.Join(dir, "ssh_config")
	os.WriteFile(t.cfg, []byte(fmt.Sprintf("Host *\n  Port %s\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n",
		tb["GOFAB_TB_PORT"], tb["GOFAB_TB_USER"], tb["GOFAB_TB_KEY"], tb["GOFAB_TB_KNOWN_HOSTS"])), 0o644)
	t.fab = filepath.Join(dir, "fabfile.lua")
	os.WriteFile(t.fab, []byte(`
task("put", function() put(env.src, env.dst) end)
task("get", function() get(env.src, env.dst) end)
task("sync", function() sync(env.src, env.dst) end)
`), 0o644)
	remote, err := os.MkdirTemp("", "gofab-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(remote) })
	u, err := user.Lookup(tb["GOFAB_TB_USER"])
	if err != nil {
		b.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	os.Chown(remote, uid, gid)
	t.remote = remote
	return t
}

func (t *transferBed) task(b *testing.B, name, src, dst string) {
	measure(b, t.gofab, "-f", t.fab, "-S", t.cfg, "-H", "127.0.0.2", "-q", "--set", "src="+src, "--set", "dst="+dst, name)
}

// openssh runs OpenSSH's sftp (batch mode) or scp with the testbed's key.
func (t *transferBed) openssh(b *testing.B, tool string, args ...string) {
	measure(b, tool, append(t.common(), args...)...)
}

// sftpArgs are OpenSSH sftp's arguments to run one batch command with the
// testbed's key.
func (t *transferBed) sftpArgs(command string) []string {
	batch := filepath.Join(t.dir, "batch")
	os.WriteFile(batch, []byte(command+"\n"), 0o644)
	return append(t.common(), "-b", batch, t.tb["GOFAB_TB_USER"]+"@127.0.0.2")
}

// common are the options OpenSSH's tools need for the testbed.
func (t *transferBed) common() []string {
	return []string{"-q", "-i", t.tb["GOFAB_TB_KEY"], "-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=" + t.tb["GOFAB_TB_KNOWN_HOSTS"], "-P", t.tb["GOFAB_TB_PORT"]}
}

// writeRandom writes size random bytes to path in 1 MiB pieces, so the
// benchmark process stays small (a child's peak RSS counts its parent's
// memory at fork).
func writeRandom(b *testing.B, path string, size int) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, int64(size)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTransfer256MiB puts and gets one 256 MiB file with gofab and
// with OpenSSH's sftp in alternating runs (each a fresh process,
// connection included), so both see the same machine: it reports each
// one's MB/s and gofab's speed as a multiple of sftp's (gofab-x, >= 1.0
// when gofab is as fast).
func BenchmarkTransfer256MiB(b *testing.B) {
	t := newTransferBed(b)
	const size = 256 << 20
	src := filepath.Join(t.dir, "big.bin")
	writeRandom(b, src, size)
	remote := filepath.Join(t.remote, "big.bin")
	back := filepath.Join(t.dir, "back.bin")
	for _, c := range []struct{ name, from, to, sftp string }{
		{"put", src, remote, "put " + src + " " + remote},
		{"get", remote, back, "get " + remote + " " + back},
	} {
		b.Run(c.name, func(b *testing.B) {
			var gofab, sftp time.Duration
			for i := 0; i < b.N; i++ {
				gofab += wall(b, t.gofab, "-f", t.fab, "-S", t.cfg, "-H", "127.0.0.2", "-q", "--set", "src="+c.from, "--set", "dst="+c.to, c.name)
				sftp += wall(b, "sftp", t.sftpArgs(c.sftp)...)
			}
			mb := float64(size) / (1 << 20) * float64(b.N)
			b.ReportMetric(mb/gofab.Seconds(), "gofab-MB/s")
			b.ReportMetric(mb/sftp.Seconds(), "sftp-MB/s")
			b.ReportMetric(sftp.Seconds()/gofab.Seconds(), "gofab-x")
		})
	}
}

// wall runs a command and returns its wall time.
func wall(b *testing.B, name string, args ...string) time.Duration {
	start := time.Now()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s: %v\n%s", filepath.Base(name), err, out)
	}
	return time.Since(start)
}

// tree2000 writes 2000 files of 4 KiB in 20 directories.
func tree2000(b *testing.B, root string) {
	for i := 0; i < 2000; i++ {
		writeRandom(b, filepath.Join(root, fmt.Sprintf("d%02d", i%20), fmt.Sprintf("f%04d", i)), 4096)
	}
}

// BenchmarkPutTree2000 copies 2000 files of 4 KiB recursively with gofab
// put and with OpenSSH's scp -r.
func BenchmarkPutTree2000(b *testing.B) {
	t := newTransferBed(b)
	src := filepath.Join(t.dir, "tree")
	tree2000(b, src)
	b.Run("gofab", func(b *testing.B) {
		t.task(b, "put", src, filepath.Join(t.remote, "gofab-tree"))
	})
	b.Run("openssh-scp", func(b *testing.B) {
		t.openssh(b, "scp", "-r", src, t.tb["GOFAB_TB_USER"]+"@127.0.0.2:"+filepath.Join(t.remote, "scp-tree"))
	})
}

// BenchmarkSyncUnchanged2000 syncs a 2000-file tree that is already on the
// host: every run hashes both sides and sends nothing (target under 1 s).
func BenchmarkSyncUnchanged2000(b *testing.B) {
	t := newTransferBed(b)
	src := filepath.Join(t.dir, "tree")
	tree2000(b, src)
	dst := filepath.Join(t.remote, "synced")
	first := exec.Command(t.gofab, "-f", t.fab, "-S", t.cfg, "-H", "127.0.0.2", "-q", "--set", "src="+src, "--set", "dst="+dst, "sync")
	if out, err := first.CombinedOutput(); err != nil {
		b.Fatalf("first sync: %v\n%s", err, out)
	}
	t.task(b, "sync", src, dst)
}
