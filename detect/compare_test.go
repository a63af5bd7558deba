package detect_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// stuckReader is the reader of connection conn stuck in (*Channel).shutdown
// sending to an unread NotifyClose channel (from the chan-notifyclose-unread
// scenario dump).
func stuckReader(id int, conn string) string {
	return fmt.Sprintf(`goroutine %d [chan send, 3 minutes]:
github.com/rabbitmq/amqp091-go.(*Channel).shutdown.func1()
	/root/go/pkg/mod/github.com/rabbitmq/amqp091-go@v1.10.0/channel.go:114 +0x30d
sync.(*Once).doSlow(0xb1109999d58?, 0x423d71?)
	/usr/local/go/src/sync/once.go:78 +0xac
sync.(*Once).Do(...)
	/usr/local/go/src/sync/once.go:69
github.com/rabbitmq/amqp091-go.(*Channel).shutdown(0xb11099f81c0?, 0x1e?)
	/root/go/pkg/mod/github.com/rabbitmq/amqp091-go@v1.10.0/channel.go:103 +0x3d
github.com/rabbitmq/amqp091-go.(*Connection).shutdown.func1()
	/root/go/pkg/mod/github.com/rabbitmq/amqp091-go@v1.10.0/connection.go:630 +0x198
sync.(*Once).doSlow(0xb1109999ec8?, 0x423685?)
	/usr/local/go/src/sync/once.go:78 +0xac
sync.(*Once).Do(...)
	/usr/local/go/src/sync/once.go:69
github.com/rabbitmq/amqp091-go.(*Connection).shutdown(0xb1109a620a0?, 0x79dc68?)
	/root/go/pkg/mod/github.com/rabbitmq/amqp091-go@v1.10.0/connection.go:603 +0x3f
github.com/rabbitmq/amqp091-go.(*Connection).reader(%s, {0x79d0a0, 0xb110994c048?})
	/root/go/pkg/mod/github.com/rabbitmq/amqp091-go@v1.10.0/connection.go:760 +0x2c6
created by github.com/rabbitmq/amqp091-go.Open in goroutine 1
	/root/go/pkg/mod/github.com/rabbitmq/amqp091-go@v1.10.0/connection.go:302 +0x39a

`, id, conn)
}

// worker is an application goroutine parked on a channel receive at line.
func worker(id, line int) string {
	return fmt.Sprintf(`goroutine %d [chan receive, 2 minutes]:
example.com/app/pool.(*Pool).worker(0xc000010000)
	/src/app/pool/pool.go:%d +0x45
created by example.com/app/pool.New in goroutine 1
	/src/app/pool/pool.go:20 +0x99

`, id, line)
}

