// Package orders is a small RabbitMQ consumer whose test suite shows how to
// add leakcheck to tests: see orders_test.go and README.md.
package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Process consumes queue until ctx ends, calling handle for each message and
// acknowledging it when handle returns nil. It returns nil when ctx ends,
// and an error when the connection or the channel closes under it. Every
// goroutine it causes has ended when it returns.
func Process(ctx context.Context, url, queue string, handle func(body []byte) error) error {
	conn, err := amqp.DialConfig(url, amqp.Config{
		Heartbeat:  10 * time.Second,
		Properties: amqp.Table{"connection_name": "orders"},
	})
	if err != nil {
		return err
	}
	connClosed := conn.NotifyClose(make(chan *amqp.Error, 1))
	var chClosed chan *amqp.Error
	defer func() {
		// Close, then read every listener until the library closes it.
		_ = conn.CloseDeadline(time.Now().Add(5 * time.Second))
		for range connClosed {
		}
		for range chClosed {
		}
	}()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	chClosed = ch.NotifyClose(make(chan *amqp.Error, 1))
	if _, err := ch.QueueDeclare(queue, false, false, false, false, nil); err != nil {
		return err
	}
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-connClosed:
			return fmt.Errorf("connection closed: %v", err)
		case err := <-chClosed:
			return fmt.Errorf("channel closed: %v", err)
		case d, ok := <-deliveries:
			if !ok {
				return errors.New("consumer cancelled")
			}
			if err := handle(d.Body); err != nil {
				_ = d.Nack(false, false)
				continue
			}
			_ = d.Ack(false)
		}
	}
}
