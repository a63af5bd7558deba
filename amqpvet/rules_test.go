package amqpvet_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/amqpvet"
)

// TestRuleIDs checks that every rule the analyzers name is a heading of the
// main module's docs/rules.md, so that the links in diagnostics resolve.
// It skips when the module is used outside the amqpleaks repository.
func TestRuleIDs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "rules.md"))
	if err != nil {
		t.Skipf("no rules document: %v", err)
	}
	headings := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if id, ok := strings.CutPrefix(line, "## "); ok {
			headings[strings.TrimSpace(id)] = true
		}
	}
	for _, id := range amqpvet.RuleIDs {
		if !headings[id] {
			t.Errorf("rule %s is not a heading of docs/rules.md", id)
		}
	}
}

// TestDocs checks that every analyzer has its documentation section, a
// summary line and a URL.
func TestDocs(t *testing.T) {
	for _, a := range amqpvet.Analyzers {
		if a.Doc == "" || strings.HasPrefix(a.Doc, a.Name+":") || a.URL == "" {
			t.Errorf("%s: Doc %q, URL %q", a.Name, a.Doc, a.URL)
		}
	}
}
