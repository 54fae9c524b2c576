package sops

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// ParseRecipient reads an age recipient: an age1… X25519 key or an SSH
// public key (ssh-ed25519, ssh-rsa).
func ParseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "age1"):
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, fmt.Errorf("recipient %q: %w", s, err)
		}
		return r, nil
	case strings.HasPrefix(s, "ssh-"):
		r, err := agessh.ParseRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("recipient %q: %w", short(s), err)
		}
		return r, nil
	}
	return nil, fmt.Errorf("recipient %q is neither an age key (age1…) nor an SSH public key (ssh-ed25519, ssh-rsa)", short(s))
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Identities finds the age identities a user has, as sops finds them,
// plus SSH private keys: SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, the user's
// sops/age/keys.txt, SOPS_AGE_SSH_PRIVATE_KEY_FILE, the extra SSH keys
// given (-i, ssh_config's IdentityFile), ~/.ssh/id_ed25519 and
// ~/.ssh/id_rsa. They are read once, on first use.
type Identities struct {
	// Getenv reads the environment (os.Getenv when nil).
	Getenv func(string) string
	// Home is the user's home directory ($HOME when empty).
	Home string
	// SSHKeys are more SSH private key files to try.
	SSHKeys []string
	// Passphrase asks for the passphrase of an encrypted SSH key, once
	// per key; nil refuses such keys.
	Passphrase func(path string) (string, error)
	// Extra identities, tried first (gofab test's test identity).
	Extra []age.Identity

	once  sync.Once
	ids   []age.Identity
	tried []string
	err   error
}

// Tried names the identities found (files and variables).
func (i *Identities) Tried() []string { return i.tried }

func (i *Identities) getenv(k string) string {
	if i.Getenv != nil {
		return i.Getenv(k)
	}
	return os.Getenv(k)
}

func (i *Identities) load() ([]age.Identity, error) {
	i.once.Do(func() { i.err = i.find() })
	return i.ids, i.err
}

func (i *Identities) find() error {
	i.ids = append(i.ids, i.Extra...)
	if len(i.Extra) > 0 {
		i.tried = append(i.tried, "the test identity")
	}
	home := i.Home
	if home == "" {
		home = i.getenv("HOME")
	}
	if p := i.getenv("SOPS_AGE_KEY_FILE"); p != "" {
		if err := i.addAgeFile(p, true); err != nil {
			return err
		}
	}
	if k := i.getenv("SOPS_AGE_KEY"); k != "" {
		ids, err := age.ParseIdentities(strings.NewReader(k))
		if err != nil {
			return fmt.Errorf("SOPS_AGE_KEY: %w", err)
		}
		i.ids, i.tried = append(i.ids, ids...), append(i.tried, "SOPS_AGE_KEY")
	}
	config := i.getenv("XDG_CONFIG_HOME")
	if config == "" && home != "" {
		config = filepath.Join(home, ".config")
	}
	if config != "" {
		if err := i.addAgeFile(filepath.Join(config, "sops", "age", "keys.txt"), false); err != nil {
			return err
		}
	}
	keys := append([]string(nil), i.SSHKeys...)
	if p := i.getenv("SOPS_AGE_SSH_PRIVATE_KEY_FILE"); p != "" {
		keys = append([]string{p}, keys...)
	}
	if home != "" {
		keys = append(keys, filepath.Join(home, ".ssh", "id_ed25519"), filepath.Join(home, ".ssh", "id_rsa"))
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		if err := i.addSSHKey(k); err != nil {
			return err
		}
	}
	return nil
}

// checkPrivate refuses a private key file others can read, as ssh does.
func checkPrivate(path string, fi os.FileInfo) error {
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s: permissions %04o are too open: a private key must not be readable by others (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	return nil
}

func (i *Identities) addAgeFile(path string, must bool) error {
	fi, err := os.Stat(path)
	if err != nil {
		if must {
			return fmt.Errorf("SOPS_AGE_KEY_FILE: %w", err)
		}
		return nil
	}
	if err := checkPrivate(path, fi); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	i.ids, i.tried = append(i.ids, ids...), append(i.tried, path)
	return nil
}

func (i *Identities) addSSHKey(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil // no such key: nothing to try
	}
	if err := checkPrivate(path, fi); err != nil {
		// Refused, as ssh refuses it; named if nothing else decrypts.
		i.tried = append(i.tried, err.Error())
		return nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	id, err := agessh.ParseIdentity(pem)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		if i.Passphrase == nil || missing.PublicKey == nil {
			i.tried = append(i.tried, path+" (passphrase-protected: no terminal to ask)")
			return nil
		}
		ask := i.Passphrase
		id = &passphraseIdentity{pub: missing.PublicKey, pem: pem, path: path, ask: func() (string, error) { return ask(path) }}
	case err != nil:
		i.tried = append(i.tried, path+" (not usable: "+err.Error()+")")
		return nil
	}
	i.ids, i.tried = append(i.ids, id), append(i.tried, path)
	return nil
}

// NewIdentity makes a new age X25519 identity, written as keys.txt is:
// a comment with its creation and public key, then the secret key.
func NewIdentity() (text, recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", "", err
	}
	return "# public key: " + id.Recipient().String() + "\n" + id.String() + "\n", id.Recipient().String(), nil
}

// RecipientsOf reads a recipients file: one age or SSH public key per
// line, # comments and blank lines ignored.
func RecipientsOf(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// passphraseIdentity is an SSH key file protected by a passphrase, as an
// age identity: the passphrase is asked only when a file's data key is
// wrapped for this key (agessh.EncryptedSSHIdentity does the same, but
// says a wrong passphrase only in its error's text), and the decrypted
// key is kept for the run.
type passphraseIdentity struct {
	pub       ssh.PublicKey
	pem       []byte
	path      string
	ask       func() (string, error)
	decrypted age.Identity
}

// Unwrap implements age.Identity.
func (p *passphraseIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if p.decrypted != nil {
		return p.decrypted.Unwrap(stanzas)
	}
	sum := sha256.Sum256(p.pub.Marshal())
	tag := base64.RawStdEncoding.EncodeToString(sum[:4]) // agessh's stanza tag for the key
	if !slices.ContainsFunc(stanzas, func(s *age.Stanza) bool { return s.Type == p.pub.Type() && len(s.Args) > 0 && s.Args[0] == tag }) {
		return nil, age.ErrIncorrectIdentity
	}
	pass, err := p.ask()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.path, err)
	}
	k, err := ssh.ParseRawPrivateKeyWithPassphrase(p.pem, []byte(pass))
	if errors.Is(err, x509.IncorrectPasswordError) {
		return nil, fmt.Errorf("incorrect passphrase for %s", p.path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.path, err)
	}
	switch k := k.(type) {
	case *ed25519.PrivateKey:
		p.decrypted, err = agessh.NewEd25519Identity(*k)
	case ed25519.PrivateKey:
		p.decrypted, err = agessh.NewEd25519Identity(k)
	case *rsa.PrivateKey:
		p.decrypted, err = agessh.NewRSAIdentity(k)
	default:
		return nil, fmt.Errorf("%s: an SSH key of type %T cannot decrypt files", p.path, k)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.path, err)
	}
	return p.decrypted.Unwrap(stanzas)
}
