package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/internal/brokertest"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// runMainEnv makes the test binary run main instead of the tests, so that
// the leaking program runs in a process of its own.
const runMainEnv = "LEAKYCONSUMER_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestShowsTheLeak runs the program with each fault and checks that its
// goroutine dump shows the incident: the library's reader stuck sending to
// the channel NotifyClose nobody reads, as chan-notifyclose-unread.
func TestShowsTheLeak(t *testing.T) {
	url := brokertest.URL(t)
	tests := []struct {
		fault string
		// via is a frame of the stuck goroutine that tells how it got
		// there: shutting down a dropped connection, or a channel the
		// broker closed.
		via  string
		args []string
	}{
		{"reset", "(*Connection).shutdown", []string{"-fault-after=1500ms", "-duration=4s"}},
		{"blackhole", "(*Connection).shutdown", []string{"-fault-after=1s", "-heartbeat=1s", "-duration=8s"}},
		{"channel-close", "(*Connection).closeChannel", []string{"-fault-after=1500ms", "-duration=4s"}},
	}
	for _, tc := range tests {
		t.Run(tc.fault, func(t *testing.T) {
			t.Parallel()
			dump := filepath.Join(t.TempDir(), "goroutines.txt")
			args := append([]string{"-url=" + url, "-fault=" + tc.fault, "-dump=" + dump, "-http="}, tc.args...)
			out := runProgram(t, nil, args...)
			if !strings.Contains(out, "wrote the goroutine dump") {
				t.Fatalf("the program did not write its dump:\n%s", out)
			}
			if tc.fault != "channel-close" && !strings.Contains(out, "connected (connection 2)") {
				t.Errorf("the program did not reconnect after the fault:\n%s", out)
			}
			f, err := os.Open(dump)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rep, err := detect.Analyze(stackparse.NewReader(f, stackparse.WithName(dump)))
			if err != nil {
				t.Fatal(err)
			}
			for _, fd := range rep.Findings {
				if fd.Rule == "chan-notifyclose-unread" && hasFrame(fd, tc.via) {
					t.Logf("%s: %s", fd.Rule, fd.Message)
					return
				}
			}
			var got []string
			for _, fd := range rep.Findings {
				got = append(got, fd.Rule)
			}
			t.Errorf("no chan-notifyclose-unread finding through %s in the dump; findings: %v\nprogram output:\n%s", tc.via, got, out)
		})
	}
}

// TestFlags checks the flag defaults and that a bad -fault is refused.
func TestFlags(t *testing.T) {
	o, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.fault != "reset" || o.http != "127.0.0.1:6060" || o.dump != "" {
		t.Errorf("defaults: %+v", o)
	}
	if _, err := parseFlags([]string{"-fault=flood"}, &bytes.Buffer{}); err == nil {
		t.Error("-fault=flood was accepted")
	}
}

// TestDebugEndpoint fetches /debug/amqpleaks from the running program after
// the reconnect and checks that it names the leak too.
func TestDebugEndpoint(t *testing.T) {
	url := brokertest.URL(t)
	var (
		addr  string
		found = make(chan []string, 1)
	)
	out := runProgram(t, func(line string) {
		if a, ok := strings.CutPrefix(line, "debug endpoints: http://"); ok {
			addr, _, _ = strings.Cut(a, "/")
		}
		if strings.Contains(line, "connected (connection 2)") && addr != "" {
			go func() { found <- fetchRules(t, "http://"+addr+"/debug/amqpleaks?format=json") }()
		}
	}, "-url="+url, "-fault=reset", "-fault-after=1s", "-duration=4s", "-http=127.0.0.1:0")
	select {
	case rules := <-found:
		for _, r := range rules {
			if r == "chan-notifyclose-unread" {
				return
			}
		}
		t.Errorf("/debug/amqpleaks findings: %v; want chan-notifyclose-unread\n%s", rules, out)
	case <-time.After(10 * time.Second):
		t.Errorf("the program never printed its address or never reconnected:\n%s", out)
	}
}

// fetchRules returns the rules of the findings of the JSON page at url,
// taken again until the leak shows (the reader gets stuck just after the
// reconnect is logged).
func fetchRules(t *testing.T, url string) []string {
	var rules []string
	for i := 0; i < 20; i++ {
		time.Sleep(100 * time.Millisecond)
		resp, err := http.Get(url)
		if err != nil {
			t.Logf("GET %s: %v", url, err)
			continue
		}
		var page struct {
			Report struct {
				Findings []struct{ Rule string }
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Logf("GET %s: %v", url, err)
			continue
		}
		rules = rules[:0]
		for _, f := range page.Report.Findings {
			rules = append(rules, f.Rule)
		}
		if len(rules) > 0 {
			break
		}
	}
	return rules
}

// runProgram runs main in a child process with args and returns its
// output, calling onLine (if not nil) with each line as it comes.
func runProgram(t *testing.T, onLine func(string), args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			out.WriteString(line + "\n")
			if _, msg, ok := strings.Cut(line, " "); ok && onLine != nil {
				onLine(msg) // without the time stamp
			}
		}
		io.Copy(io.Discard, pr)
	}()
	err := cmd.Wait()
	pw.Close()
	<-scanned
	if err != nil {
		t.Fatalf("leakyconsumer %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// hasFrame reports whether the finding's evidence holds a frame whose
// function ends with fn.
func hasFrame(fd *detect.Finding, fn string) bool {
	for _, fr := range fd.Evidence {
		if strings.HasSuffix(fr.Func, fn) {
			return true
		}
	}
	return false
}
