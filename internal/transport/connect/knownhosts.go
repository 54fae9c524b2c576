package connect

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"

	"github.com/gofab/gofab/internal/transport/sshconfig"
)

// globalKnownHosts are read after the user's files, as ssh does.
var globalKnownHosts = []string{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}

// hostKeys checks one host's key against known_hosts.
type hostKeys struct {
	d         *Dialer
	db        *knownhosts.HostKeyDB
	files     []string
	acceptNew bool
}

// hostKeyChecker returns the checker for cfg's known_hosts files. Unknown
// keys are refused unless --accept-new-host-keys or StrictHostKeyChecking
// accept-new (or no, which gofab treats the same way: it records the key
// but still refuses a changed one) says to record them.
func (d *Dialer) hostKeyChecker(cfg *sshconfig.Config) (*hostKeys, error) {
	files := append(append([]string{}, cfg.UserKnownHostsFiles...), globalKnownHosts...)
	db, err := d.knownHosts(files)
	if err != nil {
		return nil, err
	}
	accept := d.opts.AcceptNewHostKeys || cfg.StrictHostKeyChecking == "accept-new" || cfg.StrictHostKeyChecking == "false"
	return &hostKeys{d: d, db: db, files: cfg.UserKnownHostsFiles, acceptNew: accept}, nil
}

// knownHosts loads the existing files among files once per run.
func (d *Dialer) knownHosts(files []string) (*knownhosts.HostKeyDB, error) {
	key := strings.Join(files, "\x00")
	d.khMu.Lock()
	defer d.khMu.Unlock()
	if db, ok := d.khDBs[key]; ok {
		return db, nil
	}
	var existing []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		}
	}
	var db *knownhosts.HostKeyDB
	if len(existing) > 0 {
		var err error
		db, err = knownhosts.NewDB(existing...)
		if err != nil {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
	}
	d.khDBs[key] = db
	return db, nil
}

// preferredHostKeyAlgos is OpenSSH's order of plain host key types, so a
// host whose key gofab records the first time gets the key type ssh would
// record (x/crypto on its own prefers ECDSA to Ed25519).
var preferredHostKeyAlgos = []string{
	ssh.KeyAlgoED25519,
	ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
}

// algorithms returns the host key types to ask for: those known_hosts
// holds for target, else OpenSSH's order.
func (h *hostKeys) algorithms(target string) []string {
	if h.db != nil {
		if algos := h.db.HostKeyAlgorithms(target); len(algos) > 0 {
			return algos
		}
	}
	return preferredHostKeyAlgos
}

// explainNoCommonKey turns x/crypto's failure to agree on a host key type
// (known_hosts holds only key types the server no longer offers) into
// advice.
func explainNoCommonKey(err error, target string, offered []string) error {
	var neg *ssh.AlgorithmNegotiationError
	if !errors.As(err, &neg) || neg.What != "host key" {
		return err
	}
	name := knownhosts.Normalize(target)
	return fmt.Errorf("known_hosts has only %s keys for %s, and the server offers none of those types: "+
		"its host keys changed, or known_hosts is stale. Check the server's fingerprint out of band "+
		"(ssh-keyscan -p PORT HOST | ssh-keygen -lf -), then replace the entry: ssh-keygen -R '%s'",
		strings.Join(offered, ", "), name, name)
}

func (h *hostKeys) callback(hostname string, remote net.Addr, key ssh.PublicKey) error {
	var err error
	if h.db == nil {
		err = &unknownKey{}
	} else {
		err = h.db.HostKeyCallback()(hostname, remote, key)
	}
	if err == nil {
		return nil
	}
	fp := ssh.FingerprintSHA256(key)
	name := knownhosts.Normalize(hostname)
	switch {
	case knownhosts.IsHostKeyChanged(err):
		return fmt.Errorf("REMOTE HOST KEY HAS CHANGED for %s (now %s %s): refusing to connect; "+
			"someone may be intercepting the connection. If the change is expected, remove the old key with: ssh-keygen -R '%s'",
			name, key.Type(), fp, name)
	case knownhosts.IsHostUnknown(err) || errors.As(err, new(*unknownKey)):
		return h.unknown(hostname, remote, key, name, fp)
	default:
		return fmt.Errorf("host key check for %s: %w", name, err)
	}
}

type unknownKey struct{}

func (*unknownKey) Error() string { return "host unknown" }

// unknown records a new host key when allowed, or refuses it saying how to
// accept it.
func (h *hostKeys) unknown(hostname string, remote net.Addr, key ssh.PublicKey, name, fp string) error {
	if !h.acceptNew {
		return fmt.Errorf("host key for %s is unknown (%s %s); to trust it, check the fingerprint and run with "+
			"--accept-new-host-keys, or set \"StrictHostKeyChecking accept-new\" for this host in your ssh config",
			name, key.Type(), fp)
	}
	if len(h.files) == 0 {
		return fmt.Errorf("host key for %s is unknown and UserKnownHostsFile is none: nowhere to record it", name)
	}
	line := knownhosts.Line([]string{hostname}, key)
	d := h.d
	d.khMu.Lock()
	defer d.khMu.Unlock()
	if d.khAdded[line] {
		return nil
	}
	file := h.files[0]
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	_, werr := fmt.Fprintln(f, line)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("record host key in %s: %w", file, werr)
	}
	d.khAdded[line] = true
	return nil
}
