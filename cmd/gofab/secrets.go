package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/base/outfile"
	"github.com/gofab/gofab/internal/data/secrets"
	"github.com/gofab/gofab/internal/data/sops"
	"github.com/gofab/gofab/internal/transport/sshconfig"
)

// secretsCommand is "gofab secrets": SOPS files, as the sops tool reads
// and writes them, with age and SSH keys.
func secretsCommand(env environ) *cli.Command {
	recipients := []cli.Flag{
		&cli.StringSliceFlag{Name: "age", Usage: "encrypt to `RECIPIENT` (an age1… key or an SSH public key; repeatable, or comma-separated); default: .sops.yaml's creation_rules"},
		&cli.StringFlag{Name: "recipients-file", Usage: "encrypt to the keys listed in `FILE`, one per line"},
		&cli.BoolFlag{Name: "test", Usage: "encrypt to gofab test's public test identity (fixtures of *_test.lua files; never real secrets)"},
	}
	inPlace := &cli.BoolFlag{Name: "in-place", Aliases: []string{"i"}, Usage: "rewrite FILE instead of printing the result"}
	identity := &cli.StringSliceFlag{Name: "identity", Usage: "also try the SSH private key `FILE` (repeatable)"}
	return &cli.Command{
		Name:  "secrets",
		Usage: "encrypted files a team keeps in git (the SOPS format: YAML, JSON, dotenv; age and SSH keys)",
		Subcommands: []*cli.Command{
			{Name: "encrypt", Usage: "encrypt a plaintext FILE to the recipients of .sops.yaml (or --age)", ArgsUsage: "FILE",
				Flags:  append(recipients, inPlace),
				Action: func(c *cli.Context) error { return secretsEncrypt(c, env) }},
			{Name: "decrypt", Usage: "print the plaintext of an encrypted FILE (-i rewrites it in clear)", ArgsUsage: "FILE",
				Flags:  []cli.Flag{inPlace, identity},
				Action: func(c *cli.Context) error { return secretsDecrypt(c, env) }},
			{Name: "edit", Usage: "decrypt FILE into a private temporary file, open $EDITOR, and encrypt it again if it changed (a new FILE is created)", ArgsUsage: "FILE",
				Flags:  append(recipients, identity),
				Action: func(c *cli.Context) error { return secretsEdit(c, env) }},
			{Name: "updatekeys", Usage: "encrypt FILE's data key to the recipients .sops.yaml lists now (values unchanged)", ArgsUsage: "FILE",
				Flags:  append(recipients, identity),
				Action: func(c *cli.Context) error { return secretsUpdateKeys(c, env) }},
			{Name: "keygen", Usage: "make an age identity in the file sops reads (~/.config/sops/age/keys.txt, or --output) and print its public key",
				Flags:  []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "identity `FILE`"}},
				Action: func(c *cli.Context) error { return secretsKeygen(c, env) }},
		},
	}
}

// secretsFile is the one FILE argument.
func secretsFile(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", usageErr("gofab secrets %s: give one FILE", c.Command.Name)
	}
	return c.Args().First(), nil
}

// secretsFlags are the flags of gofab secrets' subcommands, each of which
// has some of them.
type secretsFlags struct {
	Identity       []string `flag:"identity"`
	Age            []string `flag:"age,optional"`
	RecipientsFile string   `flag:"recipients-file,optional"`
	Test           bool     `flag:"test,optional"`
	InPlace        bool     `flag:"in-place,optional"`
	Output         string   `flag:"output"`
}

// readSecretsFlags reads the flags of a gofab secrets subcommand.
func readSecretsFlags(c *cli.Context) (secretsFlags, error) { return flagsOf[secretsFlags](c) }

// identities are the user's, with --identity keys and a terminal to ask
// an SSH key's passphrase on.
func identities(keys []string, env environ) *sops.Identities {
	ids := env.secrets.IDs
	ids.SSHKeys = append(ids.SSHKeys, keys...)
	return ids
}