// dump builds a traceback of n workers at line 42 and the stuck readers of
// the given connections.
func dump(t *testing.T, workers int, conns ...string) *detect.Report {
	t.Helper()
	var b strings.Builder
	b.WriteString("goroutine 1 [running]:\nmain.main()\n\t/src/app/main.go:10 +0x1\n\n")
	id := 100
	for i := 0; i < workers; i++ {
		b.WriteString(worker(id, 42))
		id++
	}
	for _, c := range conns {
		b.WriteString(stuckReader(id, c))
		id++
	}
	rep, err := detect.Analyze(stackparse.NewReader(strings.NewReader(b.String())))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestCompareGrowthAndNewFindings(t *testing.T) {
	base := dump(t, 3, "0xc000100000")
	cur := dump(t, 10, "0xc000100000", "0xc000200000")
	d := detect.Compare(base, cur)

	if len(d.Grown) != 2 {
		t.Fatalf("grown sites %+v, want the workers and the stuck readers", d.Grown)
	}
	w := d.Grown[0]
	if w.App == nil || w.App.Func != "example.com/app/pool.(*Pool).worker" || w.State != "chan receive" {
		t.Errorf("largest growth at %+v, want the pool workers", w.Site)
	}
	if w.Base != 3 || w.Count != 10 || w.Delta != 7 || w.MaxWait != 2 {
		t.Errorf("workers %d → %d (+%d, %d min), want 3 → 10 (+7, 2 min)", w.Base, w.Count, w.Delta, w.MaxWait)
	}
	r := d.Grown[1]
	if r.App != nil || r.Lib == nil || !strings.HasSuffix(r.Lib.Func, "(*Channel).shutdown.func1") || r.Delta != 1 {
		t.Errorf("second growth %+v, want the stuck readers +1", r)
	}
	if len(r.Top) == 0 || !strings.HasPrefix(r.Top[len(r.Top)-1].Func, "created by ") {
		t.Errorf("site without application frame has top frames %+v, want its creator last", r.Top)
	}
	if len(d.New) != 1 || d.New[0].Rule != "chan-notifyclose-unread" || d.New[0].Connection != "0xc000200000" {
		t.Errorf("new findings %+v, want chan-notifyclose-unread on 0xc000200000", d.New)
	}
	if d.Persisting != 1 || len(d.Resolved) != 0 {
		t.Errorf("persisting %d, resolved %d; want 1 and 0", d.Persisting, len(d.Resolved))
	}
	if d.BaseGoroutines != 5 || d.Goroutines != 13 || len(d.Notes) != 0 {
		t.Errorf("totals %d → %d, notes %q", d.BaseGoroutines, d.Goroutines, d.Notes)
	}
}

func TestCompareResolvedAndShrunk(t *testing.T) {
	d := detect.Compare(dump(t, 5, "0xc000100000"), dump(t, 2))
	if len(d.Grown) != 0 {
		t.Errorf("grown %+v, want none", d.Grown)
	}
	if len(d.New) != 0 || len(d.Resolved) != 1 || d.Persisting != 0 {
		t.Errorf("new %d, resolved %d, persisting %d; want 0, 1, 0", len(d.New), len(d.Resolved), d.Persisting)
	}
}

// TestCompareSite: goroutines at the same line with different callers are
// one site; the same function at another line is another.
func TestCompareSite(t *testing.T) {
	text := worker(1, 42) + worker(2, 42) + worker(3, 50) +
		strings.Replace(worker(4, 42), "created by example.com/app/pool.New", "created by example.com/app/pool.Grow", 1)
	rep, err := detect.Analyze(stackparse.NewReader(strings.NewReader(text)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.GroupCount != 3 {
		t.Errorf("%d groups, want 3", rep.Summary.GroupCount)
	}
	var counts []int
	for _, s := range rep.Summary.Sites {
		counts = append(counts, s.Count)
	}
	if fmt.Sprint(counts) != "[3 1]" {
		t.Errorf("site counts %v, want [3 1]", counts)
	}
	if ids := rep.Summary.Sites[0].IDs; fmt.Sprint(ids) != "[1 2 4]" {
		t.Errorf("site IDs %v, want [1 2 4]", ids)
	}
}

// TestCompareRealDumps compares scenario dumps: a dump with itself changes
// nothing; a healthy dump then a stuck one shows the stuck reader.
func TestCompareRealDumps(t *testing.T) {
	dir := "testdata/scenarios/amqp091-go-v1.10.0/go1.26/"
	stuck := analyzeFile(t, dir+"chan-notifyclose-unread/debug2.txt")
	d := detect.Compare(stuck, stuck)
	if len(d.Grown) != 0 || len(d.New) != 0 || len(d.Resolved) != 0 || d.Persisting != len(stuck.Findings) {
		t.Errorf("a dump compared with itself: %+v", d)
	}
	healthy := analyzeFile(t, dir+"healthy/debug2.txt")
	d = detect.Compare(healthy, stuck)
	if len(d.New) == 0 || d.New[0].Rule != "chan-notifyclose-unread" {
		t.Errorf("new findings %+v, want chan-notifyclose-unread", d.New)
	}
	found := false
	for _, g := range d.Grown {
		if g.Lib != nil && strings.HasSuffix(g.Lib.Func, "(*Channel).shutdown.func1") && g.Base == 0 && g.Delta == 1 {
			found = true
		}
		if g.State == "running" {
			t.Errorf("running goroutines reported as grown: %+v", g)
		}
	}
	if !found {
		t.Errorf("grown sites %+v lack the stuck (*Channel).shutdown.func1", d.Grown)
	}
	d = detect.Compare(analyzeFile(t, dir+"chan-notifyclose-unread/debug1.txt"), stuck)
	if len(d.Notes) != 1 {
		t.Errorf("notes %q, want one about the formats", d.Notes)
	}
}
