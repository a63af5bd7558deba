package stackparse_test

import (
	"os"
	"testing"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// TestGrouperAcrossReaders: goroutines of one dump read twice, by two
// Readers (whose shared strings differ), fall into the same groups, with
// twice the counts.
func TestGrouperAcrossReaders(t *testing.T) {
	path := "testdata/corpus/go1.26.8/default/debug2.txt"
	var one, two stackparse.Grouper
	total := 0
	for i := 0; i < 2; i++ {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r := stackparse.NewReader(f)
		for r.Next() {
			if i == 0 {
				one.Add(r.Goroutine())
				total++
			}
			two.Add(r.Goroutine())
		}
		f.Close()
		if r.Err() != nil {
			t.Fatal(r.Err())
		}
	}
	g1, g2 := one.Groups(), two.Groups()
	if len(g1) != len(g2) || len(g1) >= total {
		t.Fatalf("%d groups from one read, %d from two, of %d goroutines", len(g1), len(g2), total)
	}
	for i := range g1 {
		if g2[i].Count != 2*g1[i].Count || stackparse.StackKey(g1[i].Sample) != stackparse.StackKey(g2[i].Sample) {
			t.Errorf("group %d: %d vs %d", i, g1[i].Count, g2[i].Count)
		}
	}
}
