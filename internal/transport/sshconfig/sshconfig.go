// Package sshconfig resolves OpenSSH client configuration (ssh_config(5)) for
// one host the way ssh itself does: files are read top to bottom, Host and
// Match blocks switch sections on and off, the first value of a keyword wins
// (IdentityFile accumulates), Include splices files in where it stands, and
// %-tokens are expanded where OpenSSH expands them.
//
// It is written here rather than taken from kevinburke/ssh_config because
// that library rejects files containing "Match user" and expands no tokens.
package sshconfig

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Local describes the local user, for tokens and Match localuser.
type Local struct {
	User     string // local user name (%u)
	Home     string // home directory (%d), also used for ~
	UID      int    // %i
	Hostname string // local host name (%l; %L is its first label)
}

// CurrentLocal returns the Local of the running process. Like ssh, it takes
// the user and home directory from the password database, not $HOME.
func CurrentLocal() Local {
	l := Local{UID: os.Getuid()}
	if name, home, err := lookupUser(); err == nil {
		l.User, l.Home = name, home
	} else {
		l.Home, _ = os.UserHomeDir()
	}
	l.Hostname, _ = os.Hostname()
	return l
}

// Loader reads configuration files, caching their lines, and resolves hosts.
// It is safe for concurrent use.
type Loader struct {
	// Files are the configuration files read in order; a missing file is
	// skipped. The first is the user's file: relative Include paths in it
	// are taken from ~/.ssh, in the others from /etc/ssh.
	Files []string
	// Local is the local identity used for tokens and Match localuser.
	Local Local

	mu    sync.Mutex
	cache map[string][]line
}

// NewLoader returns a Loader for the given files and local identity.
func NewLoader(local Local, files ...string) *Loader {
	return &Loader{Files: files, Local: local}
}

// DefaultFiles returns ~/.ssh/config and /etc/ssh/ssh_config, the files ssh
// reads when not given -F.
func DefaultFiles(home string) []string {
	return []string{filepath.Join(home, ".ssh", "config"), "/etc/ssh/ssh_config"}
}

type line struct {
	file string
	num  int
	key  string // lower case
	args []string
}

// Config is the resolved configuration of one host.
type Config struct {
	Host                  string   // the host as given (%n)
	HostName              string   // the name or address to dial
	User                  string   // remote user
	UserSet               bool     // User came from the files or an override, not the local user
	Port                  int      // remote port
	IdentityFiles         []string // as written (tokens unexpanded, as ssh -G shows them)
	IdentityFilesSet      bool     // false when IdentityFiles are OpenSSH's defaults
	IdentitiesOnly        bool
	UserKnownHostsFiles   []string // expanded
	StrictHostKeyChecking string   // ask, true, false or accept-new
	ConnectTimeout        time.Duration
	ServerAliveInterval   int
	ServerAliveCountMax   int
	ProxyJump             string // "" when unset or none
	ProxyCommand          string // "" when unset or none
	ForwardAgent          bool

	local Local
}

// Overrides are values given on the command line; like ssh's -l and -p
// they take precedence over the files and are visible to Match user.
type Overrides struct {
	User string
	Port int
	// HostName, IdentityFile and ProxyJump come from the inventory and
	// win over the files, as ssh -o does.
	HostName     string
	IdentityFile string
	ProxyJump    string
	// ForwardAgent forwards the agent whatever the files say.
	ForwardAgent bool
}

// Resolve computes the configuration of host (the name as the user typed
// it, without user@ or :port).
func (l *Loader) Resolve(host string, ov Overrides) (*Config, error) {
	st := &resolveState{l: l, host: host, opts: map[string][]string{}}
	if ov.User != "" {
		st.opts["user"] = []string{ov.User}
	}
	if ov.Port != 0 {
		st.opts["port"] = []string{strconv.Itoa(ov.Port)}
	}
	if ov.HostName != "" {
		st.opts["hostname"] = []string{ov.HostName}
	}
	if ov.ProxyJump != "" {
		st.opts["proxyjump"] = []string{ov.ProxyJump}
	}
	if ov.IdentityFile != "" {
		st.identity = []string{ov.IdentityFile}
	}
	if ov.ForwardAgent {
		st.opts["forwardagent"] = []string{"yes"}
	}
	for i, f := range l.Files {
		if err := st.readFile(f, i == 0, 0); err != nil {
			return nil, err
		}
	}
	return st.finish()
}

type resolveState struct {
	l        *Loader
	host     string
	opts     map[string][]string
	identity []string
}

var defaultIdentityFiles = []string{
	"~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk",
	"~/.ssh/id_ed25519", "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss", "~/.ssh/id_dsa",
}

