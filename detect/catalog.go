package detect

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// The catalog. Each rule keeps its explanation, its fix and its matcher
// together. Rules are matched in this order; a goroutine reported by one
// rule is not reported again by a later one, so root causes come first and
// the goroutines they block are attached to them (see collateralAfter).
var catalog = []*Rule{
	ruleConnClose,
	ruleChanClose,
	ruleConfirms,
	ruleReturn,
	ruleCancel,
	ruleFlow,
	ruleBlocked,
	rulePublishBlocked,
	ruleBoundedSend,
	ruleStateChange,
	ruleRPC,
	ruleNoHeartbeat,
	ruleConsumer,
	rulePileup,
	ruleWatchConnOnly,
}

// collateralAfter is the last root-cause rule: once it has run, goroutines
// waiting on a stuck connection are attached to that connection's finding.
const collateralAfter = "statechange-unread"

const (
	versionsBlocking = "github.com/streadway/amqp (all versions); github.com/rabbitmq/amqp091-go up to v1.11.x, where every notification is a plain blocking send"
	versionsBounded  = "github.com/rabbitmq/amqp091-go v1.13.0 and later (sends give up after 5 s); the blocking versions are covered by the rules for each listener"
)

var ruleConnClose = &Rule{
	ID:       "conn-notifyclose-unread",
	Title:    "Connection shutdown blocked on an unread Connection.NotifyClose channel",
	Severity: Critical,
	Versions: versionsBlocking,
	Shows: "The connection's reader goroutine in [chan send] inside (*Connection).shutdown (the function literal run by " +
		"sync.(*Once).Do), created by amqp.Open.",
	Why: "When the connection ends the library sends the close error to every channel registered with " +
		"Connection.NotifyClose, one after the other, without a timeout, while holding the connection's mutex and " +
		"before it closes the socket. Nobody reads the channel this goroutine sends on, so it waits for ever: " +
		"the socket is never closed (a zombie TCP flow), every later call on the connection blocks on its mutex, " +
		"and one more goroutine and connection leak at every reconnect.",
	Fix: "Give every NotifyClose channel a buffer of 1 and read it until it is closed, on every reconnect — or " +
		"stop registering channels you no longer read. Upgrading to amqp091-go v1.12+ stops the hang but the " +
		"error is then dropped silently, so still drain it.",
	Example: `closed := conn.NotifyClose(make(chan *amqp.Error, 1))
go func() {
	for err := range closed { // ends when the library closes the channel
		log.Printf("connection closed: %v", err)
		reconnect()
	}
}()`,
	References: []string{"streadway/amqp#348", "streadway/amqp#450", "streadway/amqp#473", "rabbitmq/amqp091-go#11", "rabbitmq/amqp091-go#256 (proposal: reject unbuffered NotifyClose)"},
	match: func(s *snapshot, r *Rule) []*Finding {
		xs := s.unclaimed(func(x *gor) bool {
			return x.blockedSend(true) && x.innerIs("(*Connection).shutdown") && !x.has("(*Channel).shutdown")
		})
		return s.perGoroutine(r, xs, func(x *gor) string {
			return fmt.Sprintf("The reader of connection %s is stuck sending the close error to a NotifyClose channel nobody reads%s; the connection's socket is still open.",
				orUnknown(x.conn), waited(x))
		})
	},
}

