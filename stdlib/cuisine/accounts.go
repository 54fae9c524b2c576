package cuisine

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/luart"
)

// authorize adds (or removes) a key in user's authorized_keys.
func authorize(st *luart.State, add bool) int {
	t := on(st, false)
	t.sudo = true
	name, key := st.L.CheckString(1), strings.TrimSpace(st.L.CheckString(2))
	u, ok := t.user(name)
	if !ok {
		return t.unknownUser(name, add)
	}
	file := u.home + "/.ssh/authorized_keys"
	old, _ := readFile(st, t, file)
	var lines []string
	present := false
	for _, l := range strings.Split(strings.TrimRight(string(old), "\n"), "\n") {
		if strings.TrimSpace(l) == key {
			present = true
			if !add {
				continue
			}
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	if add == present {
		return t.done(false, nil)
	}
	if add {
		lines = append(lines, key)
	}
	if !t.check {
		t.change(fmt.Sprintf("install -d -m 700 -o %s -g %s %s", q(u.uid), q(u.gid), q(u.home+"/.ssh")))
	}
	content := strings.Join(lines, "\n")
	if content != "" {
		content += "\n"
	}
	w := writeOpts(st, "cuisine.ssh_authorize", attribOpts{Mode: lua.LString("0600")}, t)
	w.Owner, w.Group = name, groupName(t, u.gid)
	return writeFile(st, t, "ssh_authorize", file, []byte(content), w)
}

// groupName returns the name of group gid (or the gid).
func groupName(t *side, gid string) string {
	out, code := t.probe("getent group " + q(gid))
	if f := strings.Split(out, ":"); code == 0 && len(f) > 0 && f[0] != "" {
		return f[0]
	}
	return gid
}

// userEnsure is user_ensure: it creates the user, or changes what differs.
func userEnsure(st *luart.State) int {
	o := st.Opts()
	t := onOpts(st)
	t.sudo = true
	name := st.L.CheckString(1)
	u, exists := t.user(name)
	if !exists {
		t.change("useradd" + userArgs(o, true) + " " + q(name))
		if p := o.String("passwd"); p != "" {
			t.setPassword(name, p, o.Bool("encrypted"))
		}
		return t.done(true, nil)
	}
	changed := false
	var mod luart.Opts = luart.Opts{}
	for opt, cur := range map[string]string{"uid": u.uid, "home": u.home, "shell": u.shell} {
		if v := o.String(opt); v != "" && v != cur {
			mod[opt] = lua.LString(v)
		}
	}
	if g := o.String("gid"); g != "" && g != u.gid {
		if gid, ok := t.groupGID(g); !ok || gid != u.gid {
			mod["gid"] = lua.LString(g)
		}
	}
	if len(mod) > 0 {
		t.change("usermod" + userArgs(mod, false) + " " + q(name))
		changed = true
	}
	for _, g := range groupsOpt(o) {
		if !t.memberOf(g, name) {
			t.change("usermod -a -G " + q(g) + " " + q(name))
			changed = true
		}
	}
	if p := o.String("passwd"); p != "" && !t.passwordIs(name, p, o.Bool("encrypted")) {
		t.setPassword(name, p, o.Bool("encrypted"))
		changed = true
	}
	return t.done(changed, nil)
}

// userCheck is cuisine.user_check.
func userCheck(st *luart.State) int {
	u, ok := on(st, false).user(st.L.CheckString(1))
	if !ok {
		st.L.Push(lua.LNil)
		return 1
	}
	r := st.L.CreateTable(0, 5)
	for k, v := range map[string]string{"name": u.name, "uid": u.uid, "gid": u.gid, "home": u.home, "shell": u.shell} {
		r.RawSetString(k, lua.LString(v))
	}
	st.L.Push(r)
	return 1
}

// userCreate is cuisine.user_create.
func userCreate(st *luart.State) int {
	o := st.Opts()
	t := onOpts(st)
	t.sudo = true
	name := st.L.CheckString(1)
	t.change("useradd" + userArgs(o, true) + " " + q(name))
	if p := o.String("passwd"); p != "" {
		t.setPassword(name, p, o.Bool("encrypted"))
	}
	return t.done(true, nil)
}

// userRemove is cuisine.user_remove.
func userRemove(st *luart.State) int {
	o := st.Opts()
	t := onOpts(st)
	t.sudo = true
	name := st.L.CheckString(1)
	if _, ok := t.user(name); !ok {
		return t.done(false, nil)
	}
	flag := ""
	if o.Bool("rmhome") {
		flag = " -r"
	}
	t.change("userdel" + flag + " " + q(name))
	return t.done(true, nil)
}

// userPasswd is cuisine.user_passwd.
func userPasswd(st *luart.State) int {
	o := st.Opts()
	t := onOpts(st)
	t.sudo = true
	name, p := st.L.CheckString(1), st.L.CheckString(2)
	if t.passwordIs(name, p, o.Bool("encrypted")) {
		return t.done(false, nil)
	}
	t.setPassword(name, p, o.Bool("encrypted"))
	return t.done(true, nil)
}

// groupCheck is cuisine.group_check.
func groupCheck(st *luart.State) int {
	t := on(st, false)
	out, code := t.probe("getent group " + q(st.L.CheckString(1)))
	f := strings.Split(strings.TrimSpace(out), ":")
	if code != 0 || len(f) < 4 {
		st.L.Push(lua.LNil)
		return 1
	}
	r := st.L.CreateTable(0, 3)
	r.RawSetString("name", lua.LString(f[0]))
	r.RawSetString("gid", lua.LString(f[2]))
	var members []string
	if f[3] != "" {
		members = strings.Split(f[3], ",")
	}
	r.RawSetString("members", luart.FromPlain(st.L, members))
	st.L.Push(r)
	return 1
}

// groupCreate is cuisine.group_create.
func groupCreate(st *luart.State) int {
	o := st.Opts()
	t := onOpts(st)
	t.sudo = true
	gid := ""
	if g := o.String("gid"); g != "" {
		gid = " -g " + q(g)
	}
	t.change("groupadd" + gid + " " + q(st.L.CheckString(1)))
	return t.done(true, nil)
}

// groupEnsure is cuisine.group_ensure.
func groupEnsure(st *luart.State) int {
	o := st.Opts()
	t := onOpts(st)
	t.sudo = true
	name, want := st.L.CheckString(1), o.String("gid")
	cur, exists := t.groupGID(name)
	switch {
	case !exists:
		gid := ""
		if want != "" {
			gid = " -g " + q(want)
		}
		t.change("groupadd" + gid + " " + q(name))
	case want != "" && want != cur:
		t.change("groupmod -g " + q(want) + " " + q(name))
	default:
		return t.done(false, nil)
	}
	return t.done(true, nil)
}

// groupRemove is cuisine.group_remove.
func groupRemove(st *luart.State) int {
	t := on(st, false)
	t.sudo = true
	name := st.L.CheckString(1)
	if _, ok := t.groupGID(name); !ok {
		return t.done(false, nil)
	}
	t.change("groupdel " + q(name))
	return t.done(true, nil)
}

// groupUserAdd is cuisine.group_user_add.
func groupUserAdd(st *luart.State) int {
	t := on(st, false)
	t.sudo = true
	t.change("usermod -a -G " + q(st.L.CheckString(1)) + " " + q(st.L.CheckString(2)))
	return t.done(true, nil)
}

// groupUserEnsure is cuisine.group_user_ensure.
func groupUserEnsure(st *luart.State) int {
	t := on(st, false)
	t.sudo = true
	g, u := st.L.CheckString(1), st.L.CheckString(2)
	if t.memberOf(g, u) {
		return t.done(false, nil)
	}
	t.change("usermod -a -G " + q(g) + " " + q(u))
	return t.done(true, nil)
}

// groupUserDel is cuisine.group_user_del.
func groupUserDel(st *luart.State) int {
	t := on(st, false)
	t.sudo = true
	g, u := st.L.CheckString(1), st.L.CheckString(2)
	if !t.memberOf(g, u) {
		return t.done(false, nil)
	}
	t.change("gpasswd -d " + q(u) + " " + q(g) + " >/dev/null")
	return t.done(true, nil)
}

// sshKeygen is cuisine.ssh_keygen.
func sshKeygen(st *luart.State) int {
	o := st.Opts()
	t := onOpts(st)
	t.sudo = true
	name := st.L.CheckString(1)
	kt := o.String("keytype")
	if kt == "" {
		kt = "ed25519"
	}
	if kt != "ed25519" && kt != "rsa" && kt != "ecdsa" {
		st.L.ArgError(2, "cuisine.ssh_keygen: keytype must be ed25519, rsa or ecdsa")
	}
	u, ok := t.user(name)
	if !ok {
		return t.unknownUser(name, true)
	}
	key := u.home + "/.ssh/id_" + kt
	if pub, code := t.probeRoot("cat -- " + q(key+".pub")); code == 0 {
		return t.done(false, map[string]lua.LValue{"key": lua.LString(strings.TrimSpace(pub))})
	}
	t.change(fmt.Sprintf("install -d -m 700 -o %s -g %s %s && ssh-keygen -q -t %s -N '' -C %s -f %s && chown %s:%s %s %s",
		q(u.uid), q(u.gid), q(u.home+"/.ssh"), kt, q(name), q(key), q(u.uid), q(u.gid), q(key), q(key+".pub")))
	pub, _ := t.probeRoot("cat -- " + q(key+".pub") + " 2>/dev/null")
	return t.done(true, map[string]lua.LValue{"key": lua.LString(strings.TrimSpace(pub))})
}
