// Package faultproxy is a loopback TCP proxy that sits between an AMQP client
// and its broker and injects the network faults seen in production: connection
// resets, black holes (a firewall silently dropping packets, leaving half-open
// connections), and half-closes.
//
// A Proxy listens on 127.0.0.1 and forwards every accepted connection to a
// fixed target. Tests point their client at Proxy.URL instead of the broker
// and then call Reset, BlackHole, HalfClose or Restore at the moment the fault
// should happen.
//
// # How BlackHole works
//
// A firewall that drops packets neither delivers data nor tells either peer
// anything. The proxy reproduces that by stopping both of its copy loops: it
// no longer reads from either socket and no longer writes to either socket,
// while keeping both sockets open (no FIN, no RST). It does not read and
// discard. Because nothing is read, the bytes a peer writes pile up in the
// proxy's kernel receive buffer and then in the peer's own send buffer, so
// after a few megabytes the peer's writes block, exactly as they do when the
// network stops acknowledging data. Blocked reads and writes that were already
// in progress are interrupted with a past deadline so that they stop too;
// bytes that were read but not yet written are held, not dropped.
//
// Restore resumes the held bytes and the copy loops, so a black-holed
// connection continues with its byte stream intact, as TCP does after
// retransmitting once a firewall lets packets through again.
//
// New connections accepted while black-holed are accepted by the kernel (the
// client's connect succeeds), but the proxy does not dial the target and does
// not read from the client until Restore, so the client's protocol handshake
// hangs as it would behind a dropping firewall.
//
// One difference from a real dropping firewall remains: the kernel keeps
// acknowledging segments (and TCP keepalive probes) on both loopback sockets,
// advertising a zero window once the buffers are full. Faults are therefore
// detected through application-level heartbeats and timeouts, which is what
// AMQP clients and brokers rely on, not through TCP keepalive or
// TCP_USER_TIMEOUT.
package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// bufSize is the size of each copy loop's buffer.
	bufSize = 32 << 10
	// dialTimeout bounds how long the proxy waits to connect to the target.
	dialTimeout = 5 * time.Second
	// acceptBackoff is the pause after a failed Accept (e.g. EMFILE).
	acceptBackoff = 10 * time.Millisecond
)

// pastDeadline is a deadline in the past, used to interrupt blocked I/O.
var pastDeadline = time.Unix(1, 0)

// errLinkClosed reports that a link was torn down while forwarding.
var errLinkClosed = errors.New("faultproxy: link closed")

// Proxy is a TCP proxy on 127.0.0.1 that forwards connections to a target and
// injects faults on demand. All methods are safe for concurrent use.
type Proxy struct {
	target string
	ln     *net.TCPListener
	ctx    context.Context // canceled by Close; aborts dials in progress
	cancel context.CancelFunc
	wg     sync.WaitGroup // accept loop, link setup and copy loops

	mu         sync.Mutex
	links      map[*link]struct{}
	blackholed bool
	resume     chan struct{} // closed by Restore; set while blackholed
	closed     bool
}

// link is one proxied connection: a client socket and, once dialed, the
// matching broker socket.
type link struct {
	p          *Proxy
	client     *net.TCPConn
	broker     *net.TCPConn  // guarded by p.mu; nil until dialed
	done       chan struct{} // closed (under p.mu) when the link is torn down
	halfClosed atomic.Bool   // HalfClose sent FIN to the client
	pumps      atomic.Int32  // copy loops that have not reached EOF
}

// Start listens on 127.0.0.1:0 and forwards each accepted connection to
// target (host:port). The target is dialed once per accepted connection, not
// by Start, so it need not be up yet.
func Start(target string) (*Proxy, error) {
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("faultproxy: invalid target %q: %w", target, err)
	}
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen on 127.0.0.1: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		target: target,
		ln:     ln,
		ctx:    ctx,
		cancel: cancel,
		links:  make(map[*link]struct{}),
	}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the proxy's listening address, "127.0.0.1:port".
func (p *Proxy) Addr() string {
	return p.ln.Addr().String()
}

// URL returns amqpURL with its host:port replaced by Addr, keeping the scheme,
// credentials, virtual host and query. For amqps URLs, note that the TLS
// server name then becomes 127.0.0.1.
func (p *Proxy) URL(amqpURL string) (string, error) {
	u, err := url.Parse(amqpURL)
	if err != nil {
		return "", fmt.Errorf("faultproxy: parse URL: %w", err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("faultproxy: URL %q has no host", u.Redacted())
	}
	u.Host = p.Addr()
	return u.String(), nil
}

// Reset aborts every current connection by sending RST to both the client and
// the broker (SO_LINGER 0 followed by close). Connections accepted afterwards
// are forwarded normally, unless the proxy is black-holed.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.closeLocked(true)
	}
}

// BlackHole makes the proxy silently stop forwarding in both directions, on
// current connections and on connections accepted from now on, while keeping
// every socket open: no FIN and no RST reach either peer. It mimics a firewall
// that drops packets, leaving half-open connections; see the package
// documentation for how it works. Restore undoes it.
func (p *Proxy) BlackHole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.blackholed {
		return
	}
	p.blackholed = true
	p.resume = make(chan struct{})
	for l := range p.links {
		l.setDeadlineLocked(pastDeadline)
	}
}