var ruleChanClose = &Rule{
	ID:       "chan-notifyclose-unread",
	Title:    "Channel shutdown blocked on an unread Channel.NotifyClose channel",
	Severity: Critical,
	Versions: versionsBlocking,
	Shows: "A goroutine in [chan send] inside (*Channel).shutdown. When the connection dropped, it is the connection's " +
		"reader, with (*Connection).shutdown below; when the broker closed only the channel (for example 406 " +
		"PRECONDITION_FAILED after a double ack) it is the reader in (*Channel).dispatch → (*Connection).closeChannel; " +
		"after Channel.Close it is the application's goroutine.",
	Why: "The library sends the close error to every channel registered with Channel.NotifyClose, without a timeout, " +
		"while holding the channel's and (under Connection.shutdown) the connection's mutex, before the socket is " +
		"closed. An application that watches only the connection, or that stopped reading the channel's " +
		"notification after the first close, leaves it blocked for ever: the old connection is never released " +
		"and the reader of a live connection stops dispatching for every channel.",
	Fix: "Read every Channel.NotifyClose channel until it is closed (or give it a buffer of 1), and watch it as well " +
		"as the connection's: a channel can be closed by the broker while its connection stays healthy.",
	Example: `chClosed := ch.NotifyClose(make(chan *amqp.Error, 1))
connClosed := conn.NotifyClose(make(chan *amqp.Error, 1))
select {
case err := <-chClosed:
	log.Printf("channel closed: %v", err) // e.g. 406 after a double ack
case err := <-connClosed:
	log.Printf("connection closed: %v", err)
}
// Drain both before dropping them: for range chClosed {}; for range connClosed {}`,
	References: []string{"background.md incident 1", "streadway/amqp#348", "rabbitmq/amqp091-go#11", "blog ms2008 2019-06-16 (detect/testdata/public)"},
	match: func(s *snapshot, r *Rule) []*Finding {
		xs := s.unclaimed(func(x *gor) bool { return x.blockedSend(true) && x.innerIs("(*Channel).shutdown") })
		return s.perGoroutine(r, xs, func(x *gor) string {
			how := "after Channel.Close was called"
			switch {
			case x.has("(*Connection).shutdown"):
				how = "while shutting down its dropped connection, so the socket is never closed"
			case x.has("(*Connection).closeChannel") || x.has("(*Channel).dispatch"):
				how = "after the broker closed the channel; the connection's reader is frozen, so every channel of the connection stops"
			}
			return fmt.Sprintf("Channel %s of connection %s is stuck sending its close error to a NotifyClose channel nobody reads, %s%s.",
				orUnknown(x.ch), orUnknown(x.conn), how, waited(x))
		})
	},
}

var ruleConfirms = &Rule{
	ID:       "confirms-undrained",
	Title:    "Publisher confirms not drained: the reader is stuck delivering a confirmation",
	Severity: Critical,
	Versions: versionsBlocking + "; the NotifyConfirm relay goroutine blocks in every version",
	Shows: "The reader in [chan send] in (*confirms).confirm (called from (*Channel).dispatch on basic.ack/nack), " +
		"publishers in [sync.Mutex.Lock] in Publish behind the confirms mutex; or NotifyConfirm's relay goroutine " +
		"in [chan send] to the application's ack or nack channel.",
	Why: "Channel.NotifyPublish delivers every confirmation with a blocking send from the connection's reader. When " +
		"the application publishes more messages than the listener's buffer holds and does not read confirmations " +
		"while it publishes, the reader blocks, holding the confirms mutex: no frame of any channel of the " +
		"connection is read any more, and every publisher waits for the mutex. NotifyConfirm adds a goroutine " +
		"that relays to the ack and nack channels with plain sends, so an unread nack channel blocks it (and then " +
		"the reader) in every version.",
	Fix: "Read confirmations concurrently with publishing (a goroutine ranging over the NotifyPublish channel), " +
		"or use PublishWithDeferredConfirm and wait on each confirmation; read both channels of NotifyConfirm.",
	Example: `confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 100))
go func() {
	for c := range confirms {
		if !c.Ack {
			log.Printf("nacked: %d", c.DeliveryTag)
		}
	}
}()
// or: dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, ...); ok, err := dc.WaitContext(ctx)`,
	References: []string{"streadway/amqp#254", "streadway/amqp#333", "streadway/amqp#448", "rabbitmq/amqp091-go#10 (fixed by #25)", "rabbitmq/amqp091-go#21"},
	match: func(s *snapshot, r *Rule) []*Finding {
		xs := s.unclaimed(func(x *gor) bool {
			return x.blockedSend(true) && (x.innerIs("(*confirms).confirm", "(*confirms).One", "(*confirms).Multiple", "(*confirms).resequence") ||
				x.innerIs("(*Channel).NotifyConfirm"))
		})
		return s.perGoroutine(r, xs, func(x *gor) string {
			if x.innerIs("(*Channel).NotifyConfirm") {
				return fmt.Sprintf("NotifyConfirm's relay goroutine is stuck sending a delivery tag to an ack or nack channel nobody reads%s; confirmations back up into the connection's reader.", waited(x))
			}
			return fmt.Sprintf("The reader of connection %s is stuck delivering a publisher confirmation to a NotifyPublish channel nobody reads%s; the connection reads nothing more.",
				orUnknown(x.conn), waited(x))
		})
	},
}

