// Package parsers wraps each goroutine-dump parser the benchmark compares
// behind one signature, so that the Go benchmarks and cmd/stackbench measure
// exactly the same code.
package parsers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/DataDog/gostackparse"
	"github.com/maruel/panicparse/v2/stack"
)

// Result is what a parser found.
type Result struct {
	// Goroutines is the number of goroutines found (the sum of Count for
	// aggregated formats), or -1 for a floor that does not look for them.
	Goroutines int64 `json:"goroutines"`
	// Records is the number of records returned (equal to Goroutines for a
	// full traceback; the number of distinct stacks for debug=1 and proto).
	Records int64 `json:"records"`
	// Frames is the total number of frames over all records.
	Frames int64 `json:"frames"`
	// Lines is the number of lines read (floors only).
	Lines int64 `json:"lines,omitempty"`
	// Errors is how many per-goroutine errors the parser reported (it went
	// on after them).
	Errors int `json:"errors,omitempty"`
	// Note says anything else worth knowing (first error, snapshots).
	Note string `json:"note,omitempty"`
}

// Parser is one contender.
type Parser struct {
	// Name is the short name used in -parsers.
	Name string
	// Label is the human name shown in tables.
	Label string
	// Floor marks a reference that reads the bytes without parsing.
	Floor bool
	// Parse reads the whole dump from r. name is the file name (stackparse
	// uses it for messages and format hints).
	Parse func(r io.Reader, name string) (Result, error)
}

var all = []Parser{
	{
		Name:  "stackparse",
		Label: "stackparse (streaming)",
		Parse: parseStackparse, // stackparse.go, or a stub under -tags nostackparse
	},
	{
		Name:  "detect",
		Label: "stackparse + detect (whole pipeline)",
		Parse: parseDetect,
	},
	{
		Name:  "stackscan",
		Label: "stackscan binary, end to end (-format json)",
		Parse: parseStackscanBinary,
	},
	{
		Name:  "gostackparse",
		Label: "DataDog/gostackparse " + gostackparseVersion,
		Parse: parseGostackparse,
	},
	{
		Name:  "panicparse",
		Label: "maruel/panicparse/v2 " + panicparseVersion,
		Parse: parsePanicparse,
	},
	{
		Name:  "scanner",
		Label: "floor: bufio.Scanner lines",
		Floor: true,
		Parse: parseScanner,
	},
	{
		Name:  "count",
		Label: "floor: bufio.Reader 1 MiB + bytes.Count",
		Floor: true,
		Parse: parseCount,
	},
}

// Versions of the modules compared, kept in step with go.mod by
// TestVersionsMatchGoMod.
const (
	gostackparseVersion = "v0.7.0"
	panicparseVersion   = "v2.5.0"
)

// All returns every parser, in table order.
func All() []Parser { return append([]Parser(nil), all...) }

// Names lists the parser names.
func Names() []string {
	var s []string
	for _, p := range all {
		s = append(s, p.Name)
	}
	return s
}

// Lookup finds a parser by name.
func Lookup(name string) (Parser, bool) {
	for _, p := range all {
		if p.Name == name {
			return p, true
		}
	}
	return Parser{}, false
}

// Select parses a comma-separated list of names ("" or "all": every one).
func Select(list string) ([]Parser, error) {
	if list == "" || list == "all" {
		return All(), nil
	}
	var out []Parser
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		p, ok := Lookup(n)
		if !ok {
			return nil, fmt.Errorf("unknown parser %q (have %s)", n, strings.Join(Names(), ", "))
		}
		out = append(out, p)
	}
	return out, nil
}

// parseGostackparse runs gostackparse.Parse, which returns every goroutine
// at once.
func parseGostackparse(r io.Reader, _ string) (Result, error) {
	gs, errs := gostackparse.Parse(r)
	res := Result{Goroutines: int64(len(gs)), Records: int64(len(gs)), Errors: len(errs)}
	for _, g := range gs {
		res.Frames += int64(len(g.Stack))
	}
	if len(errs) > 0 {
		res.Note = errs[0].Error()
	}
	return res, nil
}

