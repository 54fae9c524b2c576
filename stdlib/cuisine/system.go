package cuisine

import (
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/luart"
)

// namesArg reads one name or a list of names.
func namesArg(st *luart.State, idx int) []string {
	switch v := st.L.Get(idx).(type) {
	case lua.LString:
		return []string{string(v)}
	case *lua.LTable:
		var out []string
		for i := 1; i <= v.Len(); i++ {
			out = append(out, v.RawGetInt(i).String())
		}
		if len(out) > 0 {
			return out
		}
	}
	st.L.ArgError(idx, "give a package name or a list of names")
	return nil
}

// dryBackend stands for the package manager under --dry-run, where no
// host answers: nothing is installed, and the plan names no tool.
var dryBackend = pkgBackend{Name: "package manager",
	Installed: func([]string) string { return "true" },
	Update:    "<package manager> update", Upgrade: "<package manager> upgrade", Clean: "<package manager> clean",
	Install: func(n []string) string { return "<package manager> install " + words(n) },
	Remove:  func(n []string) string { return "<package manager> remove " + words(n) }}

// backend probes the host's package manager.
func (t *side) backend() pkgBackend {
	if _, _, dry := t.st.Mode(); dry {
		return dryBackend
	}
	out, _ := t.probe(osReleaseCommand)
	b, err := backendFor(out)
	if err != nil {
		t.fail("%v", err)
	}
	return b
}

// installed returns which of names are installed.
func (t *side) installed(b pkgBackend, names []string) map[string]bool {
	out, _ := t.probe(b.Installed(names))
	have := map[string]bool{}
	for _, l := range strings.Fields(out) {
		have[l] = true
	}
	return have
}

// pkgChange runs one package-manager command that always changes.
func pkgChange(st *luart.State, pick func(pkgBackend) string) int {
	t := onOpts(st)
	t.sudo = true
	t.change(pick(t.backend()))
	return t.done(true, nil)
}

// user is a line of getent passwd.
type user struct {
	name, uid, gid, home, shell string
}

func (t *side) user(name string) (user, bool) {
	out, code := t.probe("getent passwd " + q(name))
	f := strings.Split(strings.TrimSpace(out), ":")
	if code != 0 || len(f) < 7 {
		return user{}, false
	}
	return user{f[0], f[2], f[3], f[5], f[6]}, true
}

// groupGID returns a group's gid, and whether it exists.
func (t *side) groupGID(name string) (string, bool) {
	out, code := t.probe("getent group " + q(name))
	f := strings.Split(strings.TrimSpace(out), ":")
	if code != 0 || len(f) < 3 {
		return "", false
	}
	return f[2], true
}

