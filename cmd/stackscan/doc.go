/*
Stackscan reads goroutine dumps of a Go program that uses
github.com/rabbitmq/amqp091-go or github.com/streadway/amqp and says what
is stuck, why, and how to fix it: the offline scanner to run on a dump
taken from a process that hangs, leaks goroutines, or will not shut down.

Install it with

	go install github.com/amqpleaks/amqpleaks/cmd/stackscan@latest

# Usage

	stackscan [flags] input...

Each input is a file, - for the standard input, or an http:// or https://
URL. Any goroutine dump will do, plain or gzip-compressed, the format
being detected from its first bytes:

  - full tracebacks: /debug/pprof/goroutine?debug=2, SIGQUIT or panic
    output, runtime.Stack(buf, true), "go test -timeout" panics, also inside
    logs (with timestamps or container-runtime prefixes on every line);
  - /debug/pprof/goroutine?debug=1 text, where identical stacks are
    aggregated;
  - the /debug/pprof/goroutine protobuf profile (debug=0).

Full tracebacks tell the most: goroutine IDs, how long each goroutine has
waited, and the receiver addresses that tie goroutines to their connection.
The aggregated formats have none of these; each finding says what its input
could not tell.

Examples:

	# A dump saved by SIGQUIT or by curl:
	curl -s 'http://localhost:6060/debug/pprof/goroutine?debug=2' > goroutines.txt
	stackscan goroutines.txt

	# Straight from a live service:
	stackscan http://localhost:6060/debug/pprof/goroutine?debug=2

	# From a pipe, e.g. a pod's log:
	kubectl logs my-pod | stackscan -

	# Did anything grow between two dumps of the same process?
	stackscan -base before.txt after.txt

	# For a ticket or a CI artifact:
	stackscan -format html goroutines.txt > report.html
	stackscan -format json goroutines.txt | jq '.report.findings[].rule'

	# What the rules are:
	stackscan -rules
	stackscan -explain chan-notifyclose-unread

# Output

The default text output is for a person. It lists the findings first, most
severe first. Each names its rule, title and severity, the connection (and
channel) it belongs to, how many goroutines it covers and how long they have
waited ("wait unknown" when the input has no wait times), the first
goroutines by ID (stuck ones, then those blocked behind them), the evidence
frames innermost first with application frames marked ">" (and in bold on
a terminal) among library and runtime frames, what this dump shows, why it
is a bug, the fix, and what the dump cannot tell. A summary of the whole
dump follows, useful when no rule fires: goroutines by state and the
largest groups of identical stacks, each named by its innermost
application function. Colour is used only when the standard output is a
terminal and NO_COLOR is not set. On a terminal, progress on long inputs is
shown on the standard error.

-format json writes one JSON object per input, one per line (JSON Lines);
-format html writes one self-contained HTML page (inline CSS, no script, no
external asset) with a collapsible section per finding and per stack group.

# Comparing two dumps

With -base, each input is compared with an earlier dump of the same process
(the same binary: sites are matched by function, file and line). A site is
where goroutines wait: their state, innermost application frame and
innermost AMQP library frame (or, with no application frame, their top
frames and creator). Stackscan lists the sites where more goroutines wait
than in the base, as "base → now, delta", largest growth first, as
production leak detectors do; then the findings that are new: a finding is
new when the base has none of the same rule about the same connection (or,
when the dump shows no connection, with the same evidence frames). Findings
of the base that are gone are listed as resolved. With -base, the exit
status counts only new findings, and site growth when -fail-grow is set.

# Flags

	-format text|json|html
		output format (default text)
	-input-format auto|traceback|debug1|proto
		force the input format instead of detecting it (default auto;
		debug2 is an alias of traceback, debug0 and pprof of proto)
	-fail-on info|warning|critical|none
		exit 1 when a finding is at or above this severity (default
		warning); none: findings never change the exit status
	-base FILE|URL
		compare each input with this earlier dump (see above)
	-fail-grow N
		with -base, also exit 1 when a site grew by N goroutines or more
		(default 0: growth never changes the exit status)
	-timeout DURATION
		time limit for fetching each URL, body included (default 30s)
	-max-bytes SIZE
		stop with an error after reading this many bytes of an input, and
		after decompressing this many (default 4GiB; suffixes KiB, MiB, GiB,
		KB, MB, GB)
	-min-wait MINUTES
		how long a goroutine must have waited before the wait-time rules
		(rpc-dead-conn, consumer-unread) report it and publish-blocked
		is critical rather than a warning (default 1)
	-pileup N
		open connections that count as a pile-up (default 10)
	-groups N
		how many of the largest stack groups the summary lists (default 10)
	-rules
		list the rule catalog: ID, severity, title
	-explain ID
		print one rule's full text: title, severity, library versions,
		what the goroutines show, why it is a bug, the fix with an
		example, what a dump cannot tell, and references
	-version
		print the version, the main module, the Go version and the VCS
		settings of the build

# Exit status

	0  no finding at or above -fail-on (with -base: no new one)
	1  findings at or above -fail-on
	2  usage error, or an input that could not be read

Errors are one line on the standard error that names the input, and the
line when known: "stackscan: goroutines.txt:1234: read error: unexpected
EOF". When an input fails after some goroutines were read, the report of
those is still written, marked partial, and the exit status is 2. Parser
warnings (a skipped over-long line, text inside a goroutine) go to the
standard error too, the first few of them.

# JSON output

Each line is one object:

	{
	  "input":    "goroutines.txt",   // as given; "stdin" for -
	  "base":     "before.txt",       // with -base only
	  "report":   {…},                // detect.Report; absent when nothing was read
	  "diff":     {…},                // with -base only: detect.Diff
	  "warnings": ["goroutines.txt:12: …"],  // parser warnings, if any
	  "error":    "goroutines.txt:1234: read error: unexpected EOF"  // if reading failed
	}

"report" is the detect.Report, whose form is stable and documented in
docs/json.md (fields are only ever added). "report" and "error" may both be
present: the report is then partial. "diff" is:

	{
	  "base_format": "traceback", "format": "traceback",
	  "base_goroutines": 120, "goroutines": 480,
	  "grown": [                      // largest growth first
	    {
	      "state": "chan send",
	      "app": Frame,               // innermost application frame, if any
	      "lib": Frame,               // innermost AMQP library frame, if any
	      "top": [Frame],             // without "app": top frames, then "created by …"
	      "count": 361,               // goroutines at this site now
	      "max_wait_minutes": 14,
	      "ids": [12, 40],            // up to 10 goroutine IDs
	      "base_count": 1,
	      "delta": 360
	    }
	  ],
	  "new_findings": [Finding],      // as in report.findings
	  "resolved_findings": [Finding], // findings of the base that are gone
	  "persisting_findings": 2,       // how many findings are in both
	  "notes": ["…"]                  // what makes the comparison less certain
	}

Frame is {"func", "file", "line", "kind"} with kind "app", "amqp" or
"runtime", as in docs/json.md.
*/
package main
