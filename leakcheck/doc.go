// Package leakcheck fails a test that leaks goroutines, AMQP connections
// or consumers, and says why: the failure message leads with the diagnosis
// of the detect catalog (the rule that matched, the connection, why it is a
// bug and the fix), then lists the goroutines left, grouped by stack, with
// the code that started them.
//
// It has go.uber.org/goleak's surface, so switching is a change of import:
//
//	func TestMain(m *testing.M) {
//		leakcheck.VerifyTestMain(m) // after all tests, like goleak.VerifyTestMain
//	}
//
//	func TestDial(t *testing.T) {
//		defer leakcheck.VerifyNone(t) // like goleak.VerifyNone: the whole process
//		…
//	}
//
// and one entry point goleak lacks, correct under t.Parallel:
//
//	func TestConsume(t *testing.T) {
//		t.Parallel()
//		leakcheck.Check(t) // first: only what this test starts counts
//		conn, err := amqp.Dial(url)
//		…
//	}
//
// A leak then fails the test with a message such as
//
//	leakcheck: TestNotifyCloseUnread leaked 1 goroutine still running after 502ms (started under pprof label amqpleaks.test=TestNotifyCloseUnread#2)
//
//	[critical] conn-notifyclose-unread: Connection shutdown blocked on an unread Connection.NotifyClose channel
//	  connection 0x204aced45ce0
//	  library: github.com/rabbitmq/amqp091-go v1.10.0
//	  The reader of connection 0x204aced45ce0 is stuck sending the close error to a NotifyClose channel
//	  nobody reads; the connection's socket is still open.
//	  why: When the connection ends the library sends the close error to every channel registered with …
//	  fix: Give every NotifyClose channel a buffer of 1 and read it until it is closed, on every …
//	  goroutine 22 (reader) [chan send] at (*Connection).shutdown.func1 connection.go:609
//	  more: https://github.com/amqpleaks/amqpleaks/blob/main/docs/rules.md#conn-notifyclose-unread
//
//	1 goroutine in 1 group:
//
//	1 goroutine [chan send] 22:
//	    github.com/rabbitmq/amqp091-go.(*Connection).shutdown.func1
//	        /root/go/pkg/mod/github.com/rabbitmq/amqp091-go@v1.10.0/connection.go:609
//	    …
//	    created by github.com/rabbitmq/amqp091-go.Open
//	        /root/go/pkg/mod/github.com/rabbitmq/amqp091-go@v1.10.0/connection.go:302 in goroutine 24 (the test's goroutine)
//
// Run the tests with GODEBUG=tracebackancestors=5 and each group also
// names the application line that started it ("started from the
// application at …"), even when the library's go statement is in between.
//
// # What counts as a leak
//
// Whatever is still running when the check's timeout (DefaultTimeout,
// 500 ms, about goleak's 20 retries) has passed, except goleak's default
// exceptions (the testing package's and os/signal's goroutines). The
// diagnosis is detect's, with two settings suited to the end of a test:
// one connection left open is a pile-up (detect.WithPileupThreshold(1)),
// and a goroutine still waiting has waited long enough
// (detect.WithMinWait(0)). So a test that dials and returns without Close
// fails with conn-pileup; one whose unread NotifyClose leaves the reader
// blocked in shutdown after the network drops the connection with
// conn-notifyclose-unread; one that leaves a consumer holding deliveries
// with consumer-unread. Goroutines no rule explains are listed all the same.
//
// # Options
//
// IgnoreTopFunction, IgnoreAnyFunction, IgnoreCurrent and Cleanup are
// goleak's, with its meaning. leakcheck adds OnlyAMQP (look only at the
// client library's goroutines and those it started), IgnoreCreatedBy,
// IgnoreRegexp (any function or the creator matches), IgnorePackage (a
// package path and those below it), Timeout (one overall wait, instead of
// goleak's retry count) and Detect (options for the diagnosis). Goleak
// passes goleak.Option values through to VerifyNone, VerifyTestMain and
// Find: a goroutine is then reported only if goleak.Find with them reports
// it too:
//
//	leakcheck.VerifyNone(t, leakcheck.OnlyAMQP(), leakcheck.Goleak(goleak.IgnoreCurrent()))
//
// # How Check attributes goroutines to a test
//
// Check gives the calling goroutine a pprof label unique to the call
// (LabelKey = "amqpleaks.test", value "TestName#N"). The runtime copies a
// goroutine's labels into every goroutine it starts (runtime.newproc1:
// newg.labels = curg.labels), so everything the test starts carries it, to
// any depth: its own goroutines, and the reader, heartbeater and consumer
// goroutines amqp091-go starts in Dial and Consume (this package's tests
// prove both). At the test's end (a t.Cleanup registered first, so it runs
// after the test's other cleanups) Check restores the goroutine's labels
// and waits until no goroutine with the label is left, reading the
// goroutine profile, which carries labels. What remains after the timeout
// is this test's leak, whatever other tests are doing.
//
// Each look first takes a traceback, cheaper than the profile but without
// labels: when no goroutine descends from the test's goroutine (following
// "created by … in goroutine N") and every other is older than the label
// or descends from goroutine 1, none can carry it, and the check passes
// without the profile. To report, Check reads the proto profile and a
// traceback, and takes the traceback's goroutines (with IDs, receiver
// addresses and creators) when it can tell which are the test's; when it
// cannot (another test left goroutines with the same stacks, whose
// creators have ended), it reports the profile's aggregated view and says so.
//
// Caveats: call Check first, from the test's goroutine. Goroutines are not
// attributed when they were started before Check, by goroutines that
// existed before the test (a worker pool, a proxy started in TestMain), by
// time.AfterFunc (the runtime's timer starts them), or under labels set
// with pprof.Do or pprof.SetGoroutineLabels from a context that is not the
// test's (the label is replaced). A subtest's goroutine is started by its
// parent's goroutine and inherits the parent's label: without its own
// Check, a subtest's goroutines are its parent's; with one, its own.
// IgnoreCreatedBy needs a traceback, so Check applies it at the timeout.
//
// # Cost
//
// A passing VerifyNone costs about what goleak.VerifyNone costs on the
// same test (0.8–1.0×), a passing Check less (0.6–0.75×): see README.md
// and BenchmarkInterleaved. A failing check reports within its timeout
// (plus goleak's own wait, about 0.43 s, with Goleak options).
package leakcheck
