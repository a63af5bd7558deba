package detect

// The rules that tracked objects prove and goroutine stacks cannot
// (httpdebug/amqptrack records closes, cancels and blocked states with
// listeners of its own; httpdebug matches them). They have no matcher here
// because no dump can show them: Rules does not list them, LiveRules does.
var (
	ruleShutdownStuck = &Rule{
		ID:       "live-shutdown-stuck",
		Title:    "A tracked connection or channel began to shut down and never finished",
		Severity: Critical,
		Versions: "streadway/amqp, amqp091-go up to v1.11 (later versions give up on a listener after 5 s)",
		Shows: "The tracker's own NotifyClose listener received the close error of the object (or of its " +
			"connection), but the library never closed the listener's channel, which it does at the end of its " +
			"shutdown.",
		Why: "The library delivers the close error to every NotifyClose channel in turn, synchronously, while holding " +
			"the object's locks and before it closes the socket. The tracker's listener is buffered and always " +
			"read, so what holds the shutdown up is another listener: a NotifyClose (or other Notify*) channel the " +
			"application registered and no longer reads. The goroutine doing the shutdown (the connection's " +
			"reader) is stuck for ever, the socket is never closed, and it repeats on every reconnect. This is " +
			"the incident of background.md.",
		Fix: "Read every Notify* channel until it is closed, on every reconnect, or give it a buffer of 1 (NotifyClose " +
			"delivers at most one error). Watch the channel's NotifyClose as well as the connection's.",
		Example: `closeErr := ch.NotifyClose(make(chan *amqp.Error, 1)) // buffered: the library never waits
go func() {
	for err := range closeErr { // read until the library closes it
		log.Printf("channel closed: %v", err)
	}
}()`,
		Limits: "Only objects tracked with amqptrack are seen. A shutdown stuck on the application's listener that " +
			"was registered before the tracker's never reaches the tracker's at all; the connection's close then " +
			"shows (channels are shut down after their connection's listeners), or the goroutine rules " +
			"conn-notifyclose-unread and chan-notifyclose-unread see it in the stacks.",
		References: []string{"background.md incident 1 (second failure)", "https://github.com/rabbitmq/amqp091-go/issues/18"},
	}
	ruleClosedConsuming = &Rule{
		ID:       "live-channel-closed-consuming",
		Title:    "Channel closed by the broker while the application consumes from it; its connection is still open",
		Severity: Critical,
		Versions: "all versions of both libraries",
		Shows: "A tracked channel with consumers received a close from the broker (a channel exception such as 406 " +
			"PRECONDITION_FAILED or 404 NOT_FOUND), its connection is still open, and no channel of the same name " +
			"was opened since.",
		Why: "A channel exception closes only the channel. Its deliveries channels close, the consumer loops end, and " +
			"a program that watches only the connection's NotifyClose waits for ever on a healthy connection: it " +
			"has silently stopped consuming. A goroutine dump cannot prove it: an idle connection looks the same.",
		Fix: "Watch the channel's NotifyClose as well as the connection's and reopen the channel and its consumers " +
			"when it closes. Fix the cause the reply text names; for 406 after acks, ack with multiple=false from " +
			"concurrent handlers.",
		Example: `select {
case err := <-connClose:
	log.Printf("connection closed: %v", err)
case err := <-chClose:
	log.Printf("channel closed: %v", err) // 406 after a double ack
}
reopen() // channel and consumers`,
		Limits: "Only consumers started through the tracker (Chan.Consume, Chan.NoteConsumer) are known.",
		References: []string{"background.md incident 1 (first failure)",
			"https://www.rabbitmq.com/docs/confirms#consumer-acks-double-acking"},
	}
	ruleConsumerCancelled = &Rule{
		ID:       "live-consumer-cancelled",
		Title:    "Consumer cancelled by the broker on an open channel",
		Severity: Warning,
		Versions: "all versions of both libraries",
		Shows: "The broker sent basic.cancel for a tracked consumer (its queue was deleted, or the node holding it " +
			"went down) and the channel stayed open.",
		Why: "The library closes that consumer's deliveries channel. A consumer loop that ranges over it ends and " +
			"nothing consumes the queue again, while the channel and connection look healthy.",
		Fix: "Read Channel.NotifyCancel (buffered, until it is closed) and re-declare the queue and consume again.",
		Example: `cancelled := ch.NotifyCancel(make(chan string, 1))
go func() {
	for tag := range cancelled {
		log.Printf("consumer %s cancelled by the broker", tag)
		resubscribe()
	}
}()`,
		Limits:     "Only consumers started through the tracker are known.",
		References: []string{"https://www.rabbitmq.com/docs/consumer-cancel"},
	}
	ruleConnBlocked = &Rule{
		ID:       "live-connection-blocked",
		Title:    "Connection blocked by the broker for a long time: publishes on it wait",
		Severity: Critical,
		Versions: "all versions of both libraries (RabbitMQ connection.blocked)",
		Shows: "A tracked connection received connection.blocked (Connection.NotifyBlocked) and no unblocked since, " +
			"for longer than the threshold (WithBlockedAfter, 1 minute by default).",
		Why: "The broker stops reading from a blocked connection while a resource alarm (memory or disk) lasts. " +
			"Every publish on it waits, holding its goroutine and the channel's locks; a dump shows the publishers " +
			"parked (publish-blocked) but cannot say that the broker blocked them, nor since when.",
		Fix: "Free the broker's resources (consumers behind, disk full, memory watermark) and make publishers watch " +
			"NotifyBlocked: stop publishing, or publish on a connection of their own, while it is blocked.",
		Example: `blocked := conn.NotifyBlocked(make(chan amqp.Blocking, 1))
go func() {
	for b := range blocked {
		pausePublishing(b.Active) // b.Reason says which alarm
	}
}()`,
		Limits:     "Only connections tracked with amqptrack are seen.",
		References: []string{"https://www.rabbitmq.com/docs/connection-blocked", "https://www.rabbitmq.com/docs/alarms"},
	}
)

// liveRules are the rules of tracked objects, in the order they are listed.
var liveRules = []*Rule{ruleShutdownStuck, ruleClosedConsuming, ruleConsumerCancelled, ruleConnBlocked}

// LiveRules returns the rules of tracked objects, which httpdebug reports
// from what amqptrack records and which no goroutine dump can show.
func LiveRules() []*Rule { return append([]*Rule(nil), liveRules...) }
