// Package parallel runs several t.Parallel tests that each use their own
// connection at the same time; exactly one, TestPublishForgetsClose, leaks
// it. Under leakcheck.Check only that test must fail. (Under VerifyNone
// every test that ends after it fails too: VerifyNone sees the whole
// process, as goleak does.)
package parallel

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/amqpleaks/amqpleaks/internal/brokertest"
	"github.com/amqpleaks/amqpleaks/leakcheck/testdata/amqp/mode"
)

func TestMain(m *testing.M) { mode.Main(m) }

// roundTrip publishes n messages to a queue of its own, consumes them, and
// keeps the connection open for hold.
func roundTrip(t *testing.T, n int, hold time.Duration) *amqp.Connection {
	t.Helper()
	conn, err := amqp.Dial(brokertest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
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
	for i := 0; i < n; i++ {
		if err := ch.PublishWithContext(ctx, "", q.Name, false, false, amqp.Publishing{Body: []byte("m")}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		select {
		case <-msgs:
		case <-ctx.Done():
			t.Fatal("deliveries missing")
		}
	}
	time.Sleep(hold)
	return conn
}

func TestPublishA(t *testing.T) {
	t.Parallel()
	mode.Check(t)
	conn := roundTrip(t, 10, 1500*time.Millisecond)
	_ = conn.Close()
}

func TestPublishB(t *testing.T) {
	t.Parallel()
	mode.Check(t)
	conn := roundTrip(t, 20, 1200*time.Millisecond)
	_ = conn.Close()
}

// TestPublishForgetsClose is the one that leaks: it never closes its
// connection.
func TestPublishForgetsClose(t *testing.T) {
	t.Parallel()
	mode.Check(t)
	_ = roundTrip(t, 5, 100*time.Millisecond)
}

func TestPublishC(t *testing.T) {
	t.Parallel()
	mode.Check(t)
	conn := roundTrip(t, 5, 1300*time.Millisecond)
	t.Cleanup(func() { _ = conn.Close() })
}
