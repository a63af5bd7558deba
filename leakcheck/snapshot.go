package leakcheck

import (
	"bytes"
	"runtime"
	"runtime/pprof"
	"sync"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// bufPool holds the buffers tracebacks and profiles are written to, so a
// passing check allocates little.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

var stackBufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// tracebackInto returns runtime.Stack(buf, true) in a pooled buffer: every
// goroutine with its ID, wait reason, wait time, argument words and
// creator, the current one first. release gives the buffer back.
func tracebackInto() (data []byte, release func()) {
	bp := stackBufPool.Get().(*[]byte)
	for {
		n := runtime.Stack(*bp, true)
		if n < len(*bp) {
			return (*bp)[:n], func() { stackBufPool.Put(bp) }
		}
		*bp = make([]byte, 2*len(*bp))
	}
}

// profile writes the goroutine profile at debug level 1 (aggregated text
// with labels: cheap, what Check polls) or 0 (the proto profile, which also
// keeps the runtime frames that tell a wait reason).
func profile(debug int) (*bytes.Buffer, func()) {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	_ = pprof.Lookup("goroutine").WriteTo(b, debug)
	return b, func() { bufPool.Put(b) }
}

// currentID is the ID of the calling goroutine.
func currentID() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := bytes.TrimPrefix(buf[:n], []byte("goroutine "))
	var id int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}

// each calls f with every goroutine of data (reused between calls: Clone
// to keep).
func each(data []byte, f func(*stackparse.Goroutine)) (stackparse.Format, error) {
	r := stackparse.NewReader(bytes.NewReader(data))
	for r.Next() {
		f(r.Goroutine())
	}
	return r.Format(), r.Err()
}
