package stackparse_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// parked starts goroutines in known states in this very process, so the
// tests read dumps the running Go version really prints. stop releases them.
type parked struct {
	ch     chan int
	mu     sync.Mutex
	ln     net.Listener
	stop   chan struct{}
	wg     sync.WaitGroup
	sender *liveConn
}

type liveConn struct {
	out  chan int
	sent atomic.Int64
}

// liveSend is a method with a pointer receiver: its first argument word is
// the receiver's address. The receiver is used after the send, so it is
// live across the call and the runtime prints it for sure (no "?").
//
//go:noinline
func (c *liveConn) liveSend(v int) {
	c.out <- v
	c.sent.Add(1)
}

//go:noinline
func liveRecv(ch chan int) { <-ch }

//go:noinline
func liveLock(mu *sync.Mutex) { mu.Lock(); mu.Unlock() }

//go:noinline
func liveAccept(ln net.Listener) {
	c, err := ln.Accept()
	if err == nil {
		c.Close()
	}
}

//go:noinline
func liveSelect(stop chan struct{}) { <-stop }

func startParked(t *testing.T) *parked {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &parked{ch: make(chan int), ln: ln, stop: make(chan struct{}), sender: &liveConn{out: make(chan int)}}
	p.mu.Lock()
	run := func(f func()) {
		p.wg.Add(1)
		go func() { defer p.wg.Done(); f() }()
	}
	for i := 0; i < 3; i++ {
		run(func() { p.sender.liveSend(1) })
	}
	run(func() { liveRecv(p.ch) })
	run(func() { liveLock(&p.mu) })
	run(func() { liveAccept(p.ln) })
	pprof.Do(context.Background(), pprof.Labels("amqp.conn", "orders]1, \"x\""), func(context.Context) {
		run(func() { liveSelect(p.stop) })
	})
	// Wait until every goroutine is parked.
	for i := 0; i < 1000; i++ {
		buf := make([]byte, 1<<20)
		s := string(buf[:runtime.Stack(buf, true)])
		if strings.Count(s, "liveSend(") == 3 && strings.Contains(s, "liveRecv(") && strings.Contains(s, "liveLock(") &&
			strings.Contains(s, "liveAccept(") && strings.Contains(s, "liveSelect(") && strings.Contains(s, "[sync.Mutex.Lock") &&
			strings.Contains(s, "[IO wait") {
			break
		}
		runtime.Gosched()
	}
	t.Cleanup(func() {
		for i := 0; i < 3; i++ {
			<-p.sender.out
		}
		p.ch <- 1
		p.mu.Unlock()
		p.ln.Close()
		close(p.stop)
		p.wg.Wait()
	})
	return p
}

