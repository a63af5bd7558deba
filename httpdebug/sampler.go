package httpdebug

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/amqpleaks/amqpleaks/detect"
)

// minGrowthSamples is how many samples a site needs before it can be
// flagged as growing.
const minGrowthSamples = 4

// GrowingSite is a blocking site (detect.Site) as the sampler saw it over
// time.
type GrowingSite struct {
	detect.Site
	// Counts are the goroutines parked at the site in each sample, oldest
	// first, aligned with Growth.Times.
	Counts []int `json:"counts"`
	// Growth is the newest count minus the oldest.
	Growth int `json:"growth"`
}

// Growth is the sampler's view: the sites that keep growing.
type Growth struct {
	// Every is the sampling interval in seconds, History how many samples
	// are kept.
	Every   float64 `json:"every_seconds"`
	History int     `json:"history"`
	// Times are the sample times, oldest first.
	Times []time.Time `json:"times"`
	// Sites tracked (at most WithSampler's maxSites), and of those the
	// ones flagged as growing.
	Tracked int           `json:"tracked_sites"`
	Growing []GrowingSite `json:"growing"`
	// LastError is the error of the latest sample, if it failed.
	LastError string `json:"last_error,omitempty"`
}

// sampler records, per blocking site, how many goroutines are parked there
// over time.
type sampler struct {
	every    time.Duration
	history  int
	maxSites int
	take     func(ctx context.Context) (*capture, error)

	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	times   []time.Time
	sites   map[string]*siteHist
	lastErr error
}

type siteHist struct {
	site   detect.Site
	counts []int // aligned with sampler.times
}

func newSampler(every time.Duration, history, maxSites int, take func(ctx context.Context) (*capture, error)) *sampler {
	return &sampler{every: every, history: history, maxSites: maxSites, take: take, sites: map[string]*siteHist{}}
}

// start runs the sampler until stop.
func (s *sampler) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	go s.loop(ctx)
}

func (s *sampler) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		if c, err := s.take(ctx); err == nil {
			s.add(c)
		} else if ctx.Err() == nil {
			s.mu.Lock()
			s.lastErr = err
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stop ends the sampler and waits for its goroutine.
func (s *sampler) stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
}

// add records one capture.
func (s *sampler) add(c *capture) {
	if c == nil || c.Report == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = c.Err
	if n := len(s.times); n > 0 && !c.At.After(s.times[n-1]) {
		return // a shared capture already recorded
	}
	s.times = append(s.times, c.At)
	for _, h := range s.sites {
		h.counts = append(h.counts, 0)
	}
	n := len(s.times)
	for _, st := range c.Report.Summary.Sites {
		if st.State == "running" || st.State == "runnable" {
			continue
		}
		k := st.Key()
		h := s.sites[k]
		if h == nil {
			if len(s.sites) >= s.maxSites && !s.evict(st.Count) {
				continue
			}
			site := st
			site.IDs = nil
			h = &siteHist{site: site, counts: make([]int, n)}
			s.sites[k] = h
		}
		h.counts[n-1] += st.Count
	}
	if n > s.history {
		drop := n - s.history
		s.times = append(s.times[:0], s.times[drop:]...)
		for k, h := range s.sites {
			h.counts = append(h.counts[:0], h.counts[drop:]...)
			if maxOf(h.counts) == 0 {
				delete(s.sites, k)
			}
		}
	}
}

// evict drops the tracked site with the smallest peak when it is below
// count, to make room for a new site of count goroutines.
func (s *sampler) evict(count int) bool {
	minKey, minPeak := "", -1
	for k, h := range s.sites {
		if p := maxOf(h.counts); minPeak < 0 || p < minPeak || p == minPeak && k < minKey {
			minKey, minPeak = k, p
		}
	}
	if minPeak < 0 || minPeak >= count {
		return false
	}
	delete(s.sites, minKey)
	return true
}

// growing reports whether counts keep growing: every count of the newer
// half of the samples is above every count of the older half. A leak
// (goroutines that arrive and never leave) passes; a pool that filled up
// and stays full, or a count that goes up and down, does not.
func growing(counts []int) bool {
	n := len(counts)
	if n < minGrowthSamples {
		return false
	}
	half := n / 2
	return minOf(counts[n-half:]) > maxOf(counts[:half])
}

// snapshot returns the sampler's view.
func (s *sampler) snapshot() *Growth {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &Growth{Every: s.every.Seconds(), History: s.history, Times: append([]time.Time(nil), s.times...), Tracked: len(s.sites),
		Growing: []GrowingSite{}}
	if s.lastErr != nil {
		g.LastError = s.lastErr.Error()
	}
	for _, h := range s.sites {
		if !growing(h.counts) {
			continue
		}
		gs := GrowingSite{Site: h.site, Counts: append([]int(nil), h.counts...)}
		gs.Count = h.counts[len(h.counts)-1]
		gs.Growth = gs.Count - h.counts[0]
		g.Growing = append(g.Growing, gs)
	}
	sort.Slice(g.Growing, func(i, j int) bool {
		a, b := &g.Growing[i], &g.Growing[j]
		if a.Growth != b.Growth {
			return a.Growth > b.Growth
		}
		return a.Key() < b.Key()
	})
	return g
}

func maxOf(xs []int) int {
	m := 0
	for i, x := range xs {
		if i == 0 || x > m {
			m = x
		}
	}
	return m
}

func minOf(xs []int) int {
	m := 0
	for i, x := range xs {
		if i == 0 || x < m {
			m = x
		}
	}
	return m
}
