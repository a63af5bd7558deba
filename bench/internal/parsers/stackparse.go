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
	res, _, err := scan(r, name, nil)
	return res, err
}

// parseDetect runs the whole pipeline, parse then match the catalog, so
// that its time over parseStackparse's is what detect costs.
func parseDetect(r io.Reader, name string) (Result, error) {
	a := detect.New()
	res, format, err := scan(r, name, a.Add)
	a.SetFormat(format)
	rep := a.Report()
	res.Note = fmt.Sprintf("%d findings, %d stack groups", len(rep.Findings), rep.Summary.GroupCount)
	return res, err
}

// scan reads every goroutine, counting, and hands each to each if not nil.
func scan(r io.Reader, name string, each func(*stackparse.Goroutine)) (Result, stackparse.Format, error) {
	sr := stackparse.NewReader(r, stackparse.WithName(name))
	var res Result
	for sr.Next() {
		g := sr.Goroutine()
		res.Records++
		res.Goroutines += int64(g.Count)
		res.Frames += int64(len(g.Frames))
		if each != nil {
			each(g)
		}
	}
	res.Errors = sr.WarningCount()
	if ws := sr.Warnings(); len(ws) > 0 {
		res.Note = ws[0].Error()
	}
	return res, sr.Format(), sr.Err()
}