func byFunc(gs []*stackparse.Goroutine, fn string) []*stackparse.Goroutine {
	var out []*stackparse.Goroutine
	for _, g := range gs {
		for _, f := range g.Frames {
			if strings.HasSuffix(f.Func, fn) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

func count(gs []*stackparse.Goroutine) int {
	n := 0
	for _, g := range gs {
		n += g.Count
	}
	return n
}

func TestLiveTraceback(t *testing.T) {
	p := startParked(t)
	buf := make([]byte, 4<<20)
	dump := buf[:runtime.Stack(buf, true)]
	d, err := stackparse.Parse(bytes.NewReader(dump), stackparse.WithName("live"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Format != stackparse.FormatTraceback {
		t.Errorf("format %v", d.Format)
	}
	if len(d.Warnings) > 0 {
		t.Errorf("warnings: %v", d.Warnings)
	}
	if want := bytes.Count(dump, []byte("\ngoroutine ")) + 1; len(d.Goroutines) != want {
		t.Errorf("read %d goroutines, dump has %d headers", len(d.Goroutines), want)
	}
	sends := byFunc(d.Goroutines, ".(*liveConn).liveSend")
	if len(sends) != 3 {
		t.Fatalf("liveSend goroutines: %d, want 3", len(sends))
	}
	recv := fmt.Sprintf("%p", p.sender)
	for _, g := range sends {
		if g.State != "chan send" || g.ID == 0 || g.Count != 1 {
			t.Errorf("send goroutine: id %d state %q count %d", g.ID, g.State, g.Count)
		}
		f := g.Frames[0]
		if f.Receiver() != "*liveConn" || f.Name() != "liveSend" || f.Pkg() != "github.com/amqpleaks/amqpleaks/stackparse_test" {
			t.Errorf("frame split: %q → %q %q %q", f.Func, f.Pkg(), f.Receiver(), f.Name())
		}
		if w, certain := f.FirstArg(); w != recv || !certain {
			t.Errorf("receiver word %q (certain %v), want %q (args %q)", w, certain, recv, f.Args)
		}
		if !strings.HasSuffix(f.File, "stackparse/live_test.go") || f.Line == 0 {
			t.Errorf("file %s:%d", f.File, f.Line)
		}
		if !strings.Contains(g.CreatedBy.Func, "startParked") || g.CreatorID == 0 {
			t.Errorf("creator %q in goroutine %d", g.CreatedBy.Func, g.CreatorID)
		}
	}
	for fn, state := range map[string]string{
		"liveRecv": "chan receive", "liveLock": "sync.Mutex.Lock", "liveAccept": "IO wait", "liveSelect": "chan receive",
	} {
		gs := byFunc(d.Goroutines, "."+fn)
		if len(gs) != 1 || gs[0].State != state {
			t.Errorf("%s: %d goroutines, state %q, want 1 in %q", fn, len(gs), stateOf(gs), state)
		}
	}
}

func stateOf(gs []*stackparse.Goroutine) string {
	if len(gs) == 0 {
		return ""
	}
	return gs[0].State
}

func TestLiveProfiles(t *testing.T) {
	startParked(t)
	for _, debug := range []int{0, 1} {
		var buf bytes.Buffer
		if err := pprof.Lookup("goroutine").WriteTo(&buf, debug); err != nil {
			t.Fatal(err)
		}
		d, err := stackparse.Parse(&buf)
		if err != nil {
			t.Fatalf("debug=%d: %v", debug, err)
		}
		want := map[int]stackparse.Format{0: stackparse.FormatProto, 1: stackparse.FormatDebug1}[debug]
		if d.Format != want {
			t.Errorf("debug=%d: format %v", debug, d.Format)
		}
		if n := count(byFunc(d.Goroutines, ".(*liveConn).liveSend")); n != 3 {
			t.Errorf("debug=%d: liveSend count %d, want 3", debug, n)
		}
		for _, g := range d.Goroutines {
			if g.ID != 0 {
				t.Errorf("debug=%d: aggregated record with ID %d", debug, g.ID)
			}
		}
		sel := byFunc(d.Goroutines, ".liveSelect")
		if len(sel) != 1 {
			t.Fatalf("debug=%d: liveSelect records %d", debug, len(sel))
		}
		if v, ok := sel[0].Label("amqp.conn"); !ok || v != "orders]1, \"x\"" {
			t.Errorf("debug=%d: label %q %v", debug, v, ok)
		}
		lock := byFunc(d.Goroutines, ".liveLock")
		if len(lock) != 1 || lock[0].State != "sync.Mutex.Lock" || !lock[0].StateInferred {
			t.Errorf("debug=%d: liveLock state %q", debug, stateOf(lock))
		}
		sends := byFunc(d.Goroutines, ".(*liveConn).liveSend")
		// The proto keeps runtime.chansend; debug=1 hides it, so the state
		// cannot be known there.
		wantState := map[int]string{0: "chan send", 1: stackparse.StateUnknown}[debug]
		if len(sends) == 0 || sends[0].State != wantState {
			t.Errorf("debug=%d: liveSend state %q, want %q", debug, stateOf(sends), wantState)
		}
	}
}
