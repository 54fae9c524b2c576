package connect

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/sshconfig"
)

// authMethods offers public keys (-i keys, then ssh_config's IdentityFile,
// then the agent's) and, when a password is known, password and
// keyboard-interactive authentication.
func (d *Dialer) authMethods(cfg *sshconfig.Config, tried *authTried) ([]ssh.AuthMethod, error) {
	signers := func() ([]ssh.Signer, error) {
		var out []ssh.Signer
		var pubs []ssh.PublicKey
		files := append([]string{}, d.opts.IdentityFiles...)
		if cfg.IdentityFilesSet || !d.opts.NoDefaultKeys {
			for _, f := range cfg.IdentityFiles {
				files = append(files, cfg.Expand(f))
			}
		}
		var errs []error
		for i, f := range files {
			explicit := i < len(d.opts.IdentityFiles) || cfg.IdentityFilesSet
			s, pub, err := d.loadKey(f, explicit)
			if err != nil {
				errs = append(errs, err)
			}
			if s != nil {
				out = append(out, s)
				tried.keys = append(tried.keys, f)
			}
			if pub != nil {
				pubs = append(pubs, pub)
			}
		}
		agentKeys := d.agentKeys()
		if d.opts.NoAgentKeys {
			agentKeys = nil
		}
		for _, s := range agentKeys {
			if cfg.IdentitiesOnly && !containsKey(pubs, s.PublicKey()) {
				continue
			}
			out = append(out, s)
			tried.agent++
		}
		if len(out) == 0 && len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return out, nil
	}
	methods := []ssh.AuthMethod{ssh.PublicKeysCallback(signers)}
	if pw := d.opts.Password; pw != "" {
		tried.password = true
		methods = append(methods, ssh.Password(pw), ssh.KeyboardInteractive(
			func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					if !echos[i] {
						answers[i] = pw
					}
				}
				return answers, nil
			}))
	}
	return methods, nil
}

// authTried is what authentication offered the server, for the error
// when it refused all of it.
type authTried struct {
	keys     []string // key files
	agent    int      // agent keys
	password bool
}

func (t *authTried) String() string {
	var parts []string
	home, _ := os.UserHomeDir()
	for _, k := range t.keys {
		if home != "" && strings.HasPrefix(k, home+"/") {
			k = "~" + k[len(home):]
		}
		parts = append(parts, "key "+k)
	}
	switch {
	case t.agent > 0:
		parts = append(parts, fmt.Sprintf("agent: %d keys", t.agent))
	default:
		parts = append(parts, "agent: none")
	}
	if t.password {
		parts = append(parts, "a password")
	}
	return "tried " + strings.Join(parts, ", ")
}

// userOverride says, when the user gofab logged in as is not the one
// ssh_config gives the host, where it came from.
func (d *Dialer) userOverride(cfg *sshconfig.Config) string {
	file, err := d.opts.Config.Resolve(cfg.Host, sshconfig.Overrides{})
	if err != nil || !file.UserSet || file.User == cfg.User {
		return ""
	}
	return fmt.Sprintf("; ssh_config says User %s, overridden by -u, env.user, the inventory or the host string", file.User)
}

func containsKey(keys []ssh.PublicKey, k ssh.PublicKey) bool {
	m := string(k.Marshal())
	for _, p := range keys {
		if string(p.Marshal()) == m {
			return true
		}
	}
	return false
}

// agentKeys returns the ssh-agent's signers, asking the agent once per run.
func (d *Dialer) agentKeys() []ssh.Signer {
	d.agentOnce.Do(func() {
		if d.opts.AgentSocket == "" {
			return
		}
		conn, err := net.Dial("unix", d.opts.AgentSocket)
		if err != nil {
			return
		}
		// The connection stays open for the whole run: signing goes through it.
		signers, err := agent.NewClient(conn).Signers()
		if err == nil {
			d.agentSigners = signers
		}
	})
	return d.agentSigners
}

type keyEntry struct {
	once   sync.Once
	signer ssh.Signer
	pub    ssh.PublicKey
	err    error
}

// loadKey parses a private key file once per run. A missing file is an
// error only when the user named it (explicit); an encrypted key asks for
// its passphrase through the Prompter.
func (d *Dialer) loadKey(path string, explicit bool) (ssh.Signer, ssh.PublicKey, error) {
	d.keysMu.Lock()
	e, ok := d.keys[path]
	if !ok {
		e = &keyEntry{}
		d.keys[path] = e
	}
	d.keysMu.Unlock()
	e.once.Do(func() { e.signer, e.pub, e.err = d.parseKey(path) })
	if e.err != nil && !explicit && errors.Is(e.err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	return e.signer, e.pub, e.err
}

func (d *Dialer) parseKey(path string) (ssh.Signer, ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("key file: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if d.opts.Prompter == nil {
			return nil, missing.PublicKey, fmt.Errorf("key %s is encrypted and no terminal is available to ask for its passphrase (load it into ssh-agent)", path)
		}
		pass, perr := d.opts.Prompter.Prompt(fmt.Sprintf("Passphrase for key %s: ", path), true)
		if perr != nil {
			return nil, missing.PublicKey, fmt.Errorf("key %s is encrypted: %w (load it into ssh-agent)", path, perr)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(data, []byte(pass))
		if err != nil {
			return nil, missing.PublicKey, fmt.Errorf("key %s: wrong passphrase or unreadable key", path)
		}
	} else if err != nil {
		return nil, nil, fmt.Errorf("key %s: %w", path, err)
	}
	return signer, signer.PublicKey(), nil
}

// Identity returns the login user and port addr resolves to.
func (d *Dialer) Identity(addr host.Addr) (string, int, error) {
	cfg, err := d.Resolve(addr)
	if err != nil {
		return "", 0, err
	}
	return cfg.User, cfg.Port, nil
}
