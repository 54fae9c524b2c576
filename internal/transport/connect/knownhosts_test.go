package connect

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/sshconfig"
)

// listenSSH serves SSH with cfg on a loopback port until the test ends,
// handing each connection's channel requests to chans, and returns the
// address.
func listenSSH(t *testing.T, cfg *ssh.ServerConfig, chans func(<-chan ssh.NewChannel)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, newChans, reqs, err := ssh.NewServerConn(c, cfg)
				if err != nil {
					return
				}
				go ssh.DiscardRequests(reqs)
				chans(newChans)
			}()
		}
	}()
	return ln.Addr().String()
}

// passwordConfig accepts any password and serves the given host keys.
func passwordConfig(t *testing.T, keys ...any) *ssh.ServerConfig {
	t.Helper()
	cfg := &ssh.ServerConfig{PasswordCallback: func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) { return nil, nil }}
	for _, k := range keys {
		s, err := ssh.NewSignerFromKey(k)
		if err != nil {
			t.Fatal(err)
		}
		cfg.AddHostKey(s)
	}
	return cfg
}

// testServer serves SSH with the given host keys, accepting any password
// and refusing every session.
func testServer(t *testing.T, keys ...any) string {
	return listenSSH(t, passwordConfig(t, keys...), func(chans <-chan ssh.NewChannel) {
		for ch := range chans {
			ch.Reject(ssh.Prohibited, "no sessions here")
		}
	})
}

// dialWith connects to addr with a known_hosts file holding known and
// returns the dial error and the file's content afterwards.
func dialWith(t *testing.T, addr, known string, accept bool) (string, error) {
	t.Helper()
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	if known != "" {
		os.WriteFile(kh, []byte(known), 0o600)
	}
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "config")
	os.WriteFile(conf, []byte(fmt.Sprintf("Host *\n  Port %s\n  User u\n  UserKnownHostsFile %s\n  IdentityFile %s/none\n", port, kh, dir)), 0o600)
	d := NewDialer(Options{Config: sshconfig.NewLoader(sshconfig.Local{Home: dir}, conf), Password: "pw", AcceptNewHostKeys: accept})
	defer d.Close()
	conn, err := d.Dial(context.Background(), host.Addr{Host: "127.0.0.1"})
	if err == nil {
		conn.Close()
	}
	data, _ := os.ReadFile(kh)
	return string(data), err
}

func TestHostKeys(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)

	t.Run("new key recorded is ed25519, as ssh would", func(t *testing.T) {
		addr := testServer(t, rsaKey, ecKey, edKey)
		known, err := dialWith(t, addr, "", true)
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(known); len(f) < 2 || f[1] != ssh.KeyAlgoED25519 {
			t.Errorf("recorded %q, want an ssh-ed25519 line", known)
		}
	})
	t.Run("unknown key refused by default", func(t *testing.T) {
		addr := testServer(t, edKey)
		known, err := dialWith(t, addr, "", false)
		if err == nil || !strings.Contains(err.Error(), "--accept-new-host-keys") || known != "" {
			t.Errorf("err %v, known_hosts %q", err, known)
		}
	})
	t.Run("ecdsa-only entry for an ed25519 server gets advice", func(t *testing.T) {
		addr := testServer(t, edKey)
		ecPub, _ := ssh.NewPublicKey(&ecKey.PublicKey)
		_, port, _ := net.SplitHostPort(addr)
		line := fmt.Sprintf("[127.0.0.1]:%s %s", port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ecPub))))
		_, err := dialWith(t, addr, line+"\n", true)
		if err == nil || !strings.Contains(err.Error(), "known_hosts has only ecdsa-sha2-nistp256 keys") ||
			!strings.Contains(err.Error(), "ssh-keygen -R") || strings.Contains(err.Error(), "no common algorithm") {
			t.Errorf("err = %v", err)
		}
	})
}
