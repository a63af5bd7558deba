package stackparse

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// protoParser yields the samples of a debug=0 goroutine profile. The
// profile is read whole (it aggregates identical stacks, so it is small).
type protoParser struct {
	p       *profile.Profile
	i       int
	yielded int
}

func newProtoParser(r *Reader) (*protoParser, error) {
	in := io.MultiReader(bytes.NewReader(r.buf[r.r:r.w]), r.src)
	lr := &io.LimitedReader{R: in, N: r.opt.maxProtoBytes + 1}
	data, err := io.ReadAll(lr)
	if err != nil {
		return nil, fmt.Errorf("reading profile: %w", err)
	}
	r.totalBytes = int64(len(data))
	r.buf = nil
	if int64(len(data)) > r.opt.maxProtoBytes {
		return nil, fmt.Errorf("profile larger than %d bytes", r.opt.maxProtoBytes)
	}
	p, err := parseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("parsing pprof profile: %w", err)
	}
	if len(p.SampleType) == 0 || p.SampleType[0].Type != "goroutine" && (p.PeriodType == nil || p.PeriodType.Type != "goroutine") {
		kind := "unknown"
		if len(p.SampleType) > 0 {
			kind = p.SampleType[0].Type
		}
		return nil, fmt.Errorf("a %q profile, not a goroutine profile", kind)
	}
	return &protoParser{p: p}, nil
}

// elideTypeArgs writes the type arguments of a generic function the way
// tracebacks and debug=1 print them: "F[go.shape.int]" becomes "F[...]", so
// one function has one name in every format.
func elideTypeArgs(name string) string {
	i := strings.IndexByte(name, '[')
	if i < 0 {
		return name
	}
	var b strings.Builder
	depth := 0
	for j := 0; j < len(name); j++ {
		switch c := name[j]; {
		case c == '[':
			if depth == 0 {
				b.WriteString("[...]")
			}
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// parseProfile calls the pprof parser, turning a panic on malformed input
// into an error: this package never panics on what it reads.
func parseProfile(data []byte) (p *profile.Profile, err error) {
	defer func() {
		if v := recover(); v != nil {
			p, err = nil, fmt.Errorf("malformed profile (%v)", v)
		}
	}()
	return profile.ParseData(data)
}

func (pp *protoParser) next(r *Reader) *Goroutine {
	for pp.i < len(pp.p.Sample) {
		s := pp.p.Sample[pp.i]
		pp.i++
		g := &Goroutine{Count: 1}
		if len(s.Value) > 0 {
			g.Count = int(s.Value[0])
		}
		for _, loc := range s.Location {
			for j, ln := range loc.Line {
				f := Frame{PC: loc.Address, Line: int(ln.Line), Inlined: j < len(loc.Line)-1}
				if ln.Function != nil {
					f.Func, f.File = elideTypeArgs(ln.Function.Name), ln.Function.Filename
				}
				g.Frames = append(g.Frames, f)
			}
			if len(loc.Line) == 0 {
				g.Frames = append(g.Frames, Frame{PC: loc.Address, Func: fmt.Sprintf("0x%x", loc.Address)})
			}
		}
		keys := make([]string, 0, len(s.Label))
		for k := range s.Label {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range s.Label[k] {
				g.Labels = append(g.Labels, Label{Key: k, Value: v})
			}
		}
		g.State, g.StateInferred = inferState(g.Frames)
		pp.yielded++
		return g
	}
	return nil
}

// parkStates maps the function a goroutine parked in (the caller of
// runtime.gopark, or the first frame shown by debug=1, which hides leading
// runtime frames) to the wait reason the runtime prints for it. Only
// functions that park for one reason only are listed.
var parkStates = map[string]string{
	"runtime.chansend":                                 "chan send",
	"runtime.chanrecv":                                 "chan receive",
	"runtime.selectgo":                                 "select",
	"runtime.block":                                    "select (no cases)",
	"runtime.netpollblock":                             "IO wait",
	"internal/poll.runtime_pollWait":                   "IO wait",
	"internal/sync.runtime_SemacquireMutex":            "sync.Mutex.Lock",
	"sync.runtime_SemacquireMutex":                     "sync.Mutex.Lock",
	"sync.runtime_SemacquireRWMutexR":                  "sync.RWMutex.RLock",
	"sync.runtime_SemacquireRWMutex":                   "sync.RWMutex.Lock",
	"sync.runtime_SemacquireWaitGroup":                 "sync.WaitGroup.Wait",
	"sync.runtime_notifyListWait":                      "sync.Cond.Wait",
	"runtime.notifyListWait":                           "sync.Cond.Wait",
	"time.Sleep":                                       "sleep",
	"runtime.timeSleep":                                "sleep",
	"runtime.gcBgMarkWorker":                           "GC worker (idle)",
	"runtime.forcegchelper":                            "force gc (idle)",
	"runtime.bgsweep":                                  "GC sweep wait",
	"runtime.bgscavenge":                               "GC scavenge wait",
	"runtime.runfinq":                                  "finalizer wait",
	"runtime.runCleanups":                              "cleanup wait",
	"os/signal.signal_recv":                            "signal recv",
	"runtime/pprof.runtime_goroutineProfileWithLabels": "running",
	"runtime.goroutineProfileWithLabels":               "running",
}

// inferState derives the wait reason from the innermost frames of a debug=1
// or proto stack where they make it certain, else returns StateUnknown. It
// looks through the runtime and sync frames at the top of the stack for the
// one function that parks for one reason only.
func inferState(frames []Frame) (string, bool) {
	for _, f := range frames {
		if st, ok := parkStates[f.Func]; ok {
			return st, true
		}
		// debug=1 hides the leading runtime frames; sync methods then
		// show first.
		if st, ok := syncStates[f.Func]; ok {
			return st, true
		}
		if !strings.HasPrefix(f.Func, "runtime.") && !strings.HasPrefix(f.Func, "internal/") &&
			!strings.HasPrefix(f.Func, "sync.") {
			break
		}
	}
	return StateUnknown, false
}

// syncStates are the sync methods whose blocking has one wait reason.
var syncStates = map[string]string{
	"sync.(*Mutex).Lock":     "sync.Mutex.Lock",
	"sync.(*Mutex).lockSlow": "sync.Mutex.Lock",
	"sync.(*WaitGroup).Wait": "sync.WaitGroup.Wait",
	"sync.(*Cond).Wait":      "sync.Cond.Wait",
	"sync.(*RWMutex).RLock":  "sync.RWMutex.RLock",
	"sync.(*RWMutex).Lock":   "sync.RWMutex.Lock",
}
