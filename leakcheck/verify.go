package leakcheck

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"time"

	"go.uber.org/goleak"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// TestingT is the part of testing.TB that VerifyNone uses (as goleak's).
type TestingT interface {
	Error(args ...any)
}

// TestingM is the part of testing.M that VerifyTestMain uses (as goleak's).
type TestingM interface {
	Run() int
}

// Variables for tests.
var (
	osExit             = os.Exit
	osStderr io.Writer = os.Stderr
	// takeTraceback is where VerifyNone, VerifyTestMain and Find read the
	// process's goroutines.
	takeTraceback = tracebackInto
)

// VerifyNone marks t as failed when goroutines other than the caller's are
// still running after the timeout, as goleak.VerifyNone does:
//
//	defer leakcheck.VerifyNone(t)
//
// The message leads with the diagnosis (the rule of the detect catalog that
// matched, the connection, why it is a bug and the fix), then lists the
// goroutines grouped by stack. Like goleak.VerifyNone it sees the whole
// process, so it cannot tell which parallel test leaked: use Check for
// that.
func VerifyNone(t TestingT, opts ...Option) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	c := newConfig(opts)
	if err := find(c); err != nil {
		t.Error(err)
	}
	if c.cleanup != nil {
		c.cleanup(0)
	}
}

// VerifyTestMain runs the tests and, if they passed, fails the run when
// goroutines are left, as goleak.VerifyTestMain does:
//
//	func TestMain(m *testing.M) {
//		leakcheck.VerifyTestMain(m)
//	}
//
// It then exits with the run's status, or calls the Cleanup option's
// function with it instead.
func VerifyTestMain(m TestingM, opts ...Option) {
	code := m.Run()
	c := newConfig(opts)
	exit := c.cleanup
	if exit == nil {
		exit = osExit
	}
	if code == 0 {
		if err := find(c); err != nil {
			fmt.Fprintf(osStderr, "leakcheck: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	exit(code)
}

// Find returns a *LeakError when goroutines other than the caller's are
// still running after the timeout, and nil otherwise.
func Find(opts ...Option) error {
	c := newConfig(opts)
	if c.cleanup != nil {
		return errors.New("leakcheck: Cleanup can only be passed to VerifyNone or VerifyTestMain")
	}
	return find(c)
}

// LeakError reports leaked goroutines: what detect made of them and the
// goroutines themselves. Its Error method renders both.
type LeakError struct {
	// Test is the test that leaked, for Check; "" for VerifyNone and Find.
	Test string
	// Label is the pprof label value Check gave the test's goroutines.
	Label string
	// Waited is how long the check waited for the goroutines to end.
	Waited time.Duration
	// Report is detect's diagnosis of the leaked goroutines.
	Report *detect.Report
	// Goroutines are the leaked goroutines, grouped by stack.
	Goroutines []*stackparse.Group
	// Self is the ID of the goroutine that ran the check, when known.
	Self int64
	// Detail says where the goroutines were read ("traceback", or "proto"
	// when a parallel test had identical stacks and Check kept the
	// profile's aggregated view).
	Detail string
}

func (e *LeakError) Error() string { return render(e) }

// find waits up to c.timeout for the goroutines other than the caller's
// to end and returns what is left.
func find(c *config) error {
	start := time.Now()
	deadline := start.Add(c.timeout)
	pause := time.Microsecond
	for {
		self, leaked := collectTraceback(c)
		if len(leaked) > 0 && len(c.goleak) > 0 {
			leaked = goleakAlso(c)
		}
		if len(leaked) == 0 {
			return nil
		}
		now := time.Now()
		if !now.Before(deadline) {
			return newLeakError(c, leaked, stackparse.FormatTraceback, now.Sub(start), self)
		}
		pause = sleep(pause, deadline.Sub(now))
	}
}

// sleep pauses for d (at most the time left), as goleak's retries do, and
// returns the next pause: doubled, up to maxSleep.
func sleep(d, left time.Duration) time.Duration {
	if d > left {
		d = left
	}
	time.Sleep(d)
	if d *= 2; d > maxSleep {
		d = maxSleep
	}
	return d
}

// collectTraceback returns the caller's goroutine ID and clones of the
// goroutines not ignored.
func collectTraceback(c *config) (self int64, leaked []*stackparse.Goroutine) {
	data, release := takeTraceback()
	defer release()
	first := true
	_, _ = each(data, func(g *stackparse.Goroutine) {
		if first {
			// runtime.Stack prints the calling goroutine first.
			self, first = g.ID, false
			return
		}
		if !c.ignored(g) {
			leaked = append(leaked, g.Clone())
		}
	})
	return self, leaked
}

var goleakID = regexp.MustCompile(`(?m)^goroutine (\d+) \[`)

// goleakAlso returns the goroutines not ignored that goleak.Find with the
// Goleak options reports too. goleak reports each goroutine with its full traceback, whose
// header carries the ID.
func goleakAlso(c *config) []*stackparse.Goroutine {
	err := goleak.Find(c.goleak...)
	if err == nil {
		return nil
	}
	ids := map[int64]bool{}
	for _, m := range goleakID.FindAllStringSubmatch(err.Error(), -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		ids[id] = true
	}
	// goleak waited; look again, and keep what both still see.
	_, again := collectTraceback(c)
	out := again[:0]
	for _, g := range again {
		if ids[g.ID] {
			out = append(out, g)
		}
	}
	return out
}

// newLeakError diagnoses the leaked goroutines with detect.
func newLeakError(c *config, leaked []*stackparse.Goroutine, format stackparse.Format, waited time.Duration, self int64) *LeakError {
	a := detect.New(append([]detect.Option{detect.WithPileupThreshold(1), detect.WithMinWait(0)}, c.detect...)...)
	a.SetFormat(format)
	for _, g := range leaked {
		a.Add(g)
	}
	return &LeakError{
		Waited:     waited,
		Report:     a.Report(),
		Goroutines: stackparse.GroupAll(leaked),
		Self:       self,
		Detail:     format.String(),
	}
}
