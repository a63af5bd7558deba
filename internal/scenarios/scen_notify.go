package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Scenarios where a channel handed to a Notify* method is not read.

const waitTimeout = 30 * time.Second

// unreadReturns dials, registers an unbuffered NotifyReturn nobody reads on
// one channel and publishes n mandatory messages that match no queue on
// it, so the broker sends n basic.return. It returns a second channel of the
// same connection.
func (s *S) unreadReturns(n int) (*Channel, error) {
	conn := s.mustDial(s.URL, 10*time.Second)
	ch := mustChannel(conn)
	other := mustChannel(conn)
	ch.NotifyReturn(make(chan Return))
	s.step("registered ch.NotifyReturn(make(chan Return)) (unbuffered), never read")
	for i := 0; i < n; i++ {
		if err := ch.Publish("", s.name("unroutable"), true, false, payload(i)); err != nil {
			return nil, err
		}
	}
	return other, nil
}

func reader(state, function string) Expect {
	return Expect{Role: "connection reader goroutine (the library's only reader of the socket)", State: state,
		Function: fn(function), Also: fn("(*Connection).reader"), Min: 1, Stuck: true}
}

func readerGone() Expect {
	return Expect{Role: "connection reader goroutine has exited (connection torn down)", Function: fn("(*Connection).reader"), Absent: true}
}

// boundedStall is the reader of amqp091-go >= v1.13 waiting in notifyAll's
// 5-second bounded send.
func boundedStall(caller string) Expect {
	return Expect{Role: "connection reader stalled in the bounded (5 s) Notify send of notifyAll", State: "select",
		Function: fn("notifyAll"), Also: fn(caller), Min: 1, Stuck: false}
}

func payload(n int) Publishing {
	return Publishing{ContentType: "text/plain", Body: []byte(fmt.Sprintf("message %d", n))}
}

