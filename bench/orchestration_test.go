package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fanoutBed builds gofab and the floor program and writes an ssh config
// for the testbed.
func fanoutBed(b *testing.B) (gofab, floor, cfg string, tb map[string]string) {
	tb = testbed(b)
	dir := b.TempDir()
	gofab = build(b, dir, "./cmd/gofab")
	floor = build(b, dir, "./bench/floor")
	cfg = filepath.Join(dir, "ssh_config")
	os.WriteFile(cfg, []byte(fmt.Sprintf("Host *\n  Port %s\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n",
		tb["GOFAB_TB_PORT"], tb["GOFAB_TB_USER"], tb["GOFAB_TB_KEY"], tb["GOFAB_TB_KNOWN_HOSTS"])), 0o644)
	return gofab, floor, cfg, tb
}

func floorArgs(tb map[string]string, hosts []string, extra ...string) []string {
	withPort := make([]string, len(hosts))
	for i, h := range hosts {
		withPort[i] = h + ":" + tb["GOFAB_TB_PORT"]
	}
	return append([]string{"-hosts", strings.Join(withPort, ","), "-user", tb["GOFAB_TB_USER"],
		"-key", tb["GOFAB_TB_KEY"], "-known-hosts", tb["GOFAB_TB_KNOWN_HOSTS"]}, extra...)
}

// BenchmarkThousandHosts runs "true" on 127.0.1.1 … 127.0.4.250 with gofab
// and with the floor program (target: gofab's peak RSS under 150 MiB, no
// host failing).
func BenchmarkThousandHosts(b *testing.B) {
	gofab, floor, cfg, tb := fanoutBed(b)
	var hosts []string
	for x := 1; x <= 4; x++ {
		for y := 1; y <= 250; y++ {
			hosts = append(hosts, fmt.Sprintf("127.0.%d.%d", x, y))
		}
	}
	// 1000 simultaneous handshakes trip sshd's MaxStartups: the floor
	// takes gofab's default cap of 64 hosts at once.
	b.Run("floor", func(b *testing.B) { measure(b, floor, floorArgs(tb, hosts, "-limit", "64", "true")...) })
	b.Run("gofab", func(b *testing.B) {
		measure(b, gofab, "-S", cfg, "-q", "-H", strings.Join(hosts, ","), "--", "true")
	})
}

// BenchmarkTwentyRuns50Hosts runs a task of 20 run("true") calls on 50
// hosts, over one connection per host, against the floor program opening
// a connection per command (target: gofab at least 3× faster).
func BenchmarkTwentyRuns50Hosts(b *testing.B) {
	gofab, floor, cfg, tb := fanoutBed(b)
	var hosts []string
	for i := 2; i <= 51; i++ {
		hosts = append(hosts, fmt.Sprintf("127.0.0.%d", i))
	}
	fab := filepath.Join(b.TempDir(), "fabfile.lua")
	os.WriteFile(fab, []byte(`task("twenty", function() for i = 1, 20 do run("true") end end)`), 0o644)
	b.Run("connection-per-command", func(b *testing.B) {
		measure(b, floor, floorArgs(tb, hosts, "-repeat", "20", "true")...)
	})
	b.Run("gofab", func(b *testing.B) {
		measure(b, gofab, "-f", fab, "-S", cfg, "-q", "-H", strings.Join(hosts, ","), "twenty")
	})
}
