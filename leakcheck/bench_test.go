package leakcheck

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// settledTest is the body of a test whose goroutines have all ended when
// the check runs: the check looks once.
func settledTest() {
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
	for runtime.NumGoroutine() > base {
		runtime.Gosched()
	}
}

// base is the number of goroutines before a benchmark's loop.
var base int

// passingTest is the body of a test that passes a leak check: it starts a
// few goroutines, hands each a value and waits for them to finish.
func passingTest() {
	var wg sync.WaitGroup
	ch := make(chan int)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); <-ch }()
	}
	for i := 0; i < 3; i++ {
		ch <- i
	}
	wg.Wait()
}

// background parks n goroutines for the length of a benchmark, as other
// tests' goroutines and a program's long-lived ones do.
func background(b *testing.B, n int) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); <-stop }()
	}
	b.Cleanup(func() { close(stop); wg.Wait() })
}

var backgrounds = []int{0, 100}

// bodies are the passing tests each check is measured on: "settled" shows
// the cost of one look, "exiting" includes the retries while goroutines
// finish (dominated by the sleeps, which goleak and leakcheck share).
var bodies = []struct {
	name string
	f    func()
}{{"settled", settledTest}, {"exiting", passingTest}}

// each runs f as sub-benchmarks over bodies and backgrounds.
func variants(b *testing.B, f func(b *testing.B, body func())) {
	for _, body := range bodies {
		for _, n := range backgrounds {
			body := body
			b.Run(fmt.Sprintf("%s/background=%d", body.name, n), func(b *testing.B) {
				background(b, n)
				base = runtime.NumGoroutine()
				f(b, body.f)
			})
		}
	}
}

// The three checks on the same passing test. VerifyNone and goleak see the
// benchmark's own goroutines and the background ones, so both are given
// IgnoreCurrent, created once; Check needs nothing.

func BenchmarkVerifyNone(b *testing.B) {
	variants(b, func(b *testing.B, body func()) {
		ign := IgnoreCurrent()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			body()
			VerifyNone(b, ign)
		}
	})
}

func BenchmarkGoleakVerifyNone(b *testing.B) {
	variants(b, func(b *testing.B, body func()) {
		ign := goleak.IgnoreCurrent()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			body()
			goleak.VerifyNone(b, ign)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	variants(b, func(b *testing.B, body func()) {
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ft := newFakeTB("BenchmarkCheck")
			Check(ft)
			body()
			if errs := ft.finish(); len(errs) > 0 {
				b.Fatal(errs)
			}
		}
	})
}

// BenchmarkInterleaved runs the three checks in turn on the same passing
// test, b.N times each, and reports the median time of each and the ratios
// to goleak.VerifyNone. Interleaving makes the ratio robust to a machine
// whose speed drifts (other processes, frequency scaling) during the run:
// the README's table comes from it.
func BenchmarkInterleaved(b *testing.B) {
	variants(b, func(b *testing.B, body func()) {
		ign, gign := IgnoreCurrent(), goleak.IgnoreCurrent()
		checks := []func(){
			func() { VerifyNone(b, ign) },
			func() { goleak.VerifyNone(b, gign) },
			nil, // Check: wraps body, below
		}
		times := make([][]time.Duration, len(checks))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for j, check := range checks {
				start := time.Now()
				if check == nil {
					ft := newFakeTB("BenchmarkInterleaved")
					Check(ft)
					body()
					if errs := ft.finish(); len(errs) > 0 {
						b.Fatal(errs)
					}
				} else {
					body()
					check()
				}
				times[j] = append(times[j], time.Since(start))
			}
		}
		b.StopTimer()
		med := make([]float64, len(times))
		for j, ts := range times {
			sort.Slice(ts, func(a, c int) bool { return ts[a] < ts[c] })
			med[j] = float64(ts[len(ts)/2].Nanoseconds())
		}
		b.ReportMetric(med[0], "verifynone-ns")
		b.ReportMetric(med[1], "goleak-ns")
		b.ReportMetric(med[2], "check-ns")
		b.ReportMetric(med[0]/med[1], "verifynone/goleak")
		b.ReportMetric(med[2]/med[1], "check/goleak")
	})
}
