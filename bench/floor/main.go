// Command floor is the benchmark reference for gofab's fan-out: the least a
// Go program must do to run one command on many hosts with x/crypto/ssh —
// dial every host at once, authenticate with one key, check the host key
// against known_hosts, run the command and print its output. With -repeat N
// each host runs the command N times, over a new connection each time: the
// one-connection-per-command way of tools that do not keep connections.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func main() {
	hosts := flag.String("hosts", "", "comma-separated host:port list")
	hostsFile := flag.String("hosts-file", "", "file of host:port, one a line (instead of -hosts)")
	user := flag.String("user", "", "login user")
	key := flag.String("key", "", "private key file")
	known := flag.String("known-hosts", "", "known_hosts file")
	repeat := flag.Int("repeat", 1, "run the command this many times per host, one connection each")
	limit := flag.Int("limit", 0, "connect to at most this many hosts at once (0: all)")
	flag.Parse()
	cmd := strings.Join(flag.Args(), " ")
	if *hostsFile != "" {
		data, err := os.ReadFile(*hostsFile)
		check(err)
		*hosts = strings.Join(strings.Fields(string(data)), ",")
	}
	data, err := os.ReadFile(*key)
	check(err)
	signer, err := ssh.ParsePrivateKey(data)
	check(err)
	hk, err := knownhosts.New(*known)
	check(err)
	cfg := &ssh.ClientConfig{User: *user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hk}
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	sem := make(chan struct{}, max(*limit, 1))
	for _, h := range strings.Split(*hosts, ",") {
		wg.Add(1)
		go func(h string) {
			defer wg.Done()
			if *limit > 0 {
				sem <- struct{}{}
				defer func() { <-sem }()
			}
			var out []byte
			var err error
			for i := 0; i < *repeat && err == nil; i++ {
				out, err = runOn(h, cfg, cmd)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				fmt.Fprintf(os.Stderr, "%s: %v\n", h, err)
				return
			}
			fmt.Printf("%s: %s", h, out)
		}(h)
	}
	wg.Wait()
	if failed > 0 {
		os.Exit(1)
	}
}

func runOn(addr string, cfg *ssh.ClientConfig, cmd string) ([]byte, error) {
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out bytes.Buffer
	s.Stdout = &out
	err = s.Run(cmd)
	return out.Bytes(), err
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
