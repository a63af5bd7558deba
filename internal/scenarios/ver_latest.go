//go:build !streadway && !amqp091old

package main

import (
	"fmt"
	"time"
)

// boundedNotify reports whether this library version bounds Notify* sends
// (amqp091-go >= v1.13: select with a 5 s timer, then drop) instead of
// blocking the reader forever (streadway/amqp, amqp091-go <= v1.11).
const boundedNotify = true

// waitChannelClosed polls ch.IsClosed (streadway/amqp has no IsClosed).
func waitChannelClosed(ch *Channel) error {
	for i := 0; !ch.IsClosed(); i++ {
		if i > 600 {
			return fmt.Errorf("channel not closed by the broker")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}
