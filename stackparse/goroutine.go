package stackparse

import (
	"slices"
	"strings"
)

// Format names the kind of goroutine dump a Reader is reading.
type Format int

const (
	// FormatAuto asks the Reader to detect the format from the input.
	FormatAuto Format = iota
	// FormatTraceback is the full text of panics, SIGQUIT, runtime.Stack(buf, true)
	// and /debug/pprof/goroutine?debug=2: one block per goroutine with its ID,
	// wait reason, wait minutes and argument words.
	FormatTraceback
	// FormatDebug1 is /debug/pprof/goroutine?debug=1: identical stacks aggregated
	// into "N @ 0x…" blocks, without IDs, wait reasons or arguments.
	FormatDebug1
	// FormatProto is the /debug/pprof/goroutine (debug=0) protobuf profile,
	// gzip-compressed or not. Like debug=1 it aggregates identical stacks.
	FormatProto
)

// String returns the name used by ParseFormat and in messages.
func (f Format) String() string {
	switch f {
	case FormatAuto:
		return "auto"
	case FormatTraceback:
		return "traceback"
	case FormatDebug1:
		return "debug1"
	case FormatProto:
		return "proto"
	}
	return "Format(" + itoa(int64(f)) + ")"
}

// ParseFormat maps a name ("auto", "traceback" or "debug2", "debug1",
// "proto" or "debug0") to a Format.
func ParseFormat(s string) (Format, bool) {
	switch strings.ToLower(s) {
	case "auto", "":
		return FormatAuto, true
	case "traceback", "text", "debug2":
		return FormatTraceback, true
	case "debug1":
		return FormatDebug1, true
	case "proto", "debug0", "pprof":
		return FormatProto, true
	}
	return FormatAuto, false
}

// StateUnknown is the State of a goroutine whose wait reason the input does not
// give and the frames do not make certain (debug=1 and proto input).
const StateUnknown = "unknown"

// Goroutine is one goroutine of a full traceback, or one aggregated stack of a
// debug=1 or proto profile (then Count says how many goroutines share it and
// ID is 0).
type Goroutine struct {
	// ID is the goroutine ID, or 0 when the input does not give one.
	ID int64
	// Count is how many goroutines this record stands for: 1 in a traceback.
	Count int
	// State is the wait reason as the runtime prints it ("chan send",
	// "IO wait", "running", "sync.Mutex.Lock", …) without the flags and
	// the wait time, which have fields of their own. In debug=1 and proto
	// input it is inferred from the runtime frames where they make it
	// certain (StateInferred is then true), else StateUnknown.
	State string
	// StateInferred reports that State was derived from the frames, not read.
	StateInferred bool
	// WaitMinutes is the "N minutes" of the header: how long the goroutine
	// has been blocked, rounded down. 0 when not shown (under a minute, or
	// not a full traceback).
	WaitMinutes int
	// LockedToThread is the header's "locked to thread".
	LockedToThread bool
	// Flags holds the parenthesised markers the runtime appends to the
	// state: "scan", "leaked", "durable".
	Flags []string
	// SynctestBubble is the ID of the testing/synctest bubble ("synctest
	// bubble N", or "synctest group N" in Go 1.24), or 0.
	SynctestBubble int64
	// Labels are the pprof labels, in the order printed.
	Labels []Label
	// GP, M and MP are the "gp=0x… m=N mp=0x…" words of the header printed
	// under GOTRACEBACK=system or during a fatal error ("" when absent; M
	// may be "nil").
	GP, M, MP string
	// Frames is the stack, innermost call first.
	Frames []Frame
	// Elided is true when the runtime cut frames from the middle of a deep
	// stack ("...N frames elided..." or "...additional frames elided...").
	Elided bool
	// ElidedCount is N of "...N frames elided...", or 0 when the count is not
	// printed (Go before 1.21).
	ElidedCount int
	// CreatedBy is the function whose go statement started this goroutine,
	// with the file and line of the go statement. Its Func is "" when the
	// dump does not say (the main goroutine, or debug=1/proto input).
	CreatedBy Frame
	// CreatorID is the goroutine that ran that go statement ("created by F
	// in goroutine N", Go 1.21+), or 0 when not printed.
	CreatorID int64
	// Ancestors are the "[originating from goroutine N]" blocks printed
	// under GODEBUG=tracebackancestors=N: the stacks of the goroutines that
	// created this one, nearest first.
	Ancestors []Ancestor
	// StackUnavailable reports "goroutine running on other thread; stack
	// unavailable".
	StackUnavailable bool
	// Truncated reports that the input ended inside this goroutine (for
	// example runtime.Stack's buffer, or net/http/pprof's 64 MiB cut).
	Truncated bool
	// Line is the line number of the goroutine's first line in the input
	// (1-based; 0 for proto input).
	Line int
}

