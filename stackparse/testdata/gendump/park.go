package main

// This file parks goroutines in known states. Every parked goroutine runs
// through a distinctly named function (Kind.Func) so that a parser test can
// find it in a dump. Nothing in this file may be renamed without
// regenerating the corpus (see regen.sh).

import (
	"context"
	"net"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Kind describes one family of parked goroutines and what a dump must show
// for it. It is serialised into manifest.json.
type Kind struct {
	Name string `json:"name"`
	// Func is the exact function name, as the traceback prints it, of a
	// frame that appears in the stack of every goroutine of this kind and in
	// no other goroutine of the program.
	Func string `json:"func"`
	// Count is how many goroutines of this kind were started.
	Count int `json:"count"`
	// WaitReason is the status printed inside the brackets, exactly as this
	// Go version prints it (without minutes, "locked to thread", labels...).
	WaitReason string `json:"wait_reason"`
	// MinWaitMinutes is the minimum ", N minutes" value expected in the
	// debug=2 / panic / SIGQUIT header (0: no minutes part expected).
	MinWaitMinutes int `json:"min_wait_minutes"`
	// LockedToThread: header contains ", locked to thread".
	LockedToThread bool `json:"locked_to_thread"`
	// Labels are the pprof labels of the goroutines (nil: none). They
	// appear in debug=1 "# labels:" lines and, when the run prints
	// traceback labels, in the debug=2 header.
	Labels map[string]string `json:"labels,omitempty"`
	// CreatedBy is the function in the "created by F in goroutine N" line.
	CreatedBy string `json:"created_by"`
	// CreatedByGoroutine is N in "created by F in goroutine N" (Go 1.21+).
	CreatedByGoroutine int `json:"created_by_goroutine"`
	// Ancestors is the number of "[originating from goroutine N]:" blocks
	// expected when the run has GODEBUG=tracebackancestors=5 (0 otherwise).
	Ancestors int `json:"ancestors"`
	// Elided: the stack is deep enough that the runtime prints
	// "...N frames elided..." (or "...additional frames elided...").
	Elided bool `json:"elided,omitempty"`
	// Leaked: in goroutineleak_debug2.txt the header shows " (leaked)"
	// and no ", N minutes" (the runtime prints minutes only for waiting
	// and syscall goroutines, not leaked ones).
	Leaked bool `json:"leaked,omitempty"`
	// FuncDebug1, when set, replaces Func in debug=1 and proto profiles,
	// whose stacks are truncated (pprof keeps at most 32 or 128 frames).
	FuncDebug1 string `json:"func_debug1,omitempty"`
	// Durable: header shows " (durable)" (synctest bubbles only).
	Durable bool `json:"durable,omitempty"`
	// Bubble: header shows ", synctest bubble N".
	Bubble bool `json:"synctest_bubble,omitempty"`
	// Constructs lists the traceback syntax this kind exercises, e.g.
	// "pointer-receiver", "closure", "gowrap", "generic", "inlined",
	// "struct-arg", "interface-arg", "unknown-arg(?)", "many-args(...)".
	Constructs []string `json:"constructs,omitempty"`
	// Notes is free text.
	Notes string `json:"notes,omitempty"`
}

var goMinor = parseMinor(runtime.Version())

func parseMinor(v string) int {
	// "go1.26.8" -> 26; "devel ..." -> 99
	if len(v) < 4 || v[:4] != "go1." {
		return 99
	}
	n := 0
	for _, c := range v[4:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// hold keeps every synchronisation object reachable from a global so that
// the goroutine leak detector (Go 1.26+) does not consider them leaked.
var hold struct {
	sync.Mutex
	chans     []any
	mu        sync.Mutex
	rw        sync.RWMutex
	wg        sync.WaitGroup
	cond      *sync.Cond
	condMu    sync.Mutex
	lns       []net.Listener
	conns     []net.Conn
	fds       []int
	anything  []any
	readyWG   sync.WaitGroup
	lockedGos int
}

func keep(v ...any) {
	hold.Lock()
	hold.anything = append(hold.anything, v...)
	hold.Unlock()
}

// ---- simple channel states ----

//go:noinline
func parkChanSend(ch chan int) { ch <- 1 }

//go:noinline
func parkChanRecv(ch chan int) { <-ch }

//go:noinline
func parkChanRecvNil() {
	var ch chan int
	<-ch
}

//go:noinline
func parkSelect(a, b chan int) {
	select {
	case <-a:
	case b <- 1:
	}
}

//go:noinline
func parkSelectNoCases() { select {} }

// ---- sync ----

//go:noinline
func parkMutexLock(mu *sync.Mutex) { mu.Lock() }

//go:noinline
func parkRWMutexRLock(rw *sync.RWMutex) { rw.RLock() }

//go:noinline
func parkWaitGroupWait(wg *sync.WaitGroup) { wg.Wait() }

//go:noinline
func parkCondWait(c *sync.Cond) {
	c.L.Lock()
	for {
		c.Wait()
	}
}

//go:noinline
func parkSleep(d time.Duration) { time.Sleep(d) }

// ---- IO / syscall ----

//go:noinline
func parkAccept(ln net.Listener) {
	c, err := ln.Accept()
	if err == nil {
		keep(c)
	}
}

type amqpConn struct {
	nc     net.Conn
	frames int
}

// reader is a pointer-receiver method with pointer and slice arguments,
// blocked in IO wait on a TCP conn Read.
//
//go:noinline
func (c *amqpConn) reader(buf []byte, frameMax *int) {
	for {
		n, err := c.nc.Read(buf)
		if err != nil {
			return
		}
		c.frames += n + *frameMax
	}
}

//go:noinline
func parkSyscallRead(fd int) {
	buf := make([]byte, 1)
	syscall.Read(fd, buf)
}

//go:noinline
func parkLockedThread(ch chan int) {
	runtime.LockOSThread()
	<-ch
}

// ---- traceback syntax ----

type server struct {
	port  int
	vhost int
}

// serve is a value-receiver method; its receiver prints as {...}.
//
//go:noinline
func (s server) serve(ch chan int) { <-ch }

type point struct{ x, y, z int64 }

//go:noinline
func parkStructArg(p point, ch chan int) { <-ch }

//go:noinline
func parkIfaceArg(v any, err error, ch chan int) { <-ch }

//go:noinline
func parkManyArgs(a, b, c, d, e, f, g, h, i, j, k, l int, ch chan int) {
	<-ch
}

// parkDeadArg's first argument is dead at the blocking call, so the
// traceback may print it with a "?" suffix.
//
//go:noinline
func parkDeadArg(x int, ch chan int) {
	if x > 0 {
		<-ch
	}
}

//go:noinline
func parkGeneric[T any](v T, ch chan T) { <-ch }

// inlinedRecv is small enough to be inlined into parkInlinedCaller; the
// traceback shows it as "main.inlinedRecv(...)".
func inlinedRecv(ch chan int) int { return <-ch }

//go:noinline
func parkInlinedCaller(ch chan int) int { return inlinedRecv(ch) + 1 }

//go:noinline
func startGowrap(ch chan int) {
	// "go func(args){...}(args)": the compiler wraps the call of the
	// closure main.startGowrap.func1 in main.startGowrap.gowrap1
	// (Go 1.22+), which shows up as a frame of its own.
	go func(n int, c chan int) {
		<-c
	}(42, ch)
}

//go:noinline
func startClosures(ch chan int, done chan struct{}) {
	// main.startClosures.func1 (blocks) and main.startClosures.func2.1
	// (nested closure, created by main.startClosures.func2).
	x := 7
	go func() {
		x++
		<-ch
	}()
	go func() {
		go func() {
			x++
			<-ch
		}()
		done <- struct{}{}
	}()
}

//go:noinline
func recurse(n int, ch chan int) int {
	if n == 0 {
		// Created 150 frames deep: with GODEBUG=tracebackancestors its
		// "[originating from goroutine N]" block (at most 50 frames) ends
		// in "...additional frames elided...".
		go parkDeepChild(ch)
		<-ch
		return 0
	}
	return recurse(n-1, ch) + 1
}

//go:noinline
func parkDeepChild(ch chan int) { <-ch }

//go:noinline
func parkDeep(ch chan int) { recurse(150, ch) }

// ---- ancestry chain: main -> ancestorA -> ancestorB -> ancestorC ----

//go:noinline
func ancestorA(ch chan int) {
	go ancestorB(ch)
	<-ch
}

//go:noinline
func ancestorB(ch chan int) {
	go ancestorC(ch)
	<-ch
}

//go:noinline
func ancestorC(ch chan int) { <-ch }

// ---- labels ----

//go:noinline
func parkLabeled(ch chan int) { <-ch }

// LabelSet is the pprof label set used for the "labeled" kind. Values
// contain ']', ',', spaces, quotes and escapes on purpose.
var labelSet = map[string]string{
	"amqp.queue": "orders",
	"conn id":    `c1, "peer" [10.0.0.1]`,
	"tricky]":    "tab\there\\back\nnl é",
}

//go:noinline
func startLabeled(ch chan int, n int) {
	pprof.Do(context.Background(), pprof.Labels(
		"amqp.queue", labelSet["amqp.queue"],
		"conn id", labelSet["conn id"],
		"tricky]", labelSet["tricky]"],
	), func(ctx context.Context) {
		for i := 0; i < n; i++ {
			go parkLabeled(ch)
		}
	})
}

// ---- leak detection (Go 1.26 GOEXPERIMENT=goroutineleakprofile, 1.27) ----

//go:noinline
func parkLeaked() {
	ch := make(chan int) // unreachable from anything but this goroutine
	ch <- 1
}

// parkAll starts every kind of goroutine and returns their descriptions.
// wait is the delay before the dump; min minutes are derived from it.
func parkAll(wait time.Duration) []Kind {
	mins := int(wait / time.Minute)
	me := curGoid()
	var kinds []Kind
	add := func(k Kind) {
		if k.CreatedBy == "" {
			k.CreatedBy = "main.parkAll"
		}
		if k.CreatedByGoroutine == 0 {
			k.CreatedByGoroutine = me
		}
		if k.Ancestors == 0 {
			k.Ancestors = 1
		}
		fixPkg(&k)
		kinds = append(kinds, k)
	}
	wgReason := "semacquire"
	if goMinor >= 24 {
		wgReason = "sync.WaitGroup.Wait"
	}
	newCh := func() chan int {
		ch := make(chan int)
		hold.Lock()
		hold.chans = append(hold.chans, ch)
		hold.Unlock()
		return ch
	}

	ch := newCh()
	for i := 0; i < 2; i++ {
		go parkChanSend(ch)
	}
	add(Kind{Name: "chan_send", Func: "main.parkChanSend", Count: 2, WaitReason: "chan send", MinWaitMinutes: mins})

	ch = newCh()
	for i := 0; i < 3; i++ {
		go parkChanRecv(ch)
	}
	add(Kind{Name: "chan_receive", Func: "main.parkChanRecv", Count: 3, WaitReason: "chan receive", MinWaitMinutes: mins})

	go parkChanRecvNil()
	add(Kind{Name: "chan_receive_nil", Func: "main.parkChanRecvNil", Count: 1, WaitReason: "chan receive (nil chan)", MinWaitMinutes: mins, Leaked: true})

	a, b := newCh(), newCh()
	go parkSelect(a, b)
	add(Kind{Name: "select", Func: "main.parkSelect", Count: 1, WaitReason: "select", MinWaitMinutes: mins})

	go parkSelectNoCases()
	add(Kind{Name: "select_no_cases", Func: "main.parkSelectNoCases", Count: 1, WaitReason: "select (no cases)", MinWaitMinutes: mins, Leaked: true})

	hold.mu.Lock()
	go parkMutexLock(&hold.mu)
	add(Kind{Name: "mutex_lock", Func: "main.parkMutexLock", Count: 1, WaitReason: "sync.Mutex.Lock", MinWaitMinutes: mins})

	hold.rw.Lock()
	for i := 0; i < 2; i++ {
		go parkRWMutexRLock(&hold.rw)
	}
	add(Kind{Name: "rwmutex_rlock", Func: "main.parkRWMutexRLock", Count: 2, WaitReason: "sync.RWMutex.RLock", MinWaitMinutes: mins})

	hold.wg.Add(1)
	go parkWaitGroupWait(&hold.wg)
	add(Kind{Name: "waitgroup_wait", Func: "main.parkWaitGroupWait", Count: 1, WaitReason: wgReason, MinWaitMinutes: mins})

	hold.cond = sync.NewCond(&hold.condMu)
	go parkCondWait(hold.cond)
	add(Kind{Name: "cond_wait", Func: "main.parkCondWait", Count: 1, WaitReason: "sync.Cond.Wait", MinWaitMinutes: mins})

	go parkSleep(24 * time.Hour)
	add(Kind{Name: "sleep", Func: "main.parkSleep", Count: 1, WaitReason: "sleep", MinWaitMinutes: mins})

	// IO wait: a listener that is never dialed, and a server-side conn Read.
	ln1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go parkAccept(ln1)
	add(Kind{Name: "io_wait_accept", Func: "main.parkAccept", Count: 1, WaitReason: "IO wait", MinWaitMinutes: mins})

	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	cli, err := net.Dial("tcp", ln2.Addr().String())
	if err != nil {
		panic(err)
	}
	srv, err := ln2.Accept()
	if err != nil {
		panic(err)
	}
	ac := &amqpConn{nc: srv}
	frameMax := 131072
	go ac.reader(make([]byte, 4096), &frameMax)
	add(Kind{Name: "io_wait_conn_read", Func: "main.(*amqpConn).reader", Count: 1, WaitReason: "IO wait", MinWaitMinutes: mins,
		Constructs: []string{"pointer-receiver", "slice-arg"}})
	hold.Lock()
	hold.lns = append(hold.lns, ln1, ln2)
	hold.conns = append(hold.conns, cli, srv)
	hold.Unlock()

	// A goroutine blocked inside a raw read(2) on a pipe: status "syscall".
	var p [2]int
	if err := syscall.Pipe(p[:]); err == nil {
		hold.Lock()
		hold.fds = append(hold.fds, p[0], p[1])
		hold.Unlock()
		go parkSyscallRead(p[0])
		// Minutes are printed for _Gsyscall only from Go 1.2x on; the
		// self-check in check.go reports the truth for each version.
		add(Kind{Name: "syscall", Func: "main.parkSyscallRead", Count: 1, WaitReason: "syscall", MinWaitMinutes: syscallMinutes(mins)})
	}

	go parkLockedThread(newCh())
	add(Kind{Name: "locked_thread", Func: "main.parkLockedThread", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, LockedToThread: true})

	go server{port: 5672, vhost: 3}.serve(newCh())
	add(Kind{Name: "value_receiver", Func: "main.server.serve", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins,
		Constructs: []string{"value-receiver", "struct-arg"},
		// a method value with arguments is wrapped like any other go f(x)
		CreatedBy: "main.parkAll"})

	go parkStructArg(point{1, 2, 3}, newCh())
	add(Kind{Name: "struct_arg", Func: "main.parkStructArg", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, Constructs: []string{"struct-arg"}})

	var e error = syscall.ENOENT
	go parkIfaceArg("iface", e, newCh())
	add(Kind{Name: "interface_arg", Func: "main.parkIfaceArg", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, Constructs: []string{"interface-arg"}})

	go parkManyArgs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, newCh())
	add(Kind{Name: "many_args", Func: "main.parkManyArgs", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, Constructs: []string{"many-args(...)"}})

	go parkDeadArg(5, newCh())
	add(Kind{Name: "dead_arg", Func: "main.parkDeadArg", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, Constructs: []string{"unknown-arg(?)"}})

	go parkGeneric[int](1, make(chan int))
	go parkGeneric[string]("s", make(chan string))
	add(Kind{Name: "generic", Func: "main.parkGeneric[...]", Count: 2, WaitReason: "chan receive", MinWaitMinutes: mins, Constructs: []string{"generic"},
		Leaked: true, Notes: "channels are unreachable: leaked in goroutineleak profile"})

	go parkInlinedCaller(newCh())
	add(Kind{Name: "inlined", Func: "main.inlinedRecv", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, Constructs: []string{"inlined"}})

	gwCh := newCh()
	startGowrap(gwCh)
	add(Kind{Name: "gowrap", Func: "main.startGowrap.func1", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, Constructs: []string{"closure-with-args", "gowrap"},
		CreatedBy: "main.startGowrap",
		Notes:     "Go 1.22+ wraps the call in main.startGowrap.gowrap1; that wrapper frame is printed only at traceback level >= 2 (GOTRACEBACK=system, SIGQUIT). Go 1.27 inlines func1 into the wrapper, so it prints as main.startGowrap.func1(...)"})

	clCh := newCh()
	done := make(chan struct{})
	startClosures(clCh, done)
	<-done
	add(Kind{Name: "closure", Func: "main.startClosures.func1", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, Constructs: []string{"closure"},
		CreatedBy: "main.startClosures"})
	add(Kind{Name: "nested_closure", Func: "main.startClosures.func2.1", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, Constructs: []string{"closure", "nested-closure"},
		CreatedBy: "main.startClosures.func2", CreatedByGoroutine: -1, Ancestors: 2,
		Notes: "creator goroutine has exited; its id is not fixed (-1)"})

	go parkDeep(newCh())
	add(Kind{Name: "deep_recursion", Func: "main.parkDeep", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, Elided: true, FuncDebug1: "main.recurse",
		Notes: "main.recurse recursion 150 deep; main.parkDeep is below the elided part"})

	add(Kind{Name: "deep_child", Func: "main.parkDeepChild", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins,
		CreatedBy: "main.recurse", CreatedByGoroutine: -1, Ancestors: 2,
		Notes: "created 150 frames deep by the deep_recursion goroutine; with tracebackancestors its first ancestor block ends in \"...additional frames elided...\""})

	anc := newCh()
	go ancestorA(anc)
	add(Kind{Name: "ancestor_a", Func: "main.ancestorA", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins})
	add(Kind{Name: "ancestor_b", Func: "main.ancestorB", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, CreatedBy: "main.ancestorA", CreatedByGoroutine: -1, Ancestors: 2})
	add(Kind{Name: "ancestor_c", Func: "main.ancestorC", Count: 1, WaitReason: "chan receive", MinWaitMinutes: mins, CreatedBy: "main.ancestorB", CreatedByGoroutine: -1, Ancestors: 3})

	startLabeled(newCh(), 2)
	add(Kind{Name: "labeled", Func: "main.parkLabeled", Count: 2, WaitReason: "chan receive", MinWaitMinutes: mins, Labels: labelSet,
		CreatedBy: "main.startLabeled.func1"})

	go parkLeaked()
	add(Kind{Name: "leaked", Func: "main.parkLeaked", Count: 1, WaitReason: "chan send", MinWaitMinutes: mins, Leaked: true})

	// Let every goroutine reach its blocking point, then run two GCs: the
	// runtime stamps gp.waitsince (the base of ", N minutes") only when a
	// GC's root marking finds a goroutine waiting or in a syscall, and it
	// stamps it with the mark-termination time of the previous GC (0, i.e.
	// "never", before the first GC has finished).
	time.Sleep(300 * time.Millisecond)
	runtime.GC()
	runtime.GC()
	return kinds
}

// curGoid returns the id of the calling goroutine (from runtime.Stack).
func curGoid() int {
	var b [64]byte
	s := string(b[:runtime.Stack(b[:], false)])
	n := 0
	for _, c := range s[len("goroutine "):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// pkgPrefix is "main." in the gendump binary and "gendump." in its test
// binary (go test compiles package main under its import path).
var pkgPrefix = func() string {
	f := runtime.FuncForPC(reflect.ValueOf(parkChanSend).Pointer()).Name()
	return strings.TrimSuffix(f, "parkChanSend")
}()

func fixPkg(k *Kind) {
	fix := func(s string) string {
		if strings.HasPrefix(s, "main.") {
			return pkgPrefix + s[len("main."):]
		}
		return s
	}
	k.Func = fix(k.Func)
	k.FuncDebug1 = fix(k.FuncDebug1)
	k.CreatedBy = fix(k.CreatedBy)
}
