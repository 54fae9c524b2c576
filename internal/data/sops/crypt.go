package sops

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrTampered is wrapped by the errors of a value or MAC that does not
// authenticate: the file was changed by something other than sops/gofab.
var ErrTampered = errors.New("the file was changed after it was encrypted (a value or the MAC does not authenticate)")

// macOnlyEncryptedInit starts the MAC of a file with mac_only_encrypted,
// as sops does.
var macOnlyEncryptedInit = []byte{0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0xb, 0xb, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69}

// encRE is compiled on first use: runs without secrets spend nothing on
// it at start-up.
var encRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^ENC\[AES256_GCM,data:(.*),iv:(.+),tag:(.+),type:(.+)\]`)
})

// rules say which values are encrypted (sops's unencrypted_suffix and
// the like; the default encrypts every value).
type rules struct {
	UnencryptedSuffix, EncryptedSuffix string
	UnencryptedRegex, EncryptedRegex   *regexp.Regexp
	MACOnlyEncrypted                   bool
}

func (r rules) encrypted(path []string) bool {
	enc := true
	if r.UnencryptedSuffix != "" {
		for _, p := range path {
			if strings.HasSuffix(p, r.UnencryptedSuffix) {
				enc = false
				break
			}
		}
	}
	if r.EncryptedSuffix != "" {
		enc = false
		for _, p := range path {
			if strings.HasSuffix(p, r.EncryptedSuffix) {
				enc = true
				break
			}
		}
	}
	if r.UnencryptedRegex != nil {
		for _, p := range path {
			if r.UnencryptedRegex.MatchString(p) {
				enc = false
				break
			}
		}
	}
	if r.EncryptedRegex != nil {
		enc = false
		for _, p := range path {
			if r.EncryptedRegex.MatchString(p) {
				enc = true
				break
			}
		}
	}
	return enc
}

// walk calls leaf for every value of t in file order, with its path of
// keys (list positions are not part of a path, as in sops), and sets the
// value to what leaf returns. Nil values are not leaves. Comments get
// leaf too, with comment set.
func walk(v any, path []string, leaf func(v any, path []string, comment bool) (any, error)) (any, error) {
	switch x := v.(type) {
	case Tree:
		for i := range x {
			if x[i].Comment {
				c, err := leaf(x[i].Key, path, true)
				if err != nil {
					return nil, err
				}
				x[i].Key = c.(string)
				continue
			}
			nv, err := walk(x[i].Value, append(path[:len(path):len(path)], x[i].Key), leaf)
			if err != nil {
				return nil, err
			}
			x[i].Value = nv
		}
		return x, nil
	case []any:
		for i := range x {
			nv, err := walk(x[i], path, leaf)
			if err != nil {
				return nil, err
			}
			x[i] = nv
		}
		return x, nil
	case nil:
		return nil, nil
	}
	return leaf(v, path, false)
}

// leafBytes is a value's bytes for the MAC and for encryption, as sops
// writes them (booleans as True/False, floats without trailing zeros).
func leafBytes(v any) []byte {
	switch v := v.(type) {
	case string:
		return []byte(v)
	case int:
		return []byte(strconv.Itoa(v))
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64))
	case bool:
		if v {
			return []byte("True")
		}
		return []byte("False")
	case time.Time:
		b, _ := v.MarshalText()
		return b
	}
	return []byte(fmt.Sprint(v))
}

func typeName(v any) string {
	switch v.(type) {
	case int:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case time.Time:
		return "time"
	}
	return "str"
}

// encryptValue encrypts one value under key with the path as additional
// data (an empty string stays empty, as in sops).
func encryptValue(v any, key []byte, ad string, comment bool) (string, error) {
	if s, ok := v.(string); ok && s == "" {
		return "", nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	iv := make([]byte, 32)
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return "", err
	}
	typ := typeName(v)
	if comment {
		typ = "comment"
	}
	out := gcm.Seal(nil, iv, leafBytes(v), []byte(ad))
	n := len(out) - aes.BlockSize
	return fmt.Sprintf("ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:%s]", base64.StdEncoding.EncodeToString(out[:n]),
		base64.StdEncoding.EncodeToString(iv), base64.StdEncoding.EncodeToString(out[n:]), typ), nil
}

// decryptValue decrypts one ENC[...] value; "" stays "".
func decryptValue(s string, key []byte, ad string) (any, error) {
	if s == "" {
		return "", nil
	}
	m := encRE().FindStringSubmatch(s)
	if m == nil {
		return nil, errors.New("the value is not encrypted (ENC[AES256_GCM,...] expected)")
	}
	var parts [3][]byte
	for i := range parts {
		b, err := base64.StdEncoding.DecodeString(m[i+1])
		if err != nil {
			return nil, fmt.Errorf("%w: bad base64", ErrTampered)
		}
		parts[i] = b
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, max(len(parts[1]), 1))
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, parts[1], append(parts[0], parts[2]...), []byte(ad))
	if err != nil {
		return nil, ErrTampered
	}
	text := string(plain)
	switch m[4] {
	case "str", "comment":
		return text, nil
	case "int":
		return strconv.Atoi(text)
	case "float":
		return strconv.ParseFloat(text, 64)
	case "bool":
		return strconv.ParseBool(text)
	case "bytes":
		return text, nil
	case "time":
		var t time.Time
		err := t.UnmarshalText(plain)
		return t, err
	}
	return nil, fmt.Errorf("unknown value type %q", m[4])
}

// crypt encrypts (enc) or decrypts every value of t that the rules say is
// encrypted, and returns the MAC of the plaintext values.
func crypt(t Tree, key []byte, r rules, enc bool) (string, error) {
	h := sha512.New()
	if r.MACOnlyEncrypted {
		h.Write(macOnlyEncryptedInit)
	}
	_, err := walk(t, nil, func(v any, path []string, comment bool) (any, error) {
		encrypted := r.encrypted(path)
		ad := strings.Join(path, ":") + ":"
		switch {
		case comment && encrypted && enc:
			return encryptValue(v, key, ad, true)
		case comment && encrypted:
			if p, err := decryptValue(v.(string), key, ad); err == nil {
				return p, nil
			}
			return v, nil // a comment sops left in clear
		case comment:
			return v, nil
		}
		if enc {
			macAdd(h, v, encrypted, r)
			if !encrypted {
				return v, nil
			}
			return encryptValue(v, key, ad, false)
		}
		if encrypted {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s: expected an encrypted value, got %v", strings.Join(path, "."), v)
			}
			p, err := decryptValue(s, key, ad)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", strings.Join(path, "."), err)
			}
			v = p
		}
		macAdd(h, v, encrypted, r)
		return v, nil
	})
	return fmt.Sprintf("%X", h.Sum(nil)), err
}

func macAdd(h hash.Hash, v any, encrypted bool, r rules) {
	if !r.MACOnlyEncrypted || encrypted {
		h.Write(leafBytes(v))
	}
}
