package sops

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// ConfigFile is the file where a project lists who can read its secrets,
// as the sops tool does.
const ConfigFile = ".sops.yaml"

// Rule is the creation rule of .sops.yaml that applies to a file: its
// age recipients and which values stay in clear.
type Rule struct {
	// Config is the .sops.yaml the rule comes from ("" for none).
	Config     string
	Recipients []string
	Meta       Metadata
}

type configFile struct {
	CreationRules []struct {
		PathRegex         string              `yaml:"path_regex"`
		Age               any                 `yaml:"age"`
		KeyGroups         []struct{ Age any } `yaml:"key_groups"`
		UnencryptedSuffix string              `yaml:"unencrypted_suffix"`
		EncryptedSuffix   string              `yaml:"encrypted_suffix"`
		UnencryptedRegex  string              `yaml:"unencrypted_regex"`
		EncryptedRegex    string              `yaml:"encrypted_regex"`
		MACOnlyEncrypted  bool                `yaml:"mac_only_encrypted"`
	} `yaml:"creation_rules"`
}

// FindRule finds the .sops.yaml nearest to path, up its directories, and
// the first creation rule whose path_regex matches path (relative to the
// config's directory, as sops matches it). No config, or no rule, gives
// an empty Rule.
func FindRule(path string) (Rule, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Rule{}, err
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		cfg := filepath.Join(dir, ConfigFile)
		if data, err := os.ReadFile(cfg); err == nil {
			return ruleIn(cfg, data, abs)
		}
		if filepath.Dir(dir) == dir {
			return Rule{}, nil
		}
	}
}

func ruleIn(cfg string, data []byte, abs string) (Rule, error) {
	var c configFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		return Rule{}, fmt.Errorf("%s: %w", cfg, err)
	}
	rel, err := filepath.Rel(filepath.Dir(cfg), abs)
	if err != nil {
		rel = abs
	}
	for i, r := range c.CreationRules {
		if r.PathRegex != "" {
			re, err := regexp.Compile(r.PathRegex)
			if err != nil {
				return Rule{}, fmt.Errorf("%s: creation_rules[%d].path_regex: %w", cfg, i, err)
			}
			if !re.MatchString(filepath.ToSlash(rel)) && !re.MatchString(abs) {
				continue
			}
		}
		rule := Rule{Config: cfg, Meta: Metadata{UnencryptedSuffix: r.UnencryptedSuffix, EncryptedSuffix: r.EncryptedSuffix,
			UnencryptedRegex: r.UnencryptedRegex, EncryptedRegex: r.EncryptedRegex, MACOnlyEncrypted: r.MACOnlyEncrypted}}
		rule.Recipients = ageList(r.Age)
		for _, g := range r.KeyGroups {
			rule.Recipients = append(rule.Recipients, ageList(g.Age)...)
		}
		if rule.Meta.UnencryptedSuffix == "" && rule.Meta.EncryptedSuffix == "" && rule.Meta.UnencryptedRegex == "" && rule.Meta.EncryptedRegex == "" {
			rule.Meta.UnencryptedSuffix = "_unencrypted"
		}
		return rule, nil
	}
	return Rule{Config: cfg}, nil
}

// ageList reads an age: entry, a comma-separated string or a list.
func ageList(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
	}
	return out
}
