package leakcheck

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// LabelKey is the pprof label Check gives a test's goroutine. Its value is
// the test's name (characters other than letters, digits and "_/.-" made
// "_") and "#N", N unique in the process: "TestConsume/slow#7".
const LabelKey = "amqpleaks.test"

var (
	checks atomic.Int64

	// active holds, per test name, the label contexts of the Checks not yet
	// cleaned up, innermost last: a subtest's Check starts from its
	// parent's, which its goroutine inherited.
	activeMu sync.Mutex
	active   = map[string][]context.Context{}
)

// Check fails t if goroutines started during the test are still running
// when it ends, whatever other tests run in parallel. Call it first in the
// test, from the test's goroutine:
//
//	func TestConsume(t *testing.T) {
//		t.Parallel()
//		leakcheck.Check(t)
//		…
//	}
//
// Check gives the calling goroutine a pprof label unique to this call
// (LabelKey). The runtime copies a goroutine's labels to every goroutine it
// starts, so everything the test starts carries the label: its own
// goroutines, their descendants, and the goroutines a library starts on
// its behalf (amqp091-go's reader, heartbeater and consumer goroutines are
// started by Dial and Consume). At t.Cleanup, after the cleanups registered
// later (so a t.Cleanup(conn.Close) registered after Check has run), it
// restores the goroutine's labels and reads the goroutine profile, which
// carries labels, until no goroutine with this label is left or the
// timeout expires. What is left is this test's leak, and is diagnosed by
// detect.
//
// Not attributed, because no labelled goroutine starts them: goroutines
// started before Check, by goroutines that existed before the test (a
// worker pool, a proxy's accept loop started in TestMain), by time.AfterFunc
// (the runtime's timer starts it), or by code that sets its own labels
// with pprof.SetGoroutineLabels/pprof.Do (labels replaced, not merged, by
// SetGoroutineLabels with a context not derived from the test's). A
// subtest's goroutine is started by its parent test's goroutine and
// inherits the parent's label: without a Check of its own, the subtest's
// goroutines are the parent's; with one, they are its own.
func Check(t testing.TB, opts ...Option) {
	t.Helper()
	c := newConfig(opts)
	if len(c.goleak) > 0 {
		t.Fatal("leakcheck.Check: Goleak options need goroutine IDs across the whole process and cannot be used with Check; use leakcheck's Ignore options")
		return
	}
	name := t.Name()
	value := labelValue(name, checks.Add(1))
	gid := currentID()
	since := seen.gen.Load() // before the label: see noDescendants
	base := push(name, value)
	t.Cleanup(func() {
		t.Helper()
		pprof.SetGoroutineLabels(base)
		pop(name)
		if err := checkLabel(c, value, gid, since); err != nil {
			err.Test = name
			t.Error(err)
		}
		if c.cleanup != nil {
			c.cleanup(0)
		}
	})
}

// labelValue is the test name, made safe to print unquoted, and n.
func labelValue(name string, n int64) string {
	b := []byte(name)
	for i, ch := range b {
		ok := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("_/.-", ch) >= 0
		if !ok {
			b[i] = '_'
		}
	}
	return string(b) + "#" + strconv.FormatInt(n, 10)
}

// push labels the calling goroutine for test name and returns the context
// whose labels it had: the innermost active Check of the test or of its
// nearest parent, or none.
func push(name, value string) context.Context {
	activeMu.Lock()
	defer activeMu.Unlock()
	base := context.Background()
	for n := name; ; {
		if cs := active[n]; len(cs) > 0 {
			base = cs[len(cs)-1]
			break
		}
		i := strings.LastIndexByte(n, '/')
		if i < 0 {
			break
		}
		n = n[:i]
	}
	ctx := pprof.WithLabels(base, pprof.Labels(LabelKey, value))
	pprof.SetGoroutineLabels(ctx)
	active[name] = append(active[name], ctx)
	return base
}

func pop(name string) {
	activeMu.Lock()
	defer activeMu.Unlock()
	if cs := active[name]; len(cs) > 1 {
		active[name] = cs[:len(cs)-1]
	} else {
		delete(active, name)
	}
}

