//go:build !streadway && !amqp091old

package main

// Scenarios that only exist in recent amqp091-go (>= v1.12/v1.13): bounded
// Notify sends and NotifyStateChange.

import (
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(&scenario{
		Name: "bounded-send-stall",
		Rule: "bounded-send-stall",
		Doc:  "NotifyReturn (unbuffered) never read, 20 unroutable mandatory publishes: the reader stalls 5 s per return in notifyAll",
		Run: func(s *S) error {
			other, err := s.unreadReturns(20)
			if err != nil {
				return err
			}
			s.step("published 20 mandatory messages that match no queue -> 20 basic.return; each waits up to 5 s (notifyTimeout) before being dropped: ~100 s of stalled reader")
			stall := boundedStall("(*Channel).dispatch")
			if err := s.waitFor(waitTimeout, stall); err != nil {
				return err
			}
			go other.QueueDeclare(s.name("q"), false, true, false, false, nil)
			s.step("while the reader is stalled, another goroutine called QueueDeclare on a second channel of the connection")
			return s.expectAndDump(waitTimeout, stall, Expect{Role: "RPC on another channel delayed by the stalled reader", State: "select",
				Function: fn("(*Channel).call"), Min: 1, Stuck: false})
		},
	})

	register(&scenario{
		Name: "statechange-unread",
		Rule: "statechange-unread",
		Doc:  "conn.NotifyStateChange and ch.NotifyStateChange (unbuffered) never read; the connection is closed",
		Run: func(s *S) error {
			conn := s.mustDial(s.URL, 10*time.Second)
			ch := mustChannel(conn)
			conn.NotifyStateChange(make(chan *amqp.StateChanged))
			ch.NotifyStateChange(make(chan *amqp.StateChanged))
			s.step("registered conn.NotifyStateChange and ch.NotifyStateChange with unbuffered channels, never read")
			if err := conn.Close(); err != nil {
				return err
			}
			s.step("conn.Close(): open -> closing -> closed; each listener gets a delivery goroutine that sends without a timeout")
			return s.expectAndDump(waitTimeout,
				Expect{Role: "lifeCycle delivery goroutines blocked forever sending a StateChanged to an unread listener", State: "chan send",
					Function: fn("(*lifeCycle).deliverToListener"), Min: 2, Stuck: true},
				readerGone(),
			)
		},
	})
}
