package amqpvet_test

import (
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"
	"golang.org/x/tools/go/analysis/passes/inspect"

	"github.com/amqpleaks/amqpleaks/amqpvet"
)

// packages maps each test package under testdata/src to the analyzers
// whose diagnostics its // want comments expect. Files with suggested
// fixes have a .golden twin holding the fixed source.
var packages = map[string][]*analysis.Analyzer{
	"notifybuffer":       {amqpvet.NotifyBuffer},
	"notifyunread":       {amqpvet.NotifyUnread},
	"multiack":           {amqpvet.MultiAck},
	"connonly":           {amqpvet.ConnOnly},
	"connonlyok":         {amqpvet.ConnOnly},
	"heartbeat":          {amqpvet.Heartbeat},
	"heartbeatstreadway": {amqpvet.Heartbeat},
	// A vendored copy of streadway/amqp (example.com/app/vendor/github.com/streadway/amqp).
	"example.com/app": amqpvet.Analyzers,
	// The programs modelled on background.md: the leaky consumer is
	// flagged by every analyzer, the reference reconnect code by none.
	"leaky":     amqpvet.Analyzers,
	"reference": amqpvet.Analyzers,
}

// TestAnalyzers loads every test package once and runs on each the
// analyzers it is written for.
func TestAnalyzers(t *testing.T) {
	var pkgs []string
	for p := range packages {
		pkgs = append(pkgs, p)
	}
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), dispatch, pkgs...)
}

// dispatch runs, on each package, the analyzers of packages.
var dispatch = &analysis.Analyzer{
	Name:     "dispatch",
	Doc:      "dispatch runs the amqpvet analyzers a test package is written for",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run: func(pass *analysis.Pass) (any, error) {
		for _, a := range packages[strings.TrimSuffix(pass.Pkg.Path(), "_test")] {
			p := *pass
			p.Analyzer = a
			if _, err := a.Run(&p); err != nil {
				return nil, err
			}
		}
		return nil, nil
	},
}