// dispatchSends maps the line of each notification send in
// (*Channel).dispatch to the listener it serves, per library version, read
// from the library's source. Other versions: see dispatchListener.
var dispatchSends = map[string]map[int]string{
	LibStreadway + "@v1.1.0":  {288: "NotifyFlow", 296: "NotifyCancel", 305: "NotifyReturn"},
	LibAMQP091 + "@v1.10.0":   {326: "NotifyFlow", 336: "NotifyCancel", 345: "NotifyReturn"},
	LibStreadway + "@unknown": {288: "NotifyFlow", 296: "NotifyCancel", 305: "NotifyReturn"},
}

// dispatchListener names the listener a reader blocked in (*Channel).dispatch
// is sending to, or "" when the version's source lines are not known.
func dispatchListener(x *gor) string {
	v := x.version
	if v == "" {
		v = "unknown"
	}
	f := x.g.Frames[x.inner().idx]
	return dispatchSends[x.lib+"@"+v][f.Line]
}

// channelNotifyRule builds the three rules of the listeners served by
// (*Channel).dispatch, which differ only in their text.
func channelNotifyRule(id, listener, event, why, fix, example string, refs ...string) *Rule {
	return &Rule{
		ID:       id,
		Title:    "Connection reader blocked on an unread Channel." + listener + " channel",
		Severity: Critical,
		Versions: versionsBlocking,
		Shows: "The connection's reader in [chan send] inside (*Channel).dispatch at the line that delivers " + event +
			" (the rule tells the three Channel.Notify* listeners apart by that line, for the versions whose source it knows).",
		Why: "The library delivers " + event + " with a blocking send from the connection's reader goroutine. Nobody " +
			"reads the channel given to " + listener + ", so the reader is stuck: no frame of any channel of this " +
			"connection is read any more (deliveries, confirms, replies, heartbeats from the broker), and every " +
			"call waiting for a reply hangs. " + why,
		Fix:        fix,
		Example:    example,
		References: refs,
		match: func(s *snapshot, r *Rule) []*Finding {
			xs := s.unclaimed(func(x *gor) bool {
				if !x.blockedSend(true) || !x.innerIs("(*Channel).dispatch") {
					return false
				}
				l := dispatchListener(x)
				// An unknown line is reported under NotifyReturn, saying so.
				return l == listener || l == "" && listener == "NotifyReturn"
			})
			return s.perGoroutine(r, xs, func(x *gor) string {
				which := listener
				if dispatchListener(x) == "" {
					which = "NotifyReturn, NotifyCancel or NotifyFlow (this version's source lines are not in the catalog, so the line does not say which)"
				}
				return fmt.Sprintf("The reader of connection %s is stuck delivering to an unread Channel.%s channel%s; the connection reads nothing more.",
					orUnknown(x.conn), which, waited(x))
			})
		},
	}
}

var ruleReturn = channelNotifyRule("return-unread", "NotifyReturn", "a basic.return (a mandatory or immediate message the broker could not route)",
	"Every unroutable mandatory publish produces one.",
	"Read the NotifyReturn channel in its own goroutine for as long as the channel lives, or do not register it.",
	`returns := ch.NotifyReturn(make(chan amqp.Return, 16))
go func() {
	for ret := range returns {
		log.Printf("returned: %s %s", ret.ReplyText, ret.RoutingKey)
	}
}()`, "streadway/amqp#264")

var ruleCancel = channelNotifyRule("cancel-unread", "NotifyCancel", "a basic.cancel (the broker cancelled a consumer, e.g. its queue was deleted)",
	"",
	"Read the NotifyCancel channel in its own goroutine and re-subscribe or stop on each cancel.",
	`cancels := ch.NotifyCancel(make(chan string, 1))
go func() {
	for tag := range cancels {
		log.Printf("consumer %s cancelled by the broker", tag)
	}
}()`)

var ruleFlow = channelNotifyRule("flow-unread", "NotifyFlow", "a channel.flow",
	"RabbitMQ never sends channel.flow to clients (it blocks connections instead, see blocked-unread); other "+
		"brokers and proxies may. The rule's dumps come from the real library talking to a minimal AMQP peer that "+
		"sends it (internal/scenarios/flowpeer.go).",
	"Read the NotifyFlow channel in its own goroutine, or do not register it with RabbitMQ.",
	`flows := ch.NotifyFlow(make(chan bool, 1))
go func() {
	for active := range flows {
		log.Printf("flow active: %v", active)
	}
}()`)

