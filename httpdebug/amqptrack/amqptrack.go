// Package amqptrack tracks github.com/rabbitmq/amqp091-go connections and
// channels live, for /debug/amqpleaks (package
// github.com/amqpleaks/amqpleaks/httpdebug): their closes with the reply
// code and text, blocked periods, reconnects and consumers — what a
// goroutine dump cannot show.
//
//	conn, err := amqp.Dial(url)
//	…
//	c := amqptrack.Track(conn, "orders")       // right after Dial
//	ch, err := conn.Channel()
//	…
//	tch := c.Channel(ch, "consume")            // right after Channel
//	deliveries, err := tch.Consume(queue, "", false, false, false, false, nil)
//
//	mux.Handle("/debug/amqpleaks", httpdebug.Handler(httpdebug.WithSource(amqptrack.Default)))
//
// The page then names the tracked objects beside the goroutine findings
// (by address in ?mode=full) and reports what only they prove: a channel
// closed by the broker (406 PRECONDITION_FAILED, say) while its connection
// stays open and the application still consumes from it
// (live-channel-closed-consuming), a shutdown that began and never
// finished (live-shutdown-stuck: the library is stuck delivering a
// notification nobody reads), a consumer cancelled by the broker
// (live-consumer-cancelled), a connection blocked by the broker for
// minutes (live-connection-blocked).
//
// # Why a module of its own
//
// The amqpleaks module depends on no AMQP client: it reads goroutine
// dumps. Tracking needs the client's types (NotifyClose takes a
// chan *amqp.Error), so it lives in this nested module, which requires
// amqp091-go; only programs that import it get that dependency. It is
// written against the types, not reflection, so the compiler checks it.
//
// # It must never become the bug it reports
//
// Every listener the tracker registers is buffered (NotifyClose delivers
// at most one error, so a buffer of 1 never blocks) and read by a
// goroutine that only records the event under a short mutex and reads
// until the library closes the channel, then exits. It does not fix a
// stuck shutdown either: an application listener that nobody reads still
// blocks the library, and the tracker reports it.
//
// Track and Channel call the library's Notify* methods, which take the
// object's locks: call them right after opening the object, not on one
// that may be stuck.
package amqptrack

import (
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/amqpleaks/amqpleaks/httpdebug"
)

// Library is the module path recorded in the objects.
const Library = "github.com/rabbitmq/amqp091-go"

// Limits of what a Tracker keeps.
const (
	// MaxObjects bounds the objects kept; the oldest closed ones go first.
	MaxObjects = 512
	// maxClosedPerName is how many closed generations of one name are kept.
	maxClosedPerName = 4
	// maxEvents is how many events each object keeps.
	maxEvents = 16
)

// Tracker records tracked objects. It is an httpdebug.Source. The zero
// value is not ready; use New or Default.
type Tracker struct {
	now func() time.Time

	mu   sync.Mutex
	objs []*obj
	gens map[string]int
}

type obj struct {
	httpdebug.Object
	conn *obj
}

// New returns an empty Tracker.
func New() *Tracker { return &Tracker{now: time.Now, gens: map[string]int{}} }

// Default is the Tracker of Track.
var Default = New()

// Track tracks conn under name on Default. Tracking a connection under a
// name already tracked counts as a reconnect. Call it right after Dial.
func Track(conn *amqp.Connection, name string) *Conn { return Default.Connection(conn, name) }

// Conn is a tracked connection.
type Conn struct {
	t *Tracker
	o *obj
}

// Chan is a tracked channel.
type Chan struct {
	t  *Tracker
	o  *obj
	ch *amqp.Channel
}

// Connection tracks conn under name.
func (t *Tracker) Connection(conn *amqp.Connection, name string) *Conn {
	o := t.add(&obj{Object: httpdebug.Object{Kind: "connection", Name: name, Addr: fmt.Sprintf("%p", conn)}})
	closes := conn.NotifyClose(make(chan *amqp.Error, 1))
	blocks := conn.NotifyBlocked(make(chan amqp.Blocking, 8))
	go t.watch(o, closes, blocks, nil)
	return &Conn{t: t, o: o}
}

// Channel tracks ch, a channel of c, under name. Opening a channel under
// a name already used on a connection of c's name counts as reopening it.
func (c *Conn) Channel(ch *amqp.Channel, name string) *Chan {
	o := c.t.add(&obj{Object: httpdebug.Object{Kind: "channel", Name: name, Addr: fmt.Sprintf("%p", ch),
		Conn: c.o.Addr, ConnName: c.o.Name}, conn: c.o})
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	cancels := ch.NotifyCancel(make(chan string, 8))
	go c.t.watch(o, closes, nil, cancels)
	return &Chan{t: c.t, o: o, ch: ch}
}

// Consume calls ch.Consume and records the consumer, so that a close of
// the channel by the broker while it consumes is reported.
func (c *Chan) Consume(queue, consumer string, autoAck, exclusive, noLocal, noWait bool, args amqp.Table) (<-chan amqp.Delivery, error) {
	ds, err := c.ch.Consume(queue, consumer, autoAck, exclusive, noLocal, noWait, args)
	if err == nil {
		c.NoteConsumer(queue, consumer)
	}
	return ds, err
}

