package stackparse_test

import (
	"fmt"
	"os"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// Read a real /debug/pprof/goroutine?debug=2 dump one goroutine at a time.
func ExampleReader() {
	f, err := os.Open("testdata/corpus/go1.26.8/default/debug2.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	r := stackparse.NewReader(f, stackparse.WithName("debug2.txt"))
	for r.Next() {
		g := r.Goroutine()
		if len(g.Frames) > 0 && g.Frames[0].Func == "main.parkChanSend" {
			fmt.Printf("%s, %d minutes, created by %s\n", g.State, g.WaitMinutes, g.CreatedBy.Func)
		}
	}
	if err := r.Err(); err != nil {
		fmt.Println(err)
	}
	fmt.Println(r.Format())
	// Output:
	// chan send, 1 minutes, created by main.parkAll
	// chan send, 1 minutes, created by main.parkAll
	// traceback
}

// Group identical stacks, as a summary of a dump does.
func ExampleGroupAll() {
	f, err := os.Open("testdata/corpus/go1.26.8/default/debug2.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	d, err := stackparse.Parse(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range stackparse.GroupAll(d.Goroutines) {
		if g.Sample.Frames[0].Func == "main.parkChanRecv" {
			fmt.Println(g.Count, g.Sample.State, len(g.IDs))
		}
	}
	// Output:
	// 3 chan receive 3
}
