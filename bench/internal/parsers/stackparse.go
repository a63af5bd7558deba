//go:build !nostackparse

package parsers

import (
	"fmt"
	"io"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// StackparseAvailable reports whether this build includes stackparse.
const StackparseAvailable = true

// parseStackparse streams the dump: one *Goroutine at a time, nothing kept.
func parseStackparse(r io.Reader, name string) (Result, error) {
	sr := stackparse.NewReader(r, stackparse.WithName(name))
	var res Result
	for sr.Next() {
		g := sr.Goroutine()
		res.Records++
		res.Goroutines += int64(g.Count)
		res.Frames += int64(len(g.Frames))
	}
	res.Errors = sr.WarningCount()
	if ws := sr.Warnings(); len(ws) > 0 {
		res.Note = ws[0].Error()
	}
	return res, sr.Err()
}

// parseDetect runs the whole pipeline, parse then match the catalog, so
// that its time over parseStackparse's is what detect costs.
func parseDetect(r io.Reader, name string) (Result, error) {
	sr := stackparse.NewReader(r, stackparse.WithName(name))
	a := detect.New()
	var res Result
	for sr.Next() {
		g := sr.Goroutine()
		res.Records++
		res.Goroutines += int64(g.Count)
		res.Frames += int64(len(g.Frames))
		a.Add(g)
	}
	a.SetFormat(sr.Format())
	rep := a.Report()
	res.Note = fmt.Sprintf("%d findings, %d stack groups", len(rep.Findings), rep.Summary.GroupCount)
	return res, sr.Err()
}
