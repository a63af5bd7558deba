// Package gen parks a realistic mix of real goroutines in the current process
// and writes the runtime's own goroutine dumps of them.
//
// Nothing here fakes a dump: every line is printed by runtime.Stack or
// runtime/pprof about goroutines that really are blocked on channels, selects,
// loopback sockets, mutexes, wait groups, condition variables and timers, at
// call depths from 5 to 30 frames (and a few deeper than the runtime's
// 100-frame limit, so that the dump contains elided-frame markers).
//
// A Workload cannot be stopped: its goroutines stay parked for the life of the
// process. Generate each dump in a process of its own (the commands re-exec
// themselves for that; see Child).
package gen

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is one way a generated goroutine is parked.
type Kind int

// The kinds of parked goroutine, with the wait reason the runtime prints.
const (
	ChanRecv      Kind = iota // [chan receive]
	ChanRecvNil               // [chan receive (nil chan)]
	ChanSend                  // [chan send]
	Select                    // [select]
	SelectNoCases             // [select (no cases)]
	IOWait                    // [IO wait]: Read on a loopback TCP conn, or Accept
	MutexLock                 // [sync.Mutex.Lock]
	RWMutexRLock              // [sync.RWMutex.RLock]
	RWMutexLock               // [sync.RWMutex.Lock] for the first writer of a lock, [sync.Mutex.Lock] for the writers queued behind it
	WaitGroupWait             // [sync.WaitGroup.Wait]
	CondWait                  // [sync.Cond.Wait]
	Sleep                     // [sleep]
	numKinds
)

var kindNames = [numKinds]string{
	ChanRecv:      "chan receive",
	ChanRecvNil:   "chan receive (nil chan)",
	ChanSend:      "chan send",
	Select:        "select",
	SelectNoCases: "select (no cases)",
	IOWait:        "IO wait",
	MutexLock:     "sync.Mutex.Lock",
	RWMutexRLock:  "sync.RWMutex.RLock",
	RWMutexLock:   "sync.RWMutex.Lock",
	WaitGroupWait: "sync.WaitGroup.Wait",
	CondWait:      "sync.Cond.Wait",
	Sleep:         "sleep",
}

func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// weights is the mix, per mille. IO wait is capped by Config.MaxConns; the
// excess becomes chan receive.
var weights = [numKinds]int{
	ChanRecv:      200,
	ChanRecvNil:   10,
	ChanSend:      100,
	Select:        200,
	SelectNoCases: 5,
	IOWait:        60,
	MutexLock:     100,
	RWMutexRLock:  30,
	RWMutexLock:   10,
	WaitGroupWait: 60,
	CondWait:      45,
	Sleep:         180,
}

// depths are the call depths of our own code under the goroutine's entry
// function (the runtime adds 1–4 frames of its own on top), each listed as
// often as it is drawn: mostly shallow, with a tail to 30.
var depths = []int{
	5, 5, 5, 5, 6, 6, 6, 7, 7, 8, 8, 8, 9, 10, 10, 11, 12, 12, 14, 15,
	16, 18, 20, 22, 24, 26, 30,
}

// Config says what to park.
type Config struct {
	// N is the number of goroutines to park.
	N int
	// MaxConns caps the loopback TCP connections (each has two ends, each
	// end one goroutine in IO wait, so 2*MaxConns file descriptors).
	// 0 means 4000.
	MaxConns int
	// DeepEvery gives every DeepEvery-th goroutine a 140-frame stack, which
	// the runtime prints with "...N frames elided...". 0 means 1000; <0 none.
	DeepEvery int
	// Seed makes the mix reproducible. 0 means 1.
	Seed uint64
}

// Workload is a set of parked goroutines.
type Workload struct {
	N     int
	Kinds map[string]int // goroutines per kind, named by the wait reason the kind normally shows
	Deep  int            // goroutines with a stack over 100 frames

	res   []*resource
	ln    net.Listener
	conns []net.Conn
	stop  chan struct{}
	timer *time.Timer
	ready atomic.Int64
}

// resource is what a group of goroutines blocks on. Nothing ever sends,
// receives, unlocks or signals, so they stay parked.
type resource struct {
	recv   chan *request  // only receivers
	send   chan *request  // only senders
	sel1   chan int       // nobody
	sel2   chan []byte    // nobody
	mu     sync.Mutex     // held by Start
	rw     sync.RWMutex   // write-locked by Start
	rw2    sync.RWMutex   // read-locked by Start
	wg     sync.WaitGroup // Add(1), never Done
	condMu sync.Mutex
	cond   *sync.Cond
}

type request struct {
	id      uint64
	path    string
	payload []byte
	hdr     map[string]string
}

type codec struct {
	version int
	flags   uint32
}

