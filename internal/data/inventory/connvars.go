package inventory

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// jumpRE finds a jump host in ssh arguments: -J HOST, -o ProxyJump=HOST,
// or a ProxyCommand of the form "ssh … -W %h:%p … HOST". Compiled on
// first use: most runs never read Ansible's connection variables.
var jumpRE = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		regexp.MustCompile(`(?:^|\s)-J\s*([^\s'"]+)`),
		regexp.MustCompile(`(?i)-o\s*['"]?ProxyJump[= ]([^\s'"]+)`),
		regexp.MustCompile(`(?i)-o\s*['"]?ProxyCommand[= ]['"]?ssh\s+(?:-\S+\s+)*-W\s*%h:%p(?:\s+-\S+)*\s+([^\s'"]+)`),
	}
})

// JumpHost returns the gateway ansible_ssh_common_args (or _extra_args)
// names, as gofab's -g takes it, or "".
func JumpHost(args string) string {
	for _, re := range jumpRE() {
		if m := re.FindStringSubmatch(args); m != nil {
			return m[1]
		}
	}
	return ""
}

// connectionNotes say what gofab does with Ansible's connection and
// privilege variables it does not apply as Ansible would.
var connectionNotes = map[string]string{
	"ansible_become":             "ansible_become is not applied to every command: gofab runs run() as the login user; use sudo(cmd) or {use_sudo = true} where a command needs root",
	"ansible_become_user":        "ansible_become_user is not applied: use sudo(cmd, {user = NAME})",
	"ansible_become_method":      "ansible_become_method is not applied: gofab's sudo() uses sudo",
	"ansible_become_password":    "ansible_become_password is ignored in clear (keep it in an encrypted group_vars/NAME.sops.yaml, which gofab uses for sudo), or give GOFAB_SUDO_PASSWORD or --sudo-password-prompt",
	"ansible_become_pass":        "ansible_become_pass is ignored in clear (keep it in an encrypted group_vars/NAME.sops.yaml, which gofab uses for sudo), or give GOFAB_SUDO_PASSWORD or --sudo-password-prompt",
	"ansible_password":           "ansible_password is ignored (a password in an inventory file is in clear): gofab logs in with keys or the agent",
	"ansible_ssh_pass":           "ansible_ssh_pass is ignored (a password in an inventory file is in clear): gofab logs in with keys or the agent",
	"ansible_python_interpreter": "ansible_python_interpreter is ignored: gofab runs no Python on the hosts",
	"ansible_connection":         "ansible_connection is ignored: gofab connects over SSH (name a host local to run on this machine)",
}

// ConnectionNotes returns one line per Ansible connection or privilege
// variable the inventory sets that gofab does not apply (ansible_become,
// ansible_python_interpreter…), saying what it does instead, and one when
// ansible_ssh_common_args holds more than a jump host. Values are never
// shown. Ansible's own `localhost ansible_connection=local` needs no note,
// nor a become password that encrypted reports was decrypted from an
// encrypted vars file (gofab uses it; nil: none was).
func (inv *Inventory) ConnectionNotes(source string, encrypted func(string) bool) []string {
	used := map[string]bool{}
	sshOptions := false
	note := func(vars map[string]any, host string) {
		for k, v := range vars {
			if !strings.HasPrefix(k, "ansible_") {
				continue // all the keys below are ansible_ ones
			}
			switch {
			case k == "ansible_connection" && host == "localhost" && v == "local":
			case IsBecomePassword(k) && encrypted != nil && encrypted(fmt.Sprint(v)):
			case connectionNotes[k] != "":
				used[k] = true
			case k == "ansible_ssh_common_args" || k == "ansible_ssh_extra_args":
				s := fmt.Sprint(v)
				sshOptions = sshOptions || JumpHost(s) == "" || strings.Count(s, "-o") > 1
			}
		}
	}
	for _, g := range inv.groups {
		note(g.Vars, "")
		note(g.DirVars, "")
	}
	for n, h := range inv.hosts {
		note(h.Vars, n)
		note(h.DirVars, n)
	}
	var out []string
	for k := range used {
		out = append(out, source+": "+connectionNotes[k])
	}
	if sshOptions {
		out = append(out, source+": ansible_ssh_common_args: gofab takes a jump host from it (-J, ProxyJump, ProxyCommand ssh -W %h:%p HOST); put other ssh options in ssh_config")
	}
	sort.Strings(out)
	return out
}

// BecomePasswordVars are Ansible's names for the become (sudo) password.
var BecomePasswordVars = []string{"ansible_become_password", "ansible_become_pass"}

// IsBecomePassword reports whether k is Ansible's become (sudo) password
// variable.
func IsBecomePassword(k string) bool { return slices.Contains(BecomePasswordVars, k) }
