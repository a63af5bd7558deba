// Command capturebench measures what a look at the goroutines costs a
// running program: the wall time of the request and the stop-the-world
// pauses (runtime/metrics /sched/pauses/total/other:seconds) of
// /debug/amqpleaks in its default mode (goroutine profile) and in
// ?mode=full (one runtime.Stack dump), next to net/http/pprof's
// /debug/pprof/goroutine?debug=2, at 1k, 10k and 100k parked goroutines.
// It prints a Markdown table (httpdebug/README.md).
//
//	go run ./httpdebug/internal/capturebench [-n 1000,10000,100000] [-runs 5]
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/amqpleaks/amqpleaks/httpdebug"
	"github.com/amqpleaks/amqpleaks/httpdebug/internal/stw"
)

var release = make(chan struct{})

// park holds a goroutine at a stack of depth frames, like a worker
// waiting for work.
//
//go:noinline
func park(depth int, wg *sync.WaitGroup) {
	if depth > 0 {
		park(depth-1, wg)
		return
	}
	wg.Done()
	<-release
}

type result struct {
	wall, pauseMax, pauseTotal []time.Duration
	bytes                      int
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func maxOf(ds []time.Duration) time.Duration {
	m := time.Duration(0)
	for _, d := range ds {
		if d > m {
			m = d
		}
	}
	return m
}

func measure(h http.Handler, target string, runs int) result {
	var r result
	for i := 0; i < runs; i++ {
		runtime.GC()
		req := httptest.NewRequest("GET", target, nil)
		w := httptest.NewRecorder()
		before := stw.Read()
		t0 := time.Now()
		h.ServeHTTP(w, req)
		wall := time.Since(t0)
		p := stw.Delta(before, stw.Read())
		max, total := p.Max, p.Total
		if w.Code != 200 {
			fmt.Fprintf(os.Stderr, "%s: %d %s\n", target, w.Code, w.Body)
			os.Exit(1)
		}
		r.bytes = w.Body.Len()
		io.Copy(io.Discard, w.Body)
		r.wall = append(r.wall, wall)
		r.pauseMax = append(r.pauseMax, max)
		r.pauseTotal = append(r.pauseTotal, total)
	}
	return r
}

func ms(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.3f ms", float64(d)/1e6)
	}
	if d < 100*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.0f ms", float64(d)/1e6)
}

func size(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
}

func main() {
	sizes := flag.String("n", "1000,10000,100000", "goroutine counts")
	runs := flag.Int("runs", 5, "runs per cell (3 at 100k and more)")
	depth := flag.Int("depth", 8, "frames of each parked goroutine")
	only := flag.String("only", "", "measure only the methods whose name contains this")
	verbose := flag.Bool("v", false, "print every run's pauses on stderr")
	flag.Parse()

	h := httpdebug.Handler(httpdebug.WithProfileInterval(0), httpdebug.WithFullInterval(0))
	defer h.Close()
	pp := pprof.Handler("goroutine")

	fmt.Printf("Go %s, GOMAXPROCS %d, %s/%s; goroutines parked in a chan receive %d frames deep; medians of %d runs (3 at 100k) except the worst pause.\n\n",
		runtime.Version(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, *depth, *runs)
	fmt.Println("| goroutines | method | wall time | longest stop-the-world pause | worst of all runs | total pause per request | response |")
	fmt.Println("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
	var wg sync.WaitGroup
	have := 0
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for ; have < n; have++ {
			wg.Add(1)
			go park(*depth, &wg)
		}
		wg.Wait()
		r := *runs
		if n >= 100000 && r > 3 {
			r = 3
		}
		for _, m := range []struct {
			name   string
			h      http.Handler
			target string
		}{
			{"/debug/amqpleaks (default: goroutine profile)", h, "/debug/amqpleaks?format=json"},
			{"/debug/amqpleaks?mode=full (one runtime.Stack)", h, "/debug/amqpleaks?mode=full&format=json"},
			{"net/http/pprof goroutine?debug=2", pp, "/debug/pprof/goroutine?debug=2"},
		} {
			if !strings.Contains(m.name, *only) {
				continue
			}
			res := measure(m.h, m.target, r)
			if *verbose {
				fmt.Fprintln(os.Stderr, m.name, n, "wall", res.wall, "max pause", res.pauseMax, "total", res.pauseTotal)
			}
			fmt.Printf("| %d | %s | %s | %s | %s | %s | %s |\n", n, m.name, ms(median(res.wall)), ms(median(res.pauseMax)),
				ms(maxOf(res.pauseMax)), ms(median(res.pauseTotal)), size(res.bytes))
		}
	}
	close(release)
}
