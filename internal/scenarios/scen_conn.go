package main

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"time"
)

// Scenarios about connections: dead peers, blocked connections, piles of
// connections, unread consumers.

func init() {
	register(&scenario{
		Name: "rpc-dead-conn",
		Rule: "rpc-dead-conn",
		Doc:  "heartbeats disabled; the network black-holes the connection; RPCs (QueueDeclare, conn.Channel, ch.Close) park forever in call",
		Run: func(s *S) error {
			p, url := s.proxy()
			conn := s.mustDial(url, heartbeatOff)
			ch := mustChannel(conn)
			ch2 := mustChannel(conn)
			q := s.queue(ch)
			s.step("dialled through faultproxy with Config{Heartbeat: %v} (heartbeats disabled), opened two channels, declared %s", heartbeatOff, q)
			p.BlackHole()
			s.step("faultproxy BlackHole(): packets silently dropped, sockets stay open (no FIN, no RST)")
			go ch.QueueDeclare(s.name("q"), false, true, false, false, nil)
			go conn.Channel()
			go ch2.Close()
			s.step("three goroutines then called ch.QueueDeclare, conn.Channel() and ch2.Close()")
			return s.expectAndDump(waitTimeout,
				Expect{Role: "RPCs waiting forever for a reply on a dead connection (QueueDeclare, channel.open, channel.close)", State: "select",
					Function: fn("(*Channel).call"), Min: 3, Stuck: true},
				Expect{Role: "connection reader waiting for bytes that never come (no read deadline without heartbeats)", State: "IO wait",
					Function: fn("(*Connection).reader"), Min: 1, Stuck: true},
			)
		},
	})

	register(&scenario{
		Name: "io-wait-no-heartbeat",
		Rule: "io-wait-no-heartbeat",
		Doc:  "heartbeats disabled; the network black-holes the connection (half-open); the consumer waits forever",
		Run: func(s *S) error {
			p, url := s.proxy()
			conn := s.mustDial(url, heartbeatOff)
			ch := mustChannel(conn)
			q := s.queue(ch)
			ds, err := ch.Consume(q, "", false, false, false, false, nil)
			if err != nil {
				return err
			}
			var got atomic.Int64
			go consumer(ds, &got)
			if err := ch.Publish("", q, false, false, payload(1)); err != nil {
				return err
			}
			for got.Load() < 1 {
				time.Sleep(10 * time.Millisecond)
			}
			s.step("dialled through faultproxy with Config{Heartbeat: %v} (heartbeats disabled); consumer on %s received and acked 1 message", heartbeatOff, q)
			p.BlackHole()
			s.step("faultproxy BlackHole(): packets silently dropped, sockets stay open (no FIN, no RST)")
			return s.expectAndDump(waitTimeout,
				Expect{Role: "connection reader in IO wait with no read deadline (heartbeats off): never notices the dead peer", State: "IO wait",
					Function: fn("(*Connection).reader"), Min: 1, Stuck: true},
				Expect{Role: "heartbeater with a non-positive interval (argument 1): sends no heartbeats, sets no read deadline", State: "select",
					Function: fn("(*Connection).heartbeater"), Min: 1, Stuck: false},
				Expect{Role: "app consumer waiting for deliveries that never come", State: "chan receive",
					Function: mainPkg + "consumer", Min: 1, Stuck: true},
			)
		},
	})

	register(&scenario{
		Name: "publish-blocked",
		Rule: "publish-blocked",
		Doc:  "broker memory alarm blocks the connection; publishers of 256 KiB messages park in socket write and on the send mutex",
		Run: func(s *S) error {
			conn := s.mustDial(s.URL, 10*time.Second)
			blocked := conn.NotifyBlocked(make(chan Blocking, 4))
			var isBlocked atomic.Bool
			go func() { // drained properly: this scenario is not blocked-unread
				for b := range blocked {
					isBlocked.Store(b.Active)
				}
			}()
			ch := mustChannel(conn)
			q := s.queue(ch)
			s.step("declared %s; conn.NotifyBlocked(make(chan Blocking, 4)) drained by a goroutine", q)
			body := bytes.Repeat([]byte("x"), 256<<10)
			var pchs []*Channel
			for i := 0; i < 4; i++ {
				pchs = append(pchs, mustChannel(conn))
			}
			if err := s.memoryAlarm(); err != nil {
				return err
			}
			for _, pch := range pchs {
				go func(pch *Channel) {
					for {
						if err := pch.Publish("", q, false, false, Publishing{Body: body}); err != nil {
							return
						}
					}
				}(pch)
			}
			s.step("4 goroutines (one channel each) publish 256 KiB messages in a loop")
			return s.expectAndDump(waitTimeout,
				Expect{Role: "publisher writing to the socket the broker stopped reading (connection.blocked)", State: "IO wait",
					Function: fn("(*Channel).sendOpen"), Also: fn("(*Channel).Publish"), Min: 1, Stuck: true},
				Expect{Role: "publishers waiting for the connection's send mutex held by the blocked writer", State: "sync.Mutex.Lock",
					Function: fn("(*Channel).Publish"), Min: 1, Stuck: true},
			)
		},
	})

	register(&scenario{
		Name: "conn-pileup",
		Rule: "conn-pileup",
		Doc:  "a function dials a connection per call and never closes it; called 20 times",
		Run: func(s *S) error {
			q := ""
			for i := 0; i < 20; i++ {
				name, err := declareWithNewConnection(s)
				if err != nil {
					return err
				}
				q = name
			}
			s.step("called a helper 20 times that dials, opens a channel, declares a queue (last %s) and returns without conn.Close()", q)
			return s.expectAndDump(waitTimeout,
				Expect{Role: "connection readers of the forgotten connections", State: "IO wait", Function: fn("(*Connection).reader"), Min: 20, Stuck: true},
				Expect{Role: "heartbeaters of the forgotten connections", State: "select", Function: fn("(*Connection).heartbeater"), Min: 20, Stuck: true},
			)
		},
	})

	register(&scenario{
		Name: "consumer-unread",
		Rule: "consumer-unread",
		Doc:  "Consume called, the deliveries channel is never read, 200 messages arrive",
		Run: func(s *S) error {
			conn := s.mustDial(s.URL, 10*time.Second)
			ch := mustChannel(conn)
			q := s.queue(ch)
			ds, err := ch.Consume(q, "forgotten-consumer", false, false, false, false, nil)
			if err != nil {
				return err
			}
			_ = ds
			s.step("ch.Consume(%s, manual ack, no Qos); the returned deliveries channel is never read", q)
			pch := mustChannel(conn)
			for i := 0; i < 200; i++ {
				if err := pch.Publish("", q, false, false, payload(i)); err != nil {
					return err
				}
			}
			s.step("published 200 messages on another channel")
			time.Sleep(500 * time.Millisecond)
			return s.expectAndDump(waitTimeout,
				Expect{Role: "library consumer buffer goroutine holding undelivered messages, blocked offering them to the unread deliveries channel", State: "select",
					Function: fn("(*consumers).buffer"), Min: 1, Stuck: true},
				Expect{Role: "connection reader (not blocked: the buffer goroutine queues without bound)", Function: fn("(*Connection).reader"), Min: 1},
			)
		},
	})

	register(&scenario{
		Name: "flow-unread",
		Rule: "flow-unread",
		Doc:  "ch.NotifyFlow (unbuffered) never read; tries to make the broker send channel.flow",
		Run: func(s *S) error {
			conn := s.mustDial(s.URL, 10*time.Second)
			conn.NotifyBlocked(make(chan Blocking, 8))
			ch := mustChannel(conn)
			ch.NotifyFlow(make(chan bool))
			q := s.queue(ch)
			s.step("registered ch.NotifyFlow(make(chan bool)) (unbuffered), never read; declared %s", q)
			if err := s.memoryAlarm(); err != nil {
				return err
			}
			go ch.Publish("", q, false, false, payload(1))
			s.step("published one message under the memory alarm (RabbitMQ >= 2.8 answers with connection.blocked, not channel.flow)")
			err := s.waitFor(5*time.Second, reader("chan send", "(*Channel).dispatch"))
			s.restoreWatermark()
			if err == nil {
				return s.dump([]Expect{reader("chan send", "(*Channel).dispatch")})
			}
			s.Meta.Reproduced = false
			s.note("not reproduced: RabbitMQ (here %s) never sends channel.flow to clients; it throttles with TCP back-pressure and connection.blocked. No dump written.", s.Meta.Broker)
			s.note("library code path that would block: the channel.flow case of (*Channel).dispatch sends m.Active to every NotifyFlow channel with a plain blocking send (streadway channel.go:285-290, amqp091-go v1.10.0 channel.go dispatch case *channelFlow); amqp091-go >= v1.13 uses notifyAll (5 s bound)")
			s.Meta.Expected = []Expect{reader("chan send", "(*Channel).dispatch")}
			fmt.Println("flow-unread: not reproducible against RabbitMQ; meta.json only")
			return s.writeMeta()
		},
	})

	register(&scenario{
		Name: "flow-unread-peer",
		Rule: "flow-unread",
		Doc: "ch.NotifyFlow (unbuffered) never read; channel.flow sent by a minimal AMQP peer on loopback " +
			"(flowpeer.go), because RabbitMQ never sends it",
		Run: func(s *S) error {
			peer, err := startFlowPeer()
			if err != nil {
				return err
			}
			s.Meta.Broker = "flowpeer.go: a minimal AMQP 0-9-1 peer on 127.0.0.1 (not RabbitMQ)"
			s.note("RabbitMQ never sends channel.flow to clients (see flow-unread), so this dump comes from the client library " +
				"talking to flowpeer.go, a minimal AMQP 0-9-1 server on loopback that completes the handshake, opens the " +
				"channel and sends channel.flow(active=false). Everything on the client side is the library's real code.")
			conn := s.mustDial(peer.URL(), 0)
			ch := mustChannel(conn)
			ch.NotifyFlow(make(chan bool))
			s.step("dialled flowpeer, opened channel 1, registered ch.NotifyFlow(make(chan bool)) (unbuffered), never read")
			var pc *peerConn
			select {
			case pc = <-peer.ready:
			case <-time.After(waitTimeout):
				return fmt.Errorf("flow peer: channel 1 never opened")
			}
			pc.sendFlow(false)
			s.step("flowpeer sent channel.flow(active=false) on channel 1")
			if boundedNotify {
				s.Meta.Rule = "bounded-send-stall"
				return s.expectAndDump(waitTimeout, boundedStall("(*Channel).dispatch"))
			}
			return s.expectAndDump(waitTimeout, reader("chan send", "(*Channel).dispatch"))
		},
	})
}

func consumer(ds <-chan Delivery, got *atomic.Int64) {
	for d := range ds {
		d.Ack(false)
		got.Add(1)
	}
}

// declareWithNewConnection is the leaky helper: it forgets conn.Close().
func declareWithNewConnection(s *S) (string, error) {
	conn, err := s.dial(s.URL, 10*time.Second)
	if err != nil {
		return "", err
	}
	ch, err := conn.Channel()
	if err != nil {
		return "", err
	}
	name := s.name("q")
	_, err = ch.QueueDeclare(name, false, false, false, false, Table{"x-expires": int32(120000)})
	return name, err
}
