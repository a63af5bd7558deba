package httpdebug

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/httpdebug/internal/stw"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// The two capture modes.
const (
	ModeProfile = "profile"
	ModeFull    = "full"
)

// capture is one look at the program's goroutines and what detect made of it.
type capture struct {
	Mode string
	At   time.Time
	// Wall is how long taking the dump or profile took, Analysis how long
	// parsing and matching it took.
	Wall, Analysis time.Duration
	Pause          pauseStats
	Report         *detect.Report
	Warnings       []string
	Err            error
	Labels         []LabelCount
	// Bytes is the size of the dump or profile; Buffer the buffer of a
	// full dump and Truncated whether the dump filled it.
	Bytes     int
	Buffer    int
	Truncated bool
}

// LabelCount is how many goroutines carry one set of pprof labels.
type LabelCount struct {
	Labels map[string]string `json:"labels"`
	Count  int               `json:"count"`
}

// pauseStats are the stop-the-world pauses (other than the garbage
// collector's) that happened while a capture ran.
type pauseStats = stw.Pauses

// analyzer settings shared by both modes.
type analysis struct {
	opts []detect.Option
}

// analyze parses a dump or profile and matches the catalog on it, counting
// the pprof label sets on the way.
func (an analysis) analyze(c *capture, data []byte, format stackparse.Format, name string) {
	t0 := time.Now()
	r := stackparse.NewReader(bytes.NewReader(data), stackparse.WithFormat(format), stackparse.WithName(name))
	a := detect.New(an.opts...)
	a.SetFormat(format)
	labels := map[string]*LabelCount{}
	for r.Next() {
		g := r.Goroutine()
		a.Add(g)
		if len(g.Labels) > 0 {
			countLabels(labels, g)
		}
	}
	c.Report = a.Report()
	c.Err = r.Err()
	for _, w := range r.Warnings() {
		c.Warnings = append(c.Warnings, w.Error())
	}
	if n := r.WarningCount() - len(r.Warnings()); n > 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%d more warnings", n))
	}
	c.Labels = topLabels(labels, maxLabelSets)
	c.Analysis = time.Since(t0)
}

const (
	// maxLabelKeys bounds the distinct label sets counted per capture.
	maxLabelKeys = 1000
	// maxLabelSets is how many of them a page lists.
	maxLabelSets = 20
)

func countLabels(m map[string]*LabelCount, g *stackparse.Goroutine) {
	ls := append([]stackparse.Label(nil), g.Labels...)
	sort.Slice(ls, func(i, j int) bool { return ls[i].Key < ls[j].Key })
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Key + "\x00" + l.Value + "\x00")
	}
	k := b.String()
	lc := m[k]
	if lc == nil {
		if len(m) >= maxLabelKeys {
			return
		}
		lc = &LabelCount{Labels: map[string]string{}}
		for _, l := range ls {
			lc.Labels[l.Key] = l.Value
		}
		m[k] = lc
	}
	lc.Count += g.Count
}

