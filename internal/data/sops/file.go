package sops

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// Version is the sops version gofab writes in the files it encrypts: the
// format of sops 3.x, which every sops 3 reads.
const Version = "3.13.3"

// Metadata is the sops key of a file that says how it was encrypted.
type Metadata struct {
	// Recipients are the age recipients (age1…, ssh-ed25519 …, ssh-rsa …)
	// the data key is encrypted to; Enc are those encryptions, armored.
	Recipients []string
	Enc        []string
	// Other names the keys of kinds gofab does not use (KMS, PGP…).
	Other []string
	// LastModified and MAC: see sops.
	LastModified string
	MAC          string

	UnencryptedSuffix, EncryptedSuffix string
	UnencryptedRegex, EncryptedRegex   string
	MACOnlyEncrypted                   bool
	Version                            string
}

// EncryptedLeaves calls fn for every value of t that the file's rules
// encrypt (a key ending in _unencrypted is left out) and that is not a
// mapping, a list or nil, with its path of keys (list items share their
// list's path).
func (m *Metadata) EncryptedLeaves(t Tree, fn func(path []string, v any)) {
	r, err := m.rules()
	walk(t, nil, func(v any, path []string, comment bool) (any, error) {
		if !comment && (err != nil || r.encrypted(path)) {
			fn(path, v)
		}
		return v, nil
	})
}

// NoIdentityError says no identity could decrypt a file's data key.
type NoIdentityError struct {
	Recipients, Other []string
	Tried             []string
}

func (e *NoIdentityError) Error() string {
	var b strings.Builder
	b.WriteString("no identity of yours decrypts it")
	if len(e.Recipients) > 0 {
		b.WriteString("; it is encrypted for " + strings.Join(e.Recipients, ", "))
	}
	if len(e.Other) > 0 {
		b.WriteString("; keys gofab does not use: " + strings.Join(e.Other, ", "))
	}
	if len(e.Tried) > 0 {
		b.WriteString("; tried " + strings.Join(e.Tried, ", "))
	} else {
		b.WriteString("; no identity found (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, ~/.config/sops/age/keys.txt, ~/.ssh/id_ed25519, ~/.ssh/id_rsa)")
	}
	return b.String()
}

// Encrypted reports whether data looks like a sops file of format f (it
// has the sops metadata key with a MAC).
func Encrypted(data []byte, f Format) bool {
	if f == Dotenv {
		return bytes.Contains(data, []byte("\nsops_mac=")) || bytes.HasPrefix(data, []byte("sops_mac="))
	}
	return bytes.Contains(data, []byte("sops")) && bytes.Contains(data, []byte("mac")) && bytes.Contains(data, []byte("ENC[AES256_GCM"))
}

// Decrypt reads an encrypted file: it finds the data key with ids (Tried
// names them in errors), decrypts every value and checks the MAC.
func Decrypt(data []byte, f Format, ids *Identities) (Tree, *Metadata, error) {
	t, meta, _, err := Open(data, f, ids)
	return t, meta, err
}

// Open is Decrypt that also returns the file's data key (to encrypt the
// file again with it: gofab secrets edit and updatekeys).
func Open(data []byte, f Format, ids *Identities) (Tree, *Metadata, []byte, error) {
	t, meta, err := split(data, f)
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := meta.dataKey(ids)
	if err != nil {
		return nil, meta, nil, err
	}
	r, err := meta.rules()
	if err != nil {
		return nil, meta, nil, err
	}
	mac, err := crypt(t, key, r, false)
	if err != nil {
		return nil, meta, nil, err
	}
	want, err := decryptValue(meta.MAC, key, meta.LastModified)
	if err != nil {
		return nil, meta, nil, fmt.Errorf("the MAC: %w", err)
	}
	if want != mac {
		return nil, meta, nil, fmt.Errorf("%w (MAC mismatch)", ErrTampered)
	}
	return t, meta, key, nil
}

