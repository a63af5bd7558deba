package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/amqpleaks/amqpleaks/internal/brokertest"
	"github.com/amqpleaks/amqpleaks/internal/faultproxy"
	"github.com/amqpleaks/amqpleaks/leakcheck"
)

// The tests put a fault proxy between the client and the broker, break the
// connection in each way seen in production, and check that messages flow
// again and that Stop leaves no goroutine behind (leakcheck.Check in each
// test, leakcheck.VerifyTestMain for the whole run). None runs in parallel:
// TestResourceAlarm raises a broker-wide alarm.

func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}

func TestRoundTrip(t *testing.T) {
	r := newRig(t)
	r.roundTrip("first")
	r.roundTrip("second")
}

// TestReset: the network resets the connections (RST to both sides).
func TestReset(t *testing.T) {
	r := newRig(t)
	r.roundTrip("before")
	c0, p0 := r.connects()
	r.proxy.Reset()
	r.waitFor("both sides to reconnect", func() bool {
		c, p := r.connects()
		return c > c0 && p > p0
	})
	r.roundTrip("after")
}

// TestBlackHole: packets are silently dropped, as by a firewall that forgot
// the flow. No FIN, no RST: only the heartbeat timeout (3 heartbeats of 1 s
// here) tells the client the connection is dead.
func TestBlackHole(t *testing.T) {
	r := newRig(t)
	r.roundTrip("before")
	c0, p0 := r.connects()
	start := time.Now()
	r.proxy.BlackHole()
	r.waitFor("the heartbeat timeout to drop both connections", func() bool {
		return !r.c.Stats().Connected && !r.p.Stats().Connected
	})
	t.Logf("black hole noticed after %v", time.Since(start).Round(time.Millisecond))
	r.proxy.Restore()
	r.roundTrip("after")
	if c, p := r.connects(); c <= c0 || p <= p0 {
		t.Errorf("connections opened: consumer %d→%d, publisher %d→%d; want new ones", c0, c, p0, p)
	}
}

// TestBrokerClosesConnection: the broker closes the connections
// (rabbitmqctl close_connection, as an operator or a broker restart does).
func TestBrokerClosesConnection(t *testing.T) {
	r := newRig(t)
	r.roundTrip("before")
	c0, p0 := r.connects()
	for _, role := range []string{"consumer", "publisher"} {
		closeConnection(t, r.cfg.Name+"-"+role)
	}
	r.waitFor("both sides to reconnect", func() bool {
		c, p := r.connects()
		return c > c0 && p > p0
	})
	r.roundTrip("after")
}

// TestResourceAlarm: the broker raises a memory alarm and blocks publishing
// connections. Publish pauses, and resumes once the alarm clears.
func TestResourceAlarm(t *testing.T) {
	r := newRig(t)
	r.roundTrip("before")
	memoryAlarm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	err := r.p.Publish(ctx, []byte("during the alarm"))
	cancel()
	if err == nil {
		t.Fatal("Publish succeeded while the broker was in a memory alarm")
	}
	t.Logf("Publish during the alarm: %v", err)
	r.waitFor("the publisher to see connection.blocked", func() bool { return r.p.Stats().Blocked })
	restoreWatermark(t)
	r.waitFor("the publisher to see connection.unblocked", func() bool { return !r.p.Stats().Blocked })
	r.roundTrip("after")
}

// TestStopDuringOutage: Stop returns promptly, leaving nothing behind, even
// while the network drops everything (bounded close).
func TestStopDuringOutage(t *testing.T) {
	r := newRig(t)
	r.roundTrip("before")
	r.proxy.BlackHole()
	start := time.Now()
	r.stop()
	if d := time.Since(start); d > 2*r.cfg.CloseTimeout+time.Second {
		t.Errorf("Stop took %v; want under %v", d, 2*r.cfg.CloseTimeout+time.Second)
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: time.Second}
	for i, ceil := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		ceil *= time.Millisecond
		if i == 5 {
			b.reset()
			ceil = 100 * time.Millisecond
		}
		d := b.next()
		if d < ceil/2 || d > ceil {
			t.Errorf("attempt %d: %v, want within [%v, %v]", i, d, ceil/2, ceil)
		}
	}
}

// rig is a Consumer and a Publisher on one queue, through a fault proxy.
type rig struct {
	t     *testing.T
	proxy *faultproxy.Proxy
	cfg   Config
	c     *Consumer
	p     *Publisher
	got   chan string
	seq   atomic.Int64
	stop  func()
}

