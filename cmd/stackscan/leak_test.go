package main

import (
	"testing"

	"github.com/amqpleaks/amqpleaks/leakcheck"
)

// TestMain fails the package's tests if they leave goroutines behind: the
// tool must not leak what it hunts.
func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }
