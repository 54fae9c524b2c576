package luart

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
)

// ErrSandboxed is the error of anything a sandboxed program (gofab test)
// tries that would change this machine.
var ErrSandboxed = errors.New("gofab test never changes this machine")

// Under gofab test (Options.Sandboxed) Lua's io and os functions that
// reach the disk work on the run's LocalFS, the fake local host's overlay:
// reads fall through to the disk, writes, renames and removals stay in
// memory. Where no run gives one (the test file itself, a fabfile's top
// level) the disk may be read and never written.

// sandboxed are the functions replaced in a sandbox, by library.
var sandboxed = map[string]map[string]func(*State) int{
	lua.IoLibName: {
		"open": sbOpen, "lines": sbLines, "close": sbClose, "type": sbType,
		"tmpfile": sbTmpfile, "input": sbRedirect("input"), "output": sbRedirect("output"),
		"flush": func(*State) int { return 0 },
	},
	lua.OsLibName: {
		"remove": sbRemove, "rename": sbRename, "tmpname": sbTmpname,
		"setenv": func(st *State) int {
			st.L.RaiseError("os.setenv: %v: it would change gofab's own environment", ErrSandboxed)
			return 0
		},
	},
}

// sandbox replaces library lib's functions that reach the disk.
func (st *State) sandbox(lib string, t *lua.LTable) {
	for name, fn := range sandboxed[lib] {
		t.RawSetString(name, st.L.NewFunction(func(*lua.LState) int { return fn(st) }))
	}
}

// sandboxFS returns the file system a sandboxed function works on, and
// the absolute form of path p in it (see LocalFile).
func (st *State) sandboxFS(p string) (host.FS, string, error) {
	var fsys host.FS = readOnlyDisk{host.OS{}}
	if st.he != nil && st.he.Run != nil && st.he.Run.LocalFS != nil {
		fsys = st.he.Run.LocalFS
	}
	abs, err := fsys.Abs(st.LocalFile(p))
	return fsys, abs, err
}

// readOnlyDisk is this machine's disk, which a sandbox reads only.
type readOnlyDisk struct{ host.OS }

func (readOnlyDisk) refuse(op, p string) error {
	return &fs.PathError{Op: op, Path: p, Err: fmt.Errorf("%w (only a task's writes, to the fake local host, are allowed)", ErrSandboxed)}
}

func (d readOnlyDisk) Symlink(_, link string) error                { return d.refuse("symlink", link) }
func (d readOnlyDisk) Mkdir(p string, _ fs.FileMode) error         { return d.refuse("mkdir", p) }
func (d readOnlyDisk) CreateExclusive(p string) (host.File, error) { return nil, d.refuse("create", p) }
func (d readOnlyDisk) Rename(p, _ string) error                    { return d.refuse("rename", p) }
func (d readOnlyDisk) Remove(p string) error                       { return d.refuse("remove", p) }
func (d readOnlyDisk) Chmod(p string, _ fs.FileMode) error         { return d.refuse("chmod", p) }

// sandboxFile is an open file of a sandbox: its content is held in
// memory and written back through fsys (nil: io.tmpfile, kept nowhere)
// on flush, on close and when the state closes.
type sandboxFile struct {
	fsys          host.FS
	path          string
	data          []byte
	pos           int
	readable      bool
	writable      bool
	appending     bool
	dirty, closed bool
}

const sandboxFileClass = "gofab.sandbox.file"

// failResult pushes Lua's (nil, message) failure and returns 2.
func failResult(L *lua.LState, err error) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(err.Error()))
	return 2
}

// okResult pushes true, or Lua's (nil, message) failure for err.
func okResult(L *lua.LState, err error) int {
	if err != nil {
		return failResult(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// openSandboxFile opens path with a Lua mode ("r", "w", "a", "r+", …).
func (st *State) openSandboxFile(path, mode string) (*sandboxFile, error) {
	fsys, abs, err := st.sandboxFS(path)
	if err != nil {
		return nil, err
	}
	m := strings.ReplaceAll(mode, "b", "")
	f := &sandboxFile{fsys: fsys, path: abs}
	switch m {
	case "r", "r+":
		f.readable, f.writable = true, m == "r+"
	case "w", "w+":
		f.writable, f.readable, f.dirty = true, m == "w+", true
	case "a", "a+":
		f.writable, f.readable, f.appending = true, m == "a+", true
	default:
		return nil, fmt.Errorf("%s: invalid mode %q", path, mode)
	}
	if m != "w" && m != "w+" {
		data, err := readAll(fsys, abs)
		if err != nil && (m[0] == 'r' || !errors.Is(err, fs.ErrNotExist)) {
			return nil, err
		}
		f.data = data
		f.dirty = f.dirty || (f.appending && err != nil)
	}
	if _, ro := fsys.(readOnlyDisk); ro && f.writable {
		return nil, readOnlyDisk{}.refuse("open", abs)
	}
	if err := f.flush(); err != nil { // "w" makes the file now, as Lua does
		return nil, err
	}
	st.files = append(st.files, f)
	return f, nil
}

// readAll reads a whole file of fsys.
func readAll(fsys host.FS, p string) ([]byte, error) {
	r, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, &fs.PathError{Op: "read", Path: p, Err: err}
	}
	return buf.Bytes(), nil
}

var sandboxTmpSeq atomic.Uint64

// writeAll replaces a file of fsys with data, through a temporary file
// renamed over it.
func writeAll(fsys host.FS, p string, data []byte) error {
	tmp := p + ".gofab-" + strconv.FormatUint(sandboxTmpSeq.Add(1), 10)
	w, err := fsys.CreateExclusive(tmp)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, p)
	}
	if err != nil {
		fsys.Remove(tmp)
	}
	return err
}

