package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/gofab/gofab/internal/host"
)

// terminal is the host.Prompter of an interactive run: it asks on stderr
// and reads stdin, one question at a time.
type terminal struct {
	mu     sync.Mutex
	in     *os.File
	out    io.Writer
	reader *bufio.Reader
}

func newTerminal(in *os.File, out io.Writer) *terminal {
	return &terminal{in: in, out: out, reader: bufio.NewReader(in)}
}

func (t *terminal) Prompt(msg string, secret bool) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !term.IsTerminal(int(t.in.Fd())) {
		return "", host.ErrNoTerminal
	}
	fmt.Fprint(t.out, msg)
	if secret {
		b, err := term.ReadPassword(int(t.in.Fd()))
		fmt.Fprintln(t.out)
		return string(b), err
	}
	line, err := t.reader.ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
