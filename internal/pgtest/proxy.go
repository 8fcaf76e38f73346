package pgtest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards TCP connections to a server, and can partition them:
// while partitioned, nothing passes either way and new connections hang
// unanswered, as when a network drops packets without a word.
type Proxy struct {
	ln     net.Listener
	target string

	mu          sync.Mutex
	partitioned bool
	healed      chan struct{} // closed when the partition ends
}

// NewProxy listens on a loopback port and forwards to target (host:port)
// until the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, healed: make(chan struct{})}
	close(p.healed)
	var wg sync.WaitGroup
	wg.Go(p.serve)
	t.Cleanup(func() { ln.Close(); p.Partition(false); wg.Wait() })
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Partition starts (on) or ends (off) the partition.
func (p *Proxy) Partition(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on == p.partitioned {
		return
	}
	p.partitioned = on
	if on {
		p.healed = make(chan struct{})
	} else {
		close(p.healed)
	}
}

// wait blocks while partitioned.
func (p *Proxy) wait() {
	p.mu.Lock()
	ch := p.healed
	p.mu.Unlock()
	<-ch
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	defer c.Close()
	p.wait()
	s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer s.Close()
	done := make(chan struct{}, 2)
	go func() { p.copy(s, c); done <- struct{}{} }()
	go func() { p.copy(c, s); done <- struct{}{} }()
	<-done
}

// copy copies src to dst, holding each piece while partitioned.
func (p *Proxy) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
