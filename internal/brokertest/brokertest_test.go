package brokertest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTB records Skip and Fatal instead of stopping the test. Unlike the real
// ones they return, which URL and Addr tolerate. Methods it does not override
// panic through the nil embedded interface.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skip(args ...any) {
	f.skipped = true
	f.msg = strings.TrimSuffix(fmt.Sprintln(args...), "\n")
}

func (f *fakeTB) Fatal(args ...any) {
	f.failed = true
	f.msg = strings.TrimSuffix(fmt.Sprintln(args...), "\n")
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// fakeServer accepts connections on loopback and lets handle serve each one.
func fakeServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// startFrame returns a minimal Connection.Start method frame.
func startFrame() []byte {
	payload := []byte{0, 10, 0, 10, 0, 9} // class 10, method 10, version 0-9
	payload = append(payload, 0, 0, 0, 0) // empty server-properties table
	payload = append(payload, 0, 0, 0, 5)
	payload = append(payload, "PLAIN"...)
	payload = append(payload, 0, 0, 0, 5)
	payload = append(payload, "en_US"...)
	frame := []byte{frameMethod, 0, 0}
	frame = binary.BigEndian.AppendUint32(frame, uint32(len(payload)))
	frame = append(frame, payload...)
	return append(frame, frameEnd)
}

// amqpLike serves a fake broker that answers the protocol header with reply.
func amqpLike(reply []byte) func(net.Conn) {
	return func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		hdr := make([]byte, len(ProtocolHeader))
		if _, err := io.ReadFull(c, hdr); err != nil || string(hdr) != ProtocolHeader {
			return
		}
		_, _ = c.Write(reply)
	}
}

func TestURLSkipsWithoutBrokerOutsideCI(t *testing.T) {
	addr := closedPort(t)
	t.Setenv("AMQP_URL", "amqp://guest:secret@"+addr+"/")
	t.Setenv("CI", "")
	f := &fakeTB{}
	if got := URL(f); got != "" {
		t.Errorf("URL = %q, want empty", got)
	}
	if !f.skipped || f.failed {
		t.Fatalf("skipped=%v failed=%v, want a skip: %s", f.skipped, f.failed, f.msg)
	}
	if !strings.Contains(f.msg, addr) || !strings.Contains(f.msg, "no AMQP broker") {
		t.Errorf("skip message %q does not name the address", f.msg)
	}
	if strings.Contains(f.msg, "secret") {
		t.Errorf("skip message %q leaks the password", f.msg)
	}
}

func TestURLFailsWithoutBrokerUnderCI(t *testing.T) {
	addr := closedPort(t)
	t.Setenv("AMQP_URL", "amqp://guest:guest@"+addr+"/")
	t.Setenv("CI", "true")
	f := &fakeTB{}
	_ = URL(f)
	if !f.failed || f.skipped {
		t.Fatalf("skipped=%v failed=%v, want a failure: %s", f.skipped, f.failed, f.msg)
	}
	if !strings.Contains(f.msg, "CI=true") {
		t.Errorf("failure message %q does not say why it is not a skip", f.msg)
	}

	f = &fakeTB{}
	if got := Addr(f); got != "" || !f.failed {
		t.Errorf("Addr = %q, failed=%v; want empty and a failure", got, f.failed)
	}
}

func TestURLRejectsNonAMQPServer(t *testing.T) {
	t.Setenv("CI", "")
	for name, handle := range map[string]func(net.Conn){
		"http":                   func(c net.Conn) { _, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n") },
		"closes":                 func(net.Conn) {},
		"other protocol version": amqpLike([]byte("AMQP\x00\x00\x09\x00")),
		"wrong method":           amqpLike(bytes.Replace(startFrame(), []byte{0, 10, 0, 10}, []byte{0, 10, 0, 11}, 1)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("AMQP_URL", "amqp://"+fakeServer(t, handle)+"/")
			f := &fakeTB{}
			_ = URL(f)
			if !f.skipped {
				t.Fatalf("URL accepted a server that is not an AMQP broker")
			}
			t.Log(f.msg)
		})
	}
}

func TestURLAcceptsFakeBroker(t *testing.T) {
	addr := fakeServer(t, amqpLike(startFrame()))
	raw := "amqp://u:p@" + addr + "/vh"
	t.Setenv("AMQP_URL", raw)
	f := &fakeTB{}
	if got := URL(f); got != raw || f.skipped || f.failed {
		t.Fatalf("URL = %q (skipped=%v failed=%v %s), want %q", got, f.skipped, f.failed, f.msg, raw)
	}
	if got := Addr(f); got != addr {
		t.Errorf("Addr = %q, want %q", got, addr)
	}
}

func TestURLTimesOutOnSilentServer(t *testing.T) {
	t.Setenv("CI", "")
	release := make(chan struct{})
	addr := fakeServer(t, func(c net.Conn) { <-release })
	t.Cleanup(func() { close(release) }) // runs before the server's cleanup
	t.Setenv("AMQP_URL", "amqp://"+addr+"/")
	f := &fakeTB{}
	start := time.Now()
	_ = URL(f)
	if !f.skipped {
		t.Fatal("URL accepted a server that never answers")
	}
	if d := time.Since(start); d < probeTimeout-100*time.Millisecond || d > probeTimeout+2*time.Second {
		t.Errorf("gave up after %v, want about %v", d, probeTimeout)
	}
}

func TestTarget(t *testing.T) {
	for raw, want := range map[string]string{
		"":                                   "127.0.0.1:5672",
		"amqp://guest:guest@127.0.0.1:5672/": "127.0.0.1:5672",
		"amqp://broker":                      "broker:5672",
		"amqps://broker/vh":                  "broker:5671",
		"amqp://[::1]:5673/":                 "[::1]:5673",
		"amqp://user:pass@rabbit:15672/?x=y": "rabbit:15672",
	} {
		t.Setenv("AMQP_URL", raw)
		if _, got, err := target(); err != nil || got != want {
			t.Errorf("target() for %q = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, bad := range []string{"amqp://host:99999/", "://x"} {
		t.Setenv("AMQP_URL", bad)
		if _, got, err := target(); err == nil {
			t.Errorf("target() for %q = %q, want an error", bad, got)
		}
	}
}

// TestRealBroker uses the broker the suite runs against: skipped without one,
// failed without one under CI.
func TestRealBroker(t *testing.T) {
	raw := URL(t)
	if raw == "" {
		t.Fatal("URL returned an empty URL")
	}
	if err := Probe(Addr(t), probeTimeout); err != nil {
		t.Fatalf("Probe(Addr) after URL succeeded: %v", err)
	}
}
