package cuisine

import (
	"strings"
	"testing"
)

func TestBackendFor(t *testing.T) {
	cases := []struct{ osRelease, want string }{
		{"ID=debian\nVERSION_ID=12", "apt"},
		{`ID="ubuntu"` + "\nID_LIKE=debian", "apt"},
		{"ID=linuxmint\nID_LIKE=\"ubuntu debian\"", "apt"},
		{"ID=fedora\nHAS_DNF=1", "dnf"},
		{"ID=\"centos\"\nID_LIKE=\"rhel fedora\"", "yum"},
		{"ID=rocky\nID_LIKE=\"rhel centos fedora\"\nHAS_DNF=1", "dnf"},
		{"ID=alpine", "apk"},
		{"ID=arch", "pacman"},
		{"ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"", "zypper"},
	}
	for _, c := range cases {
		b, err := backendFor(c.osRelease)
		if err != nil || b.Name != c.want {
			t.Errorf("%q: backend %q (%v), want %q", c.osRelease, b.Name, err, c.want)
		}
	}
	if _, err := backendFor("ID=plan9"); err == nil {
		t.Error("an unknown system got a backend")
	}
}

func TestBackendCommands(t *testing.T) {
	names := []string{"nginx", "it's"}
	want := map[string][]string{
		"apt": {"apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends nginx 'it'\\''s'", "apt-get -o DPkg::Lock::Timeout=600 remove -y -qq nginx",
			"dpkg-query -W", "apt-get -o DPkg::Lock::Timeout=600 update"},
		"dnf":    {"dnf install -y -q nginx", "dnf remove -y -q nginx", `rpm -q "$p"`, "dnf makecache"},
		"yum":    {"yum install -y -q nginx", "yum remove -y -q nginx", `rpm -q "$p"`, "yum makecache"},
		"apk":    {"apk add -q nginx", "apk del -q nginx", `apk info -e "$p"`, "apk update"},
		"pacman": {"pacman -S --noconfirm --needed nginx", "pacman -R --noconfirm nginx", `pacman -Q "$p"`, "pacman -Sy"},
		"zypper": {"zypper -q -n install nginx", "zypper -q -n remove nginx", `rpm -q "$p"`, "zypper -q refresh"},
	}
	for name, parts := range want {
		b := backends[name]
		got := []string{b.Install(names), b.Remove(names), b.Installed(names), b.Update}
		for i, p := range parts {
			if !strings.Contains(got[i], p) {
				t.Errorf("%s: %q lacks %q", name, got[i], p)
			}
		}
	}
}

func TestServiceCommand(t *testing.T) {
	cases := []struct{ manager, action, want string }{
		{"systemd", "start", "systemctl start nginx"},
		{"systemd", "status", "systemctl is-active --quiet nginx"},
		{"systemd", "enable", "systemctl enable nginx"},
		{"openrc", "restart", "rc-service nginx restart"},
		{"openrc", "enable", "rc-update add nginx default"},
		{"sysv", "reload", "service nginx reload"},
		{"sysv", "status", `service nginx status >/dev/null 2>&1 || exit 3; pf=$(sed -n 's/^PIDFILE=//p' /etc/init.d/nginx`},
		{"sysv", "enable", "update-rc.d nginx defaults"},
	}
	for _, c := range cases {
		if got := serviceCommand(c.manager, c.action, "nginx"); !strings.HasPrefix(got, c.want) || (c.action != "status" && got != c.want) {
			t.Errorf("%s %s = %q, want %q", c.manager, c.action, got, c.want)
		}
	}
}

func TestText(t *testing.T) {
	if got := ensureLines("a\r\nb\r\n", []string{"c", "a"}); got != "a\r\nb\r\nc\r\n" {
		t.Errorf("ensureLines kept no CRLF: %q", got)
	}
	if got, n := replaceLine("port 80\nhost x\n", "port", "port 8080", true); got != "port 8080\nhost x\n" || n != 1 {
		t.Errorf("replaceLine find = %q %d", got, n)
	}
	if got := stripMargin("  #a\n\t#b\nc", "#"); got != "a\nb\nc" {
		t.Errorf("stripMargin = %q", got)
	}
}
