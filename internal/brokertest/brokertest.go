// Package brokertest provides helpers for tests that need a running AMQP
// 0-9-1 broker such as RabbitMQ.
//
// URL and Addr check that a broker really answers before a test uses it. When
// none does, the test is skipped with a clear message, except under CI
// (CI=true), where it fails, so a missing broker can never turn the suite
// green.
package brokertest

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"
)

// DefaultURL is the broker URL used when AMQP_URL is not set.
const DefaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// probeTimeout bounds the whole reachability check: dial and handshake.
const probeTimeout = 3 * time.Second

// ProtocolHeader is the AMQP 0-9-1 protocol header a client sends first.
const ProtocolHeader = "AMQP\x00\x00\x09\x01"

// AMQP 0-9-1 framing constants used by Handshake.
const (
	frameMethod     = 1
	frameEnd        = 0xCE
	classConnection = 10
	methodStart     = 10
	maxStartPayload = 1 << 20 // far above any real Connection.Start
)

// URL returns AMQP_URL (default DefaultURL) after checking that a broker
// answers there: a TCP dial followed by the AMQP protocol header, which must
// be answered with a Connection.Start frame, all within 3 seconds. When no
// broker answers, URL calls t.Skip with a clear message, or t.Fatal when the
// CI environment variable is "true".
func URL(t testing.TB) string {
	t.Helper()
	raw, addr, err := target()
	if err == nil {
		err = probe(addr, isTLS(raw), probeTimeout)
	}
	if err != nil {
		msg := fmt.Sprintf("brokertest: no AMQP broker answers at %s (set AMQP_URL, or start one with `rabbitmq-server -detached`): %v", redact(raw), err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " [CI=true: a missing broker fails the test]")
		} else {
			t.Skip(msg)
		}
		return "" // reached only with a TB whose Skip/Fatal return
	}
	return raw
}

// Addr returns the host:port of URL(t).
func Addr(t testing.TB) string {
	t.Helper()
	raw := URL(t)
	if raw == "" {
		return ""
	}
	_, addr, err := target()
	if err != nil { // cannot happen: URL already parsed it
		t.Fatal(err)
		return ""
	}
	return addr
}

// Probe dials addr over plain TCP and performs Handshake, all within timeout.
func Probe(addr string, timeout time.Duration) error {
	return probe(addr, false, timeout)
}

// probe is Probe, optionally over TLS. The TLS certificate is not verified:
// the probe only asks whether a broker answers, and the client under test
// does its own verification.
func probe(addr string, useTLS bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	d := &net.Dialer{Deadline: deadline}
	var (
		c   net.Conn
		err error
	)
	if useTLS {
		c, err = tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reachability probe only
	} else {
		c, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return fmt.Errorf("set deadline on %s: %w", addr, err)
	}
	if err := Handshake(c); err != nil {
		return fmt.Errorf("handshake with %s: %w", addr, err)
	}
	return nil
}

// Handshake sends the AMQP 0-9-1 protocol header on rw and reads the
// broker's answer, which must be a Connection.Start method frame on channel
// 0. It sets no deadline; the caller bounds it.
func Handshake(rw io.ReadWriter) error {
	if _, err := io.WriteString(rw, ProtocolHeader); err != nil {
		return fmt.Errorf("send protocol header: %w", err)
	}
	r := bufio.NewReader(rw)
	var hdr [7]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("read frame header: %w", err)
	}
	if string(hdr[:4]) == "AMQP" {
		// The server rejected our protocol version and sent its own header.
		last, _ := r.ReadByte()
		return fmt.Errorf("server does not speak AMQP 0-9-1 (it offered %q)", append(hdr[:], last))
	}
	typ := hdr[0]
	channel := binary.BigEndian.Uint16(hdr[1:3])
	size := binary.BigEndian.Uint32(hdr[3:7])
	if typ != frameMethod || channel != 0 {
		return fmt.Errorf("got frame type %d on channel %d, want a method frame on channel 0", typ, channel)
	}
	if size < 4 || size > maxStartPayload {
		return fmt.Errorf("implausible Connection.Start payload size %d", size)
	}
	payload := make([]byte, size+1) // payload and frame-end octet
	if _, err := io.ReadFull(r, payload); err != nil {
		return fmt.Errorf("read Connection.Start payload: %w", err)
	}
	if payload[size] != frameEnd {
		return errors.New("Connection.Start frame lacks the frame-end octet")
	}
	class := binary.BigEndian.Uint16(payload[0:2])
	method := binary.BigEndian.Uint16(payload[2:4])
	if class != classConnection || method != methodStart {
		return fmt.Errorf("got method %d.%d, want Connection.Start (10.10)", class, method)
	}
	return nil
}

// target returns the broker URL in force and its host:port.
func target() (raw, addr string, err error) {
	raw = os.Getenv("AMQP_URL")
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw, "", fmt.Errorf("parse AMQP_URL: %w", err)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		switch u.Scheme {
		case "amqps":
			port = "5671"
		default:
			port = "5672"
		}
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return raw, "", fmt.Errorf("invalid port %q in AMQP_URL: %w", port, err)
	}
	return raw, net.JoinHostPort(host, port), nil
}

// isTLS reports whether raw is an amqps URL.
func isTLS(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "amqps"
}

// redact hides the password of raw, if it parses as a URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable AMQP_URL)"
	}
	return u.Redacted()
}