// Encrypt encrypts t (which it changes) to the recipients, with meta's
// rules (suffixes and regexes; nil for sops's defaults), and returns the
// file. The data key is new unless key is given (updatekeys keeps it).
func Encrypt(t Tree, f Format, recipients []string, meta *Metadata, key []byte) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("no recipients: list age or SSH public keys in .sops.yaml (creation_rules) or give --age")
	}
	m := Metadata{UnencryptedSuffix: "_unencrypted", Version: Version}
	if meta != nil {
		m.UnencryptedSuffix, m.EncryptedSuffix = meta.UnencryptedSuffix, meta.EncryptedSuffix
		m.UnencryptedRegex, m.EncryptedRegex, m.MACOnlyEncrypted = meta.UnencryptedRegex, meta.EncryptedRegex, meta.MACOnlyEncrypted
		if m.EncryptedSuffix != "" || m.UnencryptedRegex != "" || m.EncryptedRegex != "" {
			if meta.UnencryptedSuffix == "" {
				m.UnencryptedSuffix = ""
			}
		}
	}
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	r, err := m.rules()
	if err != nil {
		return nil, err
	}
	mac, err := crypt(t, key, r, true)
	if err != nil {
		return nil, err
	}
	m.LastModified = time.Now().UTC().Format(time.RFC3339)
	if m.MAC, err = encryptValue(mac, key, m.LastModified, false); err != nil {
		return nil, err
	}
	for _, rcp := range recipients {
		enc, err := wrapKey(key, rcp)
		if err != nil {
			return nil, err
		}
		m.Recipients, m.Enc = append(m.Recipients, rcp), append(m.Enc, enc)
	}
	if f == Dotenv {
		return Emit(append(t, flatten("sops_", m.tree())...), f)
	}
	return Emit(append(t, Item{Key: "sops", Value: m.tree()}), f)
}

// flatten writes a metadata tree as dotenv keys, as sops does
// (sops_age__list_0__map_recipient).
func flatten(prefix string, t Tree) Tree {
	var out Tree
	for _, it := range t {
		switch v := it.Value.(type) {
		case []any:
			for i, x := range v {
				if sub, ok := x.(Tree); ok {
					out = append(out, flatten(fmt.Sprintf("%s%s__list_%d__map_", prefix, it.Key, i), sub)...)
				}
			}
		default:
			out = append(out, Item{Key: prefix + it.Key, Value: v})
		}
	}
	return out
}

// wrapKey encrypts the data key to one recipient, armored, as sops does.
func wrapKey(key []byte, recipient string) (string, error) {
	r, err := ParseRecipient(recipient)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	aw := armor.NewWriter(&b)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(key); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if err := aw.Close(); err != nil {
		return "", err
	}
	return b.String() + "\n", nil
}

// dataKey finds the data key with the first identity that opens one of
// the age encryptions.
func (m *Metadata) dataKey(ids *Identities) ([]byte, error) {
	if len(m.Enc) > 0 && ids != nil {
		all, err := ids.load()
		if err != nil {
			return nil, err
		}
		for _, enc := range m.Enc {
			r, err := age.Decrypt(armor.NewReader(strings.NewReader(enc)), all...)
			var noMatch *age.NoIdentityMatchError
			switch {
			case errors.As(err, &noMatch):
				continue
			case err != nil:
				return nil, err // a wrong passphrase, a broken encryption
			}
			key, err := io.ReadAll(r)
			if err == nil && len(key) == 32 {
				return key, nil
			}
		}
	}
	e := &NoIdentityError{Recipients: m.Recipients, Other: m.Other}
	if ids != nil {
		e.Tried = ids.Tried()
	}
	return nil, e
}

func (m *Metadata) rules() (rules, error) {
	r := rules{UnencryptedSuffix: m.UnencryptedSuffix, EncryptedSuffix: m.EncryptedSuffix, MACOnlyEncrypted: m.MACOnlyEncrypted}
	for _, p := range []struct {
		re  string
		dst **regexp.Regexp
	}{{m.UnencryptedRegex, &r.UnencryptedRegex}, {m.EncryptedRegex, &r.EncryptedRegex}} {
		if p.re == "" {
			continue
		}
		re, err := regexp.Compile(p.re)
		if err != nil {
			return r, fmt.Errorf("sops metadata: bad regular expression %q: %w", p.re, err)
		}
		*p.dst = re
	}
	return r, nil
}

// tree is the metadata as the sops key of a file.
func (m *Metadata) tree() Tree {
	var ages []any
	for i := range m.Recipients {
		ages = append(ages, Tree{{Key: "recipient", Value: m.Recipients[i]}, {Key: "enc", Value: m.Enc[i]}})
	}
	t := Tree{{Key: "age", Value: ages}, {Key: "lastmodified", Value: m.LastModified}, {Key: "mac", Value: m.MAC}}
	for _, kv := range []struct{ k, v string }{{"unencrypted_suffix", m.UnencryptedSuffix}, {"encrypted_suffix", m.EncryptedSuffix},
		{"unencrypted_regex", m.UnencryptedRegex}, {"encrypted_regex", m.EncryptedRegex}} {
		if kv.v != "" {
			t = append(t, Item{Key: kv.k, Value: kv.v})
		}
	}
	if m.MACOnlyEncrypted {
		t = append(t, Item{Key: "mac_only_encrypted", Value: true})
	}
	return append(t, Item{Key: "version", Value: m.Version})
}

