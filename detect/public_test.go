package detect_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// TestPublicDumps runs the catalog on dumps posted in public issue threads
// (testdata/public/README.md names each source).
func TestPublicDumps(t *testing.T) {
	type want struct {
		rules      []string // one entry per finding, sorted
		collateral int      // goroutines attached under the findings
		parseErr   bool
	}
	tests := map[string]want{
		"amqp091-go-10-dlv-publish-confirms-mutex.txt":                 {parseErr: true}, // a Delve backtrace, not a dump
		"amqp091-go-222-channel-call-connection-call.txt":              {rules: []string{"rpc-dead-conn", "rpc-dead-conn"}},
		"blog-ms2008-2019-06-16-channel-notifyclose-shutdown.txt":      {rules: []string{"chan-notifyclose-unread"}},
		"redpanda-connect-1299-deferredconfirmation-wait.txt":          {},
		"streadway-amqp-150-confirm-call-select-mangled-markdown.txt":  {rules: []string{"rpc-dead-conn"}},
		"streadway-amqp-180-channel-open-call-select.txt":              {rules: []string{"rpc-dead-conn"}},
		"streadway-amqp-260-panic-channel-dispatch-vendored.txt":       {}, // a panic, not a hang
		"streadway-amqp-274-panic-confirms-confirm-reader-chain.txt":   {},
		"streadway-amqp-278-channel-open-call-select-trimpath.txt":     {}, // no wait time shown
		"streadway-amqp-435-panic-connection-shutdown-closed-chan.txt": {},
		"streadway-amqp-448-pprof-debug1-publish-confirm-deadlock.txt": {rules: []string{"confirms-undrained"}, collateral: 2},
		"streadway-amqp-457-leaktest-heartbeater-windows.txt":          {},
		"webhooked-91-fragment-reader-heartbeater-leak.txt":            {},
	}
	files, _ := filepath.Glob("testdata/public/*.txt")
	if len(files) != len(tests) {
		t.Errorf("%d public dumps, %d expectations", len(files), len(tests))
	}
	for _, p := range files {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			w, ok := tests[name]
			if !ok {
				t.Fatal("no expectation for this dump")
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rep, err := detect.Analyze(stackparse.NewReader(f, stackparse.WithName(name)))
			if (err != nil) != w.parseErr {
				t.Fatalf("err = %v, want error %v", err, w.parseErr)
			}
			var got []string
			coll := 0
			for _, fd := range rep.Findings {
				got = append(got, fd.Rule)
				for _, c := range fd.Collateral {
					coll += c.Count
				}
				if fd.Message == "" || fd.Why == "" || fd.Fix == "" || len(fd.Evidence) == 0 || len(fd.Goroutines) == 0 {
					t.Errorf("finding %s lacks text or evidence: %+v", fd.Rule, fd)
				}
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(w.rules, ",") || coll != w.collateral {
				t.Errorf("findings %v with %d collateral, want %v with %d", got, coll, w.rules, w.collateral)
			}
		})
	}
}
