package main

// This file is the part to copy: a Consumer and a Publisher that keep their
// connection to RabbitMQ alive through network faults, broker restarts and
// resource alarms, and that leave no goroutine behind when stopped. It
// depends only on github.com/rabbitmq/amqp091-go and the standard library.
//
// The rules it follows, each marked RULE in the code:
//
//  1. Every Notify* channel handed to the library has a buffer and is read
//     until the library closes it, on the connection and on the channel.
//  2. Both the connection and the channel are watched: the broker can close
//     a channel (406 after a double ack, 404 on a missing queue) while the
//     connection stays up.
//  3. Deliveries are acknowledged one by one, Ack(false), by the goroutine
//     that handled them.
//  4. Publishes wait for the broker's confirmation (deferred confirms: no
//     listener to forget) and are retried on the next connection.
//  5. Heartbeats stay on, so a dead peer behind a black hole is noticed.
//  6. Every close is bounded (CloseDeadline); so is every dial and handshake.
//  7. Reconnects back off exponentially, with jitter.
//  8. Stop cancels everything and returns only when every goroutine it
//     started has ended.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Config configures a Consumer or a Publisher. Only URL and Queue are
// required.
type Config struct {
	URL   string // amqp://user:pass@host:port/vhost
	Queue string // declared (non-durable here: an example) by both sides

	// Name is the connection_name the broker shows (rabbitmqctl
	// list_connections, the management UI), suffixed with "-consumer" or
	// "-publisher". Name your connections: it is how you find them when
	// something goes wrong.
	Name string

	Heartbeat    time.Duration // default 10s; RULE 5: never turn it off
	DialTimeout  time.Duration // TCP connect and AMQP handshake; default 5s
	CloseTimeout time.Duration // RULE 6: bound on closing; default 5s
	MinBackoff   time.Duration // first reconnect delay; default 100ms
	MaxBackoff   time.Duration // longest reconnect delay; default 30s
	Prefetch     int           // unacknowledged deliveries in flight; default 10
	Workers      int           // concurrent handlers; default 1

	// Logf logs connection events; default log.Printf.
	Logf func(format string, args ...any)
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Heartbeat, 10*time.Second)
	def(&c.DialTimeout, 5*time.Second)
	def(&c.CloseTimeout, 5*time.Second)
	def(&c.MinBackoff, 100*time.Millisecond)
	def(&c.MaxBackoff, 30*time.Second)
	if c.Prefetch <= 0 {
		c.Prefetch = 10
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.Name == "" {
		c.Name = "reconnect-example"
	}
	if c.Logf == nil {
		c.Logf = log.Printf
	}
	return c
}

// Stats tells how a Consumer or Publisher is doing.
type Stats struct {
	Connects  int64 // connections opened so far
	Connected bool  // a connection and channel are open now
	Blocked   bool  // the broker blocked the connection (resource alarm)
}

// keeper keeps one connection and channel of a role open until its context
// ends, and runs the goroutine that does so.
type keeper struct {
	cfg    Config
	role   string
	cancel context.CancelFunc
	done   chan struct{} // closed when the keeper's goroutine has ended

	connects  atomic.Int64
	connected atomic.Bool
	blocked   atomic.Bool
}

// start runs serve again and again, with backoff, until Stop. serve runs one
// session: it returns when the session is over, having closed it.
func (k *keeper) start(cfg Config, role string, serve func(ctx context.Context) (up time.Duration, err error)) {
	k.cfg, k.role = cfg.withDefaults(), role
	ctx, cancel := context.WithCancel(context.Background())
	k.cancel, k.done = cancel, make(chan struct{})
	go func() {
		defer close(k.done)
		b := backoff{min: k.cfg.MinBackoff, max: k.cfg.MaxBackoff}
		for {
			up, err := serve(ctx)
			if ctx.Err() != nil {
				return
			}
			if up > k.cfg.MaxBackoff {
				b.reset() // it was healthy for a while: start again from MinBackoff
			}
			d := b.next()
			k.cfg.Logf("%s: %v; reconnecting in %v", k.role, err, d.Round(time.Millisecond))
			if !sleep(ctx, d) {
				return
			}
		}
	}()
}

// Stop closes the connection and returns when every goroutine the keeper
// started has ended (RULE 8).
func (k *keeper) Stop() {
	k.cancel()
	<-k.done
}

// Stats returns the current state.
func (k *keeper) Stats() Stats {
	return Stats{Connects: k.connects.Load(), Connected: k.connected.Load(), Blocked: k.blocked.Load()}
}

// session is one connection with one channel, closed as a whole.
type session struct {
	conn    *amqp.Connection
	ch      *amqp.Channel
	began   time.Time
	closed  chan *amqp.Error   // connection NotifyClose
	blocked chan amqp.Blocking // connection NotifyBlocked
	chClose chan *amqp.Error   // channel NotifyClose
}

