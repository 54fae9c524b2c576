package cuisine

import (
	"bufio"
	"fmt"
	"strings"
)

// pkgBackend builds the commands of one package manager.
type pkgBackend struct {
	Name string
	// Installed is a command printing one line per installed package of
	// names, "name" alone; Update, Upgrade, Install, Remove and Clean
	// change the system.
	Installed              func(names []string) string
	Update, Upgrade, Clean string
	Install, Remove        func(names []string) string
}

func words(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = q(n)
	}
	return strings.Join(quoted, " ")
}

// installedEach prints the names for which check succeeds.
func installedEach(check string) func([]string) string {
	return func(names []string) string {
		return fmt.Sprintf("for p in %s; do %s >/dev/null 2>&1 && echo \"$p\"; done; true", words(names), check)
	}
}

// aptGet runs apt-get without questions, waiting up to ten minutes for
// the package manager's lock (held by unattended upgrades, say) instead of
// failing at once.
const aptGet = "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "

var backends = map[string]pkgBackend{
	"apt": {Name: "apt",
		Installed: func(names []string) string {
			return "dpkg-query -W -f='${Package} ${Status}\\n' " + words(names) + " 2>/dev/null | awk '$NF == \"installed\" {print $1}'; true"
		},
		Update:  aptGet + "update -qq",
		Upgrade: aptGet + "upgrade -y -qq",
		Clean:   "apt-get clean",
		Install: func(n []string) string {
			return aptGet + "install -y -qq --no-install-recommends " + words(n)
		},
		Remove: func(n []string) string { return aptGet + "remove -y -qq " + words(n) },
	},
	"dnf": {Name: "dnf", Installed: installedEach(`rpm -q "$p"`), Update: "dnf makecache -q", Upgrade: "dnf upgrade -y -q",
		Clean: "dnf clean all", Install: func(n []string) string { return "dnf install -y -q " + words(n) },
		Remove: func(n []string) string { return "dnf remove -y -q " + words(n) }},
	"yum": {Name: "yum", Installed: installedEach(`rpm -q "$p"`), Update: "yum makecache -q", Upgrade: "yum update -y -q",
		Clean: "yum clean all", Install: func(n []string) string { return "yum install -y -q " + words(n) },
		Remove: func(n []string) string { return "yum remove -y -q " + words(n) }},
	"apk": {Name: "apk", Installed: installedEach(`apk info -e "$p"`), Update: "apk update -q", Upgrade: "apk upgrade -q",
		Clean: "apk cache clean", Install: func(n []string) string { return "apk add -q " + words(n) },
		Remove: func(n []string) string { return "apk del -q " + words(n) }},
	"pacman": {Name: "pacman", Installed: installedEach(`pacman -Q "$p"`), Update: "pacman -Sy --noconfirm", Upgrade: "pacman -Syu --noconfirm",
		Clean: "pacman -Sc --noconfirm", Install: func(n []string) string { return "pacman -S --noconfirm --needed " + words(n) },
		Remove: func(n []string) string { return "pacman -R --noconfirm " + words(n) }},
	"zypper": {Name: "zypper", Installed: installedEach(`rpm -q "$p"`), Update: "zypper -q refresh", Upgrade: "zypper -q -n update",
		Clean: "zypper clean", Install: func(n []string) string { return "zypper -q -n install " + words(n) },
		Remove: func(n []string) string { return "zypper -q -n remove " + words(n) }},
}

// osReleaseCommand prints /etc/os-release and whether dnf is there.
const osReleaseCommand = "cat /etc/os-release 2>/dev/null; command -v dnf >/dev/null 2>&1 && echo HAS_DNF=1; true"

// backendFor picks the package manager from /etc/os-release (ID, then
// ID_LIKE).
func backendFor(osRelease string) (pkgBackend, error) {
	vals := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(osRelease))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			vals[k] = strings.Trim(v, `"'`)
		}
	}
	ids := append([]string{vals["ID"]}, strings.Fields(vals["ID_LIKE"])...)
	for _, id := range ids {
		switch id {
		case "debian", "ubuntu":
			return backends["apt"], nil
		case "fedora", "rhel", "centos", "rocky", "almalinux", "amzn":
			if vals["HAS_DNF"] == "1" {
				return backends["dnf"], nil
			}
			return backends["yum"], nil
		case "alpine":
			return backends["apk"], nil
		case "arch", "manjaro":
			return backends["pacman"], nil
		case "opensuse", "suse", "sles", "opensuse-leap", "opensuse-tumbleweed":
			return backends["zypper"], nil
		}
	}
	return pkgBackend{}, fmt.Errorf("no package manager known for this system (ID=%q ID_LIKE=%q)", vals["ID"], vals["ID_LIKE"])
}

// serviceManagerCommand prints systemd, openrc or sysv.
const serviceManagerCommand = "if [ -d /run/systemd/system ]; then echo systemd; elif command -v rc-service >/dev/null 2>&1; then echo openrc; else echo sysv; fi"

// serviceCommand builds a service action (start, stop, restart, reload,
// status, enable, is-enabled) for a service manager.
func serviceCommand(manager, action, name string) string {
	n := q(name)
	switch manager {
	case "systemd":
		switch action {
		case "status":
			return "systemctl is-active --quiet " + n
		case "is-enabled":
			return "systemctl is-enabled --quiet " + n
		}
		return "systemctl " + action + " " + n
	case "openrc":
		switch action {
		case "enable":
			return "rc-update add " + n + " default"
		case "is-enabled":
			return "rc-update show default | grep -qw " + n
		}
		return "rc-service " + n + " " + action
	}
	switch action {
	case "enable":
		return "update-rc.d " + n + " defaults"
	case "is-enabled":
		return "ls /etc/rc[2-5].d/S??" + n + " >/dev/null 2>&1"
	case "status":
		return sysvStatus(n)
	}
	return "service " + n + " " + action
}

// sysvStatus checks a SysV service: its init script's status, and, when
// the script names a PIDFILE, that the file names a live process (not a
// zombie nobody reaped) running the script's DAEMON. Some scripts
// (Debian's uwsgi-emperor) answer status with 0 while stopped.
func sysvStatus(n string) string {
	setting := func(name string) string {
		return `$(sed -n 's/^` + name + `=//p' /etc/init.d/` + n + ` 2>/dev/null | head -n 1 | tr -d "\"'")`
	}
	return "service " + n + " status >/dev/null 2>&1 || exit 3; " +
		"pf=" + setting("PIDFILE") + "; dm=" + setting("DAEMON") + "; " +
		`case "$pf" in ""|*'$'*) exit 0;; esac; ` +
		`p=$(cat "$pf" 2>/dev/null) && [ -n "$p" ] && grep -q '^State:[[:space:]]*[^Z]' "/proc/$p/status" 2>/dev/null || exit 3; ` +
		// A stale pid file's number may belong to another process now.
		`case "$dm" in ""|*'$'*) exit 0;; esac; [ "$(readlink -f "$dm")" = "$(readlink "/proc/$p/exe")" ]`
}
