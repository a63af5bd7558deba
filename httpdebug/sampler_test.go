package httpdebug

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqpleaks/amqpleaks/detect"
)

func TestGrowing(t *testing.T) {
	for _, tc := range []struct {
		counts []int
		want   bool
	}{
		{[]int{1, 2, 3}, false},               // too few samples
		{[]int{1, 2, 3, 4}, true},             // a leak
		{[]int{0, 0, 0, 10, 10, 10}, true},    // a step in the middle
		{[]int{0, 10, 20, 20, 20, 20}, false}, // a pool that filled up
		{[]int{5, 9, 4, 8, 5, 9}, false},      // up and down
		{[]int{3, 3, 3, 3}, false},            // flat
		{[]int{1, 3, 2, 4, 6, 5, 7}, true},    // noisy but growing
		{[]int{9, 8, 7, 6}, false},            // shrinking
	} {
		if got := growing(tc.counts); got != tc.want {
			t.Errorf("growing(%v) = %v, want %v", tc.counts, got, tc.want)
		}
	}
}

func site(fn string, n int) detect.Site {
	return detect.Site{State: "chan receive", App: &detect.Frame{Func: fn, File: "/app/" + fn + ".go", Line: 7, Kind: "app"}, Count: n}
}

func report(sites ...detect.Site) *detect.Report {
	return &detect.Report{Summary: detect.Summary{Sites: sites}}
}

// TestSamplerBounded feeds synthetic samples: history and sites stay
// bounded, and only the leak is flagged.
func TestSamplerBounded(t *testing.T) {
	s := newSampler(time.Second, 5, 3, nil)
	t0 := time.Now()
	for i := 0; i < 20; i++ {
		s.add(&capture{At: t0.Add(time.Duration(i) * time.Second), Report: report(
			site("main.leak", 10*(i+1)),
			site("main.pool", 8),
			site(fmt.Sprintf("main.once%d", i), 1), // a new site every sample, never bigger than the others
			detect.Site{State: "running", Top: []detect.Frame{{Func: "main.busy"}}, Count: 100},
		)})
		// A shared capture (same time) is not counted twice.
		s.add(&capture{At: t0.Add(time.Duration(i) * time.Second), Report: report(site("main.leak", 1000))})
	}
	g := s.snapshot()
	if len(g.Times) != 5 || g.Tracked > 3 {
		t.Fatalf("times %d, sites %d: not bounded", len(g.Times), g.Tracked)
	}
	if len(g.Growing) != 1 || g.Growing[0].App.Func != "main.leak" {
		t.Fatalf("growing: %+v", g.Growing)
	}
	gs := g.Growing[0]
	if fmt.Sprint(gs.Counts) != "[160 170 180 190 200]" || gs.Growth != 40 || gs.Count != 200 {
		t.Errorf("leak site: counts %v growth %d count %d", gs.Counts, gs.Growth, gs.Count)
	}
	for _, h := range s.sites {
		if len(h.counts) != len(s.times) {
			t.Errorf("site %s: %d counts for %d samples", h.site.Key(), len(h.counts), len(s.times))
		}
	}
}

//go:noinline
func leakyWorker(block chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	<-block
}

// TestSamplerLiveLeak samples real goroutine profiles while goroutines
// pile up at one site, and checks that the page shows it with a
// sparkline.
func TestSamplerLiveLeak(t *testing.T) {
	s := Handler(WithProfileInterval(0))
	defer s.Close()
	smp := newSampler(time.Second, 10, 64, nil)
	var wg sync.WaitGroup
	block := make(chan struct{})
	defer func() {
		close(block)
		wg.Wait()
	}()
	for i := 0; i < 6; i++ {
		for j := 0; j < 5; j++ {
			wg.Add(1)
			go leakyWorker(block, &wg)
		}
		for deadline := time.Now().Add(5 * time.Second); ; {
			c := s.an.captureProfile()
			if countAt(c, "leakyWorker") == 5*(i+1) || time.Now().After(deadline) {
				smp.add(c)
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	s.smp = smp // show it on the page
	g := smp.snapshot()
	if len(g.Growing) == 0 || !strings.HasSuffix(g.Growing[0].App.Func, "leakyWorker") || g.Growing[0].Growth != 25 {
		t.Fatalf("growing: %+v", g.Growing)
	}
	html := get(t, s, "/debug/amqpleaks?format=html").Body.String()
	for _, want := range []string{`<svg class="spark"`, "<polyline", "leakyWorker", "+25 goroutines, now 30"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	text := get(t, s, "/debug/amqpleaks?format=text").Body.String()
	if !strings.Contains(text, "1 site growing:") || !strings.Contains(text, "5 → 10 → 15 → 20 → 25 → 30") {
		t.Errorf("text:\n%s", text)
	}
}

func countAt(c *capture, fn string) int {
	n := 0
	for _, s := range c.Report.Summary.Sites {
		if s.App != nil && strings.HasSuffix(s.App.Func, fn) {
			n += s.Count
		}
	}
	return n
}

// TestSamplerStops runs the background sampler and stops it; TestMain's
// leakcheck check fails if its goroutine survives Close.
func TestSamplerStops(t *testing.T) {
	s := Handler(WithSampler(5*time.Millisecond, 4), WithProfileInterval(0))
	deadline := time.Now().Add(10 * time.Second)
	for len(s.smp.snapshot().Times) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the sampler took no samples")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close() // twice is fine
	n := len(s.smp.snapshot().Times)
	time.Sleep(30 * time.Millisecond)
	if m := len(s.smp.snapshot().Times); m != n || m > 4 {
		t.Errorf("samples after Close: %d then %d (history 4)", n, m)
	}
}