// split parses a file and takes its sops key off.
func split(data []byte, f Format) (Tree, *Metadata, error) {
	t, err := Parse(data, f)
	if err != nil {
		return nil, nil, err
	}
	var mt Tree
	if f == Dotenv {
		t, mt, err = unflattenDotenv(t)
		if err != nil {
			return nil, nil, err
		}
	} else {
		for i, it := range t {
			if !it.Comment && it.Key == "sops" {
				mt, _ = it.Value.(Tree)
				t = append(t[:i:i], t[i+1:]...)
				break
			}
		}
	}
	if mt == nil {
		return nil, nil, errors.New("not a sops file: it has no sops metadata (encrypt it with gofab secrets encrypt)")
	}
	meta, err := parseMetadata(mt)
	return t, meta, err
}

func parseMetadata(mt Tree) (*Metadata, error) {
	m := &Metadata{}
	str := func(k string) string {
		v, _ := mt.Get(k)
		switch v := v.(type) {
		case string:
			return v
		case time.Time:
			return v.UTC().Format(time.RFC3339)
		case nil:
			return ""
		}
		return fmt.Sprint(v)
	}
	m.LastModified, m.MAC, m.Version = str("lastmodified"), str("mac"), str("version")
	m.UnencryptedSuffix, m.EncryptedSuffix = str("unencrypted_suffix"), str("encrypted_suffix")
	m.UnencryptedRegex, m.EncryptedRegex = str("unencrypted_regex"), str("encrypted_regex")
	if v, _ := mt.Get("mac_only_encrypted"); v == true || v == "true" {
		m.MACOnlyEncrypted = true
	}
	for _, k := range []string{"unencrypted_comment_regex", "encrypted_comment_regex"} {
		if str(k) != "" {
			return nil, fmt.Errorf("sops metadata: %s is not supported by gofab", k)
		}
	}
	if m.MAC == "" || m.LastModified == "" {
		return nil, fmt.Errorf("%w: the sops metadata has no mac or lastmodified", ErrTampered)
	}
	m.keys(mt)
	if groups, _ := mt.Get("key_groups"); groups != nil {
		list, _ := groups.([]any)
		if len(list) > 1 {
			return nil, errors.New("sops metadata: several key_groups (Shamir secret sharing) are not supported by gofab")
		}
		for _, g := range list {
			if gt, ok := g.(Tree); ok {
				m.keys(gt)
			}
		}
	}
	return m, nil
}

// keys collects the age keys of a metadata tree or key group, and names
// the others.
func (m *Metadata) keys(t Tree) {
	for _, it := range t {
		list, ok := it.Value.([]any)
		if !ok || it.Key == "key_groups" {
			continue
		}
		for _, k := range list {
			kt, ok := k.(Tree)
			if !ok {
				continue
			}
			if it.Key == "age" {
				r, _ := kt.Get("recipient")
				enc, _ := kt.Get("enc")
				rs, _ := r.(string)
				es, _ := enc.(string)
				m.Recipients, m.Enc = append(m.Recipients, rs), append(m.Enc, es)
				continue
			}
			name := it.Key
			for _, id := range []string{"arn", "resource_id", "fp", "vault_address", "key_id", "vaultUrl"} {
				if v, ok := kt.Get(id); ok {
					name += " " + fmt.Sprint(v)
					break
				}
			}
			m.Other = append(m.Other, name)
		}
	}
}

// unflattenDotenv takes the sops_ keys of a dotenv file off and rebuilds
// the metadata tree from their flattened names (sops_age__list_0__map_enc).
func unflattenDotenv(t Tree) (Tree, Tree, error) {
	var data Tree
	meta := Tree{}
	for _, it := range t {
		if it.Comment || !strings.HasPrefix(it.Key, "sops_") {
			data = append(data, it)
			continue
		}
		var err error
		if meta, err = setFlat(meta, strings.TrimPrefix(it.Key, "sops_"), it.Value); err != nil {
			return nil, nil, err
		}
	}
	if len(meta) == 0 {
		return data, nil, nil
	}
	return data, meta, nil
}

// setFlat sets a flattened key (a__list_0__map_b) in t.
func setFlat(t Tree, key string, v any) (Tree, error) {
	head, rest, nested := strings.Cut(key, "__list_")
	if !nested {
		return append(t, Item{Key: head, Value: v}), nil
	}
	idx, after, _ := strings.Cut(rest, "__map_")
	n, err := strconv.Atoi(idx)
	if err != nil || n > 1000 {
		return nil, fmt.Errorf("sops metadata: bad flattened key %q", key)
	}
	cur, _ := t.Get(head)
	list, _ := cur.([]any)
	for len(list) <= n {
		list = append(list, Tree{})
	}
	sub, _ := list[n].(Tree)
	if sub, err = setFlat(sub, after, v); err != nil {
		return nil, err
	}
	list[n] = sub
	for i := range t {
		if t[i].Key == head {
			t[i].Value = list
			return t, nil
		}
	}
	return append(t, Item{Key: head, Value: list}), nil
}
