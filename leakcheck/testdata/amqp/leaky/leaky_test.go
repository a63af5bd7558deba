// Package leaky holds tests that leak AMQP goroutines and dead connections.
// Each must make `go test` fail with the diagnosis of its leak.
package leaky

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/amqpleaks/amqpleaks/internal/brokertest"
	"github.com/amqpleaks/amqpleaks/internal/faultproxy"
	"github.com/amqpleaks/amqpleaks/leakcheck/testdata/amqp/mode"
)

func TestMain(m *testing.M) { mode.Main(m) }

// TestDialNoClose dials and returns without Close: the connection's reader
// and heartbeater stay, and so does the connection.
func TestDialNoClose(t *testing.T) {
	mode.Check(t)
	conn, err := amqp.Dial(brokertest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	_ = conn // no conn.Close()
}

// TestNotifyCloseUnread registers an unbuffered NotifyClose it never reads;
// then the network resets the connection. The reader blocks in shutdown
// sending the error, before it closes the socket.
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
	conn.NotifyClose(make(chan *amqp.Error)) // registered "for later", never read
	p.Reset()
}

// TestConsumerLeftRunning consumes, handles the first delivery and returns
// with the consumer still running: the deliveries behind it stay queued in
// the library's buffer goroutine, unacked, nobody reading.
func TestConsumerLeftRunning(t *testing.T) {
	mode.Check(t)
	conn, err := amqp.Dial(brokertest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	// Server-named, exclusive: the broker deletes it with the connection.
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
	msgs, err := ch.Consume(q.Name, "", false, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for d := range msgs {
		_ = d.Ack(false)
		break // the handler loop ends early; nobody cancels the consumer
	}
}
