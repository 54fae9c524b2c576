package inventory

import (
	"strings"
	"testing"
)

// TestConnectionVariables: Ansible's connection variables are applied
// (ansible_ssh_common_args' jump host) or refused in one line each, and a
// password in the file is never repeated.
func TestConnectionVariables(t *testing.T) {
	for args, want := range map[string]string{
		"-o ProxyJump=bastion":                              "bastion",
		"-J admin@jump:2222":                                "admin@jump:2222",
		`-o ProxyCommand="ssh -W %h:%p -q admin@jump2"`:     "admin@jump2",
		`-o 'ProxyCommand=ssh -i k.pem -W %h:%p user@gw'`:   "",
		"-o StrictHostKeyChecking=no":                       "",
		"-o StrictHostKeyChecking=no -o ProxyJump=a@b.c:22": "a@b.c:22",
	} {
		if got := JumpHost(args); got != want {
			t.Errorf("JumpHost(%q) = %q, want %q", args, got, want)
		}
	}
	inv, err := Parse("h.ini", []byte(`[web]
web1 ansible_ssh_common_args='-o ProxyJump=bastion'
web2 ansible_become=True ansible_become_password=s3cret-value ansible_python_interpreter=/usr/bin/python3
localhost ansible_connection=local
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Finish(); err != nil {
		t.Fatal(err)
	}
	if r, _ := inv.Lookup("web1"); r.Gateway != "bastion" {
		t.Errorf("web1 gateway %q, want bastion", r.Gateway)
	}
	notes := strings.Join(inv.ConnectionNotes("h.ini", nil), "\n")
	for _, want := range []string{"ansible_become is not applied", "ansible_become_password is ignored", "ansible_python_interpreter is ignored"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "s3cret-value") || strings.Contains(notes, "ansible_connection") || strings.Contains(notes, "ansible_ssh_common_args") {
		t.Errorf("notes show a password, or note what needs no note:\n%s", notes)
	}
}
