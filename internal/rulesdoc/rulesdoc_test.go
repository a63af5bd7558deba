package rulesdoc

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/detect"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md")

const path = "../../docs/rules.md"

// TestRulesDoc fails when docs/rules.md differs from the catalog.
func TestRulesDoc(t *testing.T) {
	want := Render(detect.Rules(), detect.LiveRules())
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/rules.md is out of date: run go test ./internal/rulesdoc -update")
	}
	for _, r := range append(detect.Rules(), detect.LiveRules()...) {
		if !strings.Contains(string(got), "## "+r.ID+"\n") {
			t.Errorf("rule %s missing", r.ID)
		}
	}
}

// TestCatalogComplete checks every rule carries the text a finding shows.
func TestCatalogComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range append(detect.Rules(), detect.LiveRules()...) {
		if seen[r.ID] {
			t.Errorf("duplicate rule ID %s", r.ID)
		}
		seen[r.ID] = true
		if r.Title == "" || r.Why == "" || r.Fix == "" || r.Shows == "" || r.Versions == "" || r.Example == "" || r.Severity == 0 {
			t.Errorf("rule %s lacks text", r.ID)
		}
	}
}

// TestReadmeRules checks the README's rules table lists the catalog.
func TestReadmeRules(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range detect.Rules() {
		row := "| [" + r.ID + "](docs/rules.md#" + r.ID + ") | " + r.Severity.String() + " | " + r.Title + " |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README lacks the row %s", row)
		}
	}
}