// Label is one pprof label of a goroutine.
type Label struct {
	Key, Value string
}

// Ancestor is one "[originating from goroutine N]" block.
type Ancestor struct {
	ID        int64
	Frames    []Frame
	CreatedBy Frame
	CreatorID int64
}

// Frame is one call of a stack.
type Frame struct {
	// Func is the full function name as printed, for example
	// "github.com/rabbitmq/amqp091-go.(*Connection).shutdown.func1".
	Func string
	// File and Line locate the call; File is "" when not printed.
	File string
	Line int
	// Args is the raw argument text between the parentheses of a
	// traceback frame ("0xc000123000, 0x1", "...", "{0x1, 0x2}", "0x0?"),
	// or "" in debug=1 and proto input.
	Args string
	// Inlined reports that the call was inlined: "(...)" in a traceback,
	// or a non-final line of a proto location.
	Inlined bool
	// PC is the program counter of debug=1 and proto input, else 0.
	PC uint64
}

// Pkg returns the package path of the function: "github.com/rabbitmq/amqp091-go"
// for "github.com/rabbitmq/amqp091-go.(*Connection).shutdown.func1".
func (f Frame) Pkg() string {
	pkg, _, _ := SplitFunc(f.Func)
	return pkg
}

// Receiver returns the method receiver type as printed ("*Connection" for
// "pkg.(*Connection).shutdown"), or "" for functions and for methods with a
// value receiver, which the printed name does not tell apart from a closure.
func (f Frame) Receiver() string {
	_, recv, _ := SplitFunc(f.Func)
	return recv
}

// Name returns the function name without package path and receiver:
// "shutdown.func1" for "pkg.(*Connection).shutdown.func1".
func (f Frame) Name() string {
	_, _, name := SplitFunc(f.Func)
	return name
}

// ArgWords splits Args at top-level commas: "0xc0001, {0x1, 0x2}, ..." gives
// "0xc0001", "{0x1, 0x2}", "...".
func (f Frame) ArgWords() []string {
	if f.Args == "" {
		return nil
	}
	var words []string
	depth, start := 0, 0
	for i := 0; i < len(f.Args); i++ {
		switch f.Args[i] {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				words = append(words, strings.TrimSpace(f.Args[start:i]))
				start = i + 1
			}
		}
	}
	return append(words, strings.TrimSpace(f.Args[start:]))
}

// FirstArg returns the first argument word, and whether the runtime was
// sure of it: with the register ABI (Go 1.17+) a word it may have read from
// a stale spill slot is printed with a trailing "?", which FirstArg removes.
// For a method with a pointer receiver the word is the receiver's address,
// which tells apart two objects running the same code. It returns "", false
// when there is no plain first word (no arguments, "...", or a struct).
func (f Frame) FirstArg() (word string, certain bool) {
	a := f.Args
	if i := strings.IndexByte(a, ','); i >= 0 {
		a = a[:i]
	}
	a = strings.TrimSpace(a)
	if a == "" || a == "..." || strings.HasPrefix(a, "{") {
		return "", false
	}
	if strings.HasSuffix(a, "?") {
		return a[:len(a)-1], false
	}
	return a, true
}

