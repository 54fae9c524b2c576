package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/term"

	"github.com/gofab/gofab/internal/base/host"
)

// console is the person's terminal: the host.Prompter that asks on stderr
// one question at a time, and the host.Terminal lent to one interactive
// command at a time. One goroutine reads stdin for both, so a keystroke
// never goes to a reader that is no longer listening.
type console struct {
	in  *os.File
	out io.Writer // prompts
	tty io.Writer // an interactive command's output

	term string // $TERM, for the remote pty

	raw atomic.Bool // a command has the terminal, in raw mode

	ask  sync.Mutex    // one question at a time
	lend chan struct{} // holds a token while a command has the terminal

	readOnce sync.Once
	keys     chan []byte
}

func newConsole(in *os.File, out, tty io.Writer, termName string) *console {
	return &console{in: in, out: out, tty: tty, term: termName, lend: make(chan struct{}, 1)}
}

// read returns the next chunk of input.
func (c *console) read(ctx context.Context) ([]byte, error) {
	c.readOnce.Do(func() {
		c.keys = make(chan []byte, 16)
		go func() {
			defer close(c.keys)
			for {
				buf := make([]byte, 4096)
				n, err := c.in.Read(buf)
				if n > 0 {
					c.keys <- buf[:n]
				}
				if err != nil {
					return
				}
			}
		}()
	})
	select {
	case b, ok := <-c.keys:
		if !ok {
			return nil, io.EOF
		}
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Lent reports whether a command has the terminal.
func (c *console) Lent() bool { return c.raw.Load() }

// Wrap returns w made safe to write while a command has the terminal in
// raw mode: newlines get their carriage return.
func (c *console) Wrap(w io.Writer) io.Writer { return &rawAware{c: c, w: w} }

type rawAware struct {
	c *console
	w io.Writer
}

func (r *rawAware) Write(p []byte) (int, error) {
	if !r.c.raw.Load() {
		return r.w.Write(p)
	}
	if _, err := r.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Prompt shows msg and reads one line; a secret is read with echo off.
func (c *console) Prompt(msg string, secret bool) (string, error) {
	c.ask.Lock()
	defer c.ask.Unlock()
	fd := int(c.in.Fd())
	if !term.IsTerminal(fd) {
		return "", host.ErrNoTerminal
	}
	fmt.Fprint(c.out, msg)
	if secret {
		state, err := term.MakeRaw(fd)
		if err != nil {
			return "", err
		}
		defer func() {
			term.Restore(fd, state)
			fmt.Fprintln(c.out)
		}()
	}
	var line []byte
	for {
		b, err := c.read(context.Background())
		if err != nil {
			return "", err
		}
		for _, ch := range b {
			switch {
			case ch == '\r' || ch == '\n':
				return string(line), nil
			case ch == 3 && secret: // ^C in raw mode
				return "", errors.New("interrupted")
			case (ch == 127 || ch == 8) && secret:
				if len(line) > 0 {
					line = line[:len(line)-1]
				}
			default:
				line = append(line, ch)
			}
		}
	}
}

// Acquire lends the terminal to one command, in raw mode, following its
// size.
func (c *console) Acquire(ctx context.Context, waiting func()) (*host.TTY, error) {
	select {
	case c.lend <- struct{}{}:
	default:
		waiting()
		select {
		case c.lend <- struct{}{}:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	fd := int(c.in.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		<-c.lend
		return nil, fmt.Errorf("terminal: %w", err)
	}
	c.raw.Store(true)
	w, h, _ := term.GetSize(fd)
	resize := make(chan [2]int, 1)
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	stop := make(chan struct{})
	pr, pw := io.Pipe()
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-winch:
				if w, h, err := term.GetSize(fd); err == nil {
					select {
					case <-resize:
					default:
					}
					resize <- [2]int{w, h}
				}
			}
		}
	}()
	inCtx, cancelIn := context.WithCancel(ctx)
	go func() {
		for {
			b, err := c.read(inCtx)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := pw.Write(b); err != nil {
				return
			}
		}
	}()
	var once sync.Once
	release := func() {
		once.Do(func() {
			cancelIn()
			pr.Close()
			signal.Stop(winch)
			close(stop)
			term.Restore(fd, state)
			c.raw.Store(false)
			<-c.lend
		})
	}
	return &host.TTY{In: pr, Out: c.tty, Term: c.term, Width: w, Height: h, Resize: resize, Release: release}, nil
}

// linePrompter asks on stderr and takes a line of stdin as the answer,
// when stdin is a pipe or a file rather than a terminal (Fabric read its
// prompts from a piped stdin too). One question at a time; a signal (ctx)
// ends the wait. Stdin is read from the first question on, never before.
type linePrompter struct {
	ctx   context.Context
	in    io.Reader
	out   io.Writer
	mu    sync.Mutex
	start sync.Once
	lines chan string // closed at the end of stdin
}

func newLinePrompter(ctx context.Context, in io.Reader, out io.Writer) *linePrompter {
	return &linePrompter{ctx: ctx, in: in, out: out, lines: make(chan string)}
}

// readLines sends stdin's lines, one per question.
func (p *linePrompter) readLines() {
	defer close(p.lines)
	r := bufio.NewReader(p.in)
	for {
		line, err := r.ReadString('\n')
		if line != "" || err == nil {
			select {
			case p.lines <- strings.TrimRight(line, "\r\n"):
			case <-p.ctx.Done():
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Prompt prints msg and returns the next line of stdin.
func (p *linePrompter) Prompt(msg string, _ bool) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start.Do(func() { go p.readLines() })
	fmt.Fprint(p.out, msg)
	defer fmt.Fprintln(p.out)
	select {
	case line, ok := <-p.lines:
		if !ok {
			return "", errors.New("standard input ended before an answer")
		}
		return line, nil
	case <-p.ctx.Done():
		return "", context.Cause(p.ctx)
	}
}
