package notifybuffer

import (
	"context"

	"github.com/rabbitmq/amqp091-go"
	"github.com/streadway/amqp"
)

func connClose(conn *amqp091.Connection) {
	closed := conn.NotifyClose(make(chan *amqp091.Error)) // want `unbuffered channel passed to Connection.NotifyClose: .*conn-notifyclose-unread`
	for range closed {
	}
}

func allKinds(conn *amqp091.Connection, ch *amqp091.Channel) {
	go drainErrors(ch.NotifyClose(make(chan *amqp091.Error)))                // want `unbuffered channel passed to Channel.NotifyClose: .*rule chan-notifyclose-unread: https://github.com/amqpleaks/amqpleaks/blob/main/docs/rules.md#chan-notifyclose-unread`
	go drainConfirms(ch.NotifyPublish(make(chan amqp091.Confirmation)))      // want `unbuffered channel passed to Channel.NotifyPublish: .*confirms-undrained`
	go drainReturns(ch.NotifyReturn(make(chan amqp091.Return)))              // want `unbuffered channel passed to Channel.NotifyReturn: .*return-unread`
	go drainStrings(ch.NotifyCancel(make(chan string)))                      // want `unbuffered .*\.NotifyCancel: .*cancel-unread`
	go drainBools(ch.NotifyFlow(make(chan bool)))                            // want `unbuffered .*\.NotifyFlow: .*flow-unread`
	go drainBlocked(conn.NotifyBlocked(make(chan amqp091.Blocking)))         // want `unbuffered .*Connection.NotifyBlocked: .*blocked-unread`
	acks, nacks := ch.NotifyConfirm(make(chan uint64), make(chan uint64, 1)) // want `unbuffered .*Channel.NotifyConfirm: .*confirms-undrained`
	go drainTags(acks)
	go drainTags(nacks)
	states := make(chan *amqp091.StateChanged)
	conn.NotifyStateChange(states) // want `unbuffered .*Connection.NotifyStateChange: .*statechange-unread`
	go func() {
		for range states {
		}
	}()
}

// A variable made once is followed to its make call; the fix goes there.
func viaVariable(ch *amqp.Channel) {
	closes := make(chan *amqp.Error)
	ch.NotifyClose(closes) // want `unbuffered channel passed to Channel.NotifyClose`
	go func() {
		for range closes {
		}
	}()
}

// Buffered listeners, and channels whose buffer cannot be told, are fine.
func buffered(conn *amqp.Connection, ch *amqp.Channel, n int, c chan *amqp.Error) {
	go drainSErrors(conn.NotifyClose(make(chan *amqp.Error, 1)))
	go drainSErrors(ch.NotifyClose(make(chan *amqp.Error, n)))
	go drainSErrors(ch.NotifyClose(c))
	r := make(chan amqp.Return, 1)
	r = make(chan amqp.Return) // assigned twice: not followed
	go func() {
		for range ch.NotifyReturn(r) {
		}
	}()
}

// NotifyPublish: a constant buffer that the function overruns before it
// first receives a confirmation.
func publishTooMany(ch *amqp091.Channel) {
	ch.Confirm(false)
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, 1)) // want `NotifyPublish listener with a buffer of 1, but this function publishes at least 3 messages on ch .*confirms-undrained`
	ch.Publish("", "q", false, false, amqp091.Publishing{})
	ch.Publish("", "q", false, false, amqp091.Publishing{})
	_ = ch.Publish("", "q", false, false, amqp091.Publishing{})
	<-confirms
	<-confirms
	<-confirms
}

func publishLoop(ctx context.Context, ch *amqp091.Channel) {
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, 10)) // want `buffer of 10, but this function publishes at least 100 messages`
	for i := 0; i < 100; i++ {
		if err := ch.PublishWithContext(ctx, "", "q", false, false, amqp091.Publishing{}); err != nil {
			continue
		}
	}
	for range confirms {
	}
}

func publishRangeInt(ch *amqp091.Channel) {
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, 2)) // want `buffer of 2, but this function publishes at least 4 messages`
	for range 2 {
		ch.Publish("", "a", false, false, amqp091.Publishing{})
		ch.Publish("", "b", false, false, amqp091.Publishing{})
	}
	for range confirms {
	}
}

// Clean: the buffer holds every confirmation, confirmations are received
// concurrently, the count is unknown, or another channel publishes.
func publishOK(ch, other *amqp091.Channel, msgs []string) {
	c1 := ch.NotifyPublish(make(chan amqp091.Confirmation, 2))
	ch.Publish("", "q", false, false, amqp091.Publishing{})
	ch.Publish("", "q", false, false, amqp091.Publishing{})
	<-c1
	<-c1

	c2 := ch.NotifyPublish(make(chan amqp091.Confirmation, 1))
	go func() {
		for range c2 {
		}
	}()
	for i := 0; i < 100; i++ {
		ch.Publish("", "q", false, false, amqp091.Publishing{})
	}

	c3 := ch.NotifyPublish(make(chan amqp091.Confirmation, 1))
	for range msgs {
		ch.Publish("", "q", false, false, amqp091.Publishing{})
	}
	for i := 0; i < 10; i++ {
		if i > 5 {
			break
		}
		ch.Publish("", "q", false, false, amqp091.Publishing{})
	}
	go func() {
		for range c3 {
		}
	}()

	c4 := ch.NotifyPublish(make(chan amqp091.Confirmation, 1))
	other.Publish("", "q", false, false, amqp091.Publishing{})
	other.Publish("", "q", false, false, amqp091.Publishing{})
	for range c4 {
	}
}

func drainErrors(c chan *amqp091.Error) {
	for range c {
	}
}
func drainSErrors(c chan *amqp.Error) {
	for range c {
	}
}
func drainConfirms(c chan amqp091.Confirmation) {
	for range c {
	}
}
func drainReturns(c chan amqp091.Return) {
	for range c {
	}
}
func drainStrings(c chan string) {
	for range c {
	}
}
func drainBools(c chan bool) {
	for range c {
	}
}
func drainBlocked(c chan amqp091.Blocking) {
	for range c {
	}
}
func drainTags(c chan uint64) {
	for range c {
	}
}
