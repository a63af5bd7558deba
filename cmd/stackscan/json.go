package main

import (
	"encoding/json"
	"io"

	"github.com/amqpleaks/amqpleaks/detect"
)

// jsonResult is the JSON object written for each input (see the package
// documentation for the schema).
type jsonResult struct {
	Input    string         `json:"input"`
	Base     string         `json:"base,omitempty"`
	Report   *detect.Report `json:"report,omitempty"`
	Diff     *detect.Diff   `json:"diff,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// jsonRenderer writes one JSON object per input, one per line.
type jsonRenderer struct{ enc *json.Encoder }

func newJSONRenderer(w io.Writer) *jsonRenderer {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonRenderer{enc: enc}
}

func (j *jsonRenderer) add(res *result) error {
	out := jsonResult{Input: res.Input, Base: res.Base, Report: res.Report, Diff: res.Diff, Warnings: res.Warnings}
	if res.Err != nil {
		out.Error = oneLine(res.Err)
	}
	return j.enc.Encode(out)
}

func (j *jsonRenderer) close() error { return nil }
