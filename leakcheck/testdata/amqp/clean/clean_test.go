// Package clean holds the tests of package leaky written correctly. They
// must pass under every leakcheck mode.
package clean

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/amqpleaks/amqpleaks/internal/brokertest"
	"github.com/amqpleaks/amqpleaks/internal/faultproxy"
	"github.com/amqpleaks/amqpleaks/leakcheck"
	"github.com/amqpleaks/amqpleaks/leakcheck/testdata/amqp/mode"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

func TestMain(m *testing.M) { mode.Main(m) }

func TestDialNoClose(t *testing.T) {
	mode.Check(t)
	conn, err := amqp.Dial(brokertest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() }) // runs before the check
}

// TestNotifyCloseUnread reads its NotifyClose listener (buffered), so the
// reader finishes shutting down after the reset.
func TestNotifyCloseUnread(t *testing.T) {
	mode.Check(t)
	url := brokertest.URL(t)
	p, err := faultproxy.Start(brokertest.Addr(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	purl, err := p.URL(url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := amqp.Dial(purl)
	if err != nil {
		t.Fatal(err)
	}
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	p.Reset()
	select {
	case err := <-closed:
		t.Logf("connection closed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no close notification 10 s after the reset")
	}
	for range closed { // the library closes it when done
	}
}

func TestConsumerLeftRunning(t *testing.T) {
	mode.Check(t)
	conn, err := amqp.Dial(brokertest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		if err := ch.PublishWithContext(ctx, "", q.Name, false, false, amqp.Publishing{Body: []byte("m")}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := ch.Consume(q.Name, "leakcheck-clean", false, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for d := range msgs {
		_ = d.Ack(false)
		break
	}
	// Stop the consumer; the library closes msgs once it is cancelled.
	if err := ch.Cancel("leakcheck-clean", false); err != nil {
		t.Fatal(err)
	}
	for d := range msgs {
		_ = d.Nack(false, false)
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLibraryGoroutinesInheritLabel proves the claim Check rests on for the
// library's own goroutines: the reader and heartbeater Dial starts and the
// buffer goroutine Consume starts carry the label Check gave the test's
// goroutine.
func TestLibraryGoroutinesInheritLabel(t *testing.T) {
	leakcheck.Check(t)
	conn, err := amqp.Dial(brokertest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Consume(q.Name, "", true, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"github.com/rabbitmq/amqp091-go.(*Connection).reader":      "",
		"github.com/rabbitmq/amqp091-go.(*Connection).heartbeater": "",
		"github.com/rabbitmq/amqp091-go.(*consumers).buffer":       "",
	}
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	d, err := stackparse.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range d.Goroutines {
		for _, f := range g.Frames {
			if _, ok := want[f.Func]; ok {
				want[f.Func], _ = g.Label(leakcheck.LabelKey)
			}
		}
	}
	for fn, label := range want {
		if !strings.HasPrefix(label, "TestLibraryGoroutinesInheritLabel#") {
			t.Errorf("%s: label %q, want the test's", fn, label)
		}
	}
}