func topLabels(m map[string]*LabelCount, n int) []LabelCount {
	out := make([]LabelCount, 0, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, *m[k])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// captureProfile reads the goroutine profile, whose stop-the-world pause
// is short and does not grow with the number of goroutines (Go 1.19+).
func (an analysis) captureProfile() *capture {
	c := &capture{Mode: ModeProfile}
	var buf bytes.Buffer
	before := stw.Read()
	c.At = time.Now()
	err := pprof.Lookup("goroutine").WriteTo(&buf, 0)
	c.Wall = time.Since(c.At)
	c.Pause = stw.Delta(before, stw.Read())
	c.Bytes = buf.Len()
	if err != nil {
		c.Err = fmt.Errorf("goroutine profile: %w", err)
		return c
	}
	an.analyze(c, buf.Bytes(), stackparse.FormatProto, "goroutine profile")
	return c
}

// fullSizer sizes the buffer of a full dump from the goroutine count and
// the bytes per goroutine of the previous dumps, so one runtime.Stack call
// (one stop-the-world pause) suffices instead of pprof's doubling retries.
type fullSizer struct {
	perG atomic.Int64 // bytes per goroutine, learned
	max  int
}

const (
	// initialPerGoroutine is the first guess: a parked goroutine with a
	// 10-frame stack prints about 1 KiB.
	initialPerGoroutine = 2 << 10
	fullSlack           = 1 << 20
)

func (s *fullSizer) size(goroutines int) int {
	per := s.perG.Load()
	if per == 0 {
		per = initialPerGoroutine
	}
	n := int64(goroutines)*per + fullSlack
	if n > int64(s.max) {
		n = int64(s.max)
	}
	return int(n)
}

// learn records a dump's density, with a margin for growth.
func (s *fullSizer) learn(bytes, goroutines int) {
	if goroutines <= 0 {
		return
	}
	per := int64(bytes/goroutines) * 3 / 2
	if per < 256 {
		per = 256
	}
	s.perG.Store(per)
}

// captureFull takes one text dump of every goroutine with runtime.Stack:
// goroutine IDs, wait minutes and receiver addresses, at the price of a
// stop-the-world pause that lasts the whole dump.
func (an analysis) captureFull(sz *fullSizer) *capture {
	c := &capture{Mode: ModeFull}
	n := runtime.NumGoroutine()
	c.Buffer = sz.size(n)
	buf := make([]byte, c.Buffer)
	// Touch every page now, so the page faults of a fresh buffer do not
	// happen inside runtime.Stack's stop-the-world pause.
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 0
	}
	before := stw.Read()
	c.At = time.Now()
	c.Bytes = runtime.Stack(buf, true)
	c.Wall = time.Since(c.At)
	c.Pause = stw.Delta(before, stw.Read())
	c.Truncated = c.Bytes == len(buf)
	an.analyze(c, buf[:c.Bytes], stackparse.FormatTraceback, "runtime.Stack")
	if c.Report != nil {
		sz.learn(c.Bytes, c.Report.Goroutines)
	}
	if c.Truncated {
		c.Warnings = append(c.Warnings, fmt.Sprintf("the dump filled its %s buffer and was cut short: about %d goroutines "+
			"are missing; the next full capture sizes its buffer from this one (limit %s, WithMaxFullBytes)",
			byteSize(c.Buffer), n-c.Report.Goroutines, byteSize(sz.max)))
	}
	return c
}

// capturer hands out captures of one mode: concurrent requests share the
// capture in progress, and a capture younger than interval is reused, so
// at most one capture runs per interval however many requests come.
type capturer struct {
	interval time.Duration
	run      func() *capture
	now      func() time.Time

	mu       sync.Mutex
	last     *capture
	inflight *flight
	taken    atomic.Int64 // captures taken, for tests
}

type flight struct {
	done chan struct{}
	c    *capture
}

// get returns a capture and whether it was shared (taken for an earlier
// request) rather than taken for this one.
func (cp *capturer) get(ctx context.Context) (*capture, bool, error) {
	cp.mu.Lock()
	if l := cp.last; l != nil && cp.now().Sub(l.At) < cp.interval {
		cp.mu.Unlock()
		return l, true, nil
	}
	if f := cp.inflight; f != nil {
		cp.mu.Unlock()
		select {
		case <-f.done:
			return f.c, true, nil
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	cp.inflight = f
	cp.mu.Unlock()

	defer func() {
		// Release the waiters whatever happens, even on a panic.
		if f.c == nil {
			f.c = &capture{At: cp.now(), Err: fmt.Errorf("capture failed")}
		}
		cp.mu.Lock()
		cp.inflight = nil
		if f.c.Err == nil || f.c.Report != nil {
			cp.last = f.c
		}
		cp.mu.Unlock()
		close(f.done)
	}()
	cp.taken.Add(1)
	f.c = cp.run()
	return f.c, false, nil
}

// lastCapture returns the latest capture, or nil.
func (cp *capturer) lastCapture() *capture {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.last
}

func byteSize(n int) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
