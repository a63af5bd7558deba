package leakcheck

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/internal/brokertest"
)

// amqpModule is the nested module of test packages that use amqp091-go
// v1.10.0 against the broker (see its go.mod).
const amqpModule = "testdata/amqp"

// goTest runs `go test -count=1 args...` in the nested module with
// LEAKCHECK_MODE=mode and returns its output and whether it passed.
func goTest(t *testing.T, url, mode string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"test", "-count=1"}, args...)...)
	cmd.Dir = amqpModule
	cmd.Env = append(os.Environ(), "AMQP_URL="+url, "LEAKCHECK_MODE="+mode, "GOWORK=off")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("go test %v: %v\n%s", args, err, out)
	}
	return string(out), err == nil
}

// flat collapses runs of white space, so wrapped text compares with the
// catalog's.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// failures splits `go test` output into each failed test's part, from its
// "--- FAIL: Name" line to the next test's result.
func failures(out string) map[string]string {
	parts := map[string]string{}
	re := regexp.MustCompile(`(?m)^\s*--- (FAIL|PASS|SKIP): (\S+)`)
	locs := re.FindAllStringSubmatchIndex(out, -1)
	for i, l := range locs {
		if out[l[2]:l[3]] != "FAIL" {
			continue
		}
		end := len(out)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		parts[out[l[4]:l[5]]] = out[l[0]:end]
	}
	return parts
}

// wantRule checks that text names the rule and prints its fix.
func wantRule(t *testing.T, where, text, id string) {
	t.Helper()
	r, ok := detect.Lookup(id)
	if !ok {
		t.Fatalf("no rule %s", id)
	}
	if !strings.Contains(text, "] "+id+": ") {
		t.Errorf("%s: rule %s not reported:\n%s", where, id, text)
	} else if !strings.Contains(flat(text), flat("fix: "+r.Fix)) {
		t.Errorf("%s: fix of %s not printed:\n%s", where, id, text)
	}
}

// leakyTests are the tests of testdata/amqp/leaky and the rules that must
// diagnose each.
var leakyTests = map[string][]string{
	"TestDialNoClose":         {"conn-pileup"},
	"TestNotifyCloseUnread":   {"conn-notifyclose-unread"},
	"TestConsumerLeftRunning": {"consumer-unread", "conn-pileup"},
}

// TestAMQPPackages runs the test packages of testdata/amqp against the
// broker with `go test` in a subprocess, under each entry point: the leaky
// ones must fail with the right rule and fix, blaming the right test; the
// same tests written correctly must pass; of parallel tests where one leaks,
// Check must blame exactly that one.
func TestAMQPPackages(t *testing.T) {
	url := brokertest.URL(t)
	if testing.Short() {
		t.Skip("runs go test in a subprocess")
	}
	vet := exec.Command("go", "vet", "./...")
	vet.Dir = amqpModule
	vet.Env = append(os.Environ(), "GOWORK=off")
	if out, err := vet.CombinedOutput(); err != nil {
		t.Fatalf("go vet in %s: %v\n%s", amqpModule, err, out)
	}

	t.Run("leaky/Check", func(t *testing.T) {
		t.Parallel()
		out, ok := goTest(t, url, "check", "./leaky")
		if ok {
			t.Fatalf("leaky tests passed under Check:\n%s", out)
		}
		fails := failures(out)
		for name, rules := range leakyTests {
			part, failed := fails[name]
			if !failed {
				t.Errorf("%s did not fail:\n%s", name, out)
				continue
			}
			for _, id := range rules {
				wantRule(t, name, part, id)
			}
			if !strings.Contains(part, "leakcheck: "+name+" leaked ") {
				t.Errorf("%s: the report does not blame it:\n%s", name, part)
			}
			for other := range leakyTests {
				if other != name && strings.Contains(part, other) {
					t.Errorf("%s: the report names %s:\n%s", name, other, part)
				}
			}
		}
		if len(fails) != len(leakyTests) {
			t.Errorf("%d failures, want %d:\n%s", len(fails), len(leakyTests), out)
		}
	})
	// VerifyNone sees the whole process, so each leaky test runs alone.
	for name, rules := range leakyTests {
		name, rules := name, rules
		t.Run("leaky/VerifyNone/"+name, func(t *testing.T) {
			t.Parallel()
			out, ok := goTest(t, url, "verifynone", "-run", "^"+name+"$", "./leaky")
			if ok {
				t.Fatalf("passed under VerifyNone:\n%s", out)
			}
			part := failures(out)[name]
			for _, id := range rules {
				wantRule(t, name, part, id)
			}
		})
	}
	t.Run("leaky/VerifyTestMain", func(t *testing.T) {
		t.Parallel()
		out, ok := goTest(t, url, "testmain", "./leaky")
		if ok {
			t.Fatalf("passed under VerifyTestMain:\n%s", out)
		}
		if !strings.Contains(out, "leakcheck: errors on successful test run: ") {
			t.Errorf("no VerifyTestMain report:\n%s", out)
		}
		for _, rules := range leakyTests {
			for _, id := range rules {
				wantRule(t, "VerifyTestMain", out, id)
			}
		}
	})
	for _, mode := range []string{"check", "verifynone", "testmain"} {
		mode := mode
		t.Run("clean/"+mode, func(t *testing.T) {
			t.Parallel()
			if out, ok := goTest(t, url, mode, "-v", "./clean"); !ok {
				t.Errorf("clean tests failed:\n%s", out)
			} else if !strings.Contains(out, "--- PASS: TestLibraryGoroutinesInheritLabel") {
				t.Errorf("label inheritance test did not run:\n%s", out)
			}
		})
	}
	t.Run("parallel/Check", func(t *testing.T) {
		t.Parallel()
		out, ok := goTest(t, url, "check", "-v", "./parallel")
		if ok {
			t.Fatalf("passed:\n%s", out)
		}
		fails := failures(out)
		part, failed := fails["TestPublishForgetsClose"]
		if !failed || len(fails) != 1 {
			t.Fatalf("failed: %v, want exactly TestPublishForgetsClose:\n%s", keys(fails), out)
		}
		for _, other := range []string{"TestPublishA", "TestPublishB", "TestPublishC"} {
			if !strings.Contains(out, "--- PASS: "+other+" ") {
				t.Errorf("%s did not pass:\n%s", other, out)
			}
			if strings.Contains(out, "leakcheck: "+other+" leaked") {
				t.Errorf("%s blamed:\n%s", other, out)
			}
		}
		_ = part // with -v the test's log comes before its "--- FAIL" line
		if !strings.Contains(out, "leakcheck: TestPublishForgetsClose leaked ") {
			t.Errorf("report does not blame the leaking test:\n%s", out)
		}
		wantRule(t, "TestPublishForgetsClose", out, "conn-pileup")
	})
	// The contrast: VerifyNone (like goleak.VerifyNone) cannot attribute
	// under t.Parallel, and blames the tests that ran beside the leak.
	t.Run("parallel/VerifyNone", func(t *testing.T) {
		t.Parallel()
		out, ok := goTest(t, url, "verifynone", "-v", "./parallel")
		if ok {
			t.Fatalf("passed:\n%s", out)
		}
		if fails := failures(out); len(fails) < 2 {
			t.Errorf("failed: %v; expected VerifyNone to blame innocent parallel tests too:\n%s", keys(fails), out)
		}
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
