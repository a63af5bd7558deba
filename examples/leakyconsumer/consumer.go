package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// consumer is the service of the incident, with its three bugs. Do not copy
// it: examples/reconnect is the same service done right.
type consumer struct {
	url       string
	queue     string
	heartbeat time.Duration
	logf      func(format string, args ...any)

	// slowNext makes the next handler take 300 ms longer than the ones
	// after it, so that bug 1 fires now instead of some day
	// (-fault=channel-close).
	slowNext atomic.Bool

	acked atomic.Int64 // messages acknowledged without error
	conns atomic.Int64 // connections opened

	mu   sync.Mutex
	conn *amqp.Connection // the newest connection
}

// run connects, consumes, and reconnects whenever the connection closes,
// until ctx ends.
func (c *consumer) run(ctx context.Context) {
	for ctx.Err() == nil {
		conn, err := c.connect()
		if err != nil {
			c.logf("connect: %v; retrying in 1s", err)
			sleep(ctx, time.Second)
			continue
		}
		// BUG 3: only the connection is watched. When the broker closes
		// just the channel (406 after a double ack, bug 1) the connection
		// stays up, this loop never wakes, and nothing is consumed again.
		connClosed := conn.NotifyClose(make(chan *amqp.Error))
		select {
		case err := <-connClosed:
			c.logf("connection closed: %v; reconnecting", err)
		case <-ctx.Done():
			return
		}
	}
}

// connect dials, opens a channel and starts the consume loop.
func (c *consumer) connect() (*amqp.Connection, error) {
	n := c.conns.Add(1)
	conn, err := amqp.DialConfig(c.url, amqp.Config{
		Heartbeat:  c.heartbeat,
		Properties: amqp.Table{"connection_name": fmt.Sprintf("leakyconsumer-%d", n)},
	})
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err == nil {
		err = declare(ch, c.queue)
	}
	if err == nil {
		err = ch.Qos(10, 0, false)
	}
	var deliveries <-chan amqp.Delivery
	if err == nil {
		deliveries, err = ch.Consume(c.queue, "", false, false, false, false, nil)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	// BUG 2: an unbuffered NotifyClose, read only after the deliveries
	// end (see consume).
	chClosed := ch.NotifyClose(make(chan *amqp.Error))
	go c.consume(deliveries, chClosed)

	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	c.logf("connected (connection %d) and consuming %s", n, c.queue)
	return conn, nil
}

// consume hands every delivery to a handler goroutine.
func (c *consumer) consume(deliveries <-chan amqp.Delivery, chClosed chan *amqp.Error) {
	for d := range deliveries {
		go c.handle(d)
	}
	// BUG 2, continued: the library sends the close error to chClosed
	// before it closes deliveries, and waits for ever for someone to take
	// it. Nobody does: this line runs only after deliveries is closed, so
	// the library's goroutine (the connection's reader) is stuck in that
	// send, and after a reconnect nobody will ever read chClosed again.
	c.logf("consumer stopped: %v", <-chClosed)
}

// handle does the work for one message and acknowledges it.
func (c *consumer) handle(d amqp.Delivery) {
	work := 5 * time.Millisecond
	if c.slowNext.CompareAndSwap(true, false) {
		work += 300 * time.Millisecond
	}
	time.Sleep(work)
	// BUG 1: multiple=true from concurrent handlers. A faster handler of a
	// later message acks this tag too; acking it again here is a protocol
	// error, and the broker closes the channel (406 PRECONDITION_FAILED).
	if err := d.Ack(true); err != nil {
		c.logf("ack %d: %v", d.DeliveryTag, err)
		return
	}
	c.acked.Add(1)
}

// current returns the newest connection, or nil.
func (c *consumer) current() *amqp.Connection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// declare declares the example's queue, which the broker deletes a minute
// after its last use.
func declare(ch *amqp.Channel, queue string) error {
	_, err := ch.QueueDeclare(queue, false, false, false, false, amqp.Table{"x-expires": int32(60000)})
	return err
}

// produce publishes a message every 50 ms on its own, direct connection
// until ctx ends. It is the test load, not part of the incident.
func produce(ctx context.Context, url, queue string, logf func(string, ...any)) {
	conn, err := amqp.DialConfig(url, amqp.Config{
		Heartbeat:  10 * time.Second,
		Properties: amqp.Table{"connection_name": "leakyconsumer-producer"},
	})
	if err != nil {
		logf("producer: %v", err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err == nil {
		err = declare(ch, queue)
	}
	for i := 0; err == nil; i++ {
		err = ch.PublishWithContext(ctx, "", queue, false, false, amqp.Publishing{Body: []byte(fmt.Sprint(i))})
		if err == nil && !sleep(ctx, 50*time.Millisecond) {
			return
		}
	}
	if ctx.Err() == nil {
		logf("producer: %v", err)
	}
}

// sleep waits for d or until ctx ends, and reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