func (f *sandboxFile) flush() error {
	if !f.dirty || f.fsys == nil {
		return nil
	}
	f.dirty = false
	return writeAll(f.fsys, f.path, f.data)
}

// pushFile pushes f as a Lua file object.
func (st *State) pushFile(f *sandboxFile) {
	L := st.L
	ud := L.NewUserData()
	ud.Value = f
	L.SetMetatable(ud, st.Metatable(sandboxFileClass, func(mt *lua.LTable) {
		methods := L.CreateTable(0, 8)
		for name, fn := range map[string]func(*State, *sandboxFile) int{
			"read": fileRead, "write": fileWrite, "lines": fileLines, "close": fileClose,
			"flush": fileFlush, "seek": fileSeek, "setvbuf": func(*State, *sandboxFile) int { return 0 },
		} {
			methods.RawSetString(name, L.NewFunction(func(L *lua.LState) int { return fn(st, st.checkFile(1)) }))
		}
		mt.RawSetString("__index", methods)
		mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
			L.Push(lua.LString("file (" + st.checkFile(1).path + ")"))
			return 1
		}))
	}))
	L.Push(ud)
}

// checkFile returns the sandbox file at argument n.
func (st *State) checkFile(n int) *sandboxFile {
	if ud, ok := st.L.Get(n).(*lua.LUserData); ok {
		if f, ok := ud.Value.(*sandboxFile); ok {
			return f
		}
	}
	st.L.ArgError(n, "file expected")
	return nil
}

func (f *sandboxFile) checkOpen(L *lua.LState) {
	if f.closed {
		L.RaiseError("attempt to use a closed file")
	}
}

func sbOpen(st *State) int {
	L := st.L
	f, err := st.openSandboxFile(L.CheckString(1), L.OptString(2, "r"))
	if err != nil {
		return failResult(L, err)
	}
	st.pushFile(f)
	return 1
}

func sbLines(st *State) int {
	L := st.L
	if L.GetTop() == 0 {
		L.RaiseError("io.lines() reads gofab's standard input: under gofab test give it a file name")
	}
	f, err := st.openSandboxFile(L.CheckString(1), "r")
	if err != nil {
		L.RaiseError("%v", err)
	}
	return lineIterator(st, f, true)
}

func sbClose(st *State) int { return fileClose(st, st.checkFile(1)) }

func sbType(st *State) int {
	L := st.L
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if f, ok := ud.Value.(*sandboxFile); ok {
			if f.closed {
				L.Push(lua.LString("closed file"))
			} else {
				L.Push(lua.LString("file"))
			}
			return 1
		}
	}
	L.Push(lua.LNil)
	return 1
}

func sbTmpfile(st *State) int {
	st.pushFile(&sandboxFile{path: "(tmpfile)", readable: true, writable: true})
	return 1
}

func sbRedirect(name string) func(*State) int {
	return func(st *State) int {
		st.L.RaiseError("io.%s: gofab test does not redirect gofab's standard streams: use io.open", name)
		return 0
	}
}

func sbRemove(st *State) int {
	L := st.L
	fsys, abs, err := st.sandboxFS(L.CheckString(1))
	if err == nil {
		err = fsys.Remove(abs)
	}
	return okResult(L, err)
}

func sbRename(st *State) int {
	L := st.L
	fsys, from, err := st.sandboxFS(L.CheckString(1))
	var to string
	if err == nil {
		_, to, err = st.sandboxFS(L.CheckString(2))
	}
	if err == nil {
		err = fsys.Rename(from, to)
	}
	return okResult(L, err)
}

// sbTmpname names a new empty file of the fake local host (under a run)
// or fails where no run gives one.
func sbTmpname(st *State) int {
	L := st.L
	fsys, p, err := st.sandboxFS(fmt.Sprintf("/tmp/lua_gofab_%d", sandboxTmpSeq.Add(1)))
	if err == nil {
		err = writeAll(fsys, p, nil)
	}
	if err != nil {
		L.RaiseError("os.tmpname: %v", err)
	}
	L.Push(lua.LString(p))
	return 1
}

