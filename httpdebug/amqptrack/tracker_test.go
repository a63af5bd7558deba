package amqptrack

import (
	"fmt"
	"testing"
	"time"

	"github.com/amqpleaks/amqpleaks/httpdebug"
)

// Tracker is an httpdebug.Source.
var _ httpdebug.Source = (*Tracker)(nil)

// TestGenerationsAndPruning needs no broker: reconnects under one name
// number their generations, and closed generations are pruned.
func TestGenerationsAndPruning(t *testing.T) {
	tr := New()
	for i := 0; i < 10; i++ {
		o := tr.add(&obj{Object: httpdebug.Object{Kind: "connection", Name: "main", Addr: fmt.Sprintf("0x%d", i)}})
		if o.Generation != i+1 {
			t.Fatalf("generation %d, want %d", o.Generation, i+1)
		}
		if i < 9 {
			now := time.Now()
			o.Closed = &now
		}
	}
	objs := tr.Objects()
	if len(objs) != maxClosedPerName+1 || objs[len(objs)-1].Generation != 10 || objs[len(objs)-1].Closed != nil {
		t.Fatalf("kept %d objects: %+v", len(objs), objs)
	}
	if last := objs[len(objs)-1].Events; len(last) != 1 || last[0].What != "opened (generation 10: reconnect)" {
		t.Errorf("events: %+v", last)
	}
	for i := 0; i < MaxObjects+50; i++ {
		tr.add(&obj{Object: httpdebug.Object{Kind: "connection", Name: fmt.Sprint("c", i)}})
	}
	if n := len(tr.Objects()); n != MaxObjects {
		t.Errorf("%d objects, want at most %d", n, MaxObjects)
	}
	// Objects returns copies.
	objs = tr.Objects()
	objs[0].Events = nil
	if tr.Objects()[0].Events == nil {
		t.Error("Objects shares its slices with the tracker")
	}
}
