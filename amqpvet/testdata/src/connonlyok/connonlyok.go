// Package connonlyok consumes without watching the connection at all (not
// this analyzer's business), and on channels handed to it by callers.
package connonlyok

import "github.com/rabbitmq/amqp091-go"

func consume(ch *amqp091.Channel) {
	msgs, _ := ch.Consume("q", "", false, false, false, false, nil)
	for range msgs {
	}
}
