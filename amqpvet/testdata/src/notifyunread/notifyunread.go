package notifyunread

import (
	"context"
	"log"

	"github.com/rabbitmq/amqp091-go"
)

// Registered and dropped.
func dropped(conn *amqp091.Connection, ch *amqp091.Channel) {
	conn.NotifyClose(make(chan *amqp091.Error, 1))                // want `the channel registered with Connection.NotifyClose is never received from in this package: its buffer takes the close error, so nothing blocks, but the program never learns of the close.*conn-notifyclose-unread`
	_ = ch.NotifyReturn(make(chan amqp091.Return, 16))            // want `the channel registered with Channel.NotifyReturn is never received from in this package: the library sends each returned message .*return-unread`
	blocked := conn.NotifyBlocked(make(chan amqp091.Blocking, 1)) // want `Connection.NotifyBlocked is never received from.*blocked-unread`
	_ = blocked
	acks, nacks := ch.NotifyConfirm(make(chan uint64, 1), make(chan uint64, 1)) // want `the nack channel registered with NotifyConfirm is never received from.*confirms-undrained`
	go func() {
		for a := range acks {
			log.Print(a)
		}
	}()
	_ = nacks
	states := make(chan *amqp091.StateChanged, 1)
	ch.NotifyStateChange(states) // want `Channel.NotifyStateChange is never received from.*statechange-unread`
}

// Received once, where more values come.
func receivedOnce(ch *amqp091.Channel) {
	cancels := ch.NotifyCancel(make(chan string, 1)) // want `the channel registered with Channel.NotifyCancel is received from only once and never in a loop.*cancel-unread`
	tag := <-cancels
	log.Print(tag)
	flows := ch.NotifyFlow(make(chan bool, 1)) // want `Channel.NotifyFlow is received from only 2 times and never in a loop`
	select {
	case <-flows:
	default:
	}
	log.Print(<-flows)
}

// The incident: the channel's close listener is one case of a select; when
// the connection's case wins it is never read again.
func selectOnce(conn *amqp091.Connection, ch *amqp091.Channel) {
	connClosed := conn.NotifyClose(make(chan *amqp091.Error, 1))
	chClosed := ch.NotifyClose(make(chan *amqp091.Error)) // want `the channel registered with Channel.NotifyClose is unbuffered and received from only as a case of a select, never drained.*chan-notifyclose-unread`
	select {
	case err := <-connClosed:
		log.Print(err)
	case err := <-chClosed:
		log.Print(err)
	}
}

// A new listener per iteration, received once each: fine when buffered,
// flagged when not.
func perIteration(ctx context.Context, conn *amqp091.Connection) {
	for {
		select {
		case err := <-conn.NotifyClose(make(chan *amqp091.Error, 1)):
			log.Print(err)
		case <-ctx.Done():
			return
		}
	}
}

func perIterationUnbuffered(ctx context.Context, conn *amqp091.Connection) {
	for {
		select {
		case err := <-conn.NotifyClose(make(chan *amqp091.Error)): // want `Connection.NotifyClose is unbuffered and received from only as a case of a select`
			log.Print(err)
		case <-ctx.Done():
			return
		}
	}
}

// Clean: drained in a loop, through fields, parameters, and goroutines.
type client struct {
	conn    *amqp091.Connection
	ch      *amqp091.Channel
	closed  chan *amqp091.Error
	returns <-chan amqp091.Return
}

func (c *client) setup() {
	c.closed = c.conn.NotifyClose(make(chan *amqp091.Error, 1))
	c.returns = c.ch.NotifyReturn(make(chan amqp091.Return, 16))
	go c.watch()
	go logReturns(c.returns)
	go drain(c.ch.NotifyCancel(make(chan string, 1)))
	chClosed := make(chan *amqp091.Error, 1)
	c.ch.NotifyClose(chClosed)
	go func(errs chan *amqp091.Error) {
		for {
			err, ok := <-errs
			if !ok {
				return
			}
			log.Print(err)
		}
	}(chClosed)
}

func (c *client) watch() {
	for err := range c.closed {
		log.Print(err)
	}
}

func logReturns(r <-chan amqp091.Return) {
	for ret := range r {
		log.Print(ret)
	}
}

func drain(c chan string) {
	for {
		select {
		case s, ok := <-c:
			if !ok {
				return
			}
			log.Print(s)
		}
	}
}

// Handed to code we cannot see: not reported.
func escapes(conn *amqp091.Connection, sink func(chan *amqp091.Error)) chan amqp091.Blocking {
	sink(conn.NotifyClose(make(chan *amqp091.Error, 1)))
	return conn.NotifyBlocked(make(chan amqp091.Blocking, 1))
}

// A listener received once, buffered: NotifyClose sends one error only.
func once(conn *amqp091.Connection) {
	closed := conn.NotifyClose(make(chan *amqp091.Error, 1))
	log.Print(<-closed)
}

// Registration inside a helper that gets the channel from its caller.
func register(ch *amqp091.Channel, c chan amqp091.Confirmation) {
	ch.NotifyPublish(c)
}

// Exported fields may be read by other packages.
type Watcher struct {
	Closed chan *amqp091.Error
}

func (w *Watcher) Watch(conn *amqp091.Connection) {
	w.Closed = conn.NotifyClose(make(chan *amqp091.Error, 1))
}
