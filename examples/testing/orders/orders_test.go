package orders_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/amqpleaks/amqpleaks/examples/testing/orders"
	"github.com/amqpleaks/amqpleaks/internal/brokertest"
	"github.com/amqpleaks/amqpleaks/leakcheck"
)

// Step 1: one line in TestMain. After all tests have passed, it fails the
// run if any goroutine is left, and says what it is.
func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}

// Step 2: leakcheck.Check(t) first in a test tells which test leaked, even
// when tests run in parallel.
func TestProcess(t *testing.T) {
	leakcheck.Check(t)
	url := brokertest.URL(t)
	queue := testQueue(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- orders.Process(ctx, url, queue, func(body []byte) error {
			got <- string(body)
			return nil
		})
	}()
	publish(t, url, queue, "order 1")
	select {
	case body := <-got:
		if body != "order 1" {
			t.Errorf("got %q, want %q", body, "order 1")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestProcessParallel(t *testing.T) {
	url := brokertest.URL(t)
	for i := 1; i <= 3; i++ {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			leakcheck.Check(t) // each parallel subtest checks only its own goroutines
			queue := testQueue(t)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if err := orders.Process(ctx, url, queue, func([]byte) error { return nil }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLeakyHelper shows what a leak looks like: the helper opens a
// connection and never closes it. It runs only when asked:
//
//	AMQPLEAKS_SHOW_LEAK=1 go test -run TestLeakyHelper ./orders
func TestLeakyHelper(t *testing.T) {
	if os.Getenv("AMQPLEAKS_SHOW_LEAK") == "" {
		t.Skip("set AMQPLEAKS_SHOW_LEAK=1 to see how leakcheck reports a leak")
	}
	leakcheck.Check(t)
	url := brokertest.URL(t)
	conn, err := amqp.Dial(url) // BUG: never closed
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Channel(); err != nil {
		t.Fatal(err)
	}
}

// publish sends body to queue on a connection of its own, and closes it.
func publish(t *testing.T, url, queue, body string) {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ch.PublishWithContext(ctx, "", queue, false, false, amqp.Publishing{Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
}

// testQueue names a queue for this test and deletes it at the end.
func testQueue(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("amqpleaks-testing-%s-%d", t.Name(), os.Getpid())
	t.Cleanup(func() {
		conn, err := amqp.Dial(brokertest.URL(t))
		if err != nil {
			return
		}
		defer conn.Close()
		if ch, err := conn.Channel(); err == nil {
			_, _ = ch.QueueDelete(name, false, false, false)
		}
	})
	return name
}