// HalfClose sends FIN to the client side of every current connection
// (shutdown of the proxy's write half), so the client reads EOF, while the
// broker side stays open and unaware. Data the client still sends is
// forwarded to the broker; data the broker sends to a half-closed client is
// read and discarded, since it can no longer be delivered. Connections
// accepted afterwards are not affected.
func (p *Proxy) HalfClose() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.halfClosed.Store(true)
		_ = l.client.CloseWrite() // an error means the socket is already gone
	}
}

// Restore undoes BlackHole: connections accepted from now on are forwarded
// normally, and black-holed connections resume with the bytes they held.
// It does not revive connections that were Reset or half-closed.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.blackholed {
		return
	}
	p.blackholed = false
	close(p.resume)
	p.resume = nil
	for l := range p.links {
		l.setDeadlineLocked(time.Time{})
	}
}

// Conns returns the number of current proxied connections: accepted client
// connections that have not been torn down yet, including those whose broker
// side is still being dialed or waits for Restore.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Close stops listening, closes every connection (both sides), and waits
// until all of the proxy's goroutines have exited. Calling it more than once
// is harmless.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	err := p.ln.Close()
	p.cancel()
	for l := range p.links {
		l.closeLocked(false)
	}
	p.mu.Unlock()

	p.wg.Wait()
	if err != nil {
		return fmt.Errorf("faultproxy: close listener: %w", err)
	}
	return nil
}

// acceptLoop accepts client connections until the listener is closed.
func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient failure such as EMFILE: back off and retry.
			t := time.NewTimer(acceptBackoff)
			select {
			case <-p.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		l := &link{p: p, client: c, done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		p.links[l] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go l.run()
	}
}

// waitForwarding blocks while the proxy is black-holed. It reports false if
// the link was torn down meanwhile.
func (p *Proxy) waitForwarding(l *link) bool {
	for {
		p.mu.Lock()
		blackholed, resume := p.blackholed, p.resume
		p.mu.Unlock()
		if !blackholed {
			select {
			case <-l.done:
				return false
			default:
				return true
			}
		}
		select {
		case <-resume:
		case <-l.done:
			return false
		}
	}
}

// run dials the target for l and starts its two copy loops. While the proxy
// is black-holed the dial waits, as a dropping firewall would keep the new
// connection from reaching the broker. If the dial fails the client is reset.
func (l *link) run() {
	p := l.p
	defer p.wg.Done()
	if !p.waitForwarding(l) {
		return
	}
	var d net.Dialer
	ctx, cancel := context.WithTimeout(p.ctx, dialTimeout)
	c, err := d.DialContext(ctx, "tcp", p.target)
	cancel()
	if err != nil {
		l.close(true)
		return
	}
	b := c.(*net.TCPConn)

	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-l.done: // Reset or Close while dialing.
		closeConn(b, true)
		return
	default:
	}
	l.broker = b
	if p.blackholed {
		l.setDeadlineLocked(pastDeadline)
	}
	l.pumps.Store(2)
	p.wg.Add(2)
	go l.pump(l.client, b, false)
	go l.pump(b, l.client, true)
}

// pump copies src to dst until EOF or an error, pausing while the proxy is
// black-holed. toClient tells whether dst is the client socket.
func (l *link) pump(src, dst *net.TCPConn, toClient bool) {
	defer l.p.wg.Done()
	buf := make([]byte, bufSize)
	for {
		if !l.p.waitForwarding(l) {
			return
		}
		n, rerr := src.Read(buf)
		if err := l.forward(dst, buf[:n], toClient); err != nil {
			l.close(true)
			return
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, os.ErrDeadlineExceeded):
			// Interrupted by BlackHole; waitForwarding pauses us.
		case errors.Is(rerr, io.EOF):
			// Pass the half-close on; the other direction may go on.
			_ = dst.CloseWrite()
			if l.pumps.Add(-1) == 0 {
				l.close(false)
			}
			return
		default:
			// A reset or other failure on one side becomes a reset on
			// the other side, as on a direct connection.
			l.close(true)
			return
		}
	}
}

// forward writes data to dst, pausing while the proxy is black-holed and
// resuming with the unwritten rest. Data for a half-closed client is dropped.
func (l *link) forward(dst *net.TCPConn, data []byte, toClient bool) error {
	for len(data) > 0 {
		if !l.p.waitForwarding(l) {
			return errLinkClosed
		}
		if toClient && l.halfClosed.Load() {
			return nil
		}
		n, err := dst.Write(data)
		data = data[n:]
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // interrupted by BlackHole
			}
			if toClient && l.halfClosed.Load() {
				return nil
			}
			return fmt.Errorf("faultproxy: forward: %w", err)
		}
	}
	return nil
}

// close tears l down; abort selects RST instead of an orderly close.
func (l *link) close(abort bool) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	l.closeLocked(abort)
}

// closeLocked tears l down once, with p.mu held.
func (l *link) closeLocked(abort bool) {
	select {
	case <-l.done:
		return
	default:
	}
	close(l.done)
	delete(l.p.links, l)
	closeConn(l.client, abort)
	if l.broker != nil {
		closeConn(l.broker, abort)
	}
}

// setDeadlineLocked sets the read and write deadline of both sockets of l,
// with p.mu held. A past deadline interrupts blocked I/O; the zero time
// clears it.
func (l *link) setDeadlineLocked(t time.Time) {
	_ = l.client.SetDeadline(t)
	if l.broker != nil {
		_ = l.broker.SetDeadline(t)
	}
}

// closeConn closes c, with RST instead of FIN when abort is set.
func closeConn(c *net.TCPConn, abort bool) {
	if abort {
		_ = c.SetLinger(0)
	}
	_ = c.Close()
}
