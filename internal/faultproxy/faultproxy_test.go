package faultproxy_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/amqpleaks/amqpleaks/leakcheck"

	"github.com/amqpleaks/amqpleaks/internal/brokertest"
	"github.com/amqpleaks/amqpleaks/internal/faultproxy"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}

const (
	// waitFor bounds how long tests wait for something that must happen.
	waitFor = 5 * time.Second
	// quiet is how long tests watch for something that must not happen.
	quiet = 300 * time.Millisecond
)

// server is a TCP server on loopback that hands each accepted connection to
// the test, optionally echoing everything it reads.
type server struct {
	ln    net.Listener
	conns chan net.Conn
	echo  bool
	wg    sync.WaitGroup
	mu    sync.Mutex
	all   []net.Conn
}

// newServer starts a server; it is closed, with its goroutines, at cleanup.
func newServer(t *testing.T, echo bool) *server {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &server{ln: ln, conns: make(chan net.Conn, 16), echo: echo}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.close)
	return s
}

func (s *server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.all = append(s.all, c)
		s.mu.Unlock()
		if s.echo {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				_, _ = io.Copy(c, c)
			}()
		}
		s.conns <- c
	}
}

func (s *server) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.all {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// accept returns the next server-side connection.
func (s *server) accept(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(waitFor):
		t.Fatal("server accepted no connection")
		return nil
	}
}

// noAccept asserts the server accepts no connection for a while.
func (s *server) noAccept(t *testing.T) {
	t.Helper()
	select {
	case <-s.conns:
		t.Fatal("the target was dialed, want no connection to reach it")
	case <-time.After(quiet):
	}
}

// startProxy starts a proxy to target, closed at cleanup.
func startProxy(t *testing.T, target string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.Start(target)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// dial connects to the proxy; the connection is closed at cleanup.
func dial(t *testing.T, p *faultproxy.Proxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), waitFor)
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readFull reads exactly len(want) bytes from c and compares them to want.
func readFull(t *testing.T, c net.Conn, want string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read %q: %v", want, err)
	}
	if string(got) != want {
		t.Fatalf("read %q, want %q", got, want)
	}
	_ = c.SetReadDeadline(time.Time{})
}

// write writes s to c.
func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(waitFor))
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
	_ = c.SetWriteDeadline(time.Time{})
}

// readErr reads from c until an error or waitFor, and returns the error.
func readErr(t *testing.T, c net.Conn) error {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	buf := make([]byte, 1024)
	for {
		if _, err := c.Read(buf); err != nil {
			return err
		}
	}
}

// assertBlocked asserts that a read on c returns nothing within quiet.
func assertBlocked(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(quiet))
	buf := make([]byte, 1024)
	n, err := c.Read(buf)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read returned %q, %v; want it to block until the deadline", buf[:n], err)
	}
	_ = c.SetReadDeadline(time.Time{})
}

