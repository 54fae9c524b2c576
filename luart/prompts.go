package luart

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
)

// ask asks the person (the terminal, or lines of a piped stdin); without
// one the error names the --set key that answers instead (how names it:
// "--set k=…", or how to give the question a key).
func (st *State) ask(fname, msg string, secret bool, how string) string {
	p := st.Prompter()
	if p == nil {
		st.L.RaiseError("%s(): cannot ask %q: %v (%s)", fname, msg, host.ErrNoTerminal, how)
	}
	if h := st.HostString(); h != "" {
		msg = "[" + h + "] " + msg
	}
	ans, err := p.Prompt(msg, secret)
	if err != nil {
		st.L.RaiseError("%s(): cannot ask %q: %v (%s)", fname, msg, err, how)
	}
	return ans
}

// preset is env[key] when a key is given and --set (or the fabfile) set
// it: the answer, without asking.
func (st *State) preset(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	v := st.env().RawGetString(key)
	if v == lua.LNil || v == lua.LString("") {
		return "", false
	}
	return lua.LVAsString(v), true
}

// setHint says how to answer without a terminal.
func setHint(fname, key string) string {
	if key == "" {
		return fmt.Sprintf("give it a key, %s(text, {key = \"name\"}), and pass --set name=…", fname)
	}
	return fmt.Sprintf("pass --set %s=…", key)
}

func luaPrompt(st *State) int {
	L := st.L
	text := L.CheckString(1)
	var def, validate, key string
	switch o := L.Get(2).(type) {
	case lua.LString:
		def = string(o)
	case *lua.LTable:
		def = lua.LVAsString(o.RawGetString("default"))
		validate = lua.LVAsString(o.RawGetString("validate"))
		key = lua.LVAsString(o.RawGetString("key"))
	}
	msg := text + " "
	if def != "" {
		msg = fmt.Sprintf("%s [%s] ", text, def)
	}
	ans, preset := st.preset(key)
	for {
		if !preset {
			ans = strings.TrimSpace(st.ask("prompt", msg, false, setHint("prompt", key)))
		}
		if ans == "" {
			ans = def
		}
		if validate != "" {
			L.Push(L.GetField(L.GetGlobal("string"), "match"))
			L.Push(lua.LString(ans))
			L.Push(lua.LString("^" + strings.TrimPrefix(validate, "^")))
			L.Call(2, 1)
			ok := L.Get(-1) != lua.LNil
			L.Pop(1)
			if !ok {
				if preset {
					L.RaiseError("prompt(): env.%s = %q does not match %s", key, ans, validate)
				}
				st.he.Out.Line("warning", fmt.Sprintf("%q does not match %s, try again", ans, validate))
				continue
			}
		}
		if key != "" {
			st.env().RawSetString(key, lua.LString(ans))
		}
		L.Push(lua.LString(ans))
		return 1
	}
}

// luaConfirm is confirm(question, default | {default, key}): --yes answers
// yes, env[key] (from --set) answers, else the person does.
func luaConfirm(st *State) int {
	L := st.L
	q := L.CheckString(1)
	def, key := true, ""
	switch o := L.Get(2).(type) {
	case *lua.LTable:
		if v := o.RawGetString("default"); v != lua.LNil {
			def = lua.LVAsBool(v)
		}
		key = lua.LVAsString(o.RawGetString("key"))
	case lua.LBool:
		def = bool(o)
	}
	hint := "[Y/n]"
	if !def {
		hint = "[y/N]"
	}
	if st.he != nil && st.he.Run != nil && st.he.Run.AssumeYes {
		L.Push(lua.LTrue)
		return 1
	}
	ans, preset := st.preset(key)
	for {
		if !preset {
			ans = st.ask("confirm", q+" "+hint+" ", false, setHint("confirm", key)+", or --yes")
		}
		switch strings.ToLower(strings.TrimSpace(ans)) {
		case "":
			L.Push(lua.LBool(def))
		case "y", "yes", "true":
			L.Push(lua.LTrue)
		case "n", "no", "false":
			L.Push(lua.LFalse)
		default:
			if preset {
				L.RaiseError("confirm(): env.%s = %q is not yes or no", key, ans)
			}
			continue
		}
		return 1
	}
}

func luaRequireEnv(st *State) int {
	L := st.L
	var missing []string
	var usedFor string
	var providedBy []string
	env := st.env()
	for i := 1; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			val := env.RawGetString(string(v))
			if val == lua.LNil || val == lua.LFalse || val == lua.LString("") {
				missing = append(missing, string(v))
			}
		case *lua.LTable:
			usedFor = lua.LVAsString(v.RawGetString("used_for"))
			if pv, err := ToPlain(v.RawGetString("provided_by")); err == nil {
				providedBy, _ = stringList(pv)
			}
		default:
			L.ArgError(i, "env key names expected")
		}
	}
	if len(missing) == 0 {
		return 0
	}
	msg := fmt.Sprintf("require_env: env.%s must be set", strings.Join(missing, ", env."))
	if usedFor != "" {
		msg += " (used for " + usedFor + ")"
	}
	if len(providedBy) > 0 {
		msg += "; run one of these tasks first: " + strings.Join(providedBy, ", ")
	} else {
		msg += "; set it in the fabfile or with --set " + missing[0] + "=..."
	}
	L.RaiseError("%s", msg)
	return 0
}
