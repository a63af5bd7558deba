package httpdebug

import (
	"fmt"
	"sort"
	"time"

	"github.com/amqpleaks/amqpleaks/detect"
)

// Source reports the AMQP connections and channels a program tracks live,
// with what their notifications said: closes with their reply code, blocked
// periods, reconnects. github.com/amqpleaks/amqpleaks/httpdebug/amqptrack
// is the Source for github.com/rabbitmq/amqp091-go; it lives in a module
// of its own so that this one does not depend on the client library.
//
// Objects is called once per page and must not block: return a copy.
type Source interface {
	Objects() []Object
}

// Object is one tracked *Connection or *Channel.
type Object struct {
	// Kind is "connection" or "channel".
	Kind string `json:"kind"`
	// Name is the name given when tracking it; Generation counts the
	// objects tracked under that name: 1 for the first, 2 after one
	// reconnect, and so on.
	Name       string `json:"name"`
	Generation int    `json:"generation"`
	// Addr is the object's address as fmt's %p prints it, which is how a
	// goroutine dump prints a method's receiver: it ties findings of
	// ?mode=full to this object.
	Addr string `json:"addr"`
	// Conn and ConnName are, for a channel, its connection's Addr and
	// Name ("" when the channel was tracked without its connection).
	Conn     string `json:"connection,omitempty"`
	ConnName string `json:"connection_name,omitempty"`
	// Library is the client's module path.
	Library string    `json:"library,omitempty"`
	Opened  time.Time `json:"opened"`
	// CloseError is the error the library delivered on NotifyClose; nil
	// when it delivered none (not closed, or closed by the application).
	CloseError *CloseError `json:"close_error,omitempty"`
	// Closed is when the library closed its NotifyClose channel, which it
	// does at the end of its shutdown; nil while that has not happened.
	Closed *time.Time `json:"closed,omitempty"`
	// Blocked is set while the broker blocks the connection (resource
	// alarm; Connection.NotifyBlocked).
	Blocked *Blocked `json:"blocked,omitempty"`
	// Consumers are the consumers the application started on a channel
	// through the tracker.
	Consumers []Consumer `json:"consumers,omitempty"`
	// Events are the latest events, oldest first.
	Events []Event `json:"events,omitempty"`
}

// CloseError is a close notification.
type CloseError struct {
	At     time.Time `json:"at"`
	Code   int       `json:"code"`
	Reason string    `json:"reason"`
	// Server is true when the broker sent the close (a channel or
	// connection exception), false for a client-side error such as a
	// network failure.
	Server  bool `json:"server"`
	Recover bool `json:"recover"`
}

// Blocked is a period the broker blocked a connection.
type Blocked struct {
	Since  time.Time `json:"since"`
	Reason string    `json:"reason"`
}

// Consumer is one consumer started on a tracked channel.
type Consumer struct {
	Queue string    `json:"queue"`
	Tag   string    `json:"tag"`
	Since time.Time `json:"since"`
	// Cancelled is when the broker cancelled it (basic.cancel, e.g. the
	// queue was deleted), nil if it did not.
	Cancelled *time.Time `json:"cancelled,omitempty"`
}

// Event is one thing that happened to a tracked object.
type Event struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// closing reports when o's shutdown began: its close error, or else its
// connection's.
func (o *Object) closing(conn *Object) (time.Time, bool) {
	if o.CloseError != nil {
		return o.CloseError.At, true
	}
	if conn != nil {
		if conn.CloseError != nil {
			return conn.CloseError.At, true
		}
		if conn.Closed != nil {
			return *conn.Closed, true
		}
	}
	return time.Time{}, false
}

func (o *Object) label() string {
	s := fmt.Sprintf("%s %q (%s", o.Kind, o.Name, o.Addr)
	if o.Generation > 1 {
		s += fmt.Sprintf(", generation %d", o.Generation)
	}
	return s + ")"
}

// The rules of tracked objects live in detect's catalog (detect.LiveRules);
// these are the ones this file's findings use.
var (
	ruleShutdownStuck     = liveRule("live-shutdown-stuck")
	ruleClosedConsuming   = liveRule("live-channel-closed-consuming")
	ruleConsumerCancelled = liveRule("live-consumer-cancelled")
	ruleConnBlocked       = liveRule("live-connection-blocked")
)

