//go:build go1.25

// synctest requires the Go 1.23+ timer channel semantics; go.mod says 1.21.
//
//go:debug asynctimerchan=0

package main

import (
	"os"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

//go:noinline
func bubbleChanRecv(ch chan int) { <-ch }

//go:noinline
func bubbleChanSend(ch chan int) { ch <- 1 }

//go:noinline
func bubbleSelect(a, b chan int) {
	select {
	case <-a:
	case <-b:
	}
}

//go:noinline
func bubbleSleep() { time.Sleep(time.Hour) }

//go:noinline
func bubbleWaitGroupWait(wg *sync.WaitGroup) { wg.Wait() }

//go:noinline
func bubbleCondWait(c *sync.Cond) {
	c.L.Lock()
	c.Wait()
	c.L.Unlock()
}

//go:noinline
func bubbleMutexLock(mu *sync.Mutex) {
	mu.Lock()
	mu.Unlock()
}

//go:noinline
func bubbleOutsideChanRecv(ch chan int) { <-ch }

// TestSynctestDump dumps all goroutines from inside a testing/synctest
// bubble. regen.sh runs it with GENDUMP_SYNCTEST_OUT set.
func TestSynctestDump(t *testing.T) {
	out := os.Getenv("GENDUMP_SYNCTEST_OUT")
	if out == "" {
		t.Skip("GENDUMP_SYNCTEST_OUT not set")
	}
	*flagVariant = "synctest"
	*flagWait = 0
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	outside := make(chan int) // created outside the bubble
	synctest.Test(t, func(t *testing.T) {
		me := curGoid()
		var kinds []Kind
		add := func(k Kind) {
			k.Count = 1
			k.Bubble = true
			k.CreatedBy = "main.TestSynctestDump.func1"
			fixPkg(&k)
			k.CreatedByGoroutine = me
			k.Ancestors = 1
			kinds = append(kinds, k)
		}
		recv, send, sa, sb := make(chan int), make(chan int), make(chan int), make(chan int)
		go bubbleChanRecv(recv)
		add(Kind{Name: "bubble_chan_receive", Func: "main.bubbleChanRecv", WaitReason: "chan receive (durable)", Durable: true})
		go bubbleChanSend(send)
		add(Kind{Name: "bubble_chan_send", Func: "main.bubbleChanSend", WaitReason: "chan send (durable)", Durable: true})
		go bubbleSelect(sa, sb)
		add(Kind{Name: "bubble_select", Func: "main.bubbleSelect", WaitReason: "select (durable)", Durable: true})
		go bubbleSleep()
		add(Kind{Name: "bubble_sleep", Func: "main.bubbleSleep", WaitReason: "sleep", Durable: true,
			Notes: `status "sleep" is idle in synctest, so the runtime appends " (durable)"`})
		var wg sync.WaitGroup
		wg.Add(1)
		go bubbleWaitGroupWait(&wg)
		add(Kind{Name: "bubble_waitgroup_wait", Func: "main.bubbleWaitGroupWait", WaitReason: "sync.WaitGroup.Wait (durable)", Durable: true})
		var cmu sync.Mutex
		cond := sync.NewCond(&cmu)
		go bubbleCondWait(cond)
		add(Kind{Name: "bubble_cond_wait", Func: "main.bubbleCondWait", WaitReason: "sync.Cond.Wait", Durable: true})
		var mu sync.Mutex
		mu.Lock()
		go bubbleMutexLock(&mu)
		add(Kind{Name: "bubble_mutex_lock", Func: "main.bubbleMutexLock", WaitReason: "sync.Mutex.Lock",
			Notes: "not durably blocked: a mutex can be unlocked from outside the bubble"})
		go bubbleOutsideChanRecv(outside)
		add(Kind{Name: "bubble_outside_chan_receive", Func: "main.bubbleOutsideChanRecv", WaitReason: "chan receive",
			Notes: "channel created outside the bubble: not durable"})

		for i := 0; i < 1000; i++ {
			runtime.Gosched()
		}
		m := newManifest(kinds)
		writeDumps(out, &m)
		writeManifest(out, &m)

		close(recv)
		<-send
		close(sa)
		wg.Done()
		cmu.Lock()
		cond.Broadcast()
		cmu.Unlock()
		mu.Unlock()
		close(outside)
		time.Sleep(2 * time.Hour) // fake time: lets bubbleSleep finish
		synctest.Wait()
	})
}
