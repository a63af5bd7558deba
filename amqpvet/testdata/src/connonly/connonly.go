// Package connonly watches only its connection's NotifyClose.
package connonly

import (
	"log"

	"github.com/rabbitmq/amqp091-go"
)

type consumer struct {
	conn *amqp091.Connection
	ch   *amqp091.Channel
}

func (c *consumer) run() error {
	closed := c.conn.NotifyClose(make(chan *amqp091.Error, 1))
	msgs, err := c.ch.Consume("q", "", false, false, false, false, nil) // want `consuming on c.ch, whose NotifyClose is never watched, while this package watches only Connection.NotifyClose: .*reconnect-watches-conn-only`
	if err != nil {
		return err
	}
	go func() {
		for d := range msgs {
			d.Ack(false)
		}
	}()
	log.Print(<-closed)
	return nil
}

func local(conn *amqp091.Connection) {
	go func() {
		for err := range conn.NotifyClose(make(chan *amqp091.Error, 1)) {
			log.Print(err)
		}
	}()
	ch, _ := conn.Channel()
	msgs, _ := ch.Consume("q", "", false, false, false, false, nil) // want `consuming on ch, whose NotifyClose is never watched`
	for range msgs {
	}
}

// The publisher's channel is watched; the consumer's is not.
func twoChannels(conn *amqp091.Connection) {
	pub, _ := conn.Channel()
	sub, _ := conn.Channel()
	go func() {
		for range pub.NotifyClose(make(chan *amqp091.Error, 1)) {
		}
	}()
	log.Print(<-conn.NotifyClose(make(chan *amqp091.Error, 1)))
	msgs, _ := sub.Consume("q", "", false, false, false, false, nil) // want `consuming on sub`
	for range msgs {
	}
}

// Watched through an alias, a field set from a local, and a parameter.
type holder struct{ ch *amqp091.Channel }

func aliased(c *holder, conn *amqp091.Connection) {
	ch, _ := conn.Channel()
	c.ch = ch
	go watch(c.ch)
	msgs, _ := ch.Consume("q", "", false, false, false, false, nil)
	for range msgs {
	}
}

func watch(ch *amqp091.Channel) {
	for err := range ch.NotifyClose(make(chan *amqp091.Error, 1)) {
		log.Print(err)
	}
}

// A consumer whose code does not watch the connection either: not this
// analyzer's business, even though other functions here watch theirs.
func unrelated(conn *amqp091.Connection) {
	ch, _ := conn.Channel()
	msgs, _ := ch.Consume("q", "", false, false, false, false, nil)
	for range msgs {
	}
}
