// Package leaky is the consumer of background.md's first incident, as it
// was first written, plus a publisher with the same habits. Every analyzer
// flags something here.
package leaky

import (
	"log"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

type Consumer struct {
	URL   string
	Queue string
	conn  *amqp.Connection
	ch    *amqp.Channel
}

func (c *Consumer) connect() error {
	// "We don't need heartbeats, the connection is local."
	conn, err := amqp.DialConfig(c.URL, amqp.Config{Heartbeat: -1 * time.Second}) // want `Config.Heartbeat is -1s, which turns heartbeats off`
	if err != nil {
		return err
	}
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	c.conn, c.ch = conn, ch
	return nil
}

// Run reconnects when the connection closes: it watches only the
// connection, so a channel closed by the broker (406 after the double ack
// below) stops consumption for ever.
func (c *Consumer) Run() {
	for {
		if err := c.connect(); err != nil {
			time.Sleep(time.Second)
			continue
		}
		closed := c.conn.NotifyClose(make(chan *amqp.Error))                    // want `unbuffered channel passed to Connection.NotifyClose`
		msgs, err := c.ch.Consume(c.Queue, "", false, false, false, false, nil) // want `consuming on c.ch, whose NotifyClose is never watched`
		if err != nil {
			continue
		}
		go func() {
			for d := range msgs {
				go c.handle(d) // one goroutine per delivery
			}
		}()
		log.Printf("connection closed: %v", <-closed)
	}
}

func (c *Consumer) handle(d amqp.Delivery) {
	log.Printf("got %s", d.Body)
	d.Ack(true) // want `Delivery.Ack with multiple=true in a goroutine started per delivery`
}

// Watcher is the "fixed" version of the incident: it now watches the
// channel too, but its channel listener is unbuffered and read only when
// its select case wins, so after a connection failure the library blocks
// delivering the channel's close error: the old connection is never
// released (background.md, second failure).
type Watcher struct {
	conn *amqp.Connection
	ch   *amqp.Channel
}

func (w *Watcher) Wait() {
	connClosed := w.conn.NotifyClose(make(chan *amqp.Error, 1))
	chClosed := w.ch.NotifyClose(make(chan *amqp.Error)) // want `unbuffered channel passed to Channel.NotifyClose` `Channel.NotifyClose is unbuffered and received from only as a case of a select`
	select {
	case err := <-connClosed:
		log.Printf("connection closed: %v", err)
	case err := <-chClosed:
		log.Printf("channel closed: %v", err)
	}
}

// Publish sends a batch in confirm mode and reads the confirmations
// afterwards: with a buffer of 1 the connection's reader blocks on the
// second confirmation and the third publish never returns.
func Publish(conn *amqp.Connection) error {
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.Confirm(false); err != nil {
		return err
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 1)) // want `NotifyPublish listener with a buffer of 1, but this function publishes at least 10 messages`
	ch.NotifyReturn(make(chan amqp.Return, 1))                    // want `Channel.NotifyReturn is never received from`
	for i := 0; i < 10; i++ {
		ch.Publish("", "q", true, false, amqp.Publishing{Body: []byte("hi")})
	}
	for i := 0; i < 10; i++ {
		if c := <-confirms; !c.Ack {
			log.Printf("nacked %d", c.DeliveryTag)
		}
	}
	return nil
}
