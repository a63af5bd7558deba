package leakcheck_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/amqpleaks/amqpleaks/leakcheck"
)

// Find reports what is still running after the timeout; the *LeakError
// carries detect's report and the goroutines, grouped.
func ExampleFind() {
	before := leakcheck.IgnoreCurrent()
	stop := make(chan struct{})
	go func() { <-stop }() // still running: a leak

	err := leakcheck.Find(before, leakcheck.Timeout(50*time.Millisecond))
	var leak *leakcheck.LeakError
	if errors.As(err, &leak) {
		g := leak.Goroutines[0]
		fmt.Println(g.Count, "goroutine", g.Sample.State, "in", g.Sample.Frames[0].Func)
		fmt.Println("findings:", len(leak.Report.Findings))
	}
	close(stop)
	// Output:
	// 1 goroutine chan receive in github.com/amqpleaks/amqpleaks/leakcheck_test.ExampleFind.func1
	// findings: 0
}

// Check in a parallel test: only the goroutines this test starts count.
func ExampleCheck() {
	_ = func(t *testing.T) { // func TestConsume(t *testing.T) {
		t.Parallel()
		leakcheck.Check(t, leakcheck.OnlyAMQP())
		// conn, err := amqp.Dial(url)
		// if err != nil { t.Fatal(err) }
		// t.Cleanup(func() { conn.Close() }) // runs before the check
	}
}

// VerifyNone at the end of a test, as with goleak.
func ExampleVerifyNone() {
	_ = func(t *testing.T) { // func TestDial(t *testing.T) {
		defer leakcheck.VerifyNone(t, leakcheck.IgnoreTopFunction("internal/poll.runtime_pollWait"))
	}
}