func fileClose(st *State, f *sandboxFile) int {
	f.checkOpen(st.L)
	f.closed = true
	return okResult(st.L, f.flush())
}

func fileFlush(st *State, f *sandboxFile) int {
	f.checkOpen(st.L)
	if err := f.flush(); err != nil {
		return failResult(st.L, err)
	}
	st.L.Push(st.L.Get(1))
	return 1
}

func fileWrite(st *State, f *sandboxFile) int {
	L := st.L
	f.checkOpen(L)
	if !f.writable {
		return failResult(L, fmt.Errorf("%s: file not opened for writing", f.path))
	}
	for i := 2; i <= L.GetTop(); i++ {
		var s string
		switch v := L.Get(i).(type) {
		case lua.LString:
			s = string(v)
		case lua.LNumber:
			s = v.String()
		default:
			L.ArgError(i, "string expected, got "+v.Type().String())
		}
		if f.appending {
			f.pos = len(f.data)
		}
		end := f.pos + len(s)
		if end > len(f.data) {
			f.data = append(f.data, make([]byte, end-len(f.data))...)
		}
		copy(f.data[f.pos:], s)
		f.pos = end
		f.dirty = true
	}
	L.Push(L.Get(1))
	return 1
}

func fileSeek(st *State, f *sandboxFile) int {
	L := st.L
	f.checkOpen(L)
	whence, off := L.OptString(2, "cur"), L.OptInt(3, 0)
	base := map[string]int{"set": 0, "cur": f.pos, "end": len(f.data)}
	b, ok := base[whence]
	if !ok {
		L.ArgError(2, "invalid option "+strconv.Quote(whence))
	}
	if b+off < 0 {
		return failResult(L, fmt.Errorf("%s: invalid argument", f.path))
	}
	f.pos = b + off
	L.Push(lua.LNumber(f.pos))
	return 1
}

// readOne reads one value in format fmt ("*a", "*l", "*L", "*n" or a
// byte count); nil at the end of the file.
func (f *sandboxFile) readOne(L *lua.LState, format lua.LValue) lua.LValue {
	rest := []byte{}
	if f.pos < len(f.data) {
		rest = f.data[f.pos:]
	}
	if n, ok := format.(lua.LNumber); ok {
		if len(rest) == 0 && n > 0 {
			return lua.LNil
		}
		k := min(int(n), len(rest))
		f.pos += k
		return lua.LString(rest[:k])
	}
	switch strings.TrimPrefix(lua.LVAsString(format), "*") {
	case "a":
		f.pos += len(rest)
		return lua.LString(rest)
	case "l", "L":
		if len(rest) == 0 {
			return lua.LNil
		}
		line, _, found := bytes.Cut(rest, []byte("\n"))
		f.pos += len(line)
		if found {
			f.pos++
			if strings.HasSuffix(lua.LVAsString(format), "L") {
				return lua.LString(append(line, '\n'))
			}
		}
		return lua.LString(line)
	case "n":
		s := strings.TrimLeft(string(rest), " \t\r\n")
		skipped := len(rest) - len(s)
		end := 0
		for end < len(s) && strings.ContainsRune("0123456789+-.eExXabcdefABCDEF", rune(s[end])) {
			end++
		}
		v, err := strconv.ParseFloat(s[:end], 64)
		if err != nil {
			return lua.LNil
		}
		f.pos += skipped + end
		return lua.LNumber(v)
	}
	L.ArgError(2, "invalid format")
	return lua.LNil
}

func fileRead(st *State, f *sandboxFile) int {
	L := st.L
	f.checkOpen(L)
	if !f.readable {
		return failResult(L, fmt.Errorf("%s: file not opened for reading", f.path))
	}
	formats := []lua.LValue{lua.LString("*l")}
	if L.GetTop() > 1 {
		formats = formats[:0]
		for i := 2; i <= L.GetTop(); i++ {
			formats = append(formats, L.Get(i))
		}
	}
	for i, format := range formats {
		v := f.readOne(L, format)
		L.Push(v)
		if v == lua.LNil {
			return i + 1
		}
	}
	return len(formats)
}

func fileLines(st *State, f *sandboxFile) int {
	f.checkOpen(st.L)
	return lineIterator(st, f, false)
}

// lineIterator pushes a function giving f's next line (closing f at the
// end when closeAtEnd, as io.lines does).
func lineIterator(st *State, f *sandboxFile, closeAtEnd bool) int {
	L := st.L
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if f.closed {
			L.RaiseError("file is already closed")
		}
		v := f.readOne(L, lua.LString("*l"))
		if v == lua.LNil && closeAtEnd {
			f.closed = true
		}
		L.Push(v)
		return 1
	}))
	return 1
}

// flushFiles writes back what files left open hold, as Lua does at exit.
func (st *State) flushFiles() {
	for _, f := range st.files {
		f.flush()
	}
	st.files = nil
}
