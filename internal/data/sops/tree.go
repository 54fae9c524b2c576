// Package sops reads and writes files in the format of Mozilla SOPS
// (github.com/getsops/sops): YAML, JSON and dotenv files whose keys stay
// in clear and whose values are each encrypted with AES-256-GCM under one
// data key, with a MAC over every value, the data key itself encrypted to
// age recipients (X25519 keys or SSH public keys). Files it writes are read
// by the sops tool, and files sops writes are read here; other key kinds
// (KMS, PGP, Vault) are named in errors, not used.
package sops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Format is a file's format, chosen by its extension as sops does.
type Format int

// The formats.
const (
	YAML Format = iota
	JSON
	Dotenv
)

// FormatOf returns the format of a file named path: .json is JSON, .env
// is dotenv, anything else YAML.
func FormatOf(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return JSON
	case ".env":
		return Dotenv
	}
	return YAML
}

// Tree is a mapping in file order. A value is a string, int, float64,
// bool, nil, time.Time, Tree or []any.
type Tree []Item

// Item is one key of a Tree, or a comment line (Comment set, Key the
// comment's text without its #).
type Item struct {
	Key     string
	Value   any
	Comment bool
}

// Get returns the value of key, and whether it is there.
func (t Tree) Get(key string) (any, bool) {
	for _, it := range t {
		if !it.Comment && it.Key == key {
			return it.Value, true
		}
	}
	return nil, false
}

// Plain returns t as plain data: maps of string keys, lists and scalars
// (a time becomes its RFC 3339 text), comments left out.
func (t Tree) Plain() map[string]any {
	m := make(map[string]any, len(t))
	for _, it := range t {
		if !it.Comment {
			m[it.Key] = plainValue(it.Value)
		}
	}
	return m
}

func plainValue(v any) any {
	switch v := v.(type) {
	case Tree:
		return v.Plain()
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = plainValue(x)
		}
		return out
	case int:
		return int64(v)
	case time.Time:
		return v.Format(time.RFC3339)
	}
	return v
}

// Parse reads a plaintext (or encrypted, metadata included) file.
func Parse(data []byte, f Format) (Tree, error) {
	switch f {
	case JSON:
		return parseJSON(data)
	case Dotenv:
		return parseDotenv(data)
	}
	return parseYAML(data)
}

// Emit writes t in format f.
func Emit(t Tree, f Format) ([]byte, error) {
	switch f {
	case JSON:
		var b bytes.Buffer
		if err := emitJSON(&b, t, ""); err != nil {
			return nil, err
		}
		b.WriteByte('\n')
		return b.Bytes(), nil
	case Dotenv:
		return emitDotenv(t)
	}
	return emitYAML(t)
}

func parseYAML(data []byte) (Tree, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Tree{}, nil
		}
		return nil, fmt.Errorf("YAML: %w", err)
	}
	var more yaml.Node
	if dec.Decode(&more) == nil {
		return nil, errors.New("a YAML file of several documents: gofab reads one document per file")
	}
	if len(doc.Content) == 0 {
		return Tree{}, nil
	}
	v, err := yamlValue(doc.Content[0])
	if err != nil {
		return nil, err
	}
	t, ok := v.(Tree)
	if !ok {
		return nil, fmt.Errorf("line %d: the file's top level is not a mapping of keys to values", doc.Content[0].Line)
	}
	return t, nil
}

func yamlValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return yamlValue(n.Alias)
	case yaml.MappingNode:
		t := make(Tree, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: YAML merge keys (<<) are not supported", k.Line)
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a key that is not text", k.Line)
			}
			val, err := yamlValue(v)
			if err != nil {
				return nil, err
			}
			t = append(t, Item{Key: k.Value, Value: val})
		}
		return t, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlValue(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	switch x := v.(type) {
	case int64:
		return int(x), nil
	case uint64:
		return nil, fmt.Errorf("line %d: number %d is too large", n.Line, x)
	}
	return v, nil
}

func emitYAML(t Tree) ([]byte, error) {
	n, err := yamlNode(t)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(4)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	enc.Close()
	return b.Bytes(), nil
}

func yamlNode(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case Tree:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, it := range v {
			if it.Comment {
				continue
			}
			val, err := yamlNode(it.Value)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: it.Key}, val)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, x := range v {
			c, err := yamlNode(x)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
		if strings.Contains(v, "\n") {
			n.Style = yaml.LiteralStyle
		}
		return n, nil
	}
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return n, nil
}

func parseJSON(data []byte) (Tree, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := jsonValue(dec)
	if err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	t, ok := v.(Tree)
	if !ok {
		return nil, errors.New("JSON: the file is not an object")
	}
	return t, nil
}

func jsonValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			t := Tree{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				t = append(t, Item{Key: k.(string), Value: v})
			}
			_, err := dec.Token()
			return t, err
		case '[':
			l := []any{}
			for dec.More() {
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
		return nil, fmt.Errorf("unexpected %v", tok)
	case json.Number:
		if n, err := strconv.Atoi(tok.String()); err == nil {
			return n, nil
		}
		return tok.Float64()
	}
	return tok, nil // string, bool, nil
}

func emitJSON(b *bytes.Buffer, v any, indent string) error {
	switch v := v.(type) {
	case Tree:
		items := make([]Item, 0, len(v))
		for _, it := range v {
			if !it.Comment {
				items = append(items, it)
			}
		}
		if len(items) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteString("{\n")
		for i, it := range items {
			b.WriteString(indent + "    ")
			writeJSONString(b, it.Key)
			b.WriteString(": ")
			if err := emitJSON(b, it.Value, indent+"    "); err != nil {
				return err
			}
			if i < len(items)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteString("[\n")
		for i, x := range v {
			b.WriteString(indent + "    ")
			if err := emitJSON(b, x, indent+"    "); err != nil {
				return err
			}
			if i < len(v)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case string:
		writeJSONString(b, v)
	case time.Time:
		writeJSONString(b, v.Format(time.RFC3339))
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(data)
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}

func parseDotenv(data []byte) (Tree, error) {
	var t Tree
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if line[0] == '#' {
			t = append(t, Item{Key: string(line[1:]), Comment: true})
			continue
		}
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok {
			return nil, fmt.Errorf("line %d: expected KEY=value", i+1)
		}
		t = append(t, Item{Key: string(k), Value: strings.ReplaceAll(string(v), "\\n", "\n")})
	}
	return t, nil
}

func emitDotenv(t Tree) ([]byte, error) {
	var b bytes.Buffer
	for _, it := range t {
		if it.Comment {
			b.WriteString("#" + it.Key + "\n")
			continue
		}
		var s string
		switch v := it.Value.(type) {
		case Tree, []any:
			return nil, fmt.Errorf("%s: a dotenv file holds only text values", it.Key)
		case string:
			s = strings.ReplaceAll(v, "\n", "\\n")
		default:
			s = string(leafBytes(v))
		}
		b.WriteString(it.Key + "=" + s + "\n")
	}
	return b.Bytes(), nil
}