// waitConns waits until p.Conns() == want.
func waitConns(t *testing.T, p *faultproxy.Proxy, want int) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for p.Conns() != want {
		if time.Now().After(deadline) {
			t.Fatalf("Conns() = %d, want %d", p.Conns(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStartInvalidTarget(t *testing.T) {
	if p, err := faultproxy.Start("no-port"); err == nil {
		_ = p.Close()
		t.Fatal("Start(\"no-port\") succeeded, want an error")
	}
}

func TestAddrAndURL(t *testing.T) {
	p := startProxy(t, "127.0.0.1:1")
	host, port, err := net.SplitHostPort(p.Addr())
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr() = %q, want 127.0.0.1:<port>", p.Addr())
	}
	got, err := p.URL("amqp://user:pa%20ss@broker.example:5672/vhost?heartbeat=5")
	if err != nil {
		t.Fatalf("URL: %v", err)
	}
	want := "amqp://user:pa%20ss@" + p.Addr() + "/vhost?heartbeat=5"
	if got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	for _, bad := range []string{"://nope", "amqp:///vhost-only"} {
		if u, err := p.URL(bad); err == nil {
			t.Errorf("URL(%q) = %q, want an error", bad, u)
		}
	}
}

func TestForwardsBothWays(t *testing.T) {
	srv := newServer(t, true)
	p := startProxy(t, srv.ln.Addr().String())
	c := dial(t, p)
	write(t, c, "hello")
	readFull(t, c, "hello")
	if got := p.Conns(); got != 1 {
		t.Errorf("Conns() = %d, want 1", got)
	}

	// A large transfer arrives intact.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	done := make(chan error, 1)
	go func() {
		_, err := c.Write(big)
		done <- err
	}()
	got := make([]byte, len(big))
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read back 1 MiB: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("write 1 MiB: %v", err)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("1 MiB echoed through the proxy came back corrupted")
	}
}

func TestOrderlyCloseIsPassedOn(t *testing.T) {
	srv := newServer(t, false)
	p := startProxy(t, srv.ln.Addr().String())
	c := dial(t, p)
	sc := srv.accept(t)

	// Client half-closes: the server reads EOF but can still answer.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if err := readErr(t, sc); err != io.EOF {
		t.Fatalf("server read: %v, want EOF", err)
	}
	write(t, sc, "bye")
	readFull(t, c, "bye")
	_ = sc.Close()
	if err := readErr(t, c); err != io.EOF {
		t.Fatalf("client read: %v, want EOF", err)
	}
	waitConns(t, p, 0)
}

func TestTargetDownResetsClient(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	p := startProxy(t, addr)
	// The reset may even beat the client's connect to completion.
	c, err := net.DialTimeout("tcp", p.Addr(), waitFor)
	if err == nil {
		defer c.Close()
		err = readErr(t, c)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client: %v, want ECONNRESET", err)
	}
	waitConns(t, p, 0)
}

func TestReset(t *testing.T) {
	srv := newServer(t, false)
	p := startProxy(t, srv.ln.Addr().String())
	// One at a time: the proxy dials the target concurrently per link.
	c1 := dial(t, p)
	s1 := srv.accept(t)
	c2 := dial(t, p)
	s2 := srv.accept(t)
	write(t, c1, "ping")
	readFull(t, s1, "ping")
	waitConns(t, p, 2)

	p.Reset()
	if got := p.Conns(); got != 0 {
		t.Errorf("Conns() after Reset = %d, want 0", got)
	}
	for i, c := range []net.Conn{c1, c2, s1, s2} {
		if err := readErr(t, c); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("conn %d read after Reset: %v, want ECONNRESET", i, err)
		}
	}

	// New connections are forwarded normally.
	c3 := dial(t, p)
	s3 := srv.accept(t)
	write(t, c3, "again")
	readFull(t, s3, "again")
}

func TestBlackHole(t *testing.T) {
	srv := newServer(t, true)
	p := startProxy(t, srv.ln.Addr().String())
	c := dial(t, p)
	_ = srv.accept(t)
	write(t, c, "before")
	readFull(t, c, "before")

	p.BlackHole()
	write(t, c, "during")
	assertBlocked(t, c) // no echo, no EOF, no RST

	// A new connection is accepted but never reaches the target.
	c2 := dial(t, p)
	write(t, c2, "new")
	srv.noAccept(t)
	assertBlocked(t, c2)
	if got := p.Conns(); got != 2 {
		t.Errorf("Conns() while black-holed = %d, want 2", got)
	}

	// The proxy stops reading: the client's writes end up blocking once
	// the socket buffers are full, instead of being swallowed forever.
	chunk := make([]byte, 64<<10)
	var written int
	_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	var werr error
	for written < 256<<20 && werr == nil {
		var n int
		n, werr = c.Write(chunk)
		written += n
	}
	if !errors.Is(werr, os.ErrDeadlineExceeded) {
		t.Fatalf("after writing %d bytes into the black hole: %v; want writes to block", written, werr)
	}
	t.Logf("writes blocked after %d KiB", written>>10)
	_ = c.SetWriteDeadline(time.Time{})

	// Restore resumes the held connections with their bytes intact.
	p.Restore()
	readFull(t, c, "during")
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	if _, err := io.CopyN(io.Discard, c, int64(written)); err != nil {
		t.Fatalf("read back the %d bytes held during the black hole: %v", written, err)
	}
	_ = srv.accept(t)
	readFull(t, c2, "new")
	write(t, c2, "after")
	readFull(t, c2, "after")
}

