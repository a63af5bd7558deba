// Command gendumps writes real goroutine dumps for the benchmarks: for each
// size it starts a fresh copy of itself, parks that many goroutines in a
// realistic mix (channels, selects, loopback IO, mutexes, wait groups,
// conds, sleeps; 5–30 frames deep, a few over 100) and writes
// runtime.Stack(buf, true) to DIR/dump-SIZE.txt, with DIR/dump-SIZE.json
// describing it. At the sizes named by -profiles it also writes the
// debug=1 text (dump-SIZE.debug1.txt) and the debug=0 proto
// (dump-SIZE.pb.gz) of the same process.
//
//	go run ./cmd/gendumps -sizes 1k,10k,100k,1m
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/amqpleaks/amqpleaks/bench/internal/gen"
)

func main() {
	gen.MaybeChild()

	dir := flag.String("dir", "/tmp/amqpleaks-bench", "directory for the dumps")
	sizes := flag.String("sizes", "1k,10k,100k,1m", "comma-separated goroutine counts (k = 1000, m = 1000000)")
	profiles := flag.String("profiles", "100k", "sizes at which to also write the debug=1 text and the debug=0 proto")
	age := flag.Duration("age", 61*time.Second, "keep goroutines parked this long before dumping, so headers show \", N minutes\" (0: no wait)")
	maxConns := flag.Int("max-conns", 4000, "cap on loopback TCP connections (2 fds and 2 IO-wait goroutines each)")
	deepEvery := flag.Int("deep-every", 1000, "every Nth goroutine gets a 140-frame stack (elided in the dump); -1: none")
	force := flag.Bool("force", false, "regenerate dumps that already exist")
	flag.Parse()

	ns, err := gen.ParseSizes(*sizes)
	if err != nil {
		fail(err)
	}
	prof := map[int]bool{}
	if *profiles != "" {
		ps, err := gen.ParseSizes(*profiles)
		if err != nil {
			fail(err)
		}
		for _, p := range ps {
			prof[p] = true
		}
	}
	for _, n := range ns {
		if !*force {
			if m, err := gen.ReadMeta(*dir, n); err == nil && (!prof[n] || m.ProtoBytes > 0) {
				if st, err := os.Stat(gen.TracebackPath(*dir, n)); err == nil && st.Size() == m.TracebackBytes {
					fmt.Printf("%s\t%d bytes\t%d goroutines\t(exists; -force to regenerate)\n", gen.TracebackPath(*dir, n), m.TracebackBytes, m.NumGoroutine)
					continue
				}
			}
		}
		m, err := gen.GenerateInSubprocess(gen.Options{
			Config:   gen.Config{N: n, MaxConns: *maxConns, DeepEvery: *deepEvery},
			Dir:      *dir,
			Profiles: prof[n],
			Age:      *age,
			Log:      os.Stderr,
		})
		if err != nil {
			fail(err)
		}
		fmt.Printf("%s\t%d bytes\t%d goroutines\n", gen.TracebackPath(*dir, n), m.TracebackBytes, m.NumGoroutine)
		if prof[n] {
			fmt.Printf("%s\t%d bytes\n", gen.Debug1Path(*dir, n), m.Debug1Bytes)
			fmt.Printf("%s\t%d bytes\n", gen.ProtoPath(*dir, n), m.ProtoBytes)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gendumps:", err)
	os.Exit(1)
}