// memberOf reports whether user is in group (also as its primary group).
func (t *side) memberOf(group, user string) bool {
	out, code := t.probe("id -nG " + q(user))
	return code == 0 && contains(strings.Fields(out), group)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// passwordIs reports whether name's password is passwd, comparing crypt
// hashes on the host (the password goes on stdin).
func (t *side) passwordIs(name, passwd string, encrypted bool) bool {
	out, code := t.probeRoot("getent shadow " + q(name))
	f := strings.Split(strings.TrimSpace(out), ":")
	if code != 0 || len(f) < 2 || !strings.HasPrefix(f[1], "$") {
		return false
	}
	hash := f[1]
	if encrypted {
		return hash == passwd
	}
	salt := hash[:strings.LastIndex(hash, "$")+1]
	res := t.exec("perl -e '$p = <STDIN>; chomp $p; print crypt($p, $ARGV[0])' "+q(salt), &passwd, false, false)
	return res.Code == 0 && res.Stdout == hash
}

func (t *side) setPassword(name, passwd string, encrypted bool) {
	flag := ""
	if encrypted {
		flag = " -e"
	}
	t.change("chpasswd"+flag, name+":"+passwd+"\n")
}

func userArgs(o luart.Opts, create bool) string {
	var b strings.Builder
	for _, f := range []struct{ opt, flag string }{{"uid", "-u"}, {"gid", "-g"}, {"home", "-d"}, {"shell", "-s"}} {
		if v := o.String(f.opt); v != "" {
			b.WriteString(" " + f.flag + " " + q(v))
		}
	}
	if create {
		if o.Bool("system") {
			b.WriteString(" -r")
		}
		if v, ok := o["createhome"]; !ok || lua.LVAsBool(v) {
			b.WriteString(" -m")
		}
		if groups := groupsOpt(o); len(groups) > 0 {
			b.WriteString(" -G " + q(strings.Join(groups, ",")))
		}
	}
	return b.String()
}

func groupsOpt(o luart.Opts) []string {
	t, ok := o["groups"].(*lua.LTable)
	if !ok {
		if s := o.String("groups"); s != "" {
			return strings.Split(s, ",")
		}
		return nil
	}
	var out []string
	for i := 1; i <= t.Len(); i++ {
		out = append(out, t.RawGetInt(i).String())
	}
	return out
}

// serviceManager probes systemd, OpenRC or SysV.
func (t *side) serviceManager() string {
	out, _ := t.probe(serviceManagerCommand)
	return strings.TrimSpace(out)
}

// verifyRunning fails the call unless the service runs within ten
// seconds of being started: an init script may exit 0 and leave nothing
// running.
func (t *side) verifyRunning(manager, name string) {
	check := serviceCommand(manager, "status", name)
	if _, code := t.probeRoot("i=0; while [ $i -lt 50 ]; do (" + check + ") >/dev/null 2>&1 && exit 0; i=$((i+1)); sleep 0.2; done; exit 1"); code != 0 {
		t.fail("the service was started but is not running (see its log)")
	}
}

// serviceActive reports whether a service of manager is running.
func (t *side) serviceActive(manager, name string) bool {
	_, code := t.probeRoot(serviceCommand(manager, "status", name) + " >/dev/null 2>&1")
	return code == 0
}

// systemFuncs are the package, user, group, SSH key, service and process
// functions.
func systemFuncs() []luart.Func {
	return slices.Concat(packageFuncs(), userFuncs(), groupFuncs(), groupUserFuncs(), sshFuncs(), serviceFuncs(), miscFuncs())
}

// packageFuncs install, remove and query packages.
func packageFuncs() []luart.Func {
	pkgP := luart.Param{Name: "packages", Type: "string|string[]"}
	return []luart.Func{
		fn("command_check", "Reports whether a command is on the host's PATH.", []luart.Param{{Name: "command", Type: "string"}, luart.OptionsParam(cuisineOptionsType)}, boolR, commandCheck),
		fn("command_ensure", "Installs package (default: the command's name) when the command is missing.", []luart.Param{{Name: "command", Type: "string"}, {Name: "package", Type: "string", Optional: true}}, resultR, commandEnsure),
		fn("package_update", "Refreshes the package lists (apt-get update, dnf makecache, …).", []luart.Param{luart.OptionsParam(cuisineOptionsType)}, resultR, func(st *luart.State) int {
			return pkgChange(st, func(b pkgBackend) string { return b.Update })
		}),
		fn("package_upgrade", "Upgrades every package.", []luart.Param{luart.OptionsParam(cuisineOptionsType)}, resultR, func(st *luart.State) int {
			return pkgChange(st, func(b pkgBackend) string { return b.Upgrade })
		}),
		fn("package_clean", "Empties the package cache.", []luart.Param{luart.OptionsParam(cuisineOptionsType)}, resultR, func(st *luart.State) int {
			return pkgChange(st, func(b pkgBackend) string { return b.Clean })
		}),
		fn("package_install", "Installs packages (always runs the package manager; see package_ensure).", []luart.Param{pkgP}, resultR, func(st *luart.State) int {
			names := namesArg(st, 1)
			return pkgChange(st, func(b pkgBackend) string { return b.Install(names) })
		}),
		fn("package_ensure", "Installs the packages that are not installed yet; returns {changed, installed = {names installed now}}.", []luart.Param{pkgP}, resultR, packageEnsure),
		fn("package_remove", "Removes the packages that are installed.", []luart.Param{pkgP}, resultR, packageRemove),
	}
}

// userFuncs manage user accounts.
func userFuncs() []luart.Func {
	return []luart.Func{
		fn("user_check", "Returns {name, uid, gid, home, shell} of a user, or nil.", []luart.Param{nameP}, []luart.Param{{Type: "table?"}}, userCheck),
		fn("user_create", "Creates a user (useradd) with the options given.", []luart.Param{nameP, luart.OptionsParam(userOptionsType)}, resultR, userCreate),
		fn("user_ensure", "Makes sure a user exists with the uid, gid, home, shell, password and groups given, changing only what differs.", []luart.Param{nameP, luart.OptionsParam(userOptionsType)}, resultR, userEnsure),
		fn("user_remove", "Removes a user when it exists (rmhome: with its home).", []luart.Param{nameP, luart.OptionsParam(userOptionsType)}, resultR, userRemove),
		fn("user_passwd", "Sets a user's password when it differs (compared by hash on the host; the password goes on stdin).", []luart.Param{nameP, {Name: "passwd", Type: "string"}, luart.OptionsParam(passwdOptionsType)}, resultR, userPasswd),
	}
}

// groupFuncs manage groups.
func groupFuncs() []luart.Func {
	return []luart.Func{
		fn("group_check", "Returns {name, gid, members} of a group, or nil.", []luart.Param{nameP}, []luart.Param{{Type: "table?"}}, groupCheck),
		fn("group_create", "Creates a group (groupadd).", []luart.Param{nameP, luart.OptionsParam(groupOptionsType)}, resultR, groupCreate),
		fn("group_ensure", "Makes sure a group exists, with the gid given.", []luart.Param{nameP, luart.OptionsParam(groupOptionsType)}, resultR, groupEnsure),
		fn("group_remove", "Removes a group when it exists.", []luart.Param{nameP}, resultR, groupRemove),
	}
}

// groupUserFuncs manage group membership.
func groupUserFuncs() []luart.Func {
	userP := luart.Param{Name: "user", Type: "string"}
	groupP := luart.Param{Name: "group", Type: "string"}
	return []luart.Func{
		fn("group_user_check", "Reports whether user is a member of group.", []luart.Param{groupP, userP}, boolR, func(st *luart.State) int {
			st.L.Push(lua.LBool(on(st, false).memberOf(st.L.CheckString(1), st.L.CheckString(2))))
			return 1
		}),
		fn("group_user_add", "Adds user to group (always runs usermod; see group_user_ensure).", []luart.Param{groupP, userP}, resultR, groupUserAdd),
		fn("group_user_ensure", "Adds user to group unless it is a member already.", []luart.Param{groupP, userP}, resultR, groupUserEnsure),
		fn("group_user_del", "Removes user from group when it is a member.", []luart.Param{groupP, userP}, resultR, groupUserDel),
	}
}

// sshFuncs manage SSH keys.
func sshFuncs() []luart.Func {
	userP := luart.Param{Name: "user", Type: "string"}
	return []luart.Func{
		fn("ssh_keygen", "Makes sure user has an SSH key pair (ed25519 unless keytype says rsa or ecdsa); returns {changed, key = public key}.", []luart.Param{userP, luart.OptionsParam(keygenOptionsType)}, resultR, sshKeygen),
		fn("ssh_authorize", "Adds a public key to user's authorized_keys unless it is there (file and directory get the user's ownership and safe modes).", []luart.Param{userP, {Name: "key", Type: "string"}}, resultR, func(st *luart.State) int {
			return authorize(st, true)
		}),
		fn("ssh_unauthorize", "Removes a public key from user's authorized_keys.", []luart.Param{userP, {Name: "key", Type: "string"}}, resultR, func(st *luart.State) int {
			return authorize(st, false)
		}),
	}
}

// serviceFuncs start, stop and query services.
func serviceFuncs() []luart.Func {
	svc := func(name, doc, action string, when func(active bool) bool) luart.Func {
		return fn(name, doc, []luart.Param{nameP, luart.OptionsParam(cuisineOptionsType)}, resultR, func(st *luart.State) int {
			t := onOpts(st)
			t.sudo = true
			n := st.L.CheckString(1)
			m := t.serviceManager()
			if !when(t.serviceActive(m, n)) {
				return t.done(false, nil)
			}
			t.change(serviceCommand(m, action, n))
			if (action == "start" || action == "restart") && !t.check {
				t.verifyRunning(m, n)
			}
			return t.done(true, nil)
		})
	}
	always := func(bool) bool { return true }
	return []luart.Func{
		svc("service_ensure", "Starts a service unless it is running, then checks that it runs (the init system's state, and the process its pid file names).", "start", func(active bool) bool { return !active }),
		svc("service_start", "Starts a service unless it is running, then checks that it runs.", "start", func(active bool) bool { return !active }),
		svc("service_stop", "Stops a service when it is running.", "stop", func(active bool) bool { return active }),
		svc("service_restart", "Restarts a service.", "restart", always),
		svc("service_reload", "Reloads a service's configuration.", "reload", always),
		fn("service_is_active", "Reports whether a service is running.", []luart.Param{nameP}, boolR, serviceIsActive),
		fn("service_enable", "Makes a service start at boot unless it does already.", []luart.Param{nameP}, resultR, serviceEnable),
		fn("systemd_daemon_reload", "Makes systemd reread its unit files.", nil, resultR, systemdDaemonReload),
	}
}

// miscFuncs are locales, the machine id and processes.
func miscFuncs() []luart.Func {
	return []luart.Func{
		fn("locale_ensure", "Makes sure a locale such as \"en_US.UTF-8\" is available, generating it when missing.", []luart.Param{{Name: "locale", Type: "string"}}, resultR, localeEnsure),
		fn("system_uuid", "Returns the machine's id (/etc/machine-id, or the DMI product uuid).", nil, []luart.Param{{Type: "string"}}, systemUuid),
		fn("process_find", "Returns the processes whose command line contains pattern (exact: whose command name is pattern) as {pid, command} tables.", []luart.Param{{Name: "pattern", Type: "string"}, luart.OptionsParam(processFindOptionsType)}, []luart.Param{{Type: "{pid: integer, command: string}[]"}}, processFind),
		fn("process_kill", "Sends signal (default TERM) to the processes process_find finds; returns {changed, count}.", []luart.Param{{Name: "pattern", Type: "string"}, luart.OptionsParam(processKillOptionsType)}, resultR, processKill),
	}
}

type process struct {
	pid     int
	command string
}

// processes lists the host's processes matching pattern, leaving out the
// probe itself.
func (t *side) processes(pattern string, exact bool) []process {
	out, _ := t.probe("ps -eo pid=,comm=,args=")
	var found []process
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		args := strings.Join(f[2:], " ")
		if strings.Contains(args, "ps -eo pid=,comm=,args=") {
			continue
		}
		if (exact && f[1] == pattern) || (!exact && strings.Contains(args, pattern)) {
			found = append(found, process{pid, args})
		}
	}
	return found
}