func init() {
	register(&scenario{
		Name: "conn-notifyclose-unread",
		Rule: "conn-notifyclose-unread",
		Doc:  "unbuffered conn.NotifyClose registered and never read; the connection is reset by the network",
		Run: func(s *S) error {
			p, url := s.proxy()
			conn := s.mustDial(url, 10*time.Second)
			closes := conn.NotifyClose(make(chan *Error)) // registered "for later", never read
			s.step("dialled through faultproxy (heartbeat 10s); registered conn.NotifyClose(make(chan *Error)) (unbuffered) and never read it")
			ch := mustChannel(conn)
			q := s.queue(ch)
			if err := ch.Publish("", q, false, false, payload(1)); err != nil {
				return err
			}
			s.step("opened a channel, declared %s and published one message", q)
			p.Reset()
			s.step("faultproxy Reset(): RST to both sides of the connection")
			if boundedNotify {
				s.fixedIn("the close error is not delivered synchronously; the reader finishes shutdown and exits")
				err := s.expectAndDump(waitTimeout, readerGone())
				s.probeClose(closes)
				return err
			}
			s.Meta.Expected = []Expect{reader("chan send", "(*Connection).shutdown.func1")}
			if err := s.waitFor(waitTimeout, s.Meta.Expected...); err != nil {
				return err
			}
			// A caller that still holds the dead *Connection: conn.Channel()
			// needs the connection mutex that the stuck shutdown holds.
			go conn.Channel()
			s.step("the reader is parked; then another goroutine called conn.Channel() on the same connection")
			return s.expectAndDump(waitTimeout, reader("chan send", "(*Connection).shutdown.func1"),
				Expect{Role: "caller of conn.Channel() waiting for the connection mutex held by the stuck shutdown",
					State: "sync.Mutex.Lock", Function: fn("(*Connection).allocateChannel"), Min: 1, Stuck: true})
		},
	})

	register(&scenario{
		Name: "chan-notifyclose-unread",
		Rule: "chan-notifyclose-unread",
		Doc:  "the background.md incident: reconnect loop selects on conn and channel NotifyClose (unbuffered), returns on the first; network reset",
		Run: func(s *S) error {
			exp, err := chanNotifyCloseIncident(s)
			if err != nil {
				return err
			}
			return s.expectAndDump(waitTimeout, exp...)
		},
	})

	register(&scenario{
		Name: "chan-notifyclose-unread-406",
		Rule: "chan-notifyclose-unread",
		Doc:  "channel NotifyClose (unbuffered) never read; the broker closes just the channel (double ack -> 406 PRECONDITION_FAILED)",
		Run: func(s *S) error {
			conn := s.mustDial(s.URL, 10*time.Second)
			ch := mustChannel(conn)
			q := s.queue(ch)
			chClose := ch.NotifyClose(make(chan *Error))
			s.step("dialled the broker directly (heartbeat 10s), declared %s, registered ch.NotifyClose(make(chan *Error)) (unbuffered), never read", q)
			for i := 1; i <= 2; i++ {
				if err := ch.Publish("", q, false, false, payload(i)); err != nil {
					return err
				}
			}
			ds, err := ch.Consume(q, "", false, false, false, false, nil)
			if err != nil {
				return err
			}
			d1, d2 := <-ds, <-ds
			s.step("consumed 2 messages with manual ack")
			otherCh := mustChannel(conn)
			d2.Ack(true) // acks tags 1 and 2
			d1.Ack(false)
			s.step("d2.Ack(true) (multiple, covers tag 1) then d1.Ack(false): tag 1 acked twice -> broker sends channel.close 406")
			if boundedNotify {
				s.fixedIn("the channel close error is not delivered synchronously; the reader goes on")
				if err := waitChannelClosed(ch); err != nil {
					return err
				}
				s.step("the channel is closed (ch.IsClosed() == true)")
				err := s.expectAndDump(waitTimeout, Expect{Role: "no goroutine left in the channel's shutdown", Function: fn("(*Channel).shutdown"), Absent: true},
					Expect{Role: "connection reader (healthy, connection still open)", Function: fn("(*Connection).reader"), Min: 1})
				s.probeClose(chClose)
				return err
			}
			stuck := Expect{Role: "connection reader blocked in (*Channel).shutdown sending the 406 to the unread channel NotifyClose", State: "chan send",
				Function: fn("(*Channel).shutdown.func1"), Also: fn("(*Connection).closeChannel"), Min: 1, Stuck: true}
			if err := s.waitFor(waitTimeout, stuck); err != nil {
				return err
			}
			go otherCh.QueueDeclarePassive(q, false, false, false, false, Table{"x-expires": int32(120000)})
			s.step("the reader is parked; then another goroutine called QueueDeclarePassive on a second channel of the same connection")
			return s.expectAndDump(waitTimeout, stuck,
				Expect{Role: "RPC on another channel of the same connection waiting for a reply the stuck reader never dispatches", State: "select",
					Function: fn("(*Channel).call"), Min: 1, Stuck: true})
		},
	})

	register(&scenario{
		Name: "confirms-undrained",
		Rule: "confirms-undrained",
		Doc:  "publisher confirms: NotifyPublish with buffer 2 never read, 10 publishes; plus NotifyConfirm(ack, nack) unread on a second connection",
		Run: func(s *S) error {
			conn := s.mustDial(s.URL, 10*time.Second)
			ch := mustChannel(conn)
			q := s.queue(ch)
			if err := ch.Confirm(false); err != nil {
				return err
			}
			confirms := ch.NotifyPublish(make(chan Confirmation, 2))
			_ = confirms
			s.step("connection A: channel in confirm mode, NotifyPublish(make(chan Confirmation, 2)) never read")
			go publishN(ch, q, 10)
			s.step("connection A: a goroutine publishes 10 messages to %s", q)

			connB := s.mustDial(s.URL, 10*time.Second)
			chB := mustChannel(connB)
			if err := chB.Confirm(false); err != nil {
				return err
			}
			chB.NotifyConfirm(make(chan uint64), make(chan uint64))
			s.step("connection B: channel in confirm mode, NotifyConfirm(make(chan uint64), make(chan uint64)) never read")
			go publishN(chB, q, 3)
			s.step("connection B: a goroutine publishes 3 messages")

			if boundedNotify {
				// The first confirm past the buffer stalls the reader for 5 s
				// per confirmation (bounded-send-stall); the NotifyConfirm
				// relay still uses a plain send and blocks forever.
				s.Meta.Rules = []string{"confirms-undrained", "bounded-send-stall"}
				return s.expectAndDump(waitTimeout, boundedStall("(*confirms).confirm"),
					Expect{Role: "NotifyConfirm relay goroutine blocked forever on the unread ack channel", State: "chan send",
						Function: fn("(*Channel).NotifyConfirm.func1"), Min: 1, Stuck: true})
			}
			exp := []Expect{
				{Role: "reader of connection A blocked in (*confirms).confirm on the full NotifyPublish channel", State: "chan send",
					Function: fn("(*confirms).confirm"), Also: fn("(*Connection).reader"), Min: 2, Stuck: true},
				{Role: "NotifyConfirm relay goroutine blocked on the unread ack channel", State: "chan send",
					Function: fn("(*Channel).NotifyConfirm.func1"), Min: 1, Stuck: true},
			}
			exp[0].Min = 2 // A and B
			if err := s.waitFor(waitTimeout, exp...); err != nil {
				return err
			}
			// More publishers on channel A after the reader is stuck.
			for i := 0; i < 3; i++ {
				go func(i int) {
					for j := 0; ; j++ {
						if err := ch.Publish("", q, false, false, payload(j)); err != nil {
							return
						}
					}
				}(i)
			}
			s.step("3 more goroutines publish in a loop on channel A after its reader got stuck")
			if libModule == "github.com/streadway/amqp" {
				exp = append(exp, Expect{Role: "publishers queued on the confirms mutex held by the stuck reader ((*confirms).Publish)", State: "sync.Mutex.Lock",
					Function: fn("(*confirms).Publish"), Min: 1, Stuck: true})
			} else {
				s.note("amqp091-go v1.10.0 counts publishes under confirms.publishedMut, not confirms.m, so publishers are not queued behind the stuck reader; they keep publishing until TCP back-pressure or the broker's unconfirmed limit stops them")
				time.Sleep(500 * time.Millisecond)
			}
			return s.expectAndDump(waitTimeout, exp...)
		},
	})

	register(&scenario{
		Name: "return-unread",
		Rule: "return-unread",
		Doc:  "mandatory publish to a routing key with no queue; NotifyReturn (unbuffered) never read",
		Run: func(s *S) error {
			other, err := s.unreadReturns(3)
			if err != nil {
				return err
			}
			s.step("published 3 mandatory messages to the default exchange with routing keys that match no queue -> basic.return")
			if boundedNotify {
				s.Meta.Rule = "bounded-send-stall"
				return s.expectAndDump(waitTimeout, boundedStall("(*Channel).dispatch"))
			}
			stuck := reader("chan send", "(*Channel).dispatch")
			if err := s.waitFor(waitTimeout, stuck); err != nil {
				return err
			}
			go other.QueueDeclare(s.name("q"), false, true, false, false, nil)
			s.step("the reader is parked; another goroutine called QueueDeclare on a second channel of the connection")
			return s.expectAndDump(waitTimeout, stuck, Expect{Role: "RPC on another channel waiting for the stuck reader", State: "select",
				Function: fn("(*Channel).call"), Min: 1, Stuck: true})
		},
	})

	register(&scenario{
		Name: "cancel-unread",
		Rule: "cancel-unread",
		Doc:  "consumer's queue deleted by another client -> basic.cancel; NotifyCancel (unbuffered) never read",
		Run: func(s *S) error {
			conn := s.mustDial(s.URL, 10*time.Second)
			ch := mustChannel(conn)
			q := s.queue(ch)
			ch.NotifyCancel(make(chan string))
			ds, err := ch.Consume(q, "", false, false, false, false, nil)
			if err != nil {
				return err
			}
			go func() {
				for d := range ds {
					d.Ack(false)
				}
			}()
			s.step("consumer on %s (deliveries drained); ch.NotifyCancel(make(chan string)) registered (unbuffered), never read", q)
			admin := s.mustDial(s.URL, 10*time.Second)
			ach := mustChannel(admin)
			if _, err := ach.QueueDelete(q, false, false, false); err != nil {
				return err
			}
			s.step("another connection deleted the queue -> broker sends basic.cancel to the consumer")
			admin.Close()
			if boundedNotify {
				s.Meta.Rule = "bounded-send-stall"
				return s.expectAndDump(waitTimeout, boundedStall("(*Channel).dispatch"))
			}
			return s.expectAndDump(waitTimeout, reader("chan send", "(*Channel).dispatch"))
		},
	})

	register(&scenario{
		Name: "blocked-unread",
		Rule: "blocked-unread",
		Doc:  "conn.NotifyBlocked (unbuffered) never read; broker memory alarm + a publish -> connection.blocked",
		Run: func(s *S) error {
			conn := s.mustDial(s.URL, 10*time.Second)
			conn.NotifyBlocked(make(chan Blocking))
			ch := mustChannel(conn)
			other := mustChannel(conn)
			q := s.queue(ch)
			s.step("registered conn.NotifyBlocked(make(chan Blocking)) (unbuffered), never read; declared %s", q)
			if err := s.memoryAlarm(); err != nil {
				return err
			}
			go ch.Publish("", q, false, false, payload(1))
			s.step("published one message -> broker sends connection.blocked")
			if boundedNotify {
				s.Meta.Rule = "bounded-send-stall"
				return s.expectAndDump(waitTimeout, boundedStall("(*Connection).dispatch0"))
			}
			stuck := reader("chan send", "(*Connection).dispatch0")
			if err := s.waitFor(waitTimeout, stuck); err != nil {
				return err
			}
			s.restoreWatermark()
			s.step("restored the watermark (alarm cleared; broker sends connection.unblocked, which the stuck reader never reads)")
			go other.QueueDeclarePassive(q, false, false, false, false, Table{"x-expires": int32(120000)})
			s.step("another goroutine called QueueDeclarePassive on a second channel of the connection")
			return s.expectAndDump(waitTimeout, stuck, Expect{Role: "RPC waiting for the stuck reader", State: "select",
				Function: fn("(*Channel).call"), Min: 1, Stuck: true})
		},
	})

	register(&scenario{
		Name: "reconnect-watches-conn-only",
		Rule: "reconnect-watches-conn-only",
		Doc:  "background.md first failure: handlers in goroutines Ack(true) -> 406 closes the channel; the reconnect loop waits on conn.NotifyClose only",
		Run: func(s *S) error {
			conn := s.mustDial(s.URL, 10*time.Second)
			ch := mustChannel(conn)
			q := s.queue(ch)
			const n = 10
			for i := 1; i <= n; i++ {
				if err := ch.Publish("", q, false, false, payload(i)); err != nil {
					return err
				}
			}
			s.step("declared %s and published %d messages", q, n)
			consumerDone := make(chan struct{})
			go reconnectLoop(conn, consumerDone)
			s.step("reconnect loop: <-conn.NotifyClose(make(chan *Error)) only (the channel's NotifyClose is not watched)")
			ds, err := ch.Consume(q, "", false, false, false, false, nil)
			if err != nil {
				return err
			}
			go consumeWithGoroutineHandlers(ds, n, consumerDone)
			s.step("consumer: each delivery handled in its own goroutine; handler k takes (%d-k)*20ms and calls d.Ack(true)", n)
			select {
			case <-consumerDone:
				handlers.Wait()
				s.step("the broker closed the channel (406 PRECONDITION_FAILED, unknown delivery tag): the deliveries channel closed, the consumer goroutine returned, the handler goroutines finished")
			case <-time.After(waitTimeout):
				return fmt.Errorf("the channel was not closed by the broker")
			}
			return s.expectAndDump(waitTimeout,
				Expect{Role: "app reconnect loop waiting on conn.NotifyClose, which never fires (the connection is healthy)", State: "chan receive",
					Function: mainPkg + "reconnectLoop", Min: 1, Stuck: true},
				Expect{Role: "consumer goroutine has exited (deliveries channel closed by the 406 channel close)", Function: mainPkg + "consumeWithGoroutineHandlers", Absent: true},
				Expect{Role: "connection reader (healthy)", Function: fn("(*Connection).reader"), Min: 1},
			)
		},
	})
}