// parsePanicparse runs stack.ScanSnapshot with every optional pass off
// (no argument naming, no path guessing, no source analysis): parsing only,
// the cheapest way to use it. ScanSnapshot stops at the first line that does
// not belong to a snapshot and hands back the rest; like panicparse's own
// pp tool we call it again on the remainder until EOF, so a dump it splits
// is still read whole.
func parsePanicparse(r io.Reader, _ string) (Result, error) {
	opts := &stack.Opts{}
	var res Result
	in := r
	snapshots := 0
	for {
		s, suffix, err := stack.ScanSnapshot(in, io.Discard, opts)
		if s != nil {
			snapshots++
			for _, g := range s.Goroutines {
				res.Goroutines++
				res.Records++
				res.Frames += int64(len(g.Stack.Calls))
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			if res.Note == "" {
				res.Note = err.Error()
			}
			res.Errors++
		}
		if errors.Is(err, io.EOF) || (s == nil && len(suffix) == 0) {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) && len(suffix) == 0 {
			break
		}
		in = io.MultiReader(bytes.NewReader(suffix), r)
	}
	if snapshots != 1 {
		res.Note = strings.TrimSpace(fmt.Sprintf("%d snapshots %s", snapshots, res.Note))
	}
	return res, nil
}

// parseScanner is the bufio.Scanner floor: every line is split out (as any
// line-based parser must), and lines starting with "goroutine " are counted
// so the floor also checks the goroutine count.
func parseScanner(r io.Reader, _ string) (Result, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var res Result
	prefix := []byte("goroutine ")
	for sc.Scan() {
		res.Lines++
		if bytes.HasPrefix(sc.Bytes(), prefix) {
			res.Goroutines++
		}
	}
	res.Records = res.Goroutines
	return res, sc.Err()
}

// parseCount is the bare floor: 1 MiB reads, bytes.Count of '\n'. Nothing
// can read the dump faster and still look at every byte.
func parseCount(r io.Reader, _ string) (Result, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	buf := make([]byte, 1<<20)
	res := Result{Goroutines: -1, Records: -1}
	for {
		n, err := br.Read(buf)
		res.Lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return res, err
		}
	}
}

// StackscanEnv names the environment variable that gives the stackscan
// binary to run; cmd/stackbench builds it and sets it.
const StackscanEnv = "STACKBENCH_STACKSCAN"

// parseStackscanBinary runs the stackscan command on the dump, so that the
// whole scanner (reading, matching, rendering JSON) is measured as a user
// runs it. Its goroutine count comes from the report.
func parseStackscanBinary(r io.Reader, name string) (Result, error) {
	bin := os.Getenv(StackscanEnv)
	if bin == "" {
		return Result{}, errors.New(StackscanEnv + " is not set (cmd/stackbench builds stackscan and sets it)")
	}
	f, ok := r.(*os.File)
	if !ok {
		return Result{}, errors.New("stackscan reads files: give it an *os.File")
	}
	cmd := exec.Command(bin, "-format", "json", "-fail-on", "none", f.Name())
	out, err := cmd.Output()
	if err != nil {
		return Result{}, fmt.Errorf("stackscan: %w", err)
	}
	var v struct {
		Report struct {
			Goroutines int64 `json:"goroutines"`
			Summary    struct {
				GroupCount int64 `json:"group_count"`
			} `json:"summary"`
		} `json:"report"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return Result{}, fmt.Errorf("stackscan output: %w", err)
	}
	if v.Error != "" {
		return Result{}, errors.New(v.Error)
	}
	return Result{Goroutines: v.Report.Goroutines, Records: v.Report.Goroutines, Note: fmt.Sprintf("%d stack groups", v.Report.Summary.GroupCount)}, nil
}