// commandCheck is cuisine.command_check.
func commandCheck(st *luart.State) int {
	t := onOpts(st)
	_, code := t.probe("command -v " + q(st.L.CheckString(1)) + " >/dev/null 2>&1")
	st.L.Push(lua.LBool(code == 0))
	return 1
}

// commandEnsure is cuisine.command_ensure.
func commandEnsure(st *luart.State) int {
	t := on(st, false)
	t.sudo = true
	cmd := st.L.CheckString(1)
	if _, code := t.probe("command -v " + q(cmd) + " >/dev/null 2>&1"); code == 0 {
		return t.done(false, nil)
	}
	b := t.backend()
	t.change(b.Install([]string{st.L.OptString(2, cmd)}))
	return t.done(true, nil)
}

// packageEnsure is cuisine.package_ensure.
func packageEnsure(st *luart.State) int {
	t := on(st, false)
	t.sudo = true
	names := namesArg(st, 1)
	b := t.backend()
	have := t.installed(b, names)
	var missing []string
	for _, n := range names {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.change(b.Install(missing))
	}
	return t.done(len(missing) > 0, map[string]lua.LValue{"installed": luart.FromPlain(st.L, missing), "backend": lua.LString(b.Name)})
}

// packageRemove is cuisine.package_remove.
func packageRemove(st *luart.State) int {
	t := on(st, false)
	t.sudo = true
	names := namesArg(st, 1)
	b := t.backend()
	have := t.installed(b, names)
	var present []string
	for _, n := range names {
		if have[n] {
			present = append(present, n)
		}
	}
	if len(present) > 0 {
		t.change(b.Remove(present))
	}
	return t.done(len(present) > 0, map[string]lua.LValue{"removed": luart.FromPlain(st.L, present)})
}

