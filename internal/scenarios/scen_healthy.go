package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	register(&scenario{
		Name: "healthy",
		Rule: "",
		Doc:  "correct code under load: publishers with drained confirms/returns, consumers acking, drained close/blocked listeners, heartbeats on; zero findings",
		Run: func(s *S) error {
			var consumed, confirmed atomic.Int64
			if err := startHealthyApp(s, &consumed, &confirmed); err != nil {
				return err
			}
			for consumed.Load() < 3000 || confirmed.Load() < 3000 {
				time.Sleep(5 * time.Millisecond)
			}
			s.step("dumped while traffic flows (%d consumed, %d confirmed so far)", consumed.Load(), confirmed.Load())
			return s.expectAndDump(waitTimeout,
				Expect{Role: "connection readers (publisher and consumer connections), healthy", Function: fn("(*Connection).reader"), Min: 2},
				Expect{Role: "heartbeaters, healthy", Function: fn("(*Connection).heartbeater"), Min: 2},
			)
		},
	})

	register(&scenario{
		Name: "haystack",
		Rule: "chan-notifyclose-unread",
		Doc:  "scenario chan-notifyclose-unread hidden among 20,000 unrelated parked goroutines and a healthy AMQP app",
		Run: func(s *S) error {
			n := spawnHaystack()
			s.step("started %d unrelated parked goroutines (chan receive, select, WaitGroup, Cond, Mutex, sleep; varied stack depths)", n)
			var consumed, confirmed atomic.Int64
			if err := startHealthyApp(s, &consumed, &confirmed); err != nil {
				return err
			}
			exp, err := chanNotifyCloseIncident(s)
			if err != nil {
				return err
			}
			return s.expectAndDump(2*waitTimeout, exp...)
		},
	})
}

// startHealthyApp runs correct publishers and consumers: every Notify*
// channel is buffered and drained until closed, confirms are drained,
// heartbeats are on (10 s).
func startHealthyApp(s *S, consumed, confirmed *atomic.Int64) error {
	pubConn, err := s.dial(s.URL, 10*time.Second)
	if err != nil {
		return err
	}
	subConn, err := s.dial(s.URL, 10*time.Second)
	if err != nil {
		return err
	}
	for _, c := range []*Connection{pubConn, subConn} {
		go drainErrors(c.NotifyClose(make(chan *Error, 1)))
		go drainBlocked(c.NotifyBlocked(make(chan Blocking, 4)))
	}
	setup := mustChannel(pubConn)
	q := s.queue(setup)
	s.step("healthy app: publisher and consumer connections (heartbeat 10s), NotifyClose/NotifyBlocked buffered and drained until closed; queue %s", q)

	for i := 0; i < 4; i++ {
		ch, err := subConn.Channel()
		if err != nil {
			return err
		}
		go drainErrors(ch.NotifyClose(make(chan *Error, 1)))
		if err := ch.Qos(50, 0, false); err != nil {
			return err
		}
		ds, err := ch.Consume(q, fmt.Sprintf("healthy-consumer-%d", i), false, false, false, false, nil)
		if err != nil {
			return err
		}
		go func() {
			for d := range ds {
				d.Ack(false)
				consumed.Add(1)
			}
		}()
	}
	for i := 0; i < 4; i++ {
		ch, err := pubConn.Channel()
		if err != nil {
			return err
		}
		go drainErrors(ch.NotifyClose(make(chan *Error, 1)))
		go drainReturns(ch.NotifyReturn(make(chan Return, 16)))
		if err := ch.Confirm(false); err != nil {
			return err
		}
		confirms := ch.NotifyPublish(make(chan Confirmation, 256))
		var inflight sync.WaitGroup
		sem := make(chan struct{}, 200) // bound unconfirmed messages
		go func() {
			for c := range confirms {
				if c.Ack {
					confirmed.Add(1)
				}
				<-sem
				inflight.Done()
			}
		}()
		go func() {
			for j := 0; ; j++ {
				sem <- struct{}{}
				inflight.Add(1)
				if err := ch.Publish("", q, true, false, payload(j)); err != nil {
					return
				}
			}
		}()
	}
	s.step("4 publisher goroutines (own channel, confirm mode, NotifyPublish(256) drained, NotifyReturn(16) drained, mandatory) and 4 consumers (own channel, Qos 50, ack each)")
	return nil
}

func drainErrors(c chan *Error) {
	for range c {
	}
}

func drainBlocked(c chan Blocking) {
	for range c {
	}
}

func drainReturns(c chan Return) {
	for range c {
	}
}

// --- haystack ---

var (
	hayNever = make(chan struct{})
	hayFull  = make(chan struct{})
	hayWG    sync.WaitGroup
	hayMu    sync.Mutex
	hayCond  = sync.NewCond(&sync.Mutex{})
)

// spawnHaystack starts 20,000 parked goroutines that have nothing to do with
// AMQP, with a mix of states and stack depths like a large server.
func spawnHaystack() int {
	hayWG.Add(1) // never Done
	hayMu.Lock() // never unlocked
	n := 0
	spawn := func(count int, f func(depth int)) {
		for i := 0; i < count; i++ {
			go f(i % 7)
			n++
		}
	}
	spawn(6000, func(d int) { recurse(d, func() { <-hayNever }) })
	spawn(5000, func(d int) {
		recurse(d, func() {
			select {
			case <-hayNever:
			case <-time.After(24 * time.Hour):
			}
		})
	})
	spawn(3000, func(d int) { recurse(d, func() { hayWG.Wait() }) })
	spawn(2000, func(d int) { recurse(d, func() { time.Sleep(24 * time.Hour) }) })
	spawn(2000, func(d int) {
		recurse(d, func() {
			hayCond.L.Lock()
			hayCond.Wait()
			hayCond.L.Unlock()
		})
	})
	spawn(1000, func(d int) { recurse(d, func() { hayMu.Lock() }) })
	spawn(1000, func(d int) { recurse(d, func() { hayFull <- struct{}{} }) })
	return n
}

//go:noinline
func recurse(depth int, park func()) {
	if depth == 0 {
		park()
		return
	}
	recurse(depth-1, park)
}