func TestBlackHoleInterruptsBlockedWrite(t *testing.T) {
	srv := newServer(t, false)
	p := startProxy(t, srv.ln.Addr().String())
	c := dial(t, p)
	s := srv.accept(t)

	// The server does not read, so the proxy blocks writing to it.
	chunk := make([]byte, 64<<10)
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	for {
		if _, err := c.Write(chunk); err != nil {
			break
		}
	}
	_ = c.SetWriteDeadline(time.Time{})
	p.BlackHole()
	// Server drains what reached it; nothing more arrives while black-holed.
	buf := make([]byte, 1<<20)
	for {
		_ = s.SetReadDeadline(time.Now().Add(quiet))
		if _, err := s.Read(buf); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("server read: %v, want a timeout", err)
			}
			break
		}
	}
	p.Restore()
	_ = s.SetReadDeadline(time.Now().Add(waitFor))
	if _, err := s.Read(buf); err != nil {
		t.Fatalf("server read after Restore: %v", err)
	}
}

func TestHalfClose(t *testing.T) {
	srv := newServer(t, false)
	p := startProxy(t, srv.ln.Addr().String())
	c := dial(t, p)
	s := srv.accept(t)
	write(t, s, "hi")
	readFull(t, c, "hi")

	p.HalfClose()
	if err := readErr(t, c); err != io.EOF {
		t.Fatalf("client read after HalfClose: %v, want EOF", err)
	}
	// The broker side stays open: it sees neither EOF nor RST, the client
	// can still send to it, and what it sends is dropped without error.
	assertBlocked(t, s)
	write(t, c, "still here")
	readFull(t, s, "still here")
	write(t, s, "lost")
	assertBlocked(t, s)
	if got := p.Conns(); got != 1 {
		t.Errorf("Conns() after HalfClose = %d, want 1", got)
	}

	// When the client closes, the broker side is closed too.
	_ = c.Close()
	if err := readErr(t, s); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("server read after client close: %v, want EOF or ECONNRESET", err)
	}
	_ = s.Close()
	waitConns(t, p, 0)
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	srv := newServer(t, true)
	p, err := faultproxy.Start(srv.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c1 := dial(t, p)
	write(t, c1, "x")
	readFull(t, c1, "x")
	_ = dial(t, p)
	p.BlackHole()
	c3 := dial(t, p) // waits for Restore, never dialed
	write(t, c3, "y")
	waitConns(t, p, 3)

	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if got := p.Conns(); got != 0 {
		t.Errorf("Conns() after Close = %d, want 0", got)
	}
	for i, c := range []net.Conn{c1, c3} {
		if err := readErr(t, c); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("client %d read after Close: %v, want EOF or reset", i, err)
		}
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Error("proxy still accepts connections after Close")
	}
	srv.close() // the test's own goroutines; idempotent with its cleanup
	leakcheck.VerifyNone(t)
}

func TestAMQPBroker(t *testing.T) {
	p := startProxy(t, brokertest.Addr(t))

	// The protocol handshake works through the proxy.
	c := dial(t, p)
	_ = c.SetDeadline(time.Now().Add(waitFor))
	if err := brokertest.Handshake(c); err != nil {
		t.Fatalf("handshake through the proxy: %v", err)
	}
	_ = c.SetDeadline(time.Time{})

	// Reset aborts it.
	p.Reset()
	if err := readErr(t, c); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after Reset: %v, want ECONNRESET", err)
	}

	// Black-holed, a new connection's handshake gets no answer.
	p.BlackHole()
	c2 := dial(t, p)
	_ = c2.SetDeadline(time.Now().Add(quiet))
	if err := brokertest.Handshake(c2); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("handshake while black-holed: %v, want a timeout", err)
	}

	// Restored, a new connection gets its answer again.
	p.Restore()
	c3 := dial(t, p)
	_ = c3.SetDeadline(time.Now().Add(waitFor))
	if err := brokertest.Handshake(c3); err != nil {
		t.Fatalf("handshake after Restore: %v", err)
	}

	// HalfClose: the client reads EOF.
	p.HalfClose()
	if err := readErr(t, c3); err != io.EOF {
		t.Fatalf("read after HalfClose: %v, want EOF", err)
	}
}