var ruleBlocked = &Rule{
	ID:       "blocked-unread",
	Title:    "Connection reader blocked on an unread Connection.NotifyBlocked channel",
	Severity: Critical,
	Versions: versionsBlocking,
	Shows:    "The connection's reader in [chan send] inside (*Connection).dispatch0, which handles connection.blocked and connection.unblocked.",
	Why: "When the broker raises a resource alarm it sends connection.blocked, and the library delivers it to every " +
		"NotifyBlocked channel with a blocking send from the reader. Nobody reads this one, so the reader is stuck " +
		"for ever: even after the alarm clears, no frame is read and every call on the connection hangs.",
	Fix: "Read the NotifyBlocked channel in its own goroutine for the life of the connection, and pause publishing while blocked.",
	Example: `blocked := conn.NotifyBlocked(make(chan amqp.Blocking, 1))
go func() {
	for b := range blocked {
		log.Printf("connection blocked=%v: %s", b.Active, b.Reason)
	}
}()`,
	References: []string{"rabbitmq/amqp091-go#111", "https://www.rabbitmq.com/docs/connection-blocked"},
	match: func(s *snapshot, r *Rule) []*Finding {
		xs := s.unclaimed(func(x *gor) bool { return x.blockedSend(true) && x.innerIs("(*Connection).dispatch0") })
		return s.perGoroutine(r, xs, func(x *gor) string {
			return fmt.Sprintf("The reader of connection %s is stuck delivering connection.blocked/unblocked to an unread NotifyBlocked channel%s.",
				orUnknown(x.conn), waited(x))
		})
	},
}

var rulePublishBlocked = &Rule{
	ID:       "publish-blocked",
	Title:    "Publishers parked on a connection that does not take writes (broker resource alarm, or a full socket)",
	Severity: Critical,
	Versions: "all versions of both libraries",
	Shows: "A publisher in [IO wait] writing a frame (internal/poll.(*FD).Write under the library's frame writer), " +
		"and the other publishers of the connection in [sync.Mutex.Lock] behind it in (*Connection).send.",
	Why: "A broker in a resource alarm (memory or disk) blocks publishing connections: it stops reading their sockets " +
		"until the alarm clears. The socket's buffers fill, the writing goroutine parks in IO wait holding the " +
		"connection's send mutex, and every other publisher of the connection queues behind it. Contexts passed " +
		"to PublishWithContext do not interrupt a write in progress. A network black hole looks the same.",
	Fix: "Watch Connection.NotifyBlocked and stop publishing while blocked; publish with a deadline you enforce " +
		"(a separate connection for publishing keeps consumers alive); fix the alarm on the broker.",
	Example: `blocked := conn.NotifyBlocked(make(chan amqp.Blocking, 1))
go func() {
	for b := range blocked {
		paused.Store(b.Active) // publishers check paused before Publish
	}
}()`,
	Limits: "A snapshot cannot tell a socket that stays full from one momentarily full under load: without wait " +
		"times (debug=1, proto, or a wait under a minute) the finding is a warning; take a second dump to confirm.",
	References: []string{"rabbitmq/amqp091-go#111", "rabbitmq/amqp091-go#178", "https://www.rabbitmq.com/docs/alarms"},
	match: func(s *snapshot, r *Rule) []*Finding {
		xs := s.unclaimed(func(x *gor) bool {
			return x.state == "IO wait" && x.role == RoleCaller && writing(x)
		})
		fs := s.perGoroutine(r, xs, func(x *gor) string {
			return fmt.Sprintf("A publisher on connection %s is parked writing a frame%s; the broker is not reading this connection (resource alarm) or the network stopped.",
				orUnknown(x.conn), waited(x))
		})
		for _, f := range fs {
			if f.MaxWaitMinutes < s.a.minWait {
				f.Severity = Warning
			}
			// Publishers queued on the send mutex of the same connection.
			for _, x := range s.unclaimed(func(x *gor) bool {
				return x.state == "sync.Mutex.Lock" && (x.conn == f.Connection || s.readers <= 1) &&
					(x.innerIs("(*Connection).send", "(*Connection).sendUnflushed", "(*Channel).sendOpen"))
			}) {
				x.claimed = true
				f.Collateral = append(f.Collateral, ref(x))
				f.Count += x.g.Count
			}
		}
		return fs
	},
}

// writing reports whether the library frames show a frame write in progress.
func writing(x *gor) bool {
	for _, f := range x.lf {
		if strings.HasPrefix(f.method, "(*writer).WriteFrame") || f.method == "writeFrame" || strings.HasSuffix(f.method, ").write") {
			return true
		}
	}
	return false
}

