// Package stackparse reads goroutine dumps, one goroutine at a time, in
// bounded memory.
//
//	f, _ := os.Open("goroutines.txt")
//	r := stackparse.NewReader(f, stackparse.WithName("goroutines.txt"))
//	for r.Next() {
//		g := r.Goroutine()
//		fmt.Println(g.ID, g.State, g.WaitMinutes, g.Frames[0].Func)
//	}
//	if err := r.Err(); err != nil {
//		log.Fatal(err) // "goroutines.txt:1234: …", never a panic
//	}
//
// It reads, detecting which from the input (and gunzipping it first when
// it is gzip-compressed):
//
//   - full tracebacks: panic output, SIGQUIT, runtime.Stack(buf, true),
//     /debug/pprof/goroutine?debug=2 and "go test -timeout" panics, from Go
//     1.20 to 1.27, also embedded in logs (text before, between and after
//     goroutines; per-line prefixes of container runtimes, docker and
//     syslog/journald; CRLF; ANSI colours) and cut short mid-goroutine;
//   - the debug=1 text, where identical stacks are aggregated ("N @ 0x…");
//   - the debug=0 protobuf goroutine profile.
//
// Aggregated inputs give one Goroutine per distinct stack with its Count, no
// ID, no wait time and no argument words. Their State is inferred from the
// frames where one runtime or sync function makes it certain, and is
// StateUnknown otherwise: debug=1 hides the leading runtime frames, so a
// channel send parked in application code is "unknown" there while the
// proto profile still shows runtime.chansend.
//
// Problems in input that can still be read (text inside a goroutine, a line
// over the length limit, a dump cut short) are Warnings with line numbers.
// Input holding no goroutine at all is an error that says what the input
// looked like. The parser never panics on any input; it is fuzzed.
package stackparse