func liveRule(id string) *detect.Rule {
	r, ok := detect.Lookup(id)
	if !ok {
		panic("httpdebug: detect has no rule " + id)
	}
	return r
}

// lookupRule finds a rule of detect's catalog or a live rule.
func lookupRule(id string) (*detect.Rule, bool) { return detect.Lookup(id) }

// thresholds of the live rules.
type thresholds struct {
	blockedAfter  time.Duration
	shutdownGrace time.Duration
}

// liveFindings derives findings from tracked objects at time now.
func liveFindings(objs []Object, now time.Time, th thresholds) []*detect.Finding {
	byAddr := map[string]*Object{}
	// newest generation per connection name and per connection/channel name
	newest := map[string]int{}
	for i := range objs {
		o := &objs[i]
		if o.Kind == "connection" && o.Addr != "" {
			byAddr[o.Addr] = o
		}
		k := objKey(o)
		if o.Generation > newest[k] {
			newest[k] = o.Generation
		}
	}
	var out []*detect.Finding
	for i := range objs {
		o := &objs[i]
		var conn *Object
		if o.Kind == "channel" {
			conn = byAddr[o.Conn]
		}
		if since, ok := o.closing(conn); ok && o.Closed == nil && now.Sub(since) >= th.shutdownGrace {
			what := "its close error arrived"
			if o.CloseError == nil {
				what = "its connection closed"
			}
			if o.CloseError != nil {
				what += fmt.Sprintf(" (%d %s)", o.CloseError.Code, o.CloseError.Reason)
			} else if conn != nil && conn.CloseError != nil {
				what += fmt.Sprintf(" (%d %s)", conn.CloseError.Code, conn.CloseError.Reason)
			}
			msg := fmt.Sprintf("%s began to shut down %s ago — %s — and the library has not finished its shutdown: it is "+
				"stuck delivering a notification that nobody reads, before closing the socket.",
				capital(o.label()), ago(now.Sub(since)), what)
			if conn != nil {
				msg += fmt.Sprintf(" Its connection: %s.", conn.label())
			}
			out = append(out, liveFinding(ruleShutdownStuck, o, conn, msg, now.Sub(since)))
		}
		if o.Kind == "channel" && o.CloseError != nil && o.CloseError.Server && newest[objKey(o)] == o.Generation &&
			(conn == nil || conn.CloseError == nil && conn.Closed == nil) {
			var active []string
			for _, c := range o.Consumers {
				if c.Cancelled == nil {
					active = append(active, fmt.Sprintf("%q on queue %q", c.Tag, c.Queue))
				}
			}
			if len(active) > 0 {
				msg := fmt.Sprintf("The broker closed %s %s ago with %d %s while it had consumer(s) %s; ",
					o.label(), ago(now.Sub(o.CloseError.At)), o.CloseError.Code, o.CloseError.Reason, joinMax(active, 3))
				if conn != nil {
					msg += fmt.Sprintf("its %s is still open, ", conn.label())
				} else {
					msg += "its connection was not tracked, "
				}
				msg += "and no channel of this name was opened since: nothing consumes any more."
				out = append(out, liveFinding(ruleClosedConsuming, o, conn, msg, now.Sub(o.CloseError.At)))
			}
		}
		if o.Kind == "channel" && o.CloseError == nil && o.Closed == nil {
			for _, c := range o.Consumers {
				if c.Cancelled != nil {
					msg := fmt.Sprintf("The broker cancelled consumer %q on queue %q of %s %s ago; the channel is still open "+
						"and its deliveries channel is closed.", c.Tag, c.Queue, o.label(), ago(now.Sub(*c.Cancelled)))
					out = append(out, liveFinding(ruleConsumerCancelled, o, conn, msg, now.Sub(*c.Cancelled)))
				}
			}
		}
		if o.Kind == "connection" && o.Blocked != nil && o.Closed == nil && now.Sub(o.Blocked.Since) >= th.blockedAfter {
			msg := fmt.Sprintf("The broker has blocked %s for %s (reason %q): every publish on it waits.",
				o.label(), ago(now.Sub(o.Blocked.Since)), o.Blocked.Reason)
			out = append(out, liveFinding(ruleConnBlocked, o, nil, msg, now.Sub(o.Blocked.Since)))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity > out[j].Severity })
	return out
}

