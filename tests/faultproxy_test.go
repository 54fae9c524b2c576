package tests

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// faultProxy is a TCP proxy in front of the testbed's sshd that injects
// one fault into the first connection once the client has sent after
// bytes: it either cuts the connection (kill) or stops forwarding until
// resume is closed (stall), closing reached either way. Later connections
// pass through untouched.
type faultProxy struct {
	addr    string
	after   int64
	kill    bool
	reached chan struct{}
	resume  chan struct{}

	// dropFirst connections are closed as soon as they are accepted.
	dropFirst atomic.Int64
	// frozen stops all forwarding, as a network that went silent.
	frozen atomic.Bool
	// accepted counts connections accepted, dropped ones included.
	accepted atomic.Int64

	ln    net.Listener
	first atomic.Bool
	once  sync.Once
	mu    sync.Mutex
	open  []net.Conn
}

// passThrough returns a proxy that injects no fault into traffic.
func passThrough(t *testing.T) *faultProxy { return newFaultProxy(t, 1<<62, false) }

// cut closes every connection open through the proxy, as a network
// failure would.
func (p *faultProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.open {
		c.Close()
	}
	p.open = nil
}

func newFaultProxy(t *testing.T, after int64, kill bool) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{addr: ln.Addr().String(), after: after, kill: kill, ln: ln,
		reached: make(chan struct{}), resume: make(chan struct{})}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.Resume()
	})
	return p
}

// Resume lets a stalled connection go on.
func (p *faultProxy) Resume() { p.once.Do(func() { close(p.resume) }) }

func (p *faultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.accepted.Add(1) <= p.dropFirst.Load() {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", "127.0.0.1:"+tb.Port)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.open = append(p.open, c, up)
		p.mu.Unlock()
		faulty := p.first.CompareAndSwap(false, true)
		go func() {
			p.forward(c, up)
			c.Close()
		}()
		go func() {
			defer up.Close()
			defer c.Close()
			if faulty {
				if _, err := io.CopyN(up, c, p.after); err != nil {
					return
				}
				close(p.reached)
				if p.kill {
					return
				}
				<-p.resume
			}
			p.forward(up, c)
		}()
	}
}

// freeze stops forwarding in both directions without closing anything.
func (p *faultProxy) freeze() { p.frozen.Store(true) }

// forward copies src to dst until either ends; while the proxy is frozen
// what arrives is held back for good.
func (p *faultProxy) forward(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if p.frozen.Load() {
			if err != nil {
				return
			}
			continue
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
