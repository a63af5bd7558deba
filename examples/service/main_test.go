package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/amqpleaks/amqpleaks/httpdebug"
	"github.com/amqpleaks/amqpleaks/internal/brokertest"
	"github.com/amqpleaks/amqpleaks/leakcheck"
)

func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}

// TestDebugPages runs the service with -leak and a fast sampler, reads
// /debug/amqpleaks as JSON and /debug/pprof/, then stops it: nothing may be
// left running.
func TestDebugPages(t *testing.T) {
	leakcheck.Check(t, leakcheck.Timeout(5*time.Second))
	url := brokertest.URL(t)
	queue := fmt.Sprintf("amqpleaks-service-test-%d", os.Getpid())
	t.Cleanup(func() { deleteQueue(url, queue) })
	o, err := parseFlags([]string{
		"-url=" + url, "-http=127.0.0.1:0", "-queue=" + queue,
		"-sample-every=100ms", "-leak", "-leak-every=100ms",
	}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, t.Logf, func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}

	var page httpdebug.Page
	deadline := time.Now().Add(15 * time.Second)
	for {
		page = httpdebug.Page{}
		getJSON(t, "http://"+addr+"/debug/amqpleaks?format=json", &page)
		if generations(page, "leak") >= 3 && generations(page, "orders") >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15s the page tracks %d \"orders\" and %d \"leak\" connections; want 1 and 3+", generations(page, "orders"), generations(page, "leak"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if page.Growth == nil {
		t.Error("the page has no sampler section (growth); WithSampler is not on")
	} else {
		t.Logf("sampler: %d sites tracked, %d growing", page.Growth.Tracked, len(page.Growth.Growing))
	}
	if page.Report != nil {
		for _, f := range page.Report.Findings {
			t.Logf("finding: %s %s", f.Severity, f.Rule)
		}
	}

	resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/debug/pprof/goroutine: %s", resp.Status)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the service did not stop within 20s")
	}
}

// generations returns the number of connections the page tracks under name.
func generations(p httpdebug.Page, name string) int {
	n := 0
	if p.Tracked != nil {
		for _, o := range p.Tracked.Objects {
			if o.Kind == "connection" && o.Name == name {
				n++
			}
		}
	}
	return n
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// deleteQueue removes the test's queue.
func deleteQueue(url, queue string) {
	conn, err := amqp.Dial(url)
	if err != nil {
		return
	}
	defer conn.Close()
	if ch, err := conn.Channel(); err == nil {
		_, _ = ch.QueueDelete(queue, false, false, false)
	}
}