func objKey(o *Object) string {
	if o.Kind == "channel" {
		return "ch\x00" + o.ConnName + "\x00" + o.Name
	}
	return "conn\x00" + o.Name
}

func liveFinding(r *detect.Rule, o, conn *Object, msg string, waited time.Duration) *detect.Finding {
	f := &detect.Finding{
		Rule: r.ID, Title: r.Title, Severity: r.Severity, Message: msg,
		Library: o.Library, Why: r.Why, Fix: r.Fix,
		Goroutines: []detect.GoroutineRef{}, Evidence: []detect.Frame{},
		MaxWaitMinutes: int(waited / time.Minute), WaitKnown: true,
	}
	if o.Kind == "channel" {
		f.Channel = o.Addr
		if conn != nil {
			f.Connection = conn.Addr
		} else {
			f.Connection = o.Conn
		}
	} else {
		f.Connection = o.Addr
	}
	return f
}

// Tie links a goroutine finding to the tracked objects it is about.
type Tie struct {
	// Finding is the index of the finding in report.findings.
	Finding int    `json:"finding"`
	Rule    string `json:"rule"`
	// Connection and Channel are tracked names ("" when not tied).
	Connection     string `json:"connection,omitempty"`
	ConnectionAddr string `json:"connection_addr,omitempty"`
	Channel        string `json:"channel,omitempty"`
	ChannelAddr    string `json:"channel_addr,omitempty"`
	// By says how: "address" (the dump shows the receiver address, in
	// ?mode=full) or "stuck shutdown" (the dump shows none, and exactly one
	// tracked object has a stuck shutdown, which the finding's rule is
	// about).
	By string `json:"by"`
}

// shutdownRules are the goroutine rules about a stuck shutdown.
var shutdownRules = map[string]bool{"conn-notifyclose-unread": true, "chan-notifyclose-unread": true}

// ties links the report's findings to tracked objects.
func ties(findings []*detect.Finding, objs []Object, live []*detect.Finding) []Tie {
	byAddr := map[string]*Object{}
	for i := range objs {
		byAddr[objs[i].Addr] = &objs[i]
	}
	var stuck []*detect.Finding
	for _, f := range live {
		if f.Rule == ruleShutdownStuck.ID {
			stuck = append(stuck, f)
		}
	}
	var out []Tie
	for i, f := range findings {
		t := Tie{Finding: i, Rule: f.Rule}
		if c, ok := byAddr[f.Connection]; ok && f.Connection != "" {
			t.Connection, t.ConnectionAddr, t.By = c.Name, c.Addr, "address"
		}
		if c, ok := byAddr[f.Channel]; ok && f.Channel != "" {
			t.Channel, t.ChannelAddr, t.By = c.Name, c.Addr, "address"
			if t.Connection == "" && c.ConnName != "" {
				t.Connection, t.ConnectionAddr = c.ConnName, c.Conn
			}
		}
		if t.By == "" && f.Connection == "" && len(stuck) == 1 && shutdownRules[f.Rule] {
			s := stuck[0]
			if c, ok := byAddr[s.Connection]; ok {
				t.Connection, t.ConnectionAddr = c.Name, c.Addr
			}
			if c, ok := byAddr[s.Channel]; ok {
				t.Channel, t.ChannelAddr = c.Name, c.Addr
			}
			t.By = "stuck shutdown"
		}
		if t.By != "" {
			out = append(out, t)
		}
	}
	return out
}

func capital(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// ago prints a duration the way a person says it.
func ago(d time.Duration) string {
	switch {
	case d < time.Second:
		return "under a second"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

func joinMax(items []string, n int) string {
	s := ""
	for i, it := range items {
		if i == n {
			return s + fmt.Sprintf(" and %d more", len(items)-n)
		}
		if i > 0 {
			s += ", "
		}
		s += it
	}
	return s
}