func (st *resolveState) readFile(path string, user bool, depth int) error {
	lines, err := st.l.lines(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("ssh config: %w", err)
	}
	active := true
	for _, ln := range lines {
		switch ln.key {
		case "host":
			active = matchPatternList(st.host, ln.args)
			continue
		case "match":
			ok, err := st.match(ln)
			if err != nil {
				return err
			}
			active = ok
			continue
		}
		if !active {
			continue
		}
		if ln.key == "include" {
			if depth >= 16 {
				return fmt.Errorf("%s:%d: ssh config: Include nested too deeply", ln.file, ln.num)
			}
			for _, pat := range ln.args {
				pat = st.tilde(pat)
				if !filepath.IsAbs(pat) {
					if user {
						pat = filepath.Join(st.l.Local.Home, ".ssh", pat)
					} else {
						pat = filepath.Join("/etc/ssh", pat)
					}
				}
				matches, err := filepath.Glob(pat)
				if err != nil {
					return fmt.Errorf("%s:%d: ssh config: bad Include pattern: %w", ln.file, ln.num, err)
				}
				for _, m := range matches {
					if err := st.readFile(m, user, depth+1); err != nil {
						return err
					}
				}
			}
			continue
		}
		if len(ln.args) == 0 {
			return fmt.Errorf("%s:%d: ssh config: %s needs a value", ln.file, ln.num, ln.key)
		}
		if ln.key == "identityfile" {
			st.identity = append(st.identity, ln.args[0])
			continue
		}
		if _, set := st.opts[ln.key]; !set {
			st.opts[ln.key] = ln.args
		}
	}
	return nil
}