// recipientsFor are --age and --recipients-file, else the creation rule's.
func recipientsFor(sf secretsFlags, rule sops.Rule) ([]string, error) {
	var out []string
	for _, a := range sf.Age {
		out = append(out, splitList([]string{a})...)
	}
	if f := sf.RecipientsFile; f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, usageErr("--recipients-file: %v", err)
		}
		out = append(out, sops.RecipientsOf(data)...)
	}
	if sf.Test {
		out = append(out, secrets.TestRecipient)
	}
	if len(out) == 0 {
		out = rule.Recipients
	}
	if len(out) == 0 {
		where := "no .sops.yaml found"
		if rule.Config != "" {
			where = "no creation rule of " + rule.Config + " matches the file"
		}
		return nil, usageErr("no recipients (%s): list age or SSH public keys in .sops.yaml's creation_rules, or give --age", where)
	}
	for _, r := range out {
		if _, err := sops.ParseRecipient(r); err != nil {
			return nil, usageErr("%v", err)
		}
	}
	return out, nil
}

// writeResult prints data, or with -i writes it over path (mode 0600,
// atomically).
func writeResult(sf secretsFlags, env environ, path string, data []byte) error {
	if !sf.InPlace {
		_, err := env.stdout.Write(data)
		return err
	}
	return writeFile0600(path, data)
}

// readSecretsFile reads the one FILE argument and tells its format.
func readSecretsFile(c *cli.Context) (path string, data []byte, f sops.Format, err error) {
	if path, err = secretsFile(c); err != nil {
		return "", nil, 0, err
	}
	if data, err = os.ReadFile(path); err != nil {
		return "", nil, 0, usageErr("%v", err)
	}
	return path, data, sops.FormatOf(path), nil
}

// openSecretsFile decrypts the FILE argument: its plaintext, as a file of
// its format, and its data key.
func openSecretsFile(c *cli.Context, sf secretsFlags, env environ) (path string, plain, key []byte, err error) {
	path, data, f, err := readSecretsFile(c)
	if err != nil {
		return "", nil, nil, err
	}
	t, _, key, err := sops.Open(data, f, identities(sf.Identity, env))
	if err != nil {
		return "", nil, nil, usageErr("%s: %v", path, err)
	}
	plain, err = sops.Emit(t, f)
	return path, plain, key, err
}

func secretsEncrypt(c *cli.Context, env environ) error {
	sf, err := readSecretsFlags(c)
	if err != nil {
		return err
	}
	path, data, f, err := readSecretsFile(c)
	if err != nil {
		return err
	}
	if sops.Encrypted(data, f) {
		return usageErr("%s is already encrypted (gofab secrets edit changes it)", path)
	}
	out, err := encryptFile(sf, path, data, nil)
	if err != nil {
		return err
	}
	return writeResult(sf, env, path, out)
}

// encryptFile encrypts plaintext data for path, keeping key when given.
func encryptFile(sf secretsFlags, path string, data, key []byte) ([]byte, error) {
	rule, err := sops.FindRule(path)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	rcp, err := recipientsFor(sf, rule)
	if err != nil {
		return nil, err
	}
	f := sops.FormatOf(path)
	t, err := sops.Parse(data, f)
	if err != nil {
		return nil, usageErr("%s: %v", path, err)
	}
	out, err := sops.Encrypt(t, f, rcp, &rule.Meta, key)
	if err != nil {
		return nil, usageErr("%s: %v", path, err)
	}
	return out, nil
}

func secretsDecrypt(c *cli.Context, env environ) error {
	sf, err := readSecretsFlags(c)
	if err != nil {
		return err
	}
	path, plain, _, err := openSecretsFile(c, sf, env)
	if err != nil {
		return err
	}
	return writeResult(sf, env, path, plain)
}

func secretsUpdateKeys(c *cli.Context, env environ) error {
	sf, err := readSecretsFlags(c)
	if err != nil {
		return err
	}
	path, plain, key, err := openSecretsFile(c, sf, env)
	if err != nil {
		return err
	}
	out, err := encryptFile(sf, path, plain, key)
	if err != nil {
		return err
	}
	if err := writeFile0600(path, out); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "%s: data key encrypted for the recipients now listed\n", path)
	return nil
}

// writeFile0600 replaces path with data atomically, readable by its owner
// only.
func writeFile0600(path string, data []byte) error {
	return outfile.Write(path, 0o600, func(w io.Writer) error { _, err := w.Write(data); return err })
}

