package leakcheck

import (
	"regexp"
	"strings"
	"time"

	"go.uber.org/goleak"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// DefaultTimeout is how long a check waits for goroutines to end before it
// reports them. goleak retries 20 times with sleeps of 1 µs doubling up to
// 100 ms, about 0.43 s in all; leakcheck waits about as long, in one
// deadline rather than a number of retries.
const DefaultTimeout = 500 * time.Millisecond

// maxSleep caps the pause between two looks, as goleak does.
const maxSleep = 100 * time.Millisecond

// Option configures VerifyNone, VerifyTestMain, Find and Check. The names
// that goleak also has (IgnoreTopFunction, IgnoreAnyFunction,
// IgnoreCurrent, Cleanup) mean what they mean there, so switching from
// goleak is a change of import.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	timeout  time.Duration
	onlyAMQP bool
	ignores  []func(*stackparse.Goroutine) bool
	// needsCreator is set by ignores that read CreatedBy or the goroutine
	// ID, which the profile Check polls does not carry.
	needsCreator bool
	current      map[int64]bool
	cleanup      func(exitCode int)
	goleak       []goleak.Option
	detect       []detect.Option
}

func newConfig(opts []Option) *config {
	c := &config{timeout: DefaultTimeout}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// Timeout sets how long a check waits, in all, for goroutines to end before
// it reports those left (default DefaultTimeout). A failing check reports
// within it (plus goleak's own wait when Goleak options are given).
func Timeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// OnlyAMQP reports only goroutines that run code of
// github.com/rabbitmq/amqp091-go or github.com/streadway/amqp, or that the
// library started; the rest of the process is ignored.
func OnlyAMQP() Option { return optionFunc(func(c *config) { c.onlyAMQP = true }) }

// IgnoreTopFunction ignores goroutines whose innermost function (runtime
// internals left out, as in a traceback) is f, a fully qualified name such
// as "internal/poll.runtime_pollWait". As goleak.IgnoreTopFunction.
func IgnoreTopFunction(f string) Option {
	return ignore(func(g *stackparse.Goroutine) bool { return topFunc(g) == f })
}

// IgnoreAnyFunction ignores goroutines with f anywhere in their stack. As
// goleak.IgnoreAnyFunction.
func IgnoreAnyFunction(f string) Option {
	return ignore(func(g *stackparse.Goroutine) bool {
		for _, fr := range g.Frames {
			if fr.Func == f {
				return true
			}
		}
		return false
	})
}

// IgnoreCreatedBy ignores goroutines started by a go statement in function
// f ("created by f" in a traceback). Check evaluates it on the traceback it
// takes when the timeout expires (the profile it polls names no creator).
func IgnoreCreatedBy(f string) Option {
	return optionFunc(func(c *config) {
		c.needsCreator = true
		c.ignores = append(c.ignores, func(g *stackparse.Goroutine) bool { return g.CreatedBy.Func == f })
	})
}

// IgnoreRegexp ignores goroutines one of whose functions, or whose creator,
// matches the regular expression expr (unanchored, as regexp.MatchString).
// It panics if expr does not compile, like regexp.MustCompile.
func IgnoreRegexp(expr string) Option {
	re := regexp.MustCompile(expr)
	return ignore(func(g *stackparse.Goroutine) bool {
		for _, fr := range g.Frames {
			if re.MatchString(fr.Func) {
				return true
			}
		}
		return g.CreatedBy.Func != "" && re.MatchString(g.CreatedBy.Func)
	})
}

// IgnorePackage ignores goroutines that run a function of package path, or
// of a package below it ("github.com/x/y" also covers "github.com/x/y/z"),
// or that such a function started.
func IgnorePackage(path string) Option {
	path = strings.TrimSuffix(path, "/")
	in := func(fn string) bool {
		pkg := funcPkg(fn)
		return pkg == path || strings.HasPrefix(pkg, path+"/")
	}
	return ignore(func(g *stackparse.Goroutine) bool {
		for _, fr := range g.Frames {
			if in(fr.Func) {
				return true
			}
		}
		return g.CreatedBy.Func != "" && in(g.CreatedBy.Func)
	})
}

// IgnoreCurrent ignores the goroutines running when the option is created.
// As goleak.IgnoreCurrent. Check never needs it: it only ever looks at
// goroutines started after it was called.
func IgnoreCurrent() Option {
	ids := map[int64]bool{}
	data, release := tracebackInto()
	_, _ = each(data, func(g *stackparse.Goroutine) { ids[g.ID] = true })
	release()
	return optionFunc(func(c *config) {
		if c.current == nil {
			c.current = map[int64]bool{}
		}
		for id := range ids {
			c.current[id] = true
		}
	})
}

// Cleanup runs f at the end of the check. VerifyTestMain passes it the exit
// code instead of calling os.Exit; VerifyNone passes 0. As goleak.Cleanup.
func Cleanup(f func(exitCode int)) Option {
	return optionFunc(func(c *config) { c.cleanup = f })
}

// Goleak passes goleak options through to VerifyNone, VerifyTestMain and
// Find: a goroutine is reported only if goleak.Find with these options
// reports it too. goleak evaluates them with its own retries, so a failing
// check may take up to goleak's 0.43 s longer. Check does not accept them
// (goleak cannot see labels): use leakcheck's own options there.
func Goleak(opts ...goleak.Option) Option {
	return optionFunc(func(c *config) { c.goleak = append(c.goleak, opts...) })
}

// Detect passes options to the detect.Analyzer that diagnoses the leak. By
// default leakcheck sets detect.WithPileupThreshold(1) (any connection left
// open at the end of a test is one too many) and detect.WithMinWait(0) (a
// goroutine still waiting when the test is over has waited long enough);
// options given here are applied after those.
func Detect(opts ...detect.Option) Option {
	return optionFunc(func(c *config) { c.detect = append(c.detect, opts...) })
}

func ignore(f func(*stackparse.Goroutine) bool) Option {
	return optionFunc(func(c *config) { c.ignores = append(c.ignores, f) })
}

// ignored reports whether g is left out of the check: by goleak's default
// filters, OnlyAMQP, IgnoreCurrent or an Ignore option.
func (c *config) ignored(g *stackparse.Goroutine) bool {
	if defaultIgnored(g) {
		return true
	}
	if c.onlyAMQP && !isAMQP(g) {
		return true
	}
	if g.ID != 0 && c.current[g.ID] {
		return true
	}
	for _, f := range c.ignores {
		if f(g) {
			return true
		}
	}
	return false
}

// defaultIgnored is goleak's default filters: the testing package's own
// goroutines waiting for tests, os/signal's, and the tracer's.
func defaultIgnored(g *stackparse.Goroutine) bool {
	switch topFunc(g) {
	case "testing.RunTests", "testing.(*T).Run", "testing.(*T).Parallel", "testing.runFuzzing", "testing.runFuzzTests":
		if strings.HasPrefix(g.State, "chan receive") {
			return true
		}
	case "os/signal.signal_recv", "os/signal.loop":
		return true
	}
	for _, f := range g.Frames {
		switch f.Func {
		case "runtime.ensureSigM", "runtime.ReadTrace":
			return true
		case "runtime.goexit":
			if strings.HasPrefix(g.State, "syscall") {
				return true
			}
		}
	}
	return false
}

// hiddenRuntime reports a function a traceback leaves out of the stacks of
// goroutines other than the current one: an unexported function of package
// runtime. Profiles show them; dropping them gives both one shape.
func hiddenRuntime(fn string) bool {
	rest, ok := strings.CutPrefix(fn, "runtime.")
	return ok && rest != "" && !(rest[0] >= 'A' && rest[0] <= 'Z')
}

// topFunc is the innermost function as a traceback shows it.
func topFunc(g *stackparse.Goroutine) string {
	for _, f := range g.Frames {
		if !hiddenRuntime(f.Func) {
			return f.Func
		}
	}
	return ""
}

func funcPkg(fn string) string {
	pkg, _, _ := stackparse.SplitFunc(fn)
	return pkg
}

// isAMQP reports a goroutine running, or started by, the client library.
func isAMQP(g *stackparse.Goroutine) bool {
	for _, f := range g.Frames {
		if isLib(f.Func) {
			return true
		}
	}
	return isLib(g.CreatedBy.Func)
}

func isLib(fn string) bool {
	if !strings.Contains(fn, "/amqp") {
		return false
	}
	pkg := funcPkg(fn)
	for _, lib := range [...]string{detect.LibAMQP091, detect.LibStreadway} {
		if pkg == lib || strings.HasSuffix(pkg, "/"+lib) {
			return true
		}
	}
	return false
}