var ruleBoundedSend = &Rule{
	ID:       "bounded-send-stall",
	Title:    "Reader stalled in a bounded notification send: events may be dropped",
	Severity: Info,
	Versions: versionsBounded,
	Shows: "The connection's reader in [select] in notifyAll (a send with a 5 s timer), under (*Channel).dispatch, " +
		"(*confirms).confirm or (*Connection).dispatch0; or a goroutine started by (*Connection).shutdown or " +
		"(*Channel).shutdown waiting up to 5 s to deliver a close error.",
	Why: "Since v1.13 a notification that nobody reads is dropped after 5 s instead of blocking for ever. The " +
		"connection is not frozen, but it stalls up to 5 s per unread listener and per event, and the application " +
		"silently never learns of the event: a return, a cancel, a confirmation (the publisher then waits for it " +
		"for ever) or a close error (the application never reconnects).",
	Fix: "Read every channel you register with Notify* until it is closed. Deregister nothing by abandoning it: a " +
		"listener you stopped reading costs a 5 s stall per event and loses the event.",
	Example: `returns := ch.NotifyReturn(make(chan amqp.Return, 16))
go func() {
	for ret := range returns {
		handleReturn(ret)
	}
}()`,
	Limits: "A dump shows the reader waiting in the bounded send at one instant; it cannot tell a listener that is " +
		"momentarily slow (a healthy program under load is caught there now and then) from one nobody reads, " +
		"which keeps the reader there almost all the time. Hence the severity info: compare two dumps " +
		"(stackscan -base) or watch the site with httpdebug's sampler to confirm.",
	References: []string{"rabbitmq/amqp091-go CHANGELOG v1.12.0 (NotifyClose non-blocking), v1.13.0 (bounded sends)"},
	match: func(s *snapshot, r *Rule) []*Finding {
		xs := s.unclaimed(func(x *gor) bool {
			if x.innerIs("notifyAll") && (x.state == "select" || x.state == stackparse.StateUnknown) {
				return true
			}
			// The goroutine (*Connection).shutdown and (*Channel).shutdown
			// start for a listener whose buffer was full.
			return x.role == RoleNotify && x.state == "select" && x.innerIs("(*Connection).shutdown", "(*Channel).shutdown")
		})
		return s.perGoroutine(r, xs, func(x *gor) string {
			return fmt.Sprintf("Connection %s is stalled up to 5 s delivering to an unread %s channel%s; the event will be dropped.",
				orUnknown(x.conn), boundedListener(x), waited(x))
		})
	},
}

// boundedListener names the listener a bounded send serves, from its caller.
func boundedListener(x *gor) string {
	for _, f := range x.lf[1:] {
		switch f.method {
		case "(*confirms).confirm", "(*confirms).One", "(*confirms).Multiple":
			return "NotifyPublish"
		case "(*Connection).dispatch0":
			return "NotifyBlocked"
		case "(*Channel).dispatch":
			return "NotifyReturn, NotifyCancel or NotifyFlow"
		}
	}
	if x.innerIs("(*Connection).shutdown", "(*Channel).shutdown") {
		return "NotifyClose"
	}
	return "Notify*"
}

var ruleStateChange = &Rule{
	ID:       "statechange-unread",
	Title:    "Unread NotifyStateChange listener: one goroutine leaked per state change",
	Severity: Warning,
	Versions: "github.com/rabbitmq/amqp091-go v1.16.0 and later (NotifyStateChange)",
	Shows:    "Goroutines in [chan send] in (*lifeCycle).deliverToListener, created by (*lifeCycle).SetState.",
	Why: "Each connection or channel state change (connecting, connected, recovering, closed) starts a goroutine " +
		"that sends the new state to every NotifyStateChange listener, with no timeout. A listener nobody reads " +
		"leaves one goroutine behind per state change, for ever: a reconnecting service leaks without bound.",
	Fix: "Read the NotifyStateChange channel for the life of the object, or do not register it.",
	Example: `states := conn.NotifyStateChange(make(chan amqp.StateChange, 8))
go func() {
	for st := range states {
		log.Printf("connection state: %v", st)
	}
}()`,
	match: func(s *snapshot, r *Rule) []*Finding {
		xs := s.unclaimed(func(x *gor) bool {
			return x.blockedSend(true) && x.innerIs("(*lifeCycle).deliverToListener")
		})
		return s.perGoroutine(r, xs, func(x *gor) string {
			return fmt.Sprintf("%d goroutine(s) are stuck delivering a state change to a NotifyStateChange channel nobody reads%s.", x.g.Count, waited(x))
		})
	},
}

