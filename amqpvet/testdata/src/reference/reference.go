// Package reference is the reconnecting consumer and the confirming
// publisher that amqpleaks recommends: every listener buffered and drained,
// the channel watched as well as the connection, acks with multiple=false,
// confirmations read, heartbeats on. amqpvet reports nothing here.
package reference

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

type Consumer struct {
	URL    string
	Queue  string
	Handle func(amqp.Delivery) error
}

// Run consumes until ctx is done, opening a new connection and channel
// whenever either closes.
func (c *Consumer) Run(ctx context.Context) error {
	for {
		err := c.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Printf("session ended: %v; reconnecting", err)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *Consumer) session(ctx context.Context) error {
	conn, err := amqp.DialConfig(c.URL, amqp.Config{Heartbeat: 10 * time.Second})
	if err != nil {
		return err
	}
	defer conn.CloseDeadline(time.Now().Add(5 * time.Second))
	connClosed := conn.NotifyClose(make(chan *amqp.Error, 1))
	blocked := conn.NotifyBlocked(make(chan amqp.Blocking, 1))
	go logBlocked(blocked)

	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	chClosed := ch.NotifyClose(make(chan *amqp.Error, 1))
	cancels := ch.NotifyCancel(make(chan string, 1))
	// Whatever ends the session, keep reading the listeners until the
	// library closes them, so it never blocks on them.
	defer func() {
		go drain(connClosed)
		go drain(chClosed)
	}()

	if err := ch.Qos(50, 0, false); err != nil {
		return err
	}
	msgs, err := ch.Consume(c.Queue, "", false, false, false, false, nil)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case d, ok := <-msgs:
			if !ok {
				return errors.New("deliveries channel closed")
			}
			wg.Add(1)
			go func(d amqp.Delivery) { // concurrent handlers ack only their own delivery
				defer wg.Done()
				if err := c.Handle(d); err != nil {
					d.Nack(false, true)
					return
				}
				d.Ack(false)
			}(d)
		case tag := <-cancels:
			return fmt.Errorf("consumer %s cancelled by the broker", tag)
		case err := <-connClosed:
			return fmt.Errorf("connection closed: %v", err)
		case err := <-chClosed:
			return fmt.Errorf("channel closed: %v", err) // e.g. 406 after a double ack
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func drain(c chan *amqp.Error) {
	for err := range c {
		log.Printf("closed: %v", err)
	}
}

func logBlocked(c chan amqp.Blocking) {
	for b := range c {
		log.Printf("connection blocked=%v: %s", b.Active, b.Reason)
	}
}

// Publish sends bodies in confirm mode, reading confirmations while it
// publishes, and returns the first nack.
func Publish(ctx context.Context, conn *amqp.Connection, bodies [][]byte) error {
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	if err := ch.Confirm(false); err != nil {
		return err
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 64))
	returns := ch.NotifyReturn(make(chan amqp.Return, 16))
	go func() {
		for r := range returns {
			log.Printf("returned: %s %s", r.ReplyText, r.RoutingKey)
		}
	}()
	done := make(chan error, 1)
	go func() {
		var first error
		for i := 0; i < len(bodies); i++ {
			c, ok := <-confirms
			if !ok {
				first = errors.New("channel closed before every confirmation arrived")
				break
			}
			if !c.Ack && first == nil {
				first = fmt.Errorf("message %d nacked", c.DeliveryTag)
			}
		}
		done <- first
	}()
	for _, b := range bodies {
		if err := ch.PublishWithContext(ctx, "", "q", true, false, amqp.Publishing{Body: b}); err != nil {
			return err
		}
	}
	return <-done
}
