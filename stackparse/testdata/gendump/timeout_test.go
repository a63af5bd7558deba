package main

import (
	"os"
	"testing"
	"time"
)

// TestTimeoutDump parks the usual goroutines and then blocks, so that
// "go test -timeout" kills the test binary with a panic that dumps every
// goroutine. regen.sh runs it with GENDUMP_TIMEOUT_OUT set and saves the
// output as testtimeout.txt; the manifest is written before blocking.
func TestTimeoutDump(t *testing.T) {
	out := os.Getenv("GENDUMP_TIMEOUT_OUT")
	if out == "" {
		t.Skip("GENDUMP_TIMEOUT_OUT not set")
	}
	wait, err := time.ParseDuration(os.Getenv("GENDUMP_WAIT"))
	if err != nil {
		wait = 65 * time.Second
	}
	*flagVariant = "testtimeout"
	*flagWait = wait
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	m := newManifest(parkAll(wait))
	m.Files = append(m.Files, fileInfo{File: "testtimeout.txt", Source: "output of `go test -run TestTimeoutDump -timeout <wait+5s>`: the testing package's timeout panic (it sets GOTRACEBACK=all)", Kinds: true})
	writeManifest(out, &m)
	time.Sleep(time.Hour)
}
