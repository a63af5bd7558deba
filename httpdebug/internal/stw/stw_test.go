package stw

import (
	"runtime"
	"testing"
)

// TestDelta: a full goroutine dump stops the world, so the delta around one
// counts at least one pause, and nothing is counted between equal readings.
func TestDelta(t *testing.T) {
	before := Read()
	if before == nil {
		t.Skip("runtime lacks " + Metric)
	}
	if d := Delta(before, before); !d.Known || d.Count != 0 || d.Max != 0 {
		t.Errorf("no-op delta %+v", d)
	}
	buf := make([]byte, 1<<20)
	runtime.Stack(buf, true)
	d := Delta(before, Read())
	if !d.Known || d.Count == 0 || d.Max <= 0 || d.Total <= 0 {
		t.Errorf("delta around runtime.Stack: %+v", d)
	}
	if d := Delta(nil, before); d.Known {
		t.Error("delta without a reading is known")
	}
}