// serviceIsActive is cuisine.service_is_active.
func serviceIsActive(st *luart.State) int {
	t := on(st, false)
	t.sudo = true
	st.L.Push(lua.LBool(t.serviceActive(t.serviceManager(), st.L.CheckString(1))))
	return 1
}

// serviceEnable is cuisine.service_enable.
func serviceEnable(st *luart.State) int {
	t := on(st, false)
	t.sudo = true
	n := st.L.CheckString(1)
	m := t.serviceManager()
	if _, code := t.probe(serviceCommand(m, "is-enabled", n)); code == 0 {
		return t.done(false, nil)
	}
	t.change(serviceCommand(m, "enable", n) + " >/dev/null")
	return t.done(true, nil)
}

// systemdDaemonReload is cuisine.systemd_daemon_reload.
func systemdDaemonReload(st *luart.State) int {
	t := on(st, false)
	t.sudo = true
	t.change("systemctl daemon-reload")
	return t.done(true, nil)
}

// localeEnsure is cuisine.locale_ensure.
func localeEnsure(st *luart.State) int {
	t := on(st, false)
	t.sudo = true
	loc := st.L.CheckString(1)
	lang, charset, _ := strings.Cut(loc, ".")
	norm := strings.ToLower(strings.ReplaceAll(loc, "-", ""))
	out, _ := t.probe("locale -a 2>/dev/null")
	for _, l := range strings.Fields(out) {
		if strings.ToLower(strings.ReplaceAll(l, "-", "")) == norm {
			return t.done(false, nil)
		}
	}
	if charset == "" {
		charset = "UTF-8"
	}
	t.change("localedef -i " + q(lang) + " -f " + q(charset) + " " + q(loc))
	return t.done(true, nil)
}

