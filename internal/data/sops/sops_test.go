package sops

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"filippo.io/age"
)

var samples = map[Format]string{
	YAML:   "db:\n    user: app\n    password: s3cr3t-Pa55\n    port: 5432\nratio: 0.5\nenabled: true\nhosts:\n    - web1\n    - web2\nempty: \"\"\nnote_unencrypted: in clear\n",
	JSON:   `{"db": {"user": "app", "password": "s3cr3t-Pa55", "port": 5432}, "ratio": 0.5, "enabled": true, "hosts": ["web1", "web2"], "empty": "", "nothing": null}`,
	Dotenv: "# the app's environment\nDB_PASSWORD=s3cr3t-Pa55\nAPI_TOKEN=tok-123456\nMULTI=line1\\nline2\n",
}

var exts = map[Format]string{YAML: ".yaml", JSON: ".json", Dotenv: ".env"}

func newIdentity(t *testing.T) (*age.X25519Identity, *Identities) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id, &Identities{Extra: []age.Identity{id}, Getenv: func(string) string { return "" }}
}

// TestRoundTrip: what Encrypt writes Decrypt reads back, values typed;
// a changed value or MAC, another identity and a cut file are refused.
func TestRoundTrip(t *testing.T) {
	for f, plain := range samples {
		t.Run(exts[f], func(t *testing.T) {
			id, ids := newIdentity(t)
			tree, err := Parse([]byte(plain), f)
			if err != nil {
				t.Fatal(err)
			}
			want := tree.Plain()
			enc, err := Encrypt(tree, f, []string{id.Recipient().String()}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(enc), "s3cr3t-Pa55") {
				t.Fatalf("plaintext in the file:\n%s", enc)
			}
			got, _, err := Decrypt(enc, f, ids)
			if err != nil {
				t.Fatalf("%v\n%s", err, enc)
			}
			if !reflect.DeepEqual(got.Plain(), want) {
				t.Errorf("got %#v\nwant %#v", got.Plain(), want)
			}
			// A value changed (its ciphertext swapped with another's).
			p := strings.Index(string(enc), "ASSWORD")
			if p < 0 {
				p = strings.Index(string(enc), "assword")
			}
			i := strings.Index(string(enc)[p:], "ENC[AES256_GCM,data:") + p
			tampered := []byte(string(enc[:i+20]) + "AAAA" + string(enc[i+24:]))
			if _, _, err := Decrypt(tampered, f, ids); !errors.Is(err, ErrTampered) {
				t.Errorf("a changed value: %v", err)
			}
			_, other := newIdentity(t)
			var noID *NoIdentityError
			if _, _, err := Decrypt(enc, f, other); !errors.As(err, &noID) || !strings.Contains(err.Error(), id.Recipient().String()) {
				t.Errorf("another identity: %v", err)
			}
			if _, _, err := Decrypt(enc[:len(enc)/2], f, ids); err == nil {
				t.Errorf("a truncated file decrypted")
			}
		})
	}
}

// sopsBinary is the real sops tool, from $GOFAB_SOPS or the PATH.
func sopsBinary(t *testing.T) string {
	if p := os.Getenv("GOFAB_SOPS"); p != "" {
		return p
	}
	p, err := exec.LookPath("sops")
	if err != nil {
		if os.Getenv("GOFAB_REQUIRE_TESTBED") != "" {
			t.Fatal("GOFAB_REQUIRE_TESTBED is set but no sops tool was found (GOFAB_SOPS)")
		}
		t.Skip("the sops tool is not installed (tests/testbed.sh builds it; GOFAB_SOPS names it)")
	}
	return p
}

// TestSopsCompatibility: files the real sops writes gofab reads, and the
// reverse, in each format, with an age key and with an SSH key.
func TestSopsCompatibility(t *testing.T) {
	bin := sopsBinary(t)
	dir := t.TempDir()
	id, ids := newIdentity(t)
	keyFile := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sshKeys := map[string]string{}
	for _, typ := range []string{"ed25519", "rsa"} {
		key := filepath.Join(dir, "id_"+typ)
		if out, err := exec.Command("ssh-keygen", "-q", "-t", typ, "-N", "", "-f", key).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
		pub, _ := os.ReadFile(key + ".pub")
		sshKeys[typ] = strings.Join(strings.Fields(string(pub))[:2], " ")
	}
	env := append(os.Environ(), "SOPS_AGE_KEY_FILE="+keyFile, "SOPS_DISABLE_VERSION_CHECK=1", "HOME="+dir)
	sops := func(t *testing.T, sshKey string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Dir = append(env, "SOPS_AGE_SSH_PRIVATE_KEY_FILE="+sshKey), dir
		out, err := cmd.Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			t.Fatalf("sops %v: %v\n%s", args, err, msg)
		}
		return out
	}
	sshIDs := &Identities{SSHKeys: []string{filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "id_rsa")}, Getenv: func(string) string { return "" }}
	for f, plain := range samples {
		for _, who := range []struct {
			name, recipient, sshKey string
			ids                     *Identities
		}{{"age", id.Recipient().String(), "", ids}, {"ssh-ed25519", sshKeys["ed25519"], filepath.Join(dir, "id_ed25519"), sshIDs},
			{"ssh-rsa", sshKeys["rsa"], filepath.Join(dir, "id_rsa"), sshIDs}} {
			t.Run(exts[f]+"/"+who.name, func(t *testing.T) {
				want, err := Parse([]byte(plain), f)
				if err != nil {
					t.Fatal(err)
				}
				src := filepath.Join(dir, "plain"+exts[f])
				if err := os.WriteFile(src, []byte(plain), 0o600); err != nil {
					t.Fatal(err)
				}
				// sops writes, gofab reads.
				enc := sops(t, who.sshKey, "encrypt", "--age", who.recipient, src)
				got, _, err := Decrypt(enc, f, who.ids)
				if err != nil {
					t.Fatalf("reading sops's file: %v\n%s", err, enc)
				}
				if !reflect.DeepEqual(got.Plain(), want.Plain()) {
					t.Errorf("sops → gofab: got %#v\nwant %#v", got.Plain(), want.Plain())
				}
				// gofab writes, sops reads.
				ours, err := Encrypt(want, f, []string{who.recipient}, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(dir, "ours"+exts[f])
				if err := os.WriteFile(out, ours, 0o600); err != nil {
					t.Fatal(err)
				}
				back, err := Parse(sops(t, who.sshKey, "decrypt", out), f)
				if err != nil {
					t.Fatal(err)
				}
				again, _ := Parse([]byte(plain), f)
				if !reflect.DeepEqual(back.Plain(), again.Plain()) {
					t.Errorf("gofab → sops: got %#v\nwant %#v\n%s", back.Plain(), again.Plain(), ours)
				}
			})
		}
	}
}
