// Package app uses a vendored copy of streadway/amqp.
package app

import (
	"log"
	"time"

	"github.com/streadway/amqp"
)

func Run(url string) error {
	conn, err := amqp.DialConfig(url, amqp.Config{Heartbeat: -1 * time.Second}) // want `Config.Heartbeat is -1s, which turns heartbeats off.*io-wait-no-heartbeat`
	if err != nil {
		return err
	}
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	closed := conn.NotifyClose(make(chan *amqp.Error))                // want `unbuffered channel passed to Connection.NotifyClose`
	msgs, err := ch.Consume("q", "", false, false, false, false, nil) // want `consuming on ch, whose NotifyClose is never watched`
	if err != nil {
		return err
	}
	for d := range msgs {
		go func(d amqp.Delivery) {
			d.Ack(true) // want `Delivery.Ack with multiple=true`
		}(d)
	}
	log.Print(<-closed)
	return nil
}