type worker struct {
	w     *Workload
	id    int
	kind  Kind
	res   *resource
	conn  net.Conn
	codec codec
	hook  func(req *request, depth int)
}

// Start parks cfg.N goroutines and returns once all of them are blocked.
func Start(cfg Config) (*Workload, error) {
	if cfg.N <= 0 {
		return nil, errors.New("gen: N must be positive")
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 4000
	}
	if cfg.DeepEvery == 0 {
		cfg.DeepEvery = 1000
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x616d71706c65616b))

	// A shuffled table of 1000 kinds, so neighbours differ and every
	// 1000 goroutines hold the exact mix.
	table := make([]Kind, 0, 1000)
	for k := Kind(0); k < numKinds; k++ {
		for i := 0; i < weights[k]; i++ {
			table = append(table, k)
		}
	}
	rng.Shuffle(len(table), func(i, j int) { table[i], table[j] = table[j], table[i] })

	kinds := make([]Kind, cfg.N)
	nIO := 0
	for i := range kinds {
		k := table[i%len(table)]
		if k == IOWait {
			if nIO >= 2*cfg.MaxConns {
				k = ChanRecv
			} else {
				nIO++
			}
		}
		kinds[i] = k
	}

	w := &Workload{
		N:     cfg.N,
		Kinds: map[string]int{},
		stop:  make(chan struct{}),
		timer: time.NewTimer(1000 * time.Hour),
	}
	const nres = 64
	for i := 0; i < nres; i++ {
		r := &resource{
			recv: make(chan *request),
			send: make(chan *request),
			sel1: make(chan int),
			sel2: make(chan []byte),
		}
		r.cond = sync.NewCond(&r.condMu)
		r.mu.Lock()
		r.rw.Lock()
		r.rw2.RLock()
		r.wg.Add(1)
		w.res = append(w.res, r)
	}

	// Loopback connections: the first IO goroutine blocks in Accept, the
	// others each Read one end of a connection nobody writes to.
	if nIO > 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("gen: listen: %w", err)
		}
		w.ln = ln
		for len(w.conns) < nIO-1 {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return nil, fmt.Errorf("gen: dial loopback (conn %d; raise ulimit -n or lower MaxConns): %w", len(w.conns), err)
			}
			s, err := ln.Accept()
			if err != nil {
				return nil, fmt.Errorf("gen: accept: %w", err)
			}
			w.conns = append(w.conns, c, s)
		}
	}

	ioNext := 0
	for i := 0; i < cfg.N; i++ {
		k := kinds[i]
		wk := &worker{
			w:     w,
			id:    i,
			kind:  k,
			res:   w.res[i%nres],
			codec: codec{version: 1 + i%3, flags: uint32(i)},
		}
		if k == IOWait {
			if ioNext > 0 {
				wk.conn = w.conns[ioNext-1]
			}
			ioNext++
		}
		wk.hook = func(req *request, depth int) {
			wk.dispatch(req, depth)
		}
		depth := depths[rng.IntN(len(depths))]
		if cfg.DeepEvery > 0 && i%cfg.DeepEvery == cfg.DeepEvery-1 {
			depth = 140
			w.Deep++
		}
		req := &request{
			id:      uint64(i),
			path:    "/api/v1/items",
			payload: make([]byte, 16+i%48),
			hdr:     nil,
		}
		w.Kinds[k.String()]++
		if i%2 == 0 {
			go func() {
				wk.serve(req, depth)
			}()
		} else {
			go wk.run(req, depth)
		}
	}

	// Wait until every goroutine has reached its blocking call, then give
	// the scheduler time to actually park the last ones.
	deadline := time.Now().Add(10 * time.Minute)
	for w.ready.Load() < int64(cfg.N) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("gen: only %d of %d goroutines parked", w.ready.Load(), cfg.N)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := 0; i < 20; i++ {
		runtime.Gosched()
	}
	time.Sleep(50*time.Millisecond + time.Duration(cfg.N)*100*time.Nanosecond)
	return w, nil
}

