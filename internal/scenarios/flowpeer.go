package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
)

// flowPeer is a minimal AMQP 0-9-1 server on loopback for the one thing
// RabbitMQ never does: send channel.flow to a client. It completes the
// handshake (any credentials), opens channels, answers channel.flow-ok and
// ignores everything else, so the client library runs its real channel.flow
// code path. It is used by the flow-unread-peer scenario only.
type flowPeer struct {
	ln net.Listener

	mu    sync.Mutex
	conns []*peerConn
	ready chan *peerConn // a connection whose channel 1 is open
}

type peerConn struct {
	c  net.Conn
	mu sync.Mutex // serialises frame writes
}

func startFlowPeer() (*flowPeer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("flow peer: %w", err)
	}
	p := &flowPeer{ln: ln, ready: make(chan *peerConn, 4)}
	go p.accept()
	return p, nil
}

// URL is the AMQP URL of the peer.
func (p *flowPeer) URL() string { return "amqp://guest:guest@" + p.ln.Addr().String() + "/" }

func (p *flowPeer) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		pc := &peerConn{c: c}
		p.mu.Lock()
		p.conns = append(p.conns, pc)
		p.mu.Unlock()
		go p.serve(pc)
	}
}

// Close stops the peer and closes its connections.
func (p *flowPeer) Close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.conns {
		pc.c.Close()
	}
}

// AMQP 0-9-1 classes and methods the peer speaks.
const (
	classConnection = 10
	classChannel    = 20
	frameMethod     = 1
	frameHeartbeat  = 8
	frameEnd        = 0xCE
)

func (p *flowPeer) serve(pc *peerConn) {
	r := bufio.NewReader(pc.c)
	header := make([]byte, 8)
	if _, err := io.ReadFull(r, header); err != nil || string(header[:4]) != "AMQP" {
		pc.c.Close()
		return
	}
	// connection.start: version 0-9, no server properties, PLAIN, en_US.
	var start []byte
	start = append(start, 0, 9)
	start = binary.BigEndian.AppendUint32(start, 0) // empty table
	start = appendLongStr(start, "PLAIN")
	start = appendLongStr(start, "en_US")
	pc.method(0, classConnection, 10, start)
	for {
		typ, ch, payload, err := readFrame(r)
		if err != nil {
			pc.c.Close()
			return
		}
		if typ != frameMethod || len(payload) < 4 {
			continue
		}
		class, method := binary.BigEndian.Uint16(payload), binary.BigEndian.Uint16(payload[2:])
		switch {
		case class == classConnection && method == 11: // start-ok → tune
			var tune []byte
			tune = binary.BigEndian.AppendUint16(tune, 16)     // channel-max
			tune = binary.BigEndian.AppendUint32(tune, 131072) // frame-max
			tune = binary.BigEndian.AppendUint16(tune, 0)      // no heartbeats
			pc.method(0, classConnection, 30, tune)
		case class == classConnection && method == 40: // open → open-ok
			pc.method(0, classConnection, 41, []byte{0})
		case class == classConnection && method == 50: // close → close-ok
			pc.method(0, classConnection, 51, nil)
			pc.c.Close()
			return
		case class == classChannel && method == 10: // open → open-ok
			pc.method(ch, classChannel, 11, binary.BigEndian.AppendUint32(nil, 0))
			if ch == 1 {
				p.ready <- pc
			}
		case class == classChannel && method == 40: // close → close-ok
			pc.method(ch, classChannel, 41, nil)
		}
	}
}

// sendFlow sends channel.flow(active) on channel 1 of pc.
func (pc *peerConn) sendFlow(active bool) {
	b := byte(0)
	if active {
		b = 1
	}
	pc.method(1, classChannel, 20, []byte{b})
}

func (pc *peerConn) method(ch uint16, class, method uint16, args []byte) {
	payload := binary.BigEndian.AppendUint16(nil, class)
	payload = binary.BigEndian.AppendUint16(payload, method)
	payload = append(payload, args...)
	frame := []byte{frameMethod}
	frame = binary.BigEndian.AppendUint16(frame, ch)
	frame = binary.BigEndian.AppendUint32(frame, uint32(len(payload)))
	frame = append(frame, payload...)
	frame = append(frame, frameEnd)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.c.Write(frame)
}

func readFrame(r *bufio.Reader) (typ byte, ch uint16, payload []byte, err error) {
	var h [7]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return
	}
	typ, ch = h[0], binary.BigEndian.Uint16(h[1:])
	size := binary.BigEndian.Uint32(h[3:])
	if size > 1<<20 {
		return 0, 0, nil, fmt.Errorf("frame of %d bytes", size)
	}
	payload = make([]byte, size+1)
	if _, err = io.ReadFull(r, payload); err != nil {
		return
	}
	if payload[size] != frameEnd {
		return 0, 0, nil, fmt.Errorf("bad frame end %#x", payload[size])
	}
	return typ, ch, payload[:size], nil
}

func appendLongStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
