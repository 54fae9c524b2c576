// Package bench measures gofab against references in the same run: an
// ad-hoc command on 200 loopback hosts against a minimal x/crypto/ssh
// program (bench/floor), and "gofab -l" on a 50-task fabfile. It needs the
// sshd testbed (./test.sh sets it up; GOFAB_TESTBED points at its env file):
//
//	GOFAB_TESTBED=/var/lib/gofab-testbed/env go test -run '^$' -bench . -benchtime 5x ./bench
package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func testbed(b *testing.B) map[string]string {
	path := os.Getenv("GOFAB_TESTBED")
	if path == "" {
		b.Skip("GOFAB_TESTBED is unset: run ./test.sh first")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			kv[k] = v
		}
	}
	return kv
}

func build(b *testing.B, dir, pkg string) string {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = ".."
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// measure runs cmd b.N times and reports wall time, client CPU (user+sys)
// and peak RSS per run.
func measure(b *testing.B, name string, args ...string) {
	var cpu time.Duration
	var rss int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(name, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Stdout = nil
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s: %v\n%s", filepath.Base(name), err, stderr.String())
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		rss = max(rss, ru.Maxrss)
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(rss)/1024, "peak-MiB")
}

// BenchmarkFanout200 runs "uname -r" on 127.0.0.2 … 127.0.0.201: gofab's
// ad-hoc mode against the floor program.
func BenchmarkFanout200(b *testing.B) {
	tb := testbed(b)
	dir := b.TempDir()
	gofab := build(b, dir, "./cmd/gofab")
	floor := build(b, dir, "./bench/floor")
	var plain, withPort []string
	for i := 2; i <= 201; i++ {
		plain = append(plain, fmt.Sprintf("127.0.0.%d", i))
		withPort = append(withPort, fmt.Sprintf("127.0.0.%d:%s", i, tb["GOFAB_TB_PORT"]))
	}
	cfg := filepath.Join(dir, "ssh_config")
	os.WriteFile(cfg, []byte(fmt.Sprintf("Host *\n  Port %s\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n",
		tb["GOFAB_TB_PORT"], tb["GOFAB_TB_USER"], tb["GOFAB_TB_KEY"], tb["GOFAB_TB_KNOWN_HOSTS"])), 0o644)
	b.Run("floor", func(b *testing.B) {
		measure(b, floor, "-hosts", strings.Join(withPort, ","), "-user", tb["GOFAB_TB_USER"],
			"-key", tb["GOFAB_TB_KEY"], "-known-hosts", tb["GOFAB_TB_KNOWN_HOSTS"], "uname", "-r")
	})
	b.Run("gofab", func(b *testing.B) {
		measure(b, gofab, "-S", cfg, "-H", strings.Join(plain, ","), "--", "uname", "-r")
	})
}

// BenchmarkList50 times "gofab -l" on a fabfile of 50 tasks.
func BenchmarkList50(b *testing.B) {
	dir := b.TempDir()
	gofab := build(b, dir, "./cmd/gofab")
	var src strings.Builder
	src.WriteString("env.hosts = {\"web1\", \"web2\"}\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&src, "task(\"task%02d\", \"Task number %d\\nMore text.\", function(args)\n  cd(\"/srv\", function() run(\"make \" .. (args[1] or \"all\")) end)\n  sudo(\"systemctl restart app%d\")\nend)\n", i, i, i)
	}
	fab := filepath.Join(dir, "fabfile.lua")
	os.WriteFile(fab, []byte(src.String()), 0o644)
	measure(b, gofab, "-f", fab, "-l")
}

// BenchmarkVersusFabric2 runs "uname -r" on 50 testbed hosts with Fabric 2
// (Debian's fabric package: a ThreadingGroup, bench/fabric2/fanout.py)
// and with gofab's ad-hoc mode, and the floor program (a bare
// x/crypto/ssh client) for reference; compare their cpu-ms/op. It needs
// the testbed and /usr/bin/python3 with the fabric module.
func BenchmarkVersusFabric2(b *testing.B) {
	tb := testbed(b)
	if err := exec.Command("/usr/bin/python3", "-c", "import fabric").Run(); err != nil {
		b.Skip("Fabric 2 is not installed (apt-get install fabric)")
	}
	dir := b.TempDir()
	gofab := build(b, dir, "./cmd/gofab")
	var hosts []string
	for i := 2; i <= 51; i++ {
		hosts = append(hosts, fmt.Sprintf("127.0.0.%d", i))
	}
	cfg := filepath.Join(dir, "ssh_config")
	os.WriteFile(cfg, []byte(fmt.Sprintf("Host *\n  Port %s\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n",
		tb["GOFAB_TB_PORT"], tb["GOFAB_TB_USER"], tb["GOFAB_TB_KEY"], tb["GOFAB_TB_KNOWN_HOSTS"])), 0o644)
	b.Run("fabric2", func(b *testing.B) {
		args := append([]string{"fabric2/fanout.py", "--user", tb["GOFAB_TB_USER"], "--key", tb["GOFAB_TB_KEY"], "--port", tb["GOFAB_TB_PORT"]}, hosts...)
		measure(b, "/usr/bin/python3", append(args, "--", "uname", "-r")...)
	})
	b.Run("gofab", func(b *testing.B) {
		measure(b, gofab, "-S", cfg, "-q", "-H", strings.Join(hosts, ","), "--", "uname", "-r")
	})
	floor := build(b, dir, "./bench/floor")
	var withPort []string
	for _, h := range hosts {
		withPort = append(withPort, h+":"+tb["GOFAB_TB_PORT"])
	}
	b.Run("floor", func(b *testing.B) {
		measure(b, floor, "-hosts", strings.Join(withPort, ","), "-user", tb["GOFAB_TB_USER"],
			"-key", tb["GOFAB_TB_KEY"], "-known-hosts", tb["GOFAB_TB_KNOWN_HOSTS"], "uname", "-r")
	})
}