// systemUuid is cuisine.system_uuid.
func systemUuid(st *luart.State) int {
	out, _ := on(st, false).probe("cat /etc/machine-id 2>/dev/null || cat /var/lib/dbus/machine-id 2>/dev/null || cat /sys/class/dmi/id/product_uuid")
	st.L.Push(lua.LString(strings.TrimSpace(out)))
	return 1
}

// processFind is cuisine.process_find.
func processFind(st *luart.State) int {
	o := st.Opts()
	procs := on(st, false).processes(st.L.CheckString(1), o.Bool("exact"))
	r := st.L.CreateTable(len(procs), 0)
	for _, p := range procs {
		e := st.L.CreateTable(0, 2)
		e.RawSetString("pid", lua.LNumber(p.pid))
		e.RawSetString("command", lua.LString(p.command))
		r.Append(e)
	}
	st.L.Push(r)
	return 1
}

// processKill is cuisine.process_kill.
func processKill(st *luart.State) int {
	o := st.Opts()
	t := onOpts(st)
	procs := t.processes(st.L.CheckString(1), o.Bool("exact"))
	if len(procs) == 0 {
		return t.done(false, map[string]lua.LValue{"count": lua.LNumber(0)})
	}
	sig := o.String("signal")
	if sig == "" {
		sig = "TERM"
	}
	pids := make([]string, len(procs))
	for i, p := range procs {
		pids[i] = strconv.Itoa(p.pid)
	}
	t.change("kill -" + q(sig) + " " + strings.Join(pids, " "))
	return t.done(true, map[string]lua.LValue{"count": lua.LNumber(len(procs))})
}