// NoteConsumer records a consumer started on the channel without Consume.
func (c *Chan) NoteConsumer(queue, tag string) {
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if tag == "" {
		tag = "(generated tag)"
	}
	c.o.Consumers = append(c.o.Consumers, httpdebug.Consumer{Queue: queue, Tag: tag, Since: now})
	c.o.event(now, fmt.Sprintf("consumer %q on queue %q", tag, queue))
}

// Channel returns the tracked *amqp.Channel.
func (c *Chan) Channel() *amqp.Channel { return c.ch }

// add registers o, numbering its generation and pruning old objects.
func (t *Tracker) add(o *obj) *obj {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	k := key(&o.Object)
	t.gens[k]++
	o.Generation = t.gens[k]
	o.Library = Library
	o.Opened = now
	if o.Generation > 1 {
		o.event(now, fmt.Sprintf("opened (generation %d: reconnect)", o.Generation))
	} else {
		o.event(now, "opened")
	}
	t.objs = append(t.objs, o)
	t.prune(k)
	return o
}

func key(o *httpdebug.Object) string {
	if o.Kind == "channel" {
		return "ch\x00" + o.ConnName + "\x00" + o.Name
	}
	return "conn\x00" + o.Name
}

// prune keeps at most maxClosedPerName closed generations of k and at
// most MaxObjects objects, dropping the oldest closed ones.
func (t *Tracker) prune(k string) {
	closed := 0
	for i := len(t.objs) - 1; i >= 0; i-- {
		o := t.objs[i]
		if key(&o.Object) == k && o.Closed != nil {
			closed++
			if closed > maxClosedPerName {
				t.objs = append(t.objs[:i], t.objs[i+1:]...)
			}
		}
	}
	for i := 0; len(t.objs) > MaxObjects && i < len(t.objs); {
		if t.objs[i].Closed != nil {
			t.objs = append(t.objs[:i], t.objs[i+1:]...)
			continue
		}
		i++
	}
	if len(t.objs) > MaxObjects { // all open: drop the oldest
		t.objs = append(t.objs[:0], t.objs[len(t.objs)-MaxObjects:]...)
	}
}

func (o *obj) event(at time.Time, what string) {
	if len(o.Events) == maxEvents {
		o.Events = append(o.Events[:0], o.Events[1:]...)
	}
	o.Events = append(o.Events, httpdebug.Event{At: at, What: what})
}

// watch reads the listeners of o until the library closes them all. It
// does nothing but record, so the library never waits on it.
func (t *Tracker) watch(o *obj, closes chan *amqp.Error, blocks chan amqp.Blocking, cancels chan string) {
	for closes != nil || blocks != nil || cancels != nil {
		select {
		case e, ok := <-closes:
			if !ok {
				closes = nil
				t.record(func(now time.Time) {
					o.Closed = &now
					if o.CloseError != nil {
						o.event(now, "shutdown finished")
					} else {
						o.event(now, "closed by the application")
					}
					if o.Blocked != nil {
						o.Blocked = nil
					}
				})
				continue
			}
			if e == nil {
				continue
			}
			t.record(func(now time.Time) {
				o.CloseError = &httpdebug.CloseError{At: now, Code: e.Code, Reason: e.Reason, Server: e.Server, Recover: e.Recover}
				from := "client side"
				if e.Server {
					from = "the broker"
				}
				o.event(now, fmt.Sprintf("close error from %s: %d %s", from, e.Code, e.Reason))
			})
		case b, ok := <-blocks:
			if !ok {
				blocks = nil
				continue
			}
			t.record(func(now time.Time) {
				if b.Active {
					if o.Blocked == nil {
						o.Blocked = &httpdebug.Blocked{Since: now, Reason: b.Reason}
					}
					o.event(now, "blocked by the broker: "+b.Reason)
				} else {
					o.Blocked = nil
					o.event(now, "unblocked")
				}
			})
		case tag, ok := <-cancels:
			if !ok {
				cancels = nil
				continue
			}
			t.record(func(now time.Time) {
				found := false
				for i := range o.Consumers {
					if o.Consumers[i].Tag == tag && o.Consumers[i].Cancelled == nil {
						o.Consumers[i].Cancelled = &now
						found = true
					}
				}
				if !found {
					o.Consumers = append(o.Consumers, httpdebug.Consumer{Tag: tag, Since: now, Cancelled: &now})
				}
				o.event(now, fmt.Sprintf("consumer %q cancelled by the broker", tag))
			})
		}
	}
}

func (t *Tracker) record(f func(now time.Time)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(t.now())
}

// Objects returns a copy of the tracked objects, oldest first.
func (t *Tracker) Objects() []httpdebug.Object {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]httpdebug.Object, len(t.objs))
	for i, o := range t.objs {
		c := o.Object
		c.Consumers = append([]httpdebug.Consumer(nil), o.Consumers...)
		c.Events = append([]httpdebug.Event(nil), o.Events...)
		if o.CloseError != nil {
			e := *o.CloseError
			c.CloseError = &e
		}
		if o.Blocked != nil {
			b := *o.Blocked
			c.Blocked = &b
		}
		out[i] = c
	}
	return out
}