// HostAliases returns the names of the files' Host entries that hold no
// wildcard or negation, in order, each once (Include files too).
func (l *Loader) HostAliases() ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var read func(path string, user bool, depth int) error
	read = func(path string, user bool, depth int) error {
		lines, err := l.lines(path)
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return fmt.Errorf("ssh config: %w", err)
		}
		for _, ln := range lines {
			switch ln.key {
			case "host":
				for _, a := range ln.args {
					if !strings.ContainsAny(a, "*?!") && !seen[a] {
						seen[a] = true
						out = append(out, a)
					}
				}
			case "include":
				if depth >= 16 {
					continue
				}
				for _, pat := range ln.args {
					pat = expandTilde(pat, l.Local.Home)
					if !filepath.IsAbs(pat) {
						if user {
							pat = filepath.Join(l.Local.Home, ".ssh", pat)
						} else {
							pat = filepath.Join("/etc/ssh", pat)
						}
					}
					matches, _ := filepath.Glob(pat)
					for _, m := range matches {
						if err := read(m, user, depth+1); err != nil {
							return err
						}
					}
				}
			}
		}
		return nil
	}
	for i, f := range l.Files {
		if err := read(f, i == 0, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// match evaluates a Match line against what has been resolved so far.
func (st *resolveState) match(ln line) (bool, error) {
	args := ln.args
	if len(args) == 0 {
		return false, fmt.Errorf("%s:%d: ssh config: Match needs a criterion", ln.file, ln.num)
	}
	result := true
	for i := 0; i < len(args); i++ {
		crit := strings.ToLower(args[i])
		negate := strings.HasPrefix(crit, "!")
		crit = strings.TrimPrefix(crit, "!")
		var ok bool
		switch crit {
		case "all":
			ok = true
		case "host", "originalhost", "user", "localuser":
			if i+1 >= len(args) {
				return false, fmt.Errorf("%s:%d: ssh config: Match %s needs an argument", ln.file, ln.num, crit)
			}
			i++
			list := strings.Split(args[i], ",")
			switch crit {
			case "host":
				h := st.host
				if hn, set := st.opts["hostname"]; set {
					h = expandTokens(hn[0], map[byte]string{'h': st.host})
				}
				ok = matchPatternList(h, list)
			case "originalhost":
				ok = matchPatternList(st.host, list)
			case "user":
				u := st.l.Local.User
				if v, set := st.opts["user"]; set {
					u = v[0]
				}
				ok = matchPatternList(u, list)
			case "localuser":
				ok = matchPatternList(st.l.Local.User, list)
			}
		default:
			return false, fmt.Errorf("%s:%d: ssh config: Match %s is not supported by gofab", ln.file, ln.num, crit)
		}
		if negate {
			ok = !ok
		}
		if !ok {
			result = false
		}
	}
	return result, nil
}

func (st *resolveState) finish() (*Config, error) {
	c := &Config{Host: st.host, local: st.l.Local, StrictHostKeyChecking: "ask", ServerAliveCountMax: 3}
	c.HostName = strings.ToLower(st.host)
	if v, ok := st.first("hostname"); ok {
		c.HostName = strings.ToLower(expandTokens(v, map[byte]string{'h': st.host}))
	}
	c.User = st.l.Local.User
	if v, ok := st.first("user"); ok {
		c.User, c.UserSet = v, true
	}
	c.Port = 22
	if v, ok := st.first("port"); ok {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("ssh config: bad Port %q for %s", v, st.host)
		}
		c.Port = p
	}
	st.files(c)
	if err := st.timing(c); err != nil {
		return nil, err
	}
	if v, ok := st.first("stricthostkeychecking"); ok {
		switch strings.ToLower(v) {
		case "yes", "true":
			c.StrictHostKeyChecking = "true"
		case "no", "false", "off":
			c.StrictHostKeyChecking = "false"
		case "accept-new":
			c.StrictHostKeyChecking = "accept-new"
		case "ask":
		default:
			return nil, fmt.Errorf("ssh config: bad StrictHostKeyChecking %q for %s", v, st.host)
		}
	}
	if v, ok := st.opts["proxyjump"]; ok && !strings.EqualFold(v[0], "none") {
		c.ProxyJump = strings.Join(v, " ")
	}
	if v, ok := st.opts["proxycommand"]; ok && !strings.EqualFold(v[0], "none") {
		c.ProxyCommand = strings.Join(v, " ")
	}
	return c, nil
}

// files sets the identity and known_hosts files, with OpenSSH's defaults.
func (st *resolveState) files(c *Config) {
	if len(st.identity) > 0 {
		c.IdentityFiles, c.IdentityFilesSet = st.identity, true
	} else {
		c.IdentityFiles = defaultIdentityFiles
	}
	if v, ok := st.first("forwardagent"); ok {
		c.ForwardAgent = yes(v)
	}
	if v, ok := st.first("identitiesonly"); ok {
		c.IdentitiesOnly = yes(v)
	}
	if v, ok := st.opts["userknownhostsfile"]; ok && !strings.EqualFold(v[0], "none") {
		for _, f := range v {
			c.UserKnownHostsFiles = append(c.UserKnownHostsFiles, c.Expand(f))
		}
	} else if !ok {
		c.UserKnownHostsFiles = []string{
			filepath.Join(c.local.Home, ".ssh", "known_hosts"),
			filepath.Join(c.local.Home, ".ssh", "known_hosts2"),
		}
	}
}

// timing sets ConnectTimeout and the keep-alive settings.
func (st *resolveState) timing(c *Config) error {
	if v, ok := st.first("connecttimeout"); ok && !strings.EqualFold(v, "none") {
		d, err := parseSeconds(v)
		if err != nil {
			return fmt.Errorf("ssh config: bad ConnectTimeout %q for %s", v, st.host)
		}
		c.ConnectTimeout = d
	}
	for key, dst := range map[string]*int{"serveraliveinterval": &c.ServerAliveInterval, "serveralivecountmax": &c.ServerAliveCountMax} {
		if v, ok := st.first(key); ok {
			d, err := parseSeconds(v)
			if err != nil {
				return fmt.Errorf("ssh config: bad %s %q for %s", key, v, st.host)
			}
			*dst = int(d / time.Second)
		}
	}
	return nil
}

// first returns the first value of option k.
func (st *resolveState) first(k string) (string, bool) {
	v, ok := st.opts[k]
	if !ok {
		return "", false
	}
	return v[0], true
}

// Expand expands ~ and the %-tokens of IdentityFile and UserKnownHostsFile
// (%% %C %d %h %i %k %L %l %n %p %r %u) for this host.
func (c *Config) Expand(s string) string {
	lhost := c.local.Hostname
	short, _, _ := strings.Cut(lhost, ".")
	sum := sha1.Sum([]byte(lhost + c.HostName + strconv.Itoa(c.Port) + c.User))
	s = expandTilde(s, c.local.Home)
	return expandTokens(s, map[byte]string{
		'C': hex.EncodeToString(sum[:]),
		'd': c.local.Home,
		'h': c.HostName,
		'i': strconv.Itoa(c.local.UID),
		'k': c.Host,
		'L': short,
		'l': lhost,
		'n': c.Host,
		'p': strconv.Itoa(c.Port),
		'r': c.User,
		'u': c.local.User,
	})
}

// WriteG writes the configuration in the format of ssh -G: a lower-case
// keyword, a space and the value, one line per value, for the keywords gofab
// uses.
func (c *Config) WriteG(b *bytes.Buffer) {
	fmt.Fprintf(b, "host %s\n", c.Host)
	fmt.Fprintf(b, "user %s\n", c.User)
	fmt.Fprintf(b, "hostname %s\n", c.HostName)
	fmt.Fprintf(b, "port %d\n", c.Port)
	for _, f := range c.IdentityFiles {
		fmt.Fprintf(b, "identityfile %s\n", f)
	}
	fmt.Fprintf(b, "identitiesonly %s\n", yesNo(c.IdentitiesOnly))
	fmt.Fprintf(b, "forwardagent %s\n", yesNo(c.ForwardAgent))
	if len(c.UserKnownHostsFiles) > 0 {
		fmt.Fprintf(b, "userknownhostsfile %s\n", strings.Join(c.UserKnownHostsFiles, " "))
	}
	fmt.Fprintf(b, "stricthostkeychecking %s\n", c.StrictHostKeyChecking)
	if c.ConnectTimeout > 0 {
		fmt.Fprintf(b, "connecttimeout %d\n", int(c.ConnectTimeout/time.Second))
	} else {
		b.WriteString("connecttimeout none\n")
	}
	fmt.Fprintf(b, "serveraliveinterval %d\n", c.ServerAliveInterval)
	fmt.Fprintf(b, "serveralivecountmax %d\n", c.ServerAliveCountMax)
	if c.ProxyJump != "" {
		fmt.Fprintf(b, "proxyjump %s\n", c.ProxyJump)
	}
	if c.ProxyCommand != "" {
		fmt.Fprintf(b, "proxycommand %s\n", c.ProxyCommand)
	}
}
