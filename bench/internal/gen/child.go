package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// childEnv carries the JSON Options to a re-executed generator process.
const childEnv = "AMQPLEAKS_BENCH_GEN_CHILD"

// MaybeChild turns this process into a dump generator when it was started by
// GenerateInSubprocess: it generates, prints the Meta as JSON on stdout and
// exits. Call it first thing in main (or TestMain) of any binary that uses
// GenerateInSubprocess; it returns at once otherwise.
func MaybeChild() {
	js := os.Getenv(childEnv)
	if js == "" {
		return
	}
	var opt Options
	if err := json.Unmarshal([]byte(js), &opt); err != nil {
		fmt.Fprintln(os.Stderr, "gen child:", err)
		os.Exit(2)
	}
	opt.Log = os.Stderr
	meta, err := Generate(opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen child:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(meta)
	os.Exit(0)
}

// GenerateInSubprocess runs Generate in a fresh copy of the current
// executable, so that the parked goroutines (and the memory they hold) go
// away with it and each dump holds exactly one workload.
func GenerateInSubprocess(opt Options) (*Meta, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(opt)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	var out bytes.Buffer
	cmd.Stdout = &out
	if opt.Log != nil {
		cmd.Stderr = opt.Log
	} else {
		cmd.Stderr = io.Discard
	}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("generating %s: %w", SizeLabel(opt.N), err)
	}
	var meta Meta
	if err := json.Unmarshal(out.Bytes(), &meta); err != nil {
		return nil, fmt.Errorf("generating %s: bad child output: %w", SizeLabel(opt.N), err)
	}
	return &meta, nil
}