var ruleRPC = &Rule{
	ID:       "rpc-dead-conn",
	Title:    "RPC waiting for a reply that will not come",
	Severity: Critical,
	Versions: "all versions of both libraries",
	Shows: "An application goroutine in [select] or [chan receive] in (*Channel).call or (*Connection).call (under " +
		"QueueDeclare, Channel, Close, Cancel, Qos, Confirm, …) for minutes.",
	Why: "A synchronous AMQP method waits for the broker's reply without a timeout. On a connection that is dead " +
		"but not noticed (heartbeats off and a half-open TCP connection, a black-holed network) or whose reader " +
		"is stuck, the reply never arrives and the caller waits for ever, often holding the application's own locks.",
	Fix: "Keep heartbeats on so a dead connection is noticed and the call fails; do not call into a connection whose " +
		"reader is stuck (see the other findings); bound shutdown with Connection.CloseDeadline (amqp091-go v1.9+).",
	Example: `conn, err := amqp.DialConfig(url, amqp.Config{Heartbeat: 10 * time.Second})
// ...
_ = conn.CloseDeadline(time.Now().Add(5 * time.Second))`,
	Limits: "An RPC is reported only when the dump shows it waited at least the minimum wait (default 1 minute), " +
		"or when its connection has heartbeats off: a snapshot without wait times cannot tell a call in flight from a stuck one.",
	References: []string{"streadway/amqp#150", "streadway/amqp#180", "rabbitmq/amqp091-go#222", "rabbitmq/amqp091-go#225", "rabbitmq/amqp091-go#253"},
	match: func(s *snapshot, r *Rule) []*Finding {
		noHB := s.noHeartbeat()
		xs := s.unclaimed(func(x *gor) bool {
			if !x.innerIs("(*Channel).call", "(*Connection).call") || (x.state != "select" && x.state != "chan receive") {
				return false
			}
			return x.g.WaitMinutes >= s.a.minWait || noHB[x.conn] || x.conn == "" && len(noHB) > 0 && s.readers == 1
		})
		return s.perGoroutine(r, xs, func(x *gor) string {
			if x.role == RoleReader {
				return fmt.Sprintf("The reader of connection %s is itself waiting for an RPC reply (in %s)%s: it is the goroutine that would read that reply, so it waits for ever (amqp091-go#222).",
					orUnknown(x.conn), x.lf[1].name, waited(x))
			}
			why := fmt.Sprintf("for %d minute(s)", x.g.WaitMinutes)
			if x.g.WaitMinutes < s.a.minWait {
				why = "on a connection with heartbeats off, which will not notice that the broker is gone"
			}
			return fmt.Sprintf("%s is waiting for the broker's reply %s.", callName(x), why)
		})
	},
}

// callName names the API call an RPC serves: its outermost exported
// library method, such as "Channel.QueueDeclare" or "Connection.Channel".
func callName(x *gor) string {
	for i := len(x.lf) - 1; i >= 0; i-- {
		m := x.lf[i].method
		if j := strings.Index(m, ")."); j > 0 && j+2 < len(m) && m[j+2] >= 'A' && m[j+2] <= 'Z' {
			return fmt.Sprintf("%s.%s (channel %s)", strings.Trim(m[:j], "(*"), m[j+2:], orUnknown(x.ch))
		}
	}
	return "An RPC"
}

// noHeartbeat returns the connections whose heartbeater runs with an
// interval of zero or less: heartbeats are off.
func (s *snapshot) noHeartbeat() map[string]bool {
	out := map[string]bool{}
	for _, x := range s.gs {
		if x.role != RoleHeartbeater || x.lf[len(x.lf)-1].idx < 0 {
			continue
		}
		words := x.g.Frames[x.lf[len(x.lf)-1].idx].ArgWords()
		if len(words) < 2 || strings.HasSuffix(words[1], "?") {
			continue
		}
		u, err := strconv.ParseUint(strings.TrimPrefix(words[1], "0x"), 16, 64)
		if err == nil && int64(u) <= 0 {
			out[x.conn] = true
		}
	}
	return out
}