// checkLabel waits until no goroutine labelled value is left. Each look
// first takes a traceback, which is cheap but has no labels: when it shows
// that no goroutine descends from the test's goroutine gid, none can
// carry the label (see noDescendants). Otherwise it reads the debug=1
// goroutine profile (aggregated text with labels, the cheapest view that
// has them). At the timeout it takes the proto profile and a traceback and
// returns the leak.
func checkLabel(c *config, value string, gid, since int64) *LeakError {
	start := time.Now()
	deadline := start.Add(c.timeout)
	pause := time.Microsecond
	for {
		if noDescendants(gid, since) {
			return nil
		}
		if countLabelled(c, value) == 0 {
			return nil
		}
		now := time.Now()
		if !now.Before(deadline) {
			break
		}
		pause = sleep(pause, deadline.Sub(now))
	}
	leaked, format := finalLabelled(c, value, gid)
	if len(leaked) == 0 {
		return nil
	}
	e := newLeakError(c, leaked, format, time.Since(start), gid)
	e.Label = value
	return e
}

func countLabelled(c *config, value string) int {
	buf, release := profile(1)
	defer release()
	// debug=1 prints each stack's labels as `# labels: {"k":"v", …}` (Go's
	// %q of the value, which labelValue keeps free of escapes): without
	// the text, no goroutine has the label, and parsing can be skipped.
	if !bytes.Contains(buf.Bytes(), []byte(strconv.Quote(LabelKey)+":"+strconv.Quote(value))) {
		return 0
	}
	n := 0
	_, _ = each(buf.Bytes(), func(g *stackparse.Goroutine) {
		if v, ok := g.Label(LabelKey); ok && v == value && !c.ignored(g) {
			n += g.Count
		}
	})
	return n
}

// finalLabelled returns the goroutines labelled value, with as much detail
// as can be had. The proto profile says which stacks are the test's (and
// keeps the runtime frames that tell a wait reason); a traceback taken
// right after adds IDs, wait reasons, argument words (the connection
// addresses detect groups by) and creators. A traceback has no labels, so
// its goroutines are taken for a stack when every goroutine of the process
// with that stack is the test's, or when the others with that stack all
// carry another test's label and exactly as many as the profile counts for
// the test descend from the test's goroutine gid ("created by … in
// goroutine N", followed through the creators still alive; goroutine IDs
// are never reused). When neither tells them apart, or the two views
// disagree, the profile's aggregated goroutines are returned.
func finalLabelled(c *config, value string, gid int64) ([]*stackparse.Goroutine, stackparse.Format) {
	buf, release := profile(0)
	var ours []*stackparse.Goroutine
	total := map[string]int{}
	mine := map[string]int{}
	unlabelled := map[string]int{}
	_, _ = each(buf.Bytes(), func(g *stackparse.Goroutine) {
		k := stackKey(g)
		total[k] += g.Count
		v, ok := g.Label(LabelKey)
		if !ok {
			unlabelled[k] += g.Count
		}
		if ok && v == value && !c.ignored(g) {
			mine[k] += g.Count
			ours = append(ours, g.Clone())
		}
	})
	release()
	if len(ours) == 0 {
		return nil, stackparse.FormatProto
	}
	// mine counts what the profile ignored by stack; the traceback's
	// goroutines are matched against it before the options that need
	// creators or IDs are applied.
	data, releaseTB := tracebackInto()
	defer releaseTB()
	creator := map[int64]int64{}
	var cands []*stackparse.Goroutine
	_, _ = each(data, func(g *stackparse.Goroutine) {
		creator[g.ID] = g.CreatorID
		if _, ok := mine[stackKey(g)]; ok {
			cands = append(cands, g.Clone())
		}
	})
	descends := func(g *stackparse.Goroutine) bool {
		id := g.CreatorID
		for i := 0; id != 0 && i < 1000; i++ {
			if id == gid {
				return true
			}
			id = creator[id] // 0 once the creator has ended
		}
		return false
	}
	seen := map[string]int{}
	var detailed []*stackparse.Goroutine
	for _, g := range cands {
		k := stackKey(g)
		// A goroutine without the label that descends from the test's
		// goroutine was started before Check (or under other labels):
		// descent proves nothing while one has the same stack.
		if total[k] == mine[k] || gid != 0 && unlabelled[k] == 0 && descends(g) {
			seen[k]++
			// The traceback knows creators and IDs: the options that
			// need them apply now.
			if !c.ignored(g) {
				detailed = append(detailed, g)
			}
		}
	}
	for k, n := range mine {
		if seen[k] != n {
			return ours, stackparse.FormatProto
		}
	}
	return detailed, stackparse.FormatTraceback
}

