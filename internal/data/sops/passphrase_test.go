package sops

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// TestPassphraseIdentity: a passphrase-protected SSH key is asked for
// only when a file is encrypted to it; a wrong passphrase is said as such,
// by its error's type (not its text), naming the key; the right one
// decrypts, and is asked once.
func TestPassphraseIdentity(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("right"))
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	toKey, err := agessh.NewEd25519Recipient(sshPub)
	if err != nil {
		t.Fatal(err)
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	encrypt := func(r age.Recipient) []byte {
		var b bytes.Buffer
		w, err := age.Encrypt(&b, r)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "secret")
		w.Close()
		return b.Bytes()
	}
	tests := []struct {
		name, passphrase string
		file             []byte
		asked            int
		want             string // the plaintext, or a part of the error
	}{
		{"not for this key", "right", encrypt(other.Recipient()), 0, "did not match any of the recipients"},
		{"wrong passphrase", "wrong", encrypt(toKey), 1, "incorrect passphrase for /keys/id_ed25519"},
		{"right passphrase", "right", encrypt(toKey), 1, "secret"},
	}
	for _, tt := range tests {
		asked := 0
		id := &passphraseIdentity{pub: sshPub, pem: pem.EncodeToMemory(block), path: "/keys/id_ed25519",
			ask: func() (string, error) { asked++; return tt.passphrase, nil }}
		for i := 0; i < 2; i++ { // the second time, a decrypted key is not asked again
			r, err := age.Decrypt(bytes.NewReader(tt.file), id)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				data, _ := io.ReadAll(r)
				got = string(data)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
			}
		}
		if want := tt.asked * map[bool]int{true: 1, false: 2}[tt.want == "secret"]; asked != want {
			t.Errorf("%s: asked %d times, want %d", tt.name, asked, want)
		}
	}
}