// Module returns the module path and version that File shows when it lies in
// the module cache or a -trimpath build ("…/amqp091-go@v1.10.0/connection.go"
// gives "github.com/rabbitmq/amqp091-go", "v1.10.0"), unescaping the module
// cache's "!x" for upper-case letters. Both are "" otherwise.
func (f Frame) Module() (path, version string) {
	return ModuleOf(f.File)
}

// ModuleOf is Frame.Module for a file path.
func ModuleOf(file string) (path, version string) {
	at := strings.LastIndexByte(file, '@')
	if at < 0 {
		return "", ""
	}
	rest := file[at+1:]
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 || rest[0] != 'v' {
		return "", ""
	}
	version = rest[:slash]
	before := file[:at]
	// The module path starts after "/pkg/mod/" in a module cache path, or at
	// the start of a -trimpath path.
	if i := strings.LastIndex(before, "/pkg/mod/"); i >= 0 {
		before = before[i+len("/pkg/mod/"):]
	} else if i := strings.Index(before, "/mod/"); i >= 0 && strings.Contains(before[:i], "go") {
		before = before[i+len("/mod/"):]
	}
	return unescapeModule(before), unescapeModule(version)
}

func unescapeModule(s string) string {
	if !strings.Contains(s, "!") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '!' && i+1 < len(s) && 'a' <= s[i+1] && s[i+1] <= 'z' {
			b.WriteByte(s[i+1] - 'a' + 'A')
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// SplitFunc splits a full function name into its package path, receiver and
// name: "github.com/a/b.(*T).m.func1" gives "github.com/a/b", "*T", "m.func1";
// "main.main" gives "main", "", "main"; generic brackets are kept in the name.
func SplitFunc(full string) (pkg, recv, name string) {
	// The package path ends at the first '.' after the last '/' that is not
	// inside generic brackets or the receiver's parentheses.
	lastSlash := -1
	depth := 0
	for i := 0; i < len(full); i++ {
		switch full[i] {
		case '[', '(':
			depth++
		case ']', ')':
			depth--
		case '/':
			if depth == 0 {
				lastSlash = i
			}
		}
	}
	dot := strings.IndexByte(full[lastSlash+1:], '.')
	if dot < 0 {
		return "", "", full
	}
	dot += lastSlash + 1
	pkg, rest := full[:dot], full[dot+1:]
	if strings.HasPrefix(rest, "(") {
		if end := strings.Index(rest, ")."); end > 0 {
			return pkg, rest[1:end], rest[end+2:]
		}
	}
	return pkg, "", rest
}

// Waiting reports whether the goroutine is parked (not running, runnable or
// in a system call).
func (g *Goroutine) Waiting() bool {
	switch g.State {
	case "running", "runnable", "syscall", "idle", "dead", "copystack", "preempted", StateUnknown, "":
		return false
	}
	return true
}

// Clone returns a deep copy of g that a Reader will not reuse.
func (g *Goroutine) Clone() *Goroutine {
	c := *g
	c.Frames = slices.Clone(g.Frames)
	c.Labels = slices.Clone(g.Labels)
	c.Flags = slices.Clone(g.Flags)
	if g.Ancestors != nil {
		c.Ancestors = make([]Ancestor, len(g.Ancestors))
		for i, a := range g.Ancestors {
			a.Frames = slices.Clone(a.Frames)
			c.Ancestors[i] = a
		}
	}
	return &c
}

// Label returns the value of the pprof label key and whether it is set.
func (g *Goroutine) Label(key string) (string, bool) {
	for _, l := range g.Labels {
		if l.Key == key {
			return l.Value, true
		}
	}
	return "", false
}

// HasFlag reports whether the header carried the parenthesised flag ("leaked",
// "scan", "durable").
func (g *Goroutine) HasFlag(flag string) bool {
	for _, f := range g.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
