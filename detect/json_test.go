package detect_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/detect"
)

// TestJSONSchema keeps docs/json.md in step with the Report's JSON form:
// every field the encoder writes is documented there.
func TestJSONSchema(t *testing.T) {
	rep := analyzeFile(t, "testdata/scenarios/streadway-amqp-v1.1.0/go1.26/publish-blocked/debug2.txt")
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	seen := map[string]bool{}
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				seen[k] = true
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	walk(v)
	for k := range seen {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("field %q is not documented in docs/json.md", k)
		}
	}
	// Round trip: a consumer of the JSON gets the same report back.
	var back detect.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Findings) != len(rep.Findings) || back.Findings[0].Severity != rep.Findings[0].Severity {
		t.Error("report does not survive a JSON round trip")
	}
}
