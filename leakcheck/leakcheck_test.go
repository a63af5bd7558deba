package leakcheck

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The tool must not leak what it hunts: this package's tests run under its
// own VerifyTestMain.
func TestMain(m *testing.M) {
	VerifyTestMain(m)
}

// fakeTB is a testing.TB that records what a check reports and runs its
// cleanups when told to, so a leaking "test" does not fail the real one.
type fakeTB struct {
	testing.TB // nil: any method not overridden panics
	name       string

	mu       sync.Mutex
	errs     []string
	fatals   []string
	cleanups []func()
}

func newFakeTB(name string) *fakeTB { return &fakeTB{name: name} }

func (f *fakeTB) Name() string { return f.name }
func (f *fakeTB) Helper()      {}
func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}
func (f *fakeTB) Error(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprint(args...))
}
func (f *fakeTB) Errorf(format string, args ...any) { f.Error(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Fatal(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fatals = append(f.fatals, fmt.Sprint(args...))
}

// finish runs the cleanups, last registered first, as the testing package
// does when a test ends, and returns what was reported.
func (f *fakeTB) finish() []string {
	f.mu.Lock()
	cs := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.errs...)
}

// labelsOf returns the LabelKey value of each goroutine of the debug=1
// profile whose stack runs fn ("" for a goroutine without the label).
func labelsOf(t *testing.T, fn string) []string {
	t.Helper()
	buf, release := profile(1)
	defer release()
	var out []string
	if _, err := each(buf.Bytes(), func(g *stackparse.Goroutine) {
		for _, f := range g.Frames {
			if f.Func == fn {
				v, _ := g.Label(LabelKey)
				for i := 0; i < g.Count; i++ {
					out = append(out, v)
				}
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// labelOne waits for the one goroutine running fn and returns its label.
func labelOne(t *testing.T, fn string) string {
	t.Helper()
	for i := 0; ; i++ {
		got := labelsOf(t, fn)
		if len(got) == 1 {
			return got[0]
		}
		if i == 5000 {
			t.Fatalf("%d goroutines run %s, want 1", len(got), fn)
		}
		time.Sleep(time.Millisecond)
	}
}

func parkChild(stop <-chan struct{})      { <-stop }
func parkGrandchild(stop <-chan struct{}) { <-stop }
func parkBefore(stop <-chan struct{})     { <-stop }
func parkTimer(stop <-chan struct{})      { <-stop }
func parkSub(stop <-chan struct{})        { <-stop }

// TestLabelInheritance proves what Check relies on: the runtime copies a
// goroutine's pprof labels to the goroutines it starts (newproc1 copies
// curg.labels), to any depth; goroutines started before the label was set,
// and those time.AfterFunc starts, do not carry it.
func TestLabelInheritance(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	run := func(f func(<-chan struct{})) {
		wg.Add(1)
		go func() { defer wg.Done(); f(stop) }()
	}
	run(parkBefore)

	ft := newFakeTB("TestLabelInheritance")
	Check(ft, Timeout(2*time.Second))
	wg.Add(1)
	go func() {
		defer wg.Done()
		run(parkGrandchild)
		parkChild(stop)
	}()
	wg.Add(1)
	time.AfterFunc(time.Millisecond, func() { defer wg.Done(); parkTimer(stop) })

	want := map[string]string{
		"github.com/amqpleaks/amqpleaks/leakcheck.parkChild":      "labelled",
		"github.com/amqpleaks/amqpleaks/leakcheck.parkGrandchild": "labelled",
		"github.com/amqpleaks/amqpleaks/leakcheck.parkBefore":     "",
		"github.com/amqpleaks/amqpleaks/leakcheck.parkTimer":      "",
	}
	for fn, w := range want {
		got := labelOne(t, fn)
		if labelled := strings.HasPrefix(got, "TestLabelInheritance#"); labelled != (w != "") {
			t.Errorf("%s: label %q, want labelled=%v", fn, got, w != "")
		}
	}
	close(stop)
	wg.Wait()
	if errs := ft.finish(); len(errs) > 0 {
		t.Errorf("goroutines ended before the cleanup, yet Check reported: %v", errs)
	}
	// The cleanup restored the test goroutine's labels.
	done := make(chan struct{})
	wg.Add(1)
	go func() { defer wg.Done(); parkChild(done) }()
	if got := labelOne(t, "github.com/amqpleaks/amqpleaks/leakcheck.parkChild"); got != "" {
		t.Errorf("after the cleanup a new goroutine has label %q, want none", got)
	}
	close(done)
	wg.Wait()
}

// TestSubtestLabels proves that t.Run's goroutine is started by the parent
// test's goroutine and so inherits its label, and that a subtest's own
// Check replaces it for the subtest and restores it afterwards.
func TestSubtestLabels(t *testing.T) {
	Check(t)
	const fn = "github.com/amqpleaks/amqpleaks/leakcheck.parkSub"
	labelHere := func(t *testing.T) string {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { defer close(done); parkSub(stop) }()
		defer func() { close(stop); <-done }()
		return labelOne(t, fn)
	}
	parent := labelHere(t)
	if !strings.HasPrefix(parent, "TestSubtestLabels#") {
		t.Fatalf("test goroutine label %q", parent)
	}
	t.Run("inherits", func(t *testing.T) {
		if got := labelHere(t); got != parent {
			t.Errorf("subtest without Check: label %q, want the parent's %q", got, parent)
		}
	})
	t.Run("own", func(t *testing.T) {
		Check(t)
		if got := labelHere(t); !strings.HasPrefix(got, "TestSubtestLabels/own#") {
			t.Errorf("subtest with Check: label %q", got)
		}
		t.Run("nested", func(t *testing.T) {
			if got := labelHere(t); !strings.HasPrefix(got, "TestSubtestLabels/own#") {
				t.Errorf("sub-subtest: label %q, want its parent's", got)
			}
		})
	})
	t.Run("parallel", func(t *testing.T) {
		t.Parallel()
		if got := labelHere(t); got != parent {
			t.Errorf("parallel subtest: label %q, want %q", got, parent)
		}
	})
}

func leakyWorker(stop <-chan struct{}) { <-stop }
func busyWorker(d time.Duration)       { time.Sleep(d) }

// TestCheckParallel runs parallel "tests" (real parallel subtests, each
// checked through a fake TB) that all start goroutines; one leaks. Only it
// is blamed, and its report shows only its goroutine.
func TestCheckParallel(t *testing.T) {
	stop := make(chan struct{})
	released := make(chan struct{})
	t.Cleanup(func() { close(stop); <-released })
	reports := make([][]string, 6)
	t.Run("group", func(t *testing.T) {
		for i := range reports {
			i := i
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				ft := newFakeTB(fmt.Sprintf("Fake%d", i))
				Check(ft, Timeout(300*time.Millisecond))
				var wg sync.WaitGroup
				for j := 0; j < 3; j++ {
					wg.Add(1)
					go func() { defer wg.Done(); busyWorker(time.Duration(20+10*i) * time.Millisecond) }()
				}
				if i == 3 {
					go func() { leakyWorker(stop); close(released) }()
				}
				wg.Wait()
				reports[i] = ft.finish()
			})
		}
	})
	for i, errs := range reports {
		if i != 3 {
			if len(errs) != 0 {
				t.Errorf("Fake%d blamed: %v", i, errs)
			}
			continue
		}
		if len(errs) != 1 {
			t.Fatalf("Fake3: %d reports, want 1: %v", len(errs), errs)
		}
		msg := errs[0]
		for _, want := range []string{"leakcheck: Fake3 leaked 1 goroutine", "leakcheck.leakyWorker", "amqpleaks.test=Fake3#"} {
			if !strings.Contains(msg, want) {
				t.Errorf("report lacks %q:\n%s", want, msg)
			}
		}
		if strings.Contains(msg, "busyWorker") {
			t.Errorf("report shows other tests' goroutines:\n%s", msg)
		}
	}
}

// TestCheckTimeout checks that a failing Check reports within its timeout.
func TestCheckTimeout(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	ft := newFakeTB("TestCheckTimeout")
	Check(ft, Timeout(200*time.Millisecond))
	go leakyWorker(stop)
	start := time.Now()
	errs := ft.finish()
	took := time.Since(start)
	if len(errs) != 1 {
		t.Fatalf("%d reports, want 1", len(errs))
	}
	if took < 200*time.Millisecond || took > 200*time.Millisecond+300*time.Millisecond {
		t.Errorf("reported after %v, want just over the 200ms timeout", took)
	}
}

// TestCheckIgnores checks the Ignore options under Check, including
// IgnoreCreatedBy, which Check can only evaluate on the final traceback.
func TestCheckIgnores(t *testing.T) {
	tests := map[string]Option{
		"top":       IgnoreTopFunction("github.com/amqpleaks/amqpleaks/leakcheck.leakyWorker"),
		"any":       IgnoreAnyFunction("github.com/amqpleaks/amqpleaks/leakcheck.leakyWorker"),
		"regexp":    IgnoreRegexp(`leakcheck\.leaky`),
		"package":   IgnorePackage("github.com/amqpleaks/amqpleaks"),
		"createdBy": IgnoreCreatedBy("github.com/amqpleaks/amqpleaks/leakcheck.startLeaky"),
		"onlyAMQP":  OnlyAMQP(),
	}
	for name, opt := range tests {
		t.Run(name, func(t *testing.T) {
			stop := make(chan struct{})
			defer close(stop)
			ft := newFakeTB(t.Name())
			Check(ft, Timeout(50*time.Millisecond), opt)
			startLeaky(stop)
			if errs := ft.finish(); len(errs) != 0 {
				t.Errorf("ignored goroutine reported: %v", errs)
			}
		})
	}
	t.Run("not ignored", func(t *testing.T) {
		stop := make(chan struct{})
		defer close(stop)
		ft := newFakeTB(t.Name())
		Check(ft, Timeout(50*time.Millisecond), IgnorePackage("github.com/amqpleaks/amqpleaks/leak"), IgnoreCreatedBy("main.other"))
		startLeaky(stop)
		if errs := ft.finish(); len(errs) != 1 {
			t.Errorf("got %d reports, want 1", len(errs))
		}
	})
}

//go:noinline
func startLeaky(stop <-chan struct{}) { go leakyWorker(stop) }

// TestVerifyNone checks VerifyNone and Find on the live process, with
// leakcheck's and goleak's options.
func TestVerifyNone(t *testing.T) {
	stop := make(chan struct{})
	startLeaky(stop)
	ft := newFakeTB("x")
	VerifyNone(ft, Timeout(50*time.Millisecond))
	if len(ft.errs) != 1 || !strings.Contains(ft.errs[0], "leakcheck.leakyWorker") ||
		!strings.Contains(ft.errs[0], "(the goroutine that ran this check)") {
		t.Errorf("VerifyNone reported %v", ft.errs)
	}
	if err := Find(Timeout(50*time.Millisecond), IgnoreTopFunction("github.com/amqpleaks/amqpleaks/leakcheck.leakyWorker")); err != nil {
		t.Errorf("Find with the leak ignored: %v", err)
	}
	close(stop)
	if err := Find(); err != nil {
		t.Errorf("Find after the goroutine ended: %v", err)
	}
	cleaned := -1
	VerifyNone(t, Cleanup(func(code int) { cleaned = code }))
	if cleaned != 0 {
		t.Errorf("Cleanup got %d", cleaned)
	}
	if err := Find(Cleanup(func(int) {})); err == nil {
		t.Error("Find accepted Cleanup")
	}
}

// TestVerifyTestMain checks the exit code and message of VerifyTestMain.
func TestVerifyTestMain(t *testing.T) {
	var out strings.Builder
	defer func(w io.Writer) { osStderr = w }(osStderr)
	osStderr = &out
	stop := make(chan struct{})
	startLeaky(stop)
	code := -1
	VerifyTestMain(fakeM(0), Cleanup(func(c int) { code = c }), Timeout(20*time.Millisecond))
	close(stop)
	if code != 1 || !strings.HasPrefix(out.String(), "leakcheck: errors on successful test run: leakcheck: found 1 goroutine") {
		t.Errorf("code %d, stderr %q", code, out.String())
	}
	VerifyTestMain(fakeM(2), Cleanup(func(c int) { code = c }))
	if code != 2 {
		t.Errorf("failed run: code %d, want 2", code)
	}
}

type fakeM int

func (m fakeM) Run() int { return int(m) }

// fixtures are real dumps (detect/testdata/scenarios) the message tests
// feed to VerifyNone in place of the process's goroutines.
var fixtures = []struct{ dump, golden, rule string }{
	{"../detect/testdata/scenarios/amqp091-go-v1.10.0/go1.26/conn-notifyclose-unread/debug2.txt", "conn-notifyclose-unread.txt", "conn-notifyclose-unread"},
	{"../detect/testdata/scenarios/amqp091-go-v1.10.0/go1.26/consumer-unread/debug2.txt", "consumer-unread.txt", "consumer-unread"},
}

// TestMessageFormat checks VerifyNone's message through a fake TB on real
// dumps: it leads with the diagnosis (rule, connection, detect's message,
// why, fix, link), then the goroutines, grouped.
func TestMessageFormat(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.rule, func(t *testing.T) {
			data, err := os.ReadFile(fx.dump)
			if err != nil {
				t.Fatal(err)
			}
			defer func(f func() ([]byte, func())) { takeTraceback = f }(takeTraceback)
			takeTraceback = func() ([]byte, func()) { return data, func() {} }
			ft := newFakeTB("TestLeaky")
			VerifyNone(ft, OnlyAMQP(), Timeout(time.Millisecond))
			if len(ft.errs) != 1 {
				t.Fatalf("%d errors, want 1", len(ft.errs))
			}
			msg := ft.errs[0]
			le, ok := Find(OnlyAMQP(), Timeout(time.Millisecond)).(*LeakError)
			if !ok || len(le.Report.Findings) == 0 {
				t.Fatalf("Find: %v", le)
			}
			f := le.Report.Findings[0]
			if f.Rule != fx.rule {
				t.Fatalf("first finding %s, want %s", f.Rule, fx.rule)
			}
			order := []string{"leakcheck: found ", "[" + f.Severity.String() + "] " + fx.rule + ": " + f.Title,
				"connection " + f.Connection, flat(f.Message), "why: " + flat(f.Why), "fix: " + flat(f.Fix),
				"more: " + rulesURL + fx.rule, "goroutines in ", "created by "}
			text, at := flat(msg), 0
			for _, w := range order {
				i := strings.Index(text[at:], w)
				if i < 0 {
					t.Fatalf("%q missing or out of order in:\n%s", w, msg)
				}
				at += i + len(w)
			}
		})
	}
}

// TestRenderGolden compares the whole layout of the message with golden
// files. detect's texts (title, message, why, fix) are replaced by fixed
// ones first, so that rewording a rule does not break this test.
func TestRenderGolden(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.rule, func(t *testing.T) {
			data, err := os.ReadFile(fx.dump)
			if err != nil {
				t.Fatal(err)
			}
			defer func(f func() ([]byte, func())) { takeTraceback = f }(takeTraceback)
			takeTraceback = func() ([]byte, func()) { return data, func() {} }
			le, ok := Find(OnlyAMQP(), Timeout(time.Millisecond)).(*LeakError)
			if !ok {
				t.Fatal("no leak found")
			}
			le.Waited = time.Millisecond
			for _, f := range le.Report.Findings {
				f.Title = "Title of " + f.Rule
				f.Message = "Message of " + f.Rule + ", long enough to be wrapped at one hundred columns like the real ones are."
				f.Why = "Why of " + f.Rule + "."
				f.Fix = "Fix of " + f.Rule + "."
			}
			got := le.Error()
			golden := "testdata/golden/" + fx.golden
			if *update {
				if err := os.WriteFile(golden, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got+"\n" != string(want) {
				t.Errorf("message differs from %s (go test -run TestRenderGolden -update):\n%s", golden, got)
			}
		})
	}
}

// TestStackKey checks that a goroutine gets the same key from the proto
// profile and from a traceback, which Check needs to read the details of
// its goroutines from a traceback.
func TestStackKey(t *testing.T) {
	stop := make(chan struct{})
	startLeaky(stop)
	defer close(stop)
	runtime.Gosched()
	const fn = "github.com/amqpleaks/amqpleaks/leakcheck.leakyWorker"
	key := func(data []byte) string {
		var k string
		_, _ = each(data, func(g *stackparse.Goroutine) {
			for _, f := range g.Frames {
				if f.Func == fn {
					k = stackKey(g)
				}
			}
		})
		return k
	}
	var fromProto, fromTB string
	for i := 0; i < 100 && (fromProto == "" || fromTB == ""); i++ {
		buf, release := profile(0)
		fromProto = key(buf.Bytes())
		release()
		data, releaseTB := tracebackInto()
		fromTB = key(data)
		releaseTB()
		time.Sleep(time.Millisecond)
	}
	if fromProto == "" || fromProto != fromTB {
		t.Errorf("proto key %q, traceback key %q", fromProto, fromTB)
	}
}

// TestCheckAmbiguous covers the fallback: the leaked goroutine's creator
// has ended, so its ancestry cannot be followed, and an unlabelled
// goroutine has the same stack. Check then reports the profile's view.
func TestCheckAmbiguous(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	startLeaky(stop) // before Check: not the test's
	ft := newFakeTB("TestCheckAmbiguous")
	Check(ft, Timeout(50*time.Millisecond))
	done := make(chan struct{})
	go func() { startLeaky(stop); close(done) }()
	<-done
	errs := ft.finish()
	if len(errs) != 1 {
		t.Fatalf("%d reports, want 1", len(errs))
	}
	for _, want := range []string{"TestCheckAmbiguous leaked 1 goroutine ", "(from the goroutine profile:", "leakcheck.leakyWorker"} {
		if !strings.Contains(errs[0], want) {
			t.Errorf("report lacks %q:\n%s", want, errs[0])
		}
	}
}

// TestNoDescendants checks the traceback fast path of Check: it must
// answer false whenever a goroutine could carry the test's label, and true
// once none can.
func TestNoDescendants(t *testing.T) {
	gid := currentID()
	waitFor := func(want bool, since int64) {
		t.Helper()
		for i := 0; noDescendants(gid, since) != want; i++ {
			if i == 2000 {
				t.Fatalf("noDescendants never became %v", want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// An orphan started before: its creator has ended.
	stopOld := make(chan struct{})
	defer close(stopOld)
	done := make(chan struct{})
	go func() { startLeaky(stopOld); close(done) }()
	<-done
	waitFor(true, seen.gen.Load()+1) // counts as started before "since"
	since := seen.gen.Load()         // the orphan is now known to be older
	if !noDescendants(gid, since) {
		t.Error("a goroutine seen before the label counts as the test's")
	}

	// A child of the test's goroutine.
	stop := make(chan struct{})
	startLeaky(stop)
	if noDescendants(gid, since) {
		t.Error("a child of the test's goroutine was missed")
	}
	close(stop)
	waitFor(true, since)

	// An orphan started after: its creator has ended, so it may be the test's.
	stop = make(chan struct{})
	done = make(chan struct{})
	go func() { startLeaky(stop); close(done) }()
	<-done
	if noDescendants(gid, since) {
		t.Error("a goroutine whose creator ended was taken as not the test's")
	}
	close(stop)
	waitFor(true, since)
}
