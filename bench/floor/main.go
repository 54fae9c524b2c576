// Command floor is the benchmark reference for gofab's fan-out: the least a
// Go program must do to run one command on many hosts with x/crypto/ssh —
// dial every host at once, authenticate with one key, check the host key
// against known_hosts, run the command and print its output.
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
	user := flag.String("user", "", "login user")
	key := flag.String("key", "", "private key file")
	known := flag.String("known-hosts", "", "known_hosts file")
	flag.Parse()
	cmd := strings.Join(flag.Args(), " ")
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
	for _, h := range strings.Split(*hosts, ",") {
		wg.Add(1)
		go func(h string) {
			defer wg.Done()
			out, err := runOn(h, cfg, cmd)
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