func secretsKeygen(c *cli.Context, env environ) error {
	sf, err := readSecretsFlags(c)
	if err != nil {
		return err
	}
	path := sf.Output
	if path == "" {
		cfg := env.getenv("XDG_CONFIG_HOME")
		if cfg == "" {
			cfg = filepath.Join(env.getenv("HOME"), ".config")
		}
		path = filepath.Join(cfg, "sops", "age", "keys.txt")
	}
	text, recipient, err := sops.NewIdentity()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return usageErr("%v", err)
	}
	// Appended: keys.txt holds every identity a user has.
	fd, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return usageErr("%v", err)
	}
	if _, err := fd.WriteString(text); err != nil {
		fd.Close()
		return err
	}
	if err := fd.Close(); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "identity added to %s; its public key (list it in .sops.yaml):\n", path)
	fmt.Fprintln(env.stdout, recipient)
	return nil
}

// secretsEdit decrypts FILE into a 0600 file in a private directory, runs
// $EDITOR on it, and encrypts the result back only when it changed. The
// temporary plaintext is removed whatever happens, Ctrl-C included.
func secretsEdit(c *cli.Context, env environ) error {
	sf, err := readSecretsFlags(c)
	if err != nil {
		return err
	}
	path, err := secretsFile(c)
	if err != nil {
		return err
	}
	var plain, key []byte // a new file starts empty, with a new key
	if _, err := os.Stat(path); err == nil {
		if _, plain, key, err = openSecretsFile(c, sf, env); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return usageErr("%v", err)
	}
	dir, err := os.MkdirTemp("", "gofab-secrets-")
	if err != nil {
		return err
	}
	// Interrupts stop the editor, not gofab: the temporary file is
	// removed before gofab exits.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(tmp, plain, 0o600); err != nil {
		return err
	}
	if err := runEditor(c, env, tmp, sigs); err != nil {
		return err
	}
	edited, err := os.ReadFile(tmp)
	if err != nil {
		return err
	}
	if bytes.Equal(edited, plain) {
		fmt.Fprintf(env.stderr, "%s: unchanged\n", path)
		return nil
	}
	out, err := encryptFile(sf, path, edited, key)
	if err != nil {
		return err
	}
	return writeFile0600(path, out)
}

// runEditor runs $VISUAL or $EDITOR (vi) on file, on the terminal; an
// interrupt kills it and is an error.
func runEditor(c *cli.Context, env environ, file string, sigs <-chan os.Signal) error {
	editor := env.getenv("VISUAL")
	if editor == "" {
		editor = env.getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	cmd := exec.CommandContext(c.Context, "sh", "-c", editor+` "$1"`, "editor", file)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = env.stdin, env.stdout, env.stderr
	cmd.Env = host.ChildEnv()
	if env.stdin == nil || !term.IsTerminal(int(env.stdin.Fd())) {
		cmd.Stdin = nil
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("editor: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return &exitError{code: exitUsage, msg: fmt.Sprintf("editor %s: %v: nothing changed", strings.Fields(editor)[0], err)}
		}
		return nil
	case sig := <-sigs:
		cmd.Process.Kill()
		<-done
		return &exitError{code: signalStatus(sig.(syscall.Signal)), msg: "interrupted: nothing changed, the plaintext was removed"}
	}
}

// askPassphrase asks for an SSH key's passphrase on the terminal (once:
// the identity keeps what it decrypted) and hides it from output.
func askPassphrase(env environ, path string) (string, error) {
	if env.stdin == nil || !term.IsTerminal(int(env.stdin.Fd())) {
		return "", fmt.Errorf("%s needs its passphrase: %w", path, host.ErrNoTerminal)
	}
	fmt.Fprintf(env.stderr, "Passphrase for %s: ", path)
	pw, err := term.ReadPassword(int(env.stdin.Fd()))
	fmt.Fprintln(env.stderr)
	if err != nil {
		return "", err
	}
	env.secrets.Add("the passphrase of "+path, string(pw))
	return string(pw), nil
}

// sshIdentityFiles are -i's keys and the IdentityFile lines ssh_config
// gives every host (Host *), expanded: keys a secrets file may be
// encrypted to. A config that cannot be read adds none (the run's own
// connection reports it).
func sshIdentityFiles(cfg Config) []string {
	keys := append([]string(nil), cfg.Identity...)
	files, err := sshFiles(cfg)
	if err != nil {
		return keys
	}
	all, err := sshconfig.NewLoader(sshconfig.CurrentLocal(), files...).Resolve("*", sshconfig.Overrides{})
	if err != nil || !all.IdentityFilesSet {
		return keys
	}
	for _, f := range all.IdentityFiles {
		keys = append(keys, all.Expand(f))
	}
	return keys
}
