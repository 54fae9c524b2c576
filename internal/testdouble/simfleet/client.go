package simfleet

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// ClientFiles are the files a client needs to reach a fleet: a private
// key the fleet accepts, a known_hosts file and an ssh_config that names
// both, and the hosts' addresses.
type ClientFiles struct {
	Key, KnownHosts, SSHConfig string
	Hosts                      []string
}

// NewClientKey makes a key pair for Config.AuthorizedKeys and writes the
// private key (OpenSSH format, no passphrase) into dir.
func NewClientKey(dir string) (ssh.PublicKey, string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, "simfleet client")
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, "", err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	return sshPub, path, err
}

// WriteClientFiles writes known_hosts and ssh_config for the fleet into
// dir; key is the client's private key file.
func (f *Fleet) WriteClientFiles(dir, key string) (ClientFiles, error) {
	cf := ClientFiles{Key: key, KnownHosts: filepath.Join(dir, "known_hosts"), SSHConfig: filepath.Join(dir, "ssh_config")}
	if err := os.WriteFile(cf.KnownHosts, []byte(f.KnownHostsLine()), 0o644); err != nil {
		return cf, err
	}
	cfg := fmt.Sprintf("Host 127.1*\n  Port %d\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n",
		f.port, f.cfg.User, key, cf.KnownHosts)
	if err := os.WriteFile(cf.SSHConfig, []byte(cfg), 0o644); err != nil {
		return cf, err
	}
	for i := 0; i < f.cfg.Hosts; i++ {
		cf.Hosts = append(cf.Hosts, Addr(i))
	}
	return cf, os.WriteFile(filepath.Join(dir, "hosts.txt"), []byte(strings.Join(cf.Hosts, "\n")+"\n"), 0o644)
}