// stackKey is a goroutine's stack as functions and lines, without the
// runtime frames a traceback hides, so a profile's stack and a traceback's
// give the same key.
func stackKey(g *stackparse.Goroutine) string {
	var b strings.Builder
	for _, f := range g.Frames {
		if hiddenRuntime(f.Func) {
			continue
		}
		b.WriteString(f.Func)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(f.Line))
		b.WriteByte('\n')
	}
	return b.String()
}

// seen remembers the goroutines the tracebacks of noDescendants showed,
// with the generation of the first traceback that showed each. A goroutine
// shown by a traceback completed before a Check labelled its goroutine
// existed before the label and cannot carry it: the fast path skips it,
// whatever its creators (typically long-lived goroutines whose creator has
// ended, such as a pool an earlier test started).
var seen struct {
	gen atomic.Int64 // generation of the last completed traceback

	mu  sync.Mutex
	ids map[int64]seenAt
}

type seenAt struct{ first, last int64 }

// maxPairs bounds the goroutines the fast path reads; with more, the
// profile (which aggregates identical stacks) is read instead.
const maxPairs = 512

// noDescendants reports whether a traceback proves that no goroutine can
// carry the label goroutine gid was given after generation since. A
// goroutine gets the label only from the goroutine that started it, so a
// labelled goroutine is newer than since and its chain of creators
// ("created by … in goroutine N", Go 1.21+) leads to gid, or to a creator
// that has ended or is not named. Goroutine 1, which nothing started,
// carries none. This reads only the header and "created by" lines, and
// allocates nothing once warm: anything unexpected answers false, and the
// caller reads the profile.
func noDescendants(gid, since int64) bool {
	if gid <= 1 {
		return false
	}
	data, release := tracebackInto()
	defer release()
	if bytes.Contains(data, []byte("[originating from goroutine ")) {
		return false // ancestry blocks hold "created by" lines of their own
	}
	var pairs [maxPairs][2]int64 // goroutine, creator (0: none, -1: not named)
	n := 0
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		switch {
		case bytes.HasPrefix(line, []byte("goroutine ")):
			id, ok := leadingInt(line[len("goroutine "):])
			if !ok || n == len(pairs) {
				return false
			}
			pairs[n] = [2]int64{id, 0}
			n++
		case bytes.HasPrefix(line, []byte("created by ")) && n > 0:
			pairs[n-1][1] = -1
			if i := bytes.LastIndex(line, []byte(" in goroutine ")); i >= 0 {
				if id, ok := leadingInt(line[i+len(" in goroutine "):]); ok {
					pairs[n-1][1] = id
				}
			}
		}
	}
	ps := pairs[:n]

	seen.mu.Lock()
	defer seen.mu.Unlock()
	if seen.ids == nil {
		seen.ids = map[int64]seenAt{}
	}
	old := func(id int64) bool {
		at, ok := seen.ids[id]
		return ok && at.first <= since
	}
	creatorOf := func(id int64) (int64, bool) {
		for _, p := range ps {
			if p[0] == id {
				return p[1], true
			}
		}
		return 0, false
	}
	none := true
	for _, p := range ps {
		id, c := p[0], p[1]
		if id == gid || old(id) {
			continue
		}
		for steps := 0; none; steps++ {
			switch {
			case c == 0 && id == 1, c > 0 && c != gid && old(c):
				// The root, or a goroutine that existed before the
				// label: not the test's.
			case c <= 0, c == gid, steps > n:
				none = false
			default:
				next, alive := creatorOf(c)
				if !alive {
					none = false // its creator has ended
					break
				}
				id, c = c, next
				continue
			}
			break
		}
		if !none {
			break
		}
	}
	// Remember this traceback's goroutines; forget, now and then, those
	// gone.
	gen := seen.gen.Load() + 1
	for _, p := range ps {
		at, ok := seen.ids[p[0]]
		if !ok {
			at.first = gen
		}
		at.last = gen
		seen.ids[p[0]] = at
	}
	if gen%64 == 0 {
		for id, at := range seen.ids {
			if at.last < gen {
				delete(seen.ids, id)
			}
		}
	}
	seen.gen.Store(gen)
	return none
}

func leadingInt(b []byte) (int64, bool) {
	var v int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + int64(b[i]-'0')
	}
	return v, i > 0
}