// KindNames lists the wait reasons in a stable order.
func (w *Workload) KindNames() []string {
	var s []string
	for k := range w.Kinds {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

//go:noinline
func (wk *worker) serve(req *request, depth int) {
	wk.dispatch(req, depth-1)
}

//go:noinline
func (wk *worker) run(req *request, depth int) {
	wk.dispatch(req, depth-1)
}

// dispatch descends depth more frames through a rotation of plain
// functions, pointer-receiver and value-receiver methods, a closure and a
// generic function, then parks.
//
//go:noinline
func (wk *worker) dispatch(req *request, depth int) {
	if depth <= 1 {
		wk.park(req)
		return
	}
	switch (depth + wk.id) % 5 {
	case 0:
		wk.dispatch(req, depth-1)
	case 1:
		decode(wk, req, req.payload, depth-1)
	case 2:
		wk.hook(req, depth-1)
	case 3:
		relay[string](wk, req, req.path, depth-1)
	case 4:
		wk.codec.frame(wk, req, uint32(depth), depth-1)
	}
}

//go:noinline
func decode(wk *worker, req *request, buf []byte, depth int) {
	if len(buf) == 0 {
		panic("unreachable")
	}
	wk.dispatch(req, depth)
}

//go:noinline
func relay[T any](wk *worker, req *request, tag T, depth int) {
	_ = tag
	wk.dispatch(req, depth)
}

//go:noinline
func (c codec) frame(wk *worker, req *request, seq uint32, depth int) {
	if c.version < 0 || seq == 0 {
		panic("unreachable")
	}
	wk.dispatch(req, depth)
}

// park blocks forever in the way wk.kind says.
//
//go:noinline
func (wk *worker) park(req *request) {
	r := wk.res
	w := wk.w
	switch wk.kind {
	case ChanRecv:
		w.ready.Add(1)
		<-r.recv
	case ChanRecvNil:
		var c chan *request
		w.ready.Add(1)
		<-c
	case ChanSend:
		w.ready.Add(1)
		r.send <- req
	case Select:
		w.ready.Add(1)
		if wk.id%3 == 0 {
			select {
			case <-r.sel1:
			case r.sel2 <- req.payload:
			case <-w.timer.C:
			case <-w.stop:
			}
		} else {
			select {
			case <-r.sel1:
			case <-w.stop:
			}
		}
	case SelectNoCases:
		w.ready.Add(1)
		select {}
	case IOWait:
		if wk.conn == nil {
			w.ready.Add(1)
			c, err := w.ln.Accept()
			if err == nil {
				c.Close()
			}
			select {}
		}
		buf := make([]byte, 512)
		w.ready.Add(1)
		wk.conn.Read(buf)
		select {}
	case MutexLock:
		w.ready.Add(1)
		r.mu.Lock()
	case RWMutexRLock:
		w.ready.Add(1)
		r.rw.RLock()
	case RWMutexLock:
		w.ready.Add(1)
		r.rw2.Lock()
	case WaitGroupWait:
		w.ready.Add(1)
		r.wg.Wait()
	case CondWait:
		r.condMu.Lock()
		w.ready.Add(1)
		r.cond.Wait()
	case Sleep:
		w.ready.Add(1)
		time.Sleep(1000 * time.Hour)
	}
	select {}
}

// WriteTraceback writes runtime.Stack(buf, true) — the same text as a
// SIGQUIT dump or /debug/pprof/goroutine?debug=2 — growing buf until the
// whole dump fits. It returns the number of bytes written.
func WriteTraceback(out io.Writer, n int) (int, error) {
	size := n*4096 + 1<<20 // ~1.5–3 KiB per goroutine in practice
	for {
		buf := make([]byte, size)
		m := runtime.Stack(buf, true)
		if m < len(buf) {
			return out.Write(buf[:m])
		}
		size *= 2
	}
}

// WriteProfile writes the goroutine profile at the given pprof debug level:
// 0 is the gzipped protobuf, 1 the aggregated "N @ 0x…" text.
func WriteProfile(out io.Writer, debug int) error {
	return pprof.Lookup("goroutine").WriteTo(out, debug)
}

// ParseSize parses "1k", "10k", "100k", "1m", "250" into a goroutine count.
func ParseSize(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mul := 1
	switch {
	case strings.HasSuffix(t, "k"):
		mul, t = 1000, t[:len(t)-1]
	case strings.HasSuffix(t, "m"):
		mul, t = 1000000, t[:len(t)-1]
	}
	v, err := strconv.Atoi(t)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad size %q (want e.g. 1k, 10k, 100k, 1m)", s)
	}
	return v * mul, nil
}

// SizeLabel is the inverse of ParseSize: 1000 → "1k", 1000000 → "1m".
func SizeLabel(n int) string {
	switch {
	case n%1000000 == 0:
		return strconv.Itoa(n/1000000) + "m"
	case n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// ParseSizes parses a comma-separated list of sizes.
func ParseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		n, err := ParseSize(f)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// Paths of the files written for a size.
func TracebackPath(dir string, n int) string {
	return filepath.Join(dir, "dump-"+SizeLabel(n)+".txt")
}
func Debug1Path(dir string, n int) string {
	return filepath.Join(dir, "dump-"+SizeLabel(n)+".debug1.txt")
}
func ProtoPath(dir string, n int) string {
	return filepath.Join(dir, "dump-"+SizeLabel(n)+".pb.gz")
}
func MetaPath(dir string, n int) string {
	return filepath.Join(dir, "dump-"+SizeLabel(n)+".json")
}

// Meta describes a generated dump; it is written beside it as JSON.
type Meta struct {
	Requested      int            `json:"requested"`       // goroutines parked by the workload
	NumGoroutine   int            `json:"num_goroutine"`   // runtime.NumGoroutine() right before the dump: what a parser must find
	Deep           int            `json:"deep"`            // goroutines with >100 frames (elided)
	Kinds          map[string]int `json:"kinds"`           // workload goroutines per wait reason
	TracebackBytes int64          `json:"traceback_bytes"` // size of dump-N.txt
	Debug1Bytes    int64          `json:"debug1_bytes,omitempty"`
	ProtoBytes     int64          `json:"proto_bytes,omitempty"`
	GoVersion      string         `json:"go_version"`
	Age            string         `json:"age"` // how long the goroutines were parked before the dump
	StartSeconds   float64        `json:"start_seconds"`
	DumpSeconds    float64        `json:"dump_seconds"`
}

// Options for Generate.
type Options struct {
	Config
	// Dir receives the files.
	Dir string
	// Profiles also writes the debug=1 text and the debug=0 proto of the
	// same process.
	Profiles bool
	// Age keeps the goroutines parked this long (after a GC, which is when
	// the runtime records when a goroutine started waiting) before dumping,
	// so that headers carry ", N minutes" as in real leak dumps. Use >= 61s
	// for "1 minutes".
	Age time.Duration
	// Log receives progress lines (nil: none).
	Log io.Writer `json:"-"`
}

// Generate parks opt.N goroutines in this process and writes the dumps.
// Call it in a process of its own: the goroutines are never released.
func Generate(opt Options) (*Meta, error) {
	logf := func(format string, a ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, format+"\n", a...)
		}
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, err
	}
	t0 := time.Now()
	w, err := Start(opt.Config)
	if err != nil {
		return nil, err
	}
	meta := &Meta{
		Requested: w.N,
		Deep:      w.Deep,
		Kinds:     w.Kinds,
		GoVersion: runtime.Version(),
		Age:       opt.Age.String(),
	}
	meta.StartSeconds = time.Since(t0).Seconds()
	logf("gen %s: %d goroutines parked in %.1fs", SizeLabel(opt.N), w.N, meta.StartSeconds)
	if opt.Age > 0 {
		runtime.GC() // records waitsince for every parked goroutine
		logf("gen %s: waiting %s so headers show wait minutes", SizeLabel(opt.N), opt.Age)
		time.Sleep(opt.Age)
	}

	write := func(path string, f func(io.Writer) error) (int64, error) {
		tmp := path + ".tmp"
		fh, err := os.Create(tmp)
		if err != nil {
			return 0, err
		}
		if err := f(fh); err != nil {
			fh.Close()
			os.Remove(tmp)
			return 0, err
		}
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			return 0, err
		}
		if err := fh.Close(); err != nil {
			return 0, err
		}
		return st.Size(), os.Rename(tmp, path)
	}

	t1 := time.Now()
	meta.NumGoroutine = runtime.NumGoroutine()
	meta.TracebackBytes, err = write(TracebackPath(opt.Dir, opt.N), func(out io.Writer) error {
		_, err := WriteTraceback(out, opt.N)
		return err
	})
	if err != nil {
		return nil, err
	}
	meta.DumpSeconds = time.Since(t1).Seconds()
	logf("gen %s: wrote %s (%d bytes) in %.1fs", SizeLabel(opt.N), TracebackPath(opt.Dir, opt.N), meta.TracebackBytes, meta.DumpSeconds)
	if opt.Profiles {
		meta.Debug1Bytes, err = write(Debug1Path(opt.Dir, opt.N), func(out io.Writer) error { return WriteProfile(out, 1) })
		if err != nil {
			return nil, err
		}
		meta.ProtoBytes, err = write(ProtoPath(opt.Dir, opt.N), func(out io.Writer) error { return WriteProfile(out, 0) })
		if err != nil {
			return nil, err
		}
		logf("gen %s: wrote %s (%d bytes) and %s (%d bytes)", SizeLabel(opt.N),
			Debug1Path(opt.Dir, opt.N), meta.Debug1Bytes, ProtoPath(opt.Dir, opt.N), meta.ProtoBytes)
	}
	b, _ := json.MarshalIndent(meta, "", "  ")
	if err := os.WriteFile(MetaPath(opt.Dir, opt.N), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return meta, nil
}

// ReadMeta reads the JSON written beside a dump by Generate.
func ReadMeta(dir string, n int) (*Meta, error) {
	b, err := os.ReadFile(MetaPath(dir, n))
	if err != nil {
		return nil, err
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