func newRig(t *testing.T) *rig {
	// First, so that everything the test starts is checked, after every
	// cleanup registered below has run.
	leakcheck.Check(t, leakcheck.Timeout(5*time.Second))
	url := brokertest.URL(t)
	proxy, err := faultproxy.Start(brokertest.Addr(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	purl, err := proxy.URL(url)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("amqpleaks-reconnect-%s-%d", strings.ToLower(strings.TrimPrefix(t.Name(), "Test")), os.Getpid())
	r := &rig{t: t, proxy: proxy, got: make(chan string, 1000)}
	r.cfg = Config{
		URL: purl, Queue: name, Name: name,
		Heartbeat: time.Second, DialTimeout: 2 * time.Second, CloseTimeout: 2 * time.Second,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
		Logf: t.Logf,
	}
	r.c = StartConsumer(r.cfg, func(ctx context.Context, d amqp.Delivery) error {
		select {
		case r.got <- string(d.Body):
		default:
		}
		return nil
	})
	r.p = StartPublisher(r.cfg)
	stopped := false
	r.stop = func() {
		if !stopped {
			stopped = true
			r.p.Stop()
			r.c.Stop()
		}
	}
	t.Cleanup(func() {
		r.stop()
		deleteQueue(t, url, name)
	})
	return r
}

// roundTrip publishes a message and waits until the consumer has it.
func (r *rig) roundTrip(label string) {
	r.t.Helper()
	body := fmt.Sprintf("%s #%d", label, r.seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	if err := r.p.Publish(ctx, []byte(body)); err != nil {
		r.t.Fatalf("publish %q: %v", body, err)
	}
	for {
		select {
		case b := <-r.got:
			if b == body {
				r.t.Logf("round trip %q in %v", body, time.Since(start).Round(time.Millisecond))
				return
			}
		case <-ctx.Done():
			r.t.Fatalf("message %q was published but not consumed within 20s", body)
		}
	}
}

func (r *rig) connects() (consumer, publisher int64) {
	return r.c.Stats().Connects, r.p.Stats().Connects
}

// waitFor polls cond for up to 15 s.
func (r *rig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("waited 15s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deleteQueue removes the test's queue.
func deleteQueue(t *testing.T, url, queue string) {
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Logf("delete queue %s: %v", queue, err)
		return
	}
	defer conn.Close()
	if ch, err := conn.Channel(); err == nil {
		_, _ = ch.QueueDelete(queue, false, false, false)
	}
}

// rabbitmqctl runs rabbitmqctl, failing the test if it cannot.
func rabbitmqctl(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "rabbitmqctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// needRabbitmqctl skips the test when rabbitmqctl is not installed (fails
// under CI=true, as brokertest does for the broker).
func needRabbitmqctl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("rabbitmqctl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("rabbitmqctl not found [CI=true]")
		}
		t.Skip("rabbitmqctl not found: this test drives the broker with it")
	}
}

// closeConnection makes the broker close the connection named name.
func closeConnection(t *testing.T, name string) {
	t.Helper()
	needRabbitmqctl(t)
	out := rabbitmqctl(t, "--quiet", "list_connections", "pid", "client_properties")
	re := regexp.MustCompile(`^(<[^>]+>)\s.*\{"connection_name","` + regexp.QuoteMeta(name) + `"\}`)
	for _, line := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			rabbitmqctl(t, "close_connection", m[1], "amqpleaks reconnect test")
			return
		}
	}
	t.Fatalf("no connection named %q in rabbitmqctl list_connections:\n%s", name, out)
}

// memoryAlarm raises the broker's memory alarm and registers the restore of
// the previous watermark, which runs even if the test fails.
func memoryAlarm(t *testing.T) {
	t.Helper()
	needRabbitmqctl(t)
	prev := rabbitmqctl(t, "--quiet", "eval", "vm_memory_monitor:get_vm_memory_high_watermark().")
	restore := []string{"set_vm_memory_high_watermark", prev}
	if v, ok := strings.CutPrefix(prev, "{absolute,"); ok {
		restore = []string{"set_vm_memory_high_watermark", "absolute", strings.TrimSuffix(v, "}")}
	} else if _, err := fmt.Sscanf(prev, "%g", new(float64)); err != nil {
		restore = []string{"set_vm_memory_high_watermark", "0.4"}
	}
	restored := false
	restoreFn = func() {
		if restored {
			return
		}
		restored = true
		rabbitmqctl(t, restore...)
		t.Logf("restored: rabbitmqctl %s", strings.Join(restore, " "))
	}
	t.Cleanup(restoreFn)
	rabbitmqctl(t, "set_vm_memory_high_watermark", "0.0000001")
	t.Logf("raised the memory alarm (previous watermark %s)", prev)
}

// restoreFn undoes memoryAlarm.
var restoreFn = func() {}

func restoreWatermark(t *testing.T) {
	t.Helper()
	restoreFn()
}
