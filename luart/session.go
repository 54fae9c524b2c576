package luart

import (
	"context"
	"errors"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Session is an interactive Lua state bound to one host (gofab repl): the
// fabfile's top level has run in it, and run, sudo, put and get act on the
// host. Like every state it is used by one goroutine.
type Session struct {
	st *State
}

// ErrIncomplete is input that ends in the middle of a statement: read
// another line and evaluate both.
var ErrIncomplete = errors.New("incomplete input")

// NewSession makes a session on the host he describes. Close it.
func (p *Program) NewSession(ctx context.Context, he *HostEnv) (*Session, error) {
	st := newState(p, he)
	st.ctx = ctx
	st.L.SetContext(ctx)
	if err := st.load(); err != nil {
		st.close()
		return nil, err
	}
	st.setHostEnv()
	return &Session{st: st}, nil
}

// Close releases the session's state.
func (s *Session) Close() { s.st.close() }

// Eval runs src, as an expression whose values it returns as strings when
// it is one, else as statements. Input that stops mid-statement gives
// ErrIncomplete; errors are one line, "file:line: message".
func (s *Session) Eval(src string) ([]string, error) {
	L := s.st.L
	proto, err := compile(strings.NewReader("return "+src), "repl")
	if err != nil {
		if proto, err = compile(strings.NewReader(src), "repl"); err != nil {
			if incomplete(src) {
				return nil, ErrIncomplete
			}
			return nil, errors.New(strings.TrimSpace(firstLine(err.Error())))
		}
	}
	top := L.GetTop()
	L.Push(L.NewFunctionFromProto(proto))
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		L.SetTop(top)
		return nil, errors.New(ErrorMessage(err))
	}
	var out []string
	for i := top + 1; i <= L.GetTop(); i++ {
		out = append(out, L.ToStringMeta(L.Get(i)).String())
	}
	L.SetTop(top)
	return out, nil
}

// incomplete reports whether src fails to parse only because it ends too
// early: the error is at its last token.
func incomplete(src string) bool {
	_, err := parse.Parse(strings.NewReader(src), "repl")
	var pe *parse.Error
	if !errors.As(err, &pe) {
		return false
	}
	return strings.HasSuffix(strings.TrimSpace(src), pe.Token)
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
