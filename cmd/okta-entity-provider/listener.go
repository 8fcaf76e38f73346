package main

import (
	"net"
	"sync"
	"time"
)

// connectionWait is how long a connection over MAX_CONNECTIONS waits for
// another to close before it is refused.
const connectionWait = time.Second

// connObserver is told of the connections a limitListener admits, closes
// and refuses (metrics.Metrics).
type connObserver interface {
	ConnectionOpened()
	ConnectionClosed()
	ConnectionRefused()
}

// limitListener admits at most a fixed number of connections at once, so
// that clients that hold their connections (a reader that stops reading
// keeps its answer's buffers and goroutines until the write deadline) cannot
// pile up without bound. At the limit, the next connection waits up to
// wait for one to close and is otherwise closed unanswered; a client such
// as Backstage takes that as a failed read, keeps what it has and tries
// again later. Connections after it wait in the kernel's backlog meanwhile.
type limitListener struct {
	net.Listener
	slots chan struct{}
	wait  time.Duration
	obs   connObserver

	closeOnce sync.Once
	closed    chan struct{}
}

func newLimitListener(ln net.Listener, limit int, wait time.Duration, obs connObserver) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, limit), wait: wait, obs: obs, closed: make(chan struct{})}
}

// Accept returns the next connection there is room for.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.admit() {
			l.obs.ConnectionOpened()
			return &limitedConn{Conn: c, l: l}, nil
		}
		l.obs.ConnectionRefused()
		c.Close()
	}
}

// admit takes a slot, waiting up to l.wait for one.
func (l *limitListener) admit() bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-l.closed:
	}
	return false
}

// Close closes the listener; a connection waiting for a slot is refused.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitedConn gives its slot back when it is closed.
type limitedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		<-c.l.slots
		c.l.obs.ConnectionClosed()
	})
	return err
}