var ruleNoHeartbeat = &Rule{
	ID:       "io-wait-no-heartbeat",
	Title:    "Connection with heartbeats off: a half-open connection will never be noticed",
	Severity: Warning,
	Versions: "all versions of both libraries",
	Shows: "The connection's heartbeater running with an interval of zero or less (its second argument word), and " +
		"the connection's reader parked in [IO wait].",
	Why: "Without heartbeats a connection whose peer vanished without a FIN or RST (a firewall dropping an idle flow, " +
		"a broker host that died, a NAT timeout) looks alive for ever: the reader waits in IO wait, consumers get " +
		"nothing, and calls wait for replies that never come. TCP keepalive, if on at all, takes hours.",
	Fix: "Leave heartbeats on (the default 10 s, or the broker's); never set Config.Heartbeat to a negative value or " +
		"heartbeat=0 in the URL.",
	Example: `conn, err := amqp.DialConfig(url, amqp.Config{Heartbeat: 10 * time.Second})`,
	Limits: "Needs argument words, so only full tracebacks (debug=2, panics, runtime.Stack) show it. Whether the " +
		"connection is already half-open the dump cannot tell; it proves that it would not be noticed.",
	References: []string{"background.md incident 3", "https://www.rabbitmq.com/docs/heartbeats"},
	match: func(s *snapshot, r *Rule) []*Finding {
		noHB := s.noHeartbeat()
		xs := s.unclaimed(func(x *gor) bool {
			return x.role == RoleReader && x.state == "IO wait" && noHB[x.conn]
		})
		return s.perGoroutine(r, xs, func(x *gor) string {
			return fmt.Sprintf("Connection %s has heartbeats off and its reader is waiting for data%s; if the network or the broker silently went away, nothing will ever notice.",
				orUnknown(x.conn), waited(x))
		})
	},
}

var ruleConsumer = &Rule{
	ID:       "consumer-unread",
	Title:    "Consumer whose deliveries nobody reads",
	Severity: Warning,
	Versions: "all versions of both libraries",
	Shows: "The consumer's buffer goroutine ((*consumers).buffer) parked in [select] for minutes: it holds deliveries " +
		"(the select only runs while its queue is not empty) and nobody receives from the Deliveries channel.",
	Why: "Consume returns a channel fed by a library goroutine that queues deliveries without limit. When the " +
		"application stops reading it (a handler stuck, a loop that returned), messages pile up in memory up to " +
		"the prefetch count (or without bound with no Qos), stay unacked, and are redelivered only when the " +
		"channel closes.",
	Fix: "Read the deliveries channel until it is closed, in a loop that cannot stop on its own; set Qos to bound " +
		"the backlog; cancel the consumer (Channel.Cancel) when you stop reading.",
	Example: `if err := ch.Qos(50, 0, false); err != nil { return err }
msgs, err := ch.Consume(q, "", false, false, false, false, nil)
for d := range msgs { // ends when the channel or connection closes
	handle(d)
	_ = d.Ack(false)
}`,
	Limits:     "Needs wait times (full tracebacks): a buffer in select for under a minute is normal traffic.",
	References: []string{"streadway/amqp#42", "rabbitmq/amqp091-go#179"},
	match: func(s *snapshot, r *Rule) []*Finding {
		xs := s.unclaimed(func(x *gor) bool {
			return x.role == RoleConsumer && x.state == "select" && x.g.WaitMinutes >= s.a.minWait
		})
		return s.perGoroutine(r, xs, func(x *gor) string {
			return fmt.Sprintf("A consumer's buffer goroutine holds deliveries%s and nobody reads its Deliveries channel.", waited(x))
		})
	},
}

