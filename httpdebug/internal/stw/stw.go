// Package stw reads the runtime's stop-the-world pauses, so httpdebug and
// its capture benchmark measure a capture's pauses the same way.
package stw

import (
	"math"
	"runtime/metrics"
	"time"
)

// Metric is the runtime's histogram of stop-the-world pauses not caused by
// the garbage collector (Go 1.22+): goroutine dumps and profiles, among
// others.
const Metric = "/sched/pauses/total/other:seconds"

// Pauses are the pauses that happened between two readings.
type Pauses struct {
	// Known is false when the runtime does not export the metric.
	Known bool
	Count uint64
	// Max is the upper bound of the histogram bucket of the longest
	// pause; Total sums the pauses by their buckets' midpoints.
	Max, Total time.Duration
}

// Read returns the histogram now, or nil when the runtime lacks it.
func Read() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: Metric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	return s[0].Value.Float64Histogram()
}

// Delta is what happened between two readings of the histogram.
func Delta(before, after *metrics.Float64Histogram) Pauses {
	if before == nil || after == nil || len(before.Counts) != len(after.Counts) {
		return Pauses{}
	}
	ps := Pauses{Known: true}
	for i := range after.Counts {
		d := after.Counts[i] - before.Counts[i]
		if d == 0 {
			continue
		}
		lo, hi := after.Buckets[i], after.Buckets[i+1]
		if math.IsInf(hi, 1) {
			hi = lo
		}
		if math.IsInf(lo, -1) {
			lo = 0
		}
		ps.Count += d
		ps.Max = seconds(hi)
		ps.Total += time.Duration(float64(d) * (lo + hi) / 2 * float64(time.Second))
	}
	return ps
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
