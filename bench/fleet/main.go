// Command fleet serves a simulated fleet of SSH hosts from one process
// (internal/testdouble/simfleet) for benchmarks and experiments: every host is a
// loopback address 127.10.x.y on one port. It writes a client key,
// known_hosts, an ssh_config and hosts.txt into -dir, prints "ready", and
// serves until interrupted or -limit passes; then it prints how many
// logins and commands it served.
//
//	go run ./bench/fleet -hosts 10000 -dir /tmp/fleet -fault refuse=3,4 -fault stall=5
//	gofab -S /tmp/fleet/ssh_config -H @/tmp/fleet/hosts.txt -- uname -r
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gofab/gofab/internal/testdouble/simfleet"
)

type faultFlags map[int]simfleet.Fault

func (f faultFlags) String() string { return fmt.Sprint(map[int]simfleet.Fault(f)) }

// Set reads NAME=i,j,… (host indexes).
func (f faultFlags) Set(s string) error {
	name, list, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want NAME=i,j,…")
	}
	fault, err := simfleet.ParseFault(name)
	if err != nil {
		return err
	}
	for _, n := range strings.Split(list, ",") {
		i, err := strconv.Atoi(n)
		if err != nil {
			return err
		}
		f[i] = fault
	}
	return nil
}

func main() {
	hosts := flag.Int("hosts", 1000, "number of hosts")
	port := flag.Int("port", 0, "port every host listens on (0: any free one)")
	dir := flag.String("dir", "", "where to write the client key, known_hosts, ssh_config and hosts.txt")
	user := flag.String("user", "deploy", "login user")
	password := flag.String("password", "", "also accept this password (and keyboard-interactive)")
	slow := flag.Duration("slow", 2*time.Second, "delay of slow hosts")
	limit := flag.Duration("limit", 10*time.Minute, "stop after this long")
	faults := faultFlags{}
	flag.Var(faults, "fault", "NAME=i,j: give hosts i, j a fault: refuse, stall, drop or slow (repeatable)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "fleet: -dir is required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fail(err)
	}
	pub, key, err := simfleet.NewClientKey(*dir)
	if err != nil {
		fail(err)
	}
	f, err := simfleet.Start(simfleet.Config{Hosts: *hosts, Port: *port, User: *user, AuthorizedKeys: []ssh.PublicKey{pub},
		Password: *password, Faults: faults, SlowDelay: *slow, Limit: *limit})
	if err != nil {
		fail(err)
	}
	if _, err := f.WriteClientFiles(*dir, key); err != nil {
		fail(err)
	}
	fmt.Printf("ready: %d hosts on port %d\n", *hosts, f.Port())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case <-time.After(*limit):
	}
	f.Close()
	fmt.Printf("logins %d commands %d\n", f.Logins.Load(), f.Commands.Load())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fleet:", err)
	os.Exit(1)
}