var rulePileup = &Rule{
	ID:       "conn-pileup",
	Title:    "Connections piling up: opened and never closed",
	Severity: Warning,
	Versions: "all versions of both libraries",
	Shows:    "Many connection reader goroutines ((*Connection).reader, created by amqp.Open) and their heartbeaters.",
	Why: "Each open connection holds a socket, a reader and a heartbeater goroutine, and a broker-side Erlang " +
		"process. A program that dials per request or per reconnect without closing the previous connection " +
		"leaks them until the broker's connection limit or the file descriptor limit is hit.",
	Fix: "Keep one long-lived connection (or a small fixed pool) per process; Close the old connection before " +
		"dialing a new one, also on the reconnect path.",
	Example: `old := conn
conn, err = amqp.Dial(url)
if old != nil {
	_ = old.CloseDeadline(time.Now().Add(5 * time.Second))
}`,
	Limits:     "The threshold is an option (default 10 connections); a process with a legitimately larger pool should raise it.",
	References: []string{"streadway/amqp#457", "webhooked#91 (detect/testdata/public)"},
	match: func(s *snapshot, r *Rule) []*Finding {
		if s.readers < s.a.pileup {
			return nil
		}
		xs := s.unclaimed(func(x *gor) bool { return x.role == RoleReader })
		if len(xs) == 0 {
			return nil
		}
		open := fmt.Sprintf("%d connections are open", s.readers)
		if s.readers == 1 {
			open = "1 connection is open"
		}
		f := &Finding{Message: fmt.Sprintf("%s (threshold %d).", open, s.a.pileup)}
		for _, x := range xs {
			s.claim(f, x)
		}
		if len(xs) == 1 {
			f.Connection = xs[0].conn
		}
		// The heartbeaters belong with them.
		for _, x := range s.unclaimed(func(x *gor) bool { return x.role == RoleHeartbeater }) {
			x.claimed = true
			f.Collateral = append(f.Collateral, ref(x))
			f.Count += x.g.Count
		}
		return []*Finding{f}
	},
}

var ruleWatchConnOnly = &Rule{
	ID:       "reconnect-watches-conn-only",
	Title:    "Idle connection, no consumer, and the application waiting on a channel: a channel closed by the broker may have gone unnoticed",
	Severity: Info,
	Versions: "all versions of both libraries",
	Shows: "A connection whose reader and heartbeater run, no consumer goroutine ((*consumers).buffer) anywhere, no " +
		"goroutine inside a library call, and application goroutines parked in their own code on a channel " +
		"receive or select (typically a reconnect loop waiting on Connection.NotifyClose).",
	Why: "The broker closes a channel, not the connection, on a channel-level error: 406 PRECONDITION_FAILED when a " +
		"delivery is acked twice (handlers acking with multiple=true from concurrent goroutines), 404 when a queue " +
		"is gone. The deliveries channel closes, the consumer goroutine returns, and a program that watches only " +
		"the connection's NotifyClose waits for ever while the connection stays healthy: it has silently stopped " +
		"consuming.",
	Fix: "Watch Channel.NotifyClose as well as Connection.NotifyClose and reopen the channel (and its consumers) " +
		"when it closes; ack with multiple=false from concurrent handlers.",
	Example: `for {
	select {
	case err := <-conn.NotifyClose(make(chan *amqp.Error, 1)):
		log.Printf("connection closed: %v", err)
	case err := <-ch.NotifyClose(make(chan *amqp.Error, 1)):
		log.Printf("channel closed: %v", err) // e.g. 406 after a double ack
	}
	reopen()
}
// in each handler goroutine: d.Ack(false)`,
	Limits: "A dump cannot show which channel a goroutine waits on, nor that a channel was closed: a healthy " +
		"publisher that is idle and watches NotifyClose looks the same. Hence the severity info. amqptrack.Track " +
		"(httpdebug/amqptrack) records channel closes with their reply code and proves it.",
	References: []string{"background.md incident 1 (first failure)", "https://www.rabbitmq.com/docs/confirms#consumer-acks-double-acking"},
	match: func(s *snapshot, r *Rule) []*Finding {
		if s.readers == 0 || len(s.a.waiters) == 0 {
			return nil
		}
		for _, x := range s.gs {
			if x.role == RoleConsumer || x.role == RoleCaller || x.role == RoleConfirm {
				return nil // something consumes or uses the connection
			}
		}
		readers := s.unclaimed(func(x *gor) bool { return x.role == RoleReader })
		if len(readers) == 0 {
			return nil
		}
		var names []string
		for _, g := range s.a.waiters {
			names = append(names, topFrame(g).Func)
			if len(names) == 3 {
				break
			}
		}
		fs := s.perGoroutine(r, readers[:1], func(x *gor) string {
			return fmt.Sprintf("Connection %s is open but idle: nothing consumes from it and no goroutine is using it, while %s wait(s) on a channel. "+
				"If this program is meant to consume, its channel was probably closed by the broker and nothing noticed.",
				orUnknown(x.conn), strings.Join(names, ", "))
		})
		return fs
	},
}

func orUnknown(addr string) string {
	if addr == "" {
		return "(address not shown)"
	}
	return addr
}

func waited(x *gor) string {
	if x.g.WaitMinutes > 0 {
		return fmt.Sprintf(" for %d minute(s)", x.g.WaitMinutes)
	}
	return ""
}