// open dials the broker and opens a channel, both bounded by DialTimeout
// and abandoned as soon as ctx ends.
func (k *keeper) open(ctx context.Context) (*session, error) {
	abort := func() bool { return false }
	dialer := func(network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: k.cfg.DialTimeout}
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		// RULE 6: bound the handshake as amqp.DefaultDial does (the
		// library clears the deadline once the connection is open), and
		// cut it short if Stop is called meanwhile.
		_ = c.SetDeadline(time.Now().Add(k.cfg.DialTimeout))
		abort = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
		return c, nil
	}
	conn, err := amqp.DialConfig(k.cfg.URL, amqp.Config{
		Heartbeat:  k.cfg.Heartbeat,
		Dial:       dialer,
		Properties: amqp.Table{"connection_name": k.cfg.Name + "-" + k.role},
	})
	abort() // the dialer runs inside DialConfig, on this goroutine
	if err != nil {
		return nil, err
	}
	k.connects.Add(1)
	s := &session{conn: conn, began: time.Now()}
	// RULE 1: a buffer of 1 (the library sends at most one error) and a
	// reader until closed: wait reads them while the session lives, close
	// drains them after.
	s.closed = conn.NotifyClose(make(chan *amqp.Error, 1))
	s.blocked = conn.NotifyBlocked(make(chan amqp.Blocking, 1))
	if s.ch, err = conn.Channel(); err != nil {
		k.close(s)
		return nil, err
	}
	s.chClose = s.ch.NotifyClose(make(chan *amqp.Error, 1))
	if _, err := s.ch.QueueDeclare(k.cfg.Queue, false, false, false, false, nil); err != nil {
		k.close(s)
		return nil, err
	}
	return s, nil
}

