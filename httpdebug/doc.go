/*
Package httpdebug serves /debug/amqpleaks: what is stuck in a running
program that uses github.com/rabbitmq/amqp091-go or github.com/streadway/amqp,
why, and how to fix it — the findings of package detect on the program's
own goroutines, taken live without stopping the service. It is meant to be
left on in production, like net/http/pprof.

# Mounting it

Mount the handler on your mux, on a port that only operators reach:

	mux := http.NewServeMux()
	mux.Handle("/debug/amqpleaks", httpdebug.Handler())
	go http.ListenAndServe("localhost:6061", mux)

Importing the package registers nothing. To put the page on
http.DefaultServeMux, say so:

	httpdebug.Register(nil) // nil: http.DefaultServeMux; or Register(mux)

The page has no authentication of its own. Either serve it on a private
port (localhost, or an internal interface), as with net/http/pprof, or pass
a hook that decides per request:

	h := httpdebug.Handler(httpdebug.WithAuthorize(func(w http.ResponseWriter, r *http.Request) bool {
		return r.Header.Get("X-Debug-Token") == token // false without a response written: 403
	}))

# Using it

	curl http://localhost:6061/debug/amqpleaks                       # text, for a terminal
	curl 'http://localhost:6061/debug/amqpleaks?mode=full'           # with goroutine IDs, wait minutes, addresses
	curl -s 'http://localhost:6061/debug/amqpleaks?format=json' | jq '.report.findings[].rule'
	curl 'http://localhost:6061/debug/amqpleaks?rule=chan-notifyclose-unread'   # one rule explained
	open http://localhost:6061/debug/amqpleaks                       # HTML in a browser

Query parameters (any other parameter, a repeated one or a bad value is a
400 Bad Request saying what is wrong):

	format=html|json|text
		The response's form. Without it, the Accept header chooses:
		text/html gives HTML, application/json JSON, anything else
		(curl's default) text.
	mode=profile|full
		profile (the default) reads the goroutine profile
		(pprof.Lookup("goroutine"), debug=0). Its stop-the-world pause is
		well under a millisecond at any number of goroutines (see
		README.md), but it aggregates identical stacks: counts per stack
		and pprof labels, no goroutine IDs, no wait minutes, no receiver
		addresses, so findings cannot name their connection and the rules
		that need a wait time do not fire.
		full takes one text dump of every goroutine (runtime.Stack(buf,
		true), what /debug/pprof/goroutine?debug=2 serves): IDs, wait
		minutes and the receiver addresses that tie goroutines to their
		*Connection. The runtime stops the program for the whole dump —
		about 10 µs per goroutine, 0.8 to 1.6 s at 100,000 goroutines
		(README.md).
		The buffer is sized from the goroutine count and the previous
		dump's density, so it is one pause, not net/http/pprof's retries
		with a doubled buffer; a dump that fills WithMaxFullBytes is cut
		short and says so. At most one full dump runs per
		WithFullInterval (default 1 minute): requests within the interval
		get the last dump, with its age, and concurrent requests share one
		dump. The page states what the last dump cost.
	rule=ID
		The explanation of one rule instead of the findings: title,
		severity, library versions, what the goroutines show, why it is a
		bug, the fix with an example, what it cannot prove, references.
		Every finding links here. IDs are those of detect.Rules() and the
		live-* rules of tracked objects (below).

The default mode is also rate-limited, by WithProfileInterval (default 1
second): however many requests arrive, at most one capture of each mode
runs at a time and per interval. HEAD requests capture nothing.

# What the page shows

The findings, most severe first, each with its rule, the connection (in
full mode), the goroutines, the evidence frames, what the mode cannot tell,
the fix and a link to the rule; a summary of all goroutines by state and
by stack; the most common pprof label sets; what the capture cost (wall
time and the stop-the-world pauses it caused, read from runtime/metrics
/sched/pauses/total/other:seconds). With a sampler or tracked objects, also
the sections below.

# JSON

The JSON is the object stackscan -format json writes for one input, so
the same code reads both:

	{
	  "input":    "goroutine profile of pid 1234",  // or "runtime.Stack dump of pid 1234"
	  "report":   {…},            // detect.Report: docs/json.md
	  "warnings": ["…"],          // parser warnings, if any
	  "error":    "…",            // if reading the capture failed
	  // added by httpdebug:
	  "mode": "profile", "captured_at": "2025-…",
	  "capture": {"wall_seconds", "analysis_seconds", "bytes", "pause_known", "pauses",
	              "pause_max_seconds", "pause_total_seconds", "shared", "age_seconds", "truncated"},
	  "full":    {"interval_seconds", "last_at", "last_wall_seconds", "last_pause_max_seconds",
	              "last_goroutines", "next_in_seconds"},
	  "labels":  [{"labels": {"k": "v"}, "count": 12}],
	  "growth":  Growth,          // with WithSampler
	  "tracked": {"objects": [Object], "findings": [Finding], "ties": [Tie]},  // with WithSource
	  "rule_urls": {"chan-notifyclose-unread": "/debug/amqpleaks?rule=chan-notifyclose-unread"}
	}

Growth, Object and Tie are the Go types of this package with their JSON
tags; a tracked finding has the form of report.findings (rule, title,
severity, message, connection, channel, why, fix, …) with empty goroutines
and evidence.

# Growing sites: the sampler

No single snapshot proves a slow leak; growth does. WithSampler(every,
history) starts a background goroutine that reads the goroutine profile
every interval (the default mode's cost, once per interval) and records
per blocking site (detect.Site: the wait state, the innermost application
frame and the innermost AMQP library frame) how many goroutines are parked
there. It keeps the last history samples of at most WithSamplerSites sites
and flags a site as growing when every count in the newer half of the
samples is above every count in the older half: goroutines that arrive and
never leave pass, a pool that filled up and stays full, or a count that
goes up and down, does not. The page shows each growing site with an
inline SVG sparkline. It is off by default; Close stops it:

	h := httpdebug.Handler(httpdebug.WithSampler(time.Minute, 60))
	defer h.Close()

# Tracked connections and channels

A goroutine dump cannot show that the broker closed a channel, nor since
when a connection has been blocked. Package
github.com/amqpleaks/amqpleaks/httpdebug/amqptrack (a module of its own,
so that this module does not depend on amqp091-go) tracks amqp091-go
objects with listeners of its own that are buffered and always read, and
is a Source:

	c := amqptrack.Track(conn, "orders")
	tch := c.Channel(ch, "consume")
	deliveries, err := tch.Consume(queue, "", false, false, false, false, nil)
	mux.Handle("/debug/amqpleaks", httpdebug.Handler(httpdebug.WithSource(amqptrack.Default)))

The page then lists the tracked objects (closes with their reply code and
text, blocked periods, reconnects as generations of a name), names them
beside the goroutine findings (by receiver address in full mode; in the
default mode, a shutdown finding is tied to the one tracked object whose
shutdown is stuck), and reports what only they prove:

	live-shutdown-stuck            a close began (close error, or the connection closed) and the
	                               library never finished its shutdown (WithShutdownGrace, 30 s)
	live-channel-closed-consuming  the broker closed a channel that had consumers (406
	                               PRECONDITION_FAILED, 404 …) while its connection stays open
	live-consumer-cancelled        the broker cancelled a consumer on an open channel
	live-connection-blocked        the broker has blocked a connection for WithBlockedAfter (1 min)

# Safety

Captures run in the requesting goroutine; the handler starts no goroutine
except the optional sampler's, which Close stops. Concurrent requests wait
for one capture and leave when their client goes away. Responses are never
cached by proxies (Cache-Control: no-store); the HTML page has no script
and no external asset, and its Content-Security-Policy allows none.
*/
package httpdebug
