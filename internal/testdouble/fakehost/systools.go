package fakehost

import (
	"fmt"
	"io"
	"strings"
)

func toolID(t *toolCall) error {
	fl, _ := t.flags("")
	u := has(fl, "u")
	n := has(fl, "n")
	switch {
	case t.name == "whoami" || (u && n):
		fmt.Fprintln(t.hc.Stdout, t.s.user)
	case u:
		fmt.Fprintln(t.hc.Stdout, t.s.h.uid(t.s.user))
	default:
		fmt.Fprintf(t.hc.Stdout, "uid=%d(%s) gid=%[1]d(%[2]s)\n", t.s.h.uid(t.s.user), t.s.user)
	}
	return nil
}

// uid is 0 for root and 1000 and up for the others.
func (h *Host) uid(user string) int {
	if user == "root" {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, u := range sortedKeys(h.users) {
		if u == user {
			return 1000 + i
		}
	}
	return 65534
}

func toolHostname(t *toolCall) error {
	fmt.Fprintln(t.hc.Stdout, t.s.h.Name)
	return nil
}

func toolUname(t *toolCall) error {
	fl, _ := t.flags("")
	var parts []string
	all := has(fl, "a")
	if has(fl, "s") || all || len(fl) == 0 {
		parts = append(parts, "Linux")
	}
	if has(fl, "n") || all {
		parts = append(parts, t.s.h.Name)
	}
	if has(fl, "r") || all {
		parts = append(parts, "6.1.0-fake-amd64")
	}
	if has(fl, "m") || all {
		parts = append(parts, "x86_64")
	}
	fmt.Fprintln(t.hc.Stdout, strings.Join(parts, " "))
	return nil
}

// toolDpkgQuery answers dpkg-query -W [-f FORMAT] NAMES for the installed
// packages.
func toolDpkgQuery(t *toolCall) error {
	fl, names := t.flags("f")
	format := strings.TrimPrefix(fl["f"], "=") // dpkg takes -f=FORMAT too
	if format == "" {
		format = fl["showformat"]
	}
	if format == "" {
		format = "${Package}\t${Version}\n"
	}
	format = strings.ReplaceAll(format, `\n`, "\n")
	code := 0
	for _, n := range names {
		if !t.s.h.installed(n) {
			fmt.Fprintf(t.hc.Stderr, "dpkg-query: no packages found matching %s (h:packages({%q}) declares it installed)\n", n, n)
			code = 1
			continue
		}
		r := strings.NewReplacer("${Package}", n, "${Status}", "install ok installed", "${Version}", "1.0",
			"${db:Status-Abbrev}", "ii ")
		io.WriteString(t.hc.Stdout, r.Replace(format))
	}
	if code != 0 {
		return exitError(code)
	}
	return nil
}

func (h *Host) installed(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.packages[name]
}

// packageDirs are the directories a few common Debian packages lay down,
// so that a recipe writing their configuration finds them as on a real
// host.
var packageDirs = map[string][]string{
	"nginx":          {"/etc/nginx/sites-available", "/etc/nginx/sites-enabled", "/etc/nginx/conf.d", "/var/log/nginx"},
	"uwsgi-emperor":  {"/etc/uwsgi-emperor/vassals"},
	"php-fpm":        {"/etc/php/8.2/fpm/conf.d", "/etc/php/8.2/fpm/pool.d"},
	"logrotate":      {"/etc/logrotate.d"},
	"postfix":        {"/etc/postfix", "/var/spool/postfix"},
	"postgresql":     {"/etc/postgresql", "/var/lib/postgresql"},
	"ssl-cert":       {"/etc/ssl/certs", "/etc/ssl/private"},
	"openssh-server": {"/etc/ssh/sshd_config.d"},
	"apache2":        {"/etc/apache2/sites-available", "/etc/apache2/sites-enabled"},
	"uwsgi":          {"/etc/uwsgi/apps-available", "/etc/uwsgi/apps-enabled"},
}

// packageUsers are the system users some packages add.
var packageUsers = map[string]string{"postfix": "postfix", "postgresql": "postgres"}

// toolPackages is the package managers: apt-get, dnf, yum, zypper, apk
// and pacman install and remove packages (as root only); rpm -q, apk info
// -e and pacman -Q tell whether one is installed.
func toolPackages(t *toolCall) error {
	fl, words := t.flags("o")
	h := t.s.h
	var verb string
	switch t.name {
	case "pacman":
		switch {
		case has(fl, "Q"):
			verb = "query"
		case has(fl, "S") && len(words) > 0:
			verb = "install"
		case has(fl, "R"):
			verb = "remove"
		}
	case "rpm":
		if has(fl, "q") {
			verb = "query"
		}
	default:
		if len(words) > 0 {
			verb, words = words[0], words[1:]
		}
		if t.name == "apk" && verb == "info" && has(fl, "e") {
			verb = "query"
		}
	}
	switch verb {
	case "query":
		for _, n := range words {
			if !h.installed(n) {
				fmt.Fprintf(t.hc.Stderr, "package %s is not installed (h:packages({%q}) declares it installed)\n", n, n)
				return exitError(1)
			}
			fmt.Fprintf(t.hc.Stdout, "%s-1.0\n", n)
		}
		return nil
	case "install", "add", "remove", "purge", "del", "erase":
	default:
		return nil // update, upgrade, clean, makecache, refresh…
	}
	if t.s.user != "root" {
		return t.errorf("%s: permission denied (are you root?) (the recipe ran it as %s: use sudo() or {use_sudo = true})", t.name, t.s.user)
	}
	if verb == "install" || verb == "add" {
		h.Install(words...)
	} else {
		h.set(h.packages, words, false)
	}
	return nil
}

func has(fl map[string]string, k string) bool {
	_, ok := fl[k]
	return ok
}

// toolSystemctl tracks services: start, stop, restart, reload, enable,
// disable, is-active, is-enabled, status, daemon-reload.
func toolSystemctl(t *toolCall) error {
	var verb string
	var units []string
	quiet := false
	for _, a := range t.args {
		switch {
		case a == "--quiet" || a == "-q":
			quiet = true
		case strings.HasPrefix(a, "-"):
		case verb == "":
			verb = a
		default:
			units = append(units, a)
		}
	}
	if verb == "" {
		return nil
	}
	out := t.hc.Stdout
	if quiet {
		out = io.Discard
	}
	h := t.s.h
	switch verb {
	case "is-active", "status":
		for _, u := range units {
			if !h.running(u) {
				fmt.Fprintln(out, "inactive")
				return exitError(3)
			}
			fmt.Fprintln(out, "active")
		}
		return nil
	case "is-enabled":
		for _, u := range units {
			h.mu.Lock()
			on := h.enabled[strings.TrimSuffix(u, ".service")]
			h.mu.Unlock()
			if !on {
				fmt.Fprintln(out, "disabled")
				return exitError(1)
			}
			fmt.Fprintln(out, "enabled")
		}
		return nil
	case "daemon-reload":
	case "start", "restart", "reload", "reload-or-restart", "try-restart", "stop", "enable", "disable":
	default:
		return t.errorf("systemctl: unknown command %q", verb)
	}
	if t.s.user != "root" {
		return t.errorf("Failed to %s %s: Access denied (the recipe ran it as %s: use sudo())", verb, strings.Join(units, " "), t.s.user)
	}
	for _, u := range units {
		u = strings.TrimSuffix(u, ".service")
		switch verb {
		case "start", "restart", "reload-or-restart", "try-restart":
			h.Start(u)
		case "reload":
			if h.stopped(u) {
				return t.errorf("%s.service is not active, cannot reload. (the test declared it stopped with h:services({[%q] = \"stopped\"}), or the recipe stopped it; declare it running to reload it)", u, u)
			}
			h.Start(u) // a service the test said nothing about runs
		case "stop":
			h.Stop(u)
		case "enable":
			h.set(h.enabled, []string{u}, true)
		case "disable":
			h.set(h.enabled, []string{u}, false)
		}
	}
	return nil
}

// stopped reports whether unit was declared stopped (or stopped).
func (h *Host) stopped(unit string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	on, declared := h.services[strings.TrimSuffix(unit, ".service")]
	return declared && !on
}

func (h *Host) running(unit string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.services[strings.TrimSuffix(unit, ".service")]
}

// toolService is sysvinit's service NAME start|stop|restart|reload|status.
func toolService(t *toolCall) error {
	if len(t.args) < 2 {
		return t.errorf("usage: service NAME COMMAND")
	}
	verb := t.args[1]
	if verb == "status" {
		verb = "is-active"
	}
	sc := *t
	sc.args = []string{verb, t.args[0]}
	return toolSystemctl(&sc)
}

// toolGetent answers getent passwd|group NAME.
func toolGetent(t *toolCall) error {
	if len(t.args) < 2 {
		return exitError(1)
	}
	h := t.s.h
	for _, name := range t.args[1:] {
		h.mu.Lock()
		_, user := h.users[name]
		members, group := h.groups[name]
		h.mu.Unlock()
		switch {
		case t.args[0] == "passwd" && user:
			id := h.uid(name)
			fmt.Fprintf(t.hc.Stdout, "%s:x:%d:%d::%s:/bin/bash\n", name, id, id, Home(name))
		case t.args[0] == "group" && group:
			fmt.Fprintf(t.hc.Stdout, "%s:x:%d:%s\n", name, h.uid(name), strings.Join(members, ","))
		default:
			return exitError(2)
		}
	}
	return nil
}

// known fails on a strict host unless the user and group (either may be
// empty) exist. A host that is not strict assumes a user or group the test
// did not declare exists, as it assumes an unscripted program succeeds.
func (h *Host) known(user, group string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.strict {
		return nil
	}
	const hint = " (t.strict() is on: the user and group must exist; create them in the recipe or in the test's recipe setup)"
	if _, ok := h.users[user]; user != "" && !ok {
		return fmt.Errorf("invalid user: %q%s", user, hint)
	}
	if _, ok := h.groups[group]; group != "" && !ok {
		return fmt.Errorf("invalid group: %q%s", group, hint)
	}
	return nil
}

func (t *toolCall) needRoot() error {
	if t.s.user != "root" {
		return t.errorf("%s: Permission denied. (the recipe ran it as %s: use sudo())", t.name, t.s.user)
	}
	return nil
}

func toolUseradd(t *toolCall) error {
	if err := t.needRoot(); err != nil {
		return err
	}
	fl, args := t.flags("dgGsuc")
	if len(args) != 1 {
		return t.errorf("useradd: expected one user name")
	}
	name := args[0]
	t.s.h.mu.Lock()
	_, exists := t.s.h.users[name]
	t.s.h.users[name] = true
	if _, ok := t.s.h.groups[name]; !ok {
		t.s.h.groups[name] = nil
	}
	t.s.h.mu.Unlock()
	if exists {
		return t.errorf("useradd: user '%s' already exists", name)
	}
	if has(fl, "m") {
		home := Home(name)
		if d := fl["d"]; d != "" {
			home = d
		}
		root := t.s.h.FS.As("root")
		root.MkdirAll(home, 0o755)
		root.Chown(home, name, name, true)
	}
	return nil
}

func toolGroupadd(t *toolCall) error {
	if err := t.needRoot(); err != nil {
		return err
	}
	_, args := t.flags("g")
	for _, g := range args {
		t.s.h.mu.Lock()
		if _, ok := t.s.h.groups[g]; !ok {
			t.s.h.groups[g] = nil
		}
		t.s.h.mu.Unlock()
	}
	return nil
}

// toolUsermod handles usermod -a -G GROUP[,GROUP] USER.
func toolUsermod(t *toolCall) error {
	if err := t.needRoot(); err != nil {
		return err
	}
	fl, args := t.flags("Gg")
	if len(args) != 1 {
		return t.errorf("usermod: expected one user name")
	}
	h := t.s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, g := range strings.Split(fl["G"], ",") {
		if g == "" {
			continue
		}
		if _, ok := h.groups[g]; !ok {
			return t.errorf("usermod: group '%s' does not exist", g)
		}
		h.groups[g] = append(h.groups[g], args[0])
	}
	return nil
}
