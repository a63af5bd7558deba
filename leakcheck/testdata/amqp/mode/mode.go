// Package mode lets one test package run under each leakcheck entry point,
// chosen by LEAKCHECK_MODE: "check" (the default, leakcheck.Check per
// test), "verifynone" (leakcheck.VerifyNone at the end of each test) or
// "testmain" (leakcheck.VerifyTestMain once all tests have run).
package mode

import (
	"os"
	"testing"

	"github.com/amqpleaks/amqpleaks/leakcheck"
)

// Name is the mode in force.
func Name() string {
	if m := os.Getenv("LEAKCHECK_MODE"); m != "" {
		return m
	}
	return "check"
}

// Check starts the per-test check of the mode. Call it first in the test.
func Check(t *testing.T) {
	t.Helper()
	switch Name() {
	case "check":
		leakcheck.Check(t)
	case "verifynone":
		// Registered first, so it runs after the test's other cleanups,
		// as `defer leakcheck.VerifyNone(t)` at the top of a test would.
		t.Cleanup(func() { leakcheck.VerifyNone(t) })
	}
}

// Main runs the tests, under VerifyTestMain in mode "testmain".
func Main(m *testing.M) {
	if Name() == "testmain" {
		leakcheck.VerifyTestMain(m)
		return
	}
	os.Exit(m.Run())
}