// appPublisher publishes every 20ms on the same *Channel forever, also after
// errors: it relies on a reconnect loop to hand it a new channel one day.
func appPublisher(ch *Channel, q string, published *atomic.Int64) {
	for i := 0; ; i++ {
		if err := ch.Publish("", q, false, false, payload(i)); err == nil {
			published.Add(1)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publishN publishes n messages; with streadway/amqp it can block on the
// confirms mutex held by a stuck reader.
func publishN(ch *Channel, q string, n int) {
	for i := 0; i < n; i++ {
		if err := ch.Publish("", q, false, false, payload(i)); err != nil {
			return
		}
	}
}

// watchAndReconnect is the reconnect loop of the background.md incident: it
// waits for whichever close notification comes first and then moves on to a
// new connection, never reading the other notification channel again.
func watchAndReconnect(s *S, url string, connClose, chClose chan *Error, reconnected chan<- *Connection) {
	select {
	case <-connClose:
	case <-chClose:
	}
	c, err := s.dial(url, 10*time.Second)
	if err != nil {
		reconnected <- nil
		return
	}
	reconnected <- c
}

// reconnectLoop watches only the connection.
func reconnectLoop(conn *Connection, consumerDone chan struct{}) {
	for {
		err := <-conn.NotifyClose(make(chan *Error))
		if err == nil {
			return
		}
		// would redial here
	}
}

var handlers sync.WaitGroup

func consumeWithGoroutineHandlers(ds <-chan Delivery, n int, done chan struct{}) {
	for d := range ds {
		handlers.Add(1)
		go func(d Delivery) {
			defer handlers.Done()
			time.Sleep(time.Duration(n-int(d.DeliveryTag)) * 20 * time.Millisecond)
			d.Ack(true) // the bug: multiple=true from concurrent handlers
		}(d)
	}
	close(done)
}

// probeClose reports, after the dump, what the unread NotifyClose channel
// holds: bounded versions close it (possibly without delivering the error).
func (s *S) probeClose(c chan *Error) {
	select {
	case e, ok := <-c:
		s.note("after the dump, a receive on the never-read NotifyClose channel returned err=%v ok=%v", e, ok)
	case <-time.After(6 * time.Second):
		s.note("after the dump, the never-read NotifyClose channel yielded nothing within 6s")
	}
	s.writeMeta()
}

// chanNotifyCloseIncident sets up the background.md incident and returns the
// goroutines to wait for. Shared by chan-notifyclose-unread and haystack.
func chanNotifyCloseIncident(s *S) ([]Expect, error) {
	p, url := s.proxy()
	conn := s.mustDial(url, 10*time.Second)
	ch := mustChannel(conn)
	q := s.queue(ch)
	connClose := conn.NotifyClose(make(chan *Error))
	chClose := ch.NotifyClose(make(chan *Error))
	s.step("dialled through faultproxy (heartbeat 10s), opened a channel, declared %s", q)
	s.step("registered conn.NotifyClose(make(chan *Error)) and ch.NotifyClose(make(chan *Error)), both unbuffered")
	reconnected := make(chan *Connection, 1)
	go watchAndReconnect(s, url, connClose, chClose, reconnected)
	s.step("a watcher goroutine selects on both, and after the first notification reconnects and never reads the other again")
	var published atomic.Int64
	go appPublisher(ch, q, &published)
	for published.Load() < 5 {
		time.Sleep(10 * time.Millisecond)
	}
	s.step("a publisher goroutine publishes on the channel every 20ms and keeps using the same *Channel after errors (the reconnect loop is supposed to replace it)")
	p.Reset()
	s.step("faultproxy Reset(): RST to both sides of the connection")
	var c2 *Connection
	select {
	case c2 = <-reconnected:
	case <-time.After(waitTimeout):
		return nil, fmt.Errorf("watcher did not reconnect")
	}
	if c2 != nil {
		s.step("the watcher received the connection error and reconnected (new connection through the proxy)")
	}
	if boundedNotify {
		s.fixedIn("the close error is not delivered synchronously; the old connection's reader finishes shutdown and exits")
		s.afterDump = func() { s.probeClose(chClose) }
		return []Expect{Expect{Role: "the new connection's reader (the old connection's reader has exited)", Function: fn("(*Connection).reader"), Min: 1, Stuck: false},
			Expect{Role: "no goroutine left in the old channel's shutdown", Function: fn("(*Channel).shutdown"), Absent: true}}, nil
	}
	return []Expect{
		Expect{Role: "old connection's reader blocked sending the close error to the unread channel NotifyClose", State: "chan send",
			Function: fn("(*Channel).shutdown.func1"), Also: fn("(*Connection).shutdown.func1"), Min: 1, Stuck: true},
		Expect{Role: "app publisher on the old channel waiting for the channel mutex held by the stuck (*Channel).shutdown", State: "sync.Mutex.Lock",
			Function: fn("(*Channel).Publish"), Also: mainPkg + "appPublisher", Min: 1, Stuck: true},
		Expect{Role: "new connection's reader (healthy)", Function: fn("(*Connection).reader"), Min: 1, Stuck: false},
	}, nil
}