// wait returns when the session ends: the connection or the channel closed
// (RULE 2), done was closed, or ctx ended (nil). Meanwhile it tracks
// connection.blocked and calls onBlocked on every change.
func (k *keeper) wait(ctx context.Context, s *session, done <-chan struct{}, onBlocked func()) error {
	for {
		select {
		case err := <-s.closed:
			return fmt.Errorf("connection closed: %w", orClosed(err))
		case err := <-s.chClose:
			return fmt.Errorf("channel closed: %w", orClosed(err))
		case b, ok := <-s.blocked:
			if !ok {
				return fmt.Errorf("connection closed: %w", amqp.ErrClosed)
			}
			k.blocked.Store(b.Active)
			if b.Active {
				k.cfg.Logf("%s: the broker blocked the connection: %s", k.role, b.Reason)
			} else {
				k.cfg.Logf("%s: the broker unblocked the connection", k.role)
			}
			if onBlocked != nil {
				onBlocked()
			}
		case <-done:
			// Deliveries end when the channel closes: say why, if known.
			select {
			case err := <-s.chClose:
				return fmt.Errorf("channel closed: %w", orClosed(err))
			case <-time.After(100 * time.Millisecond):
				return errors.New("deliveries ended (consumer cancelled by the broker?)")
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// close closes the session within CloseTimeout and then reads every
// listener until the library closes it (RULE 1, RULE 6).
func (k *keeper) close(s *session) {
	k.connected.Store(false)
	k.blocked.Store(false)
	err := s.conn.CloseDeadline(time.Now().Add(k.cfg.CloseTimeout))
	if err != nil && !errors.Is(err, amqp.ErrClosed) {
		k.cfg.Logf("%s: close: %v", k.role, err)
	}
	// The library closes every listener when the connection is shut
	// down, which CloseDeadline has done (or the reader is doing, when
	// the broker or the network closed it first).
	drain(s.closed)
	drain(s.blocked)
	drain(s.chClose) // nil when Channel failed: drain returns at once
}

// drain reads c until it is closed. A nil channel counts as closed.
func drain[T any](c <-chan T) {
	if c == nil {
		return
	}
	for range c {
	}
}

// orClosed turns the nil of a closed listener into amqp.ErrClosed.
func orClosed(err *amqp.Error) error {
	if err == nil {
		return amqp.ErrClosed
	}
	return err
}

// Handler processes one delivery. Returning nil acknowledges it; an error
// requeues it once (then it is dropped, or dead-lettered if the queue says
// so). ctx ends when the Consumer is stopped.
type Handler func(ctx context.Context, d amqp.Delivery) error

// Consumer consumes Config.Queue and hands each delivery to a Handler,
// reconnecting whenever it loses the connection or the channel.
type Consumer struct {
	keeper
	handle Handler
}

// StartConsumer starts consuming in the background; it connects (and
// reconnects) on its own. Call Stop when done.
func StartConsumer(cfg Config, handle Handler) *Consumer {
	c := &Consumer{handle: handle}
	c.start(cfg, "consumer", c.serve)
	return c
}

func (c *Consumer) serve(ctx context.Context) (time.Duration, error) {
	s, err := c.open(ctx)
	if err != nil {
		return 0, err
	}
	err = s.ch.Qos(c.cfg.Prefetch, 0, false)
	var deliveries <-chan amqp.Delivery
	if err == nil {
		deliveries, err = s.ch.Consume(c.cfg.Queue, "", false, false, false, false, nil)
	}
	if err != nil {
		c.close(s)
		return 0, err
	}
	c.connected.Store(true)
	c.cfg.Logf("consumer: connected (connection %d)", c.connects.Load())

	var workers sync.WaitGroup
	done := make(chan struct{})
	var once sync.Once
	for i := 0; i < c.cfg.Workers; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			defer once.Do(func() { close(done) })
			for d := range deliveries {
				c.process(ctx, d)
			}
		}()
	}
	err = c.wait(ctx, s, done, nil)
	c.close(s)     // closes deliveries: the workers finish their message and return
	workers.Wait() // unacknowledged deliveries go back to the queue
	return time.Since(s.began), err
}

// process runs the handler and acknowledges this delivery alone (RULE 3).
func (c *Consumer) process(ctx context.Context, d amqp.Delivery) {
	if err := c.handle(ctx, d); err != nil {
		c.cfg.Logf("consumer: message %d: %v", d.DeliveryTag, err)
		_ = d.Nack(false, !d.Redelivered) // requeue once
		return
	}
	// An error here means the channel is gone; the broker redelivers the
	// message on the next connection, so handlers must be idempotent.
	_ = d.Ack(false)
}

// ErrStopped is returned by Publish after Stop.
var ErrStopped = errors.New("publisher stopped")

// ErrNacked is returned by Publish when the broker refused a message.
var ErrNacked = errors.New("the broker nacked the message")

// Publisher publishes to Config.Queue with publisher confirms, reconnecting
// whenever it loses the connection or the channel.
type Publisher struct {
	keeper

	mu      sync.Mutex
	cur     *session      // nil while disconnected
	changed chan struct{} // closed (and replaced) when cur or blocked changes
}

// StartPublisher connects in the background; Publish waits for the
// connection. Call Stop when done.
func StartPublisher(cfg Config) *Publisher {
	p := &Publisher{changed: make(chan struct{})}
	p.start(cfg, "publisher", p.serve)
	return p
}

func (p *Publisher) serve(ctx context.Context) (time.Duration, error) {
	s, err := p.open(ctx)
	if err != nil {
		return 0, err
	}
	if err := s.ch.Confirm(false); err != nil {
		p.close(s)
		return 0, err
	}
	p.connected.Store(true)
	p.cfg.Logf("publisher: connected (connection %d)", p.connects.Load())
	p.set(s)
	err = p.wait(ctx, s, nil, func() { p.set(s) })
	p.set(nil)
	p.close(s)
	return time.Since(s.began), err
}

// set makes s the session Publish uses and wakes Publish calls waiting for
// a change.
func (p *Publisher) set(s *session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur = s
	close(p.changed)
	p.changed = make(chan struct{})
}

// ready returns the current session once there is one, other than stale,
// that the broker does not block.
func (p *Publisher) ready(ctx context.Context, stale *session) (*session, error) {
	for {
		p.mu.Lock()
		s, changed := p.cur, p.changed
		p.mu.Unlock()
		blocked := p.blocked.Load()
		if s != nil && s != stale && !blocked {
			return s, nil
		}
		select {
		case <-changed:
		case <-p.done:
			return nil, ErrStopped
		case <-ctx.Done():
			if blocked {
				return nil, fmt.Errorf("the broker blocks publishing (resource alarm): %w", ctx.Err())
			}
			return nil, fmt.Errorf("not connected: %w", ctx.Err())
		}
	}
}

// Publish sends body to the queue and returns once the broker has
// confirmed it (RULE 4). While the broker blocks the connection it waits;
// when the connection or channel fails it publishes again on the next one,
// so a message can arrive twice. It gives up when ctx ends.
func (p *Publisher) Publish(ctx context.Context, body []byte) error {
	var stale *session
	for {
		s, err := p.ready(ctx, stale)
		if err != nil {
			return err
		}
		dc, err := s.ch.PublishWithDeferredConfirmWithContext(ctx, "", p.cfg.Queue, false, false,
			amqp.Publishing{ContentType: "application/octet-stream", Body: body})
		if err == nil {
			var ok bool
			if ok, err = dc.WaitContext(ctx); err == nil && ok {
				return nil
			}
			if err == nil && !s.ch.IsClosed() {
				return ErrNacked
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The channel closed under the publish (its pending confirms
		// are nacked by the library): try again on the next one.
		stale = s
	}
}

// backoff is exponential backoff with jitter (RULE 7): many clients that
// lost the same broker do not all come back at the same instant.
type backoff struct {
	min, max time.Duration
	n        uint
}

func (b *backoff) next() time.Duration {
	d := b.max
	if b.n < 32 && b.min<<b.n < b.max {
		d = b.min << b.n
		b.n++
	}
	return d/2 + rand.N(d/2+1)
}

func (b *backoff) reset() { b.n = 0 }

// sleep waits for d or until ctx ends, and reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
