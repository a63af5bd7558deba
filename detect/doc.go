// Package detect names what is stuck in a goroutine dump of a program that
// uses github.com/rabbitmq/amqp091-go or github.com/streadway/amqp, why,
// and how to fix it.
//
//	f, _ := os.Open("goroutines.txt")
//	rep, err := detect.Analyze(stackparse.NewReader(f, stackparse.WithName("goroutines.txt")))
//	if err != nil {
//		log.Fatal(err)
//	}
//	for _, f := range rep.Findings {
//		fmt.Println(f.Severity, f.Rule, f.Message)
//		fmt.Println("fix:", f.Fix)
//	}
//
// The catalog (Rules, and docs/rules.md generated from it) holds one Rule
// per known way such a program gets stuck: an unread NotifyClose,
// NotifyPublish, NotifyReturn, NotifyCancel, NotifyFlow or NotifyBlocked
// listener blocking the library's reader; bounded sends dropping events in
// amqp091-go v1.13+; unread NotifyStateChange listeners; publishers parked
// on a blocked connection; RPCs waiting on a dead connection; heartbeats
// switched off; consumers nobody reads; connections never closed. Each
// rule keeps its explanation and fix beside its matcher in catalog.go.
//
// Goroutines are grouped per connection and channel by the receiver
// addresses in their frames (full tracebacks only); goroutines waiting on
// a stuck connection are reported under their cause as Collateral. The
// library version is read from the frames' module paths, or inferred from
// the functions that exist only in some versions. Aggregated inputs
// (debug=1, proto) have no IDs, wait times or argument words: the rules
// that need them do not fire there, and each Finding lists in Unknown
// what the input could not tell.
//
// An Analyzer keeps only the goroutines that run AMQP code and one sample
// per distinct stack, so it reads dumps of any size in bounded memory. It
// does no I/O: front ends (cmd/stackscan, httpdebug, leakcheck) render the
// Report, whose JSON form is stable (docs/json.md).
package detect
