package detect_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

type meta struct {
	Scenario   string   `json:"scenario"`
	Rules      []string `json:"rules"`
	Reproduced bool     `json:"reproduced"`
	// Expected are the goroutines the scenario set up; Observed those it
	// found in the dump, by ID, pointing into Expected.
	Expected []struct {
		Function string `json:"function"`
		Stuck    bool   `json:"stuck"`
	} `json:"expected"`
	Observed []struct {
		Expect    int   `json:"expect"`
		Goroutine int64 `json:"goroutine"`
	} `json:"observed"`
}

// checkGoroutines asserts that every root goroutine the scenario left stuck
// in the library (the one holding things up, not the callers queued behind
// it, which the scenario's own bookkeeping matches only by function name)
// is in a finding.
func checkGoroutines(t *testing.T, md meta, rep *detect.Report) {
	t.Helper()
	stuck := map[int64]string{}
	for _, o := range md.Observed {
		if o.Expect >= len(md.Expected) {
			continue
		}
		e := md.Expected[o.Expect]
		lib := strings.Contains(e.Function, "amqp091-go.") || strings.Contains(e.Function, "streadway/amqp.")
		caller := strings.HasSuffix(e.Function, ".Publish") || strings.HasSuffix(e.Function, ".call") ||
			strings.HasSuffix(e.Function, ".allocateChannel") || strings.HasSuffix(e.Function, ".sendOpen")
		if e.Stuck && lib && !caller {
			stuck[o.Goroutine] = e.Function
		}
	}
	reported := map[int64]bool{}
	for _, f := range rep.Findings {
		for _, g := range append(append([]detect.GoroutineRef{}, f.Goroutines...), f.Collateral...) {
			reported[g.ID] = true
		}
	}
	for id, fn := range stuck {
		if !reported[id] {
			t.Errorf("stuck goroutine %d (%s) is in no finding", id, fn)
		}
	}
}

// golden is the part of a report the golden files pin down: which rule
// reports which goroutines.
type golden struct {
	Rule       string  `json:"rule"`
	Severity   string  `json:"severity"`
	Connection string  `json:"connection,omitempty"`
	Goroutines []int64 `json:"goroutines"`
	Collateral []int64 `json:"collateral,omitempty"`
	Count      int     `json:"count"`
}

var update = flag.Bool("update", false, "rewrite the golden files of TestScenarioDumps")

// checkGolden compares the findings with testdata/golden/<name>.json,
// reviewed when written with -update.
func checkGolden(t *testing.T, name string, rep *detect.Report) {
	t.Helper()
	var got []golden
	for _, f := range rep.Findings {
		g := golden{Rule: f.Rule, Severity: f.Severity.String(), Connection: f.Connection, Count: f.Count, Goroutines: []int64{}}
		for _, r := range f.Goroutines {
			g.Goroutines = append(g.Goroutines, r.ID)
		}
		for _, r := range f.Collateral {
			g.Collateral = append(g.Collateral, r.ID)
		}
		got = append(got, g)
	}
	b, _ := json.MarshalIndent(got, "", "  ")
	path := filepath.Join("testdata/golden", name+".json")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./detect -run TestScenarioDumps -update, and review)", err)
	}
	if string(want) != string(b)+"\n" {
		t.Errorf("findings differ from %s:\n%s", path, b)
	}
}

func analyzeFile(t *testing.T, path string) *detect.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := detect.Analyze(stackparse.NewReader(f, stackparse.WithName(path)))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func ruleIDs(rep *detect.Report, min detect.Severity) []string {
	set := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Severity >= min {
			set[f.Rule] = true
		}
	}
	var ids []string
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// alsoExpected are rules a scenario proves besides the one it was written
// for: rpc-dead-conn disables heartbeats so the dead connection goes
// unnoticed, which io-wait-no-heartbeat reports.
var alsoExpected = map[string][]string{
	"rpc-dead-conn": {"io-wait-no-heartbeat"},
}

// needsTraceback are the rules that read wait times or argument words.
var needsTraceback = map[string]bool{
	"io-wait-no-heartbeat": true, "rpc-dead-conn": true, "consumer-unread": true,
}

func firstExisting(t *testing.T, dir string, names ...string) string {
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return filepath.Join(dir, n)
		}
	}
	t.Fatalf("none of %v in %s", names, dir)
	return ""
}

// TestScenarioDumps runs the catalog on the dumps the scenario programs
// produced against the real broker (internal/scenarios): on the full
// traceback exactly the rules the scenario reproduced must fire.
func TestScenarioDumps(t *testing.T) {
	metas, _ := filepath.Glob("testdata/scenarios/*/*/*/meta.json")
	if len(metas) == 0 {
		t.Fatal("no scenario fixtures")
	}
	for _, m := range metas {
		dir := filepath.Dir(m)
		name := strings.TrimPrefix(dir, "testdata/scenarios/")
		t.Run(name, func(t *testing.T) {
			var md meta
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &md); err != nil {
				t.Fatal(err)
			}
			if !md.Reproduced {
				t.Skip("scenario not reproducible: " + md.Scenario)
			}
			want := append(append([]string{}, md.Rules...), alsoExpected[md.Scenario]...)
			sort.Strings(want)
			// A healthy program is now and then caught inside a bounded
			// notification send (bounded-send-stall, severity info, which says
			// so): healthy dumps must have no finding of warning or above.
			min := detect.Info
			if len(want) == 0 {
				min = detect.Warning
			}
			got := ruleIDs(analyzeFile(t, firstExisting(t, dir, "debug2.txt", "debug2.txt.gz")), min)
			rep := analyzeFile(t, firstExisting(t, dir, "debug2.txt", "debug2.txt.gz"))
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("debug2 rules %v, want %v", got, want)
			}
			checkGoroutines(t, md, rep)
			checkGolden(t, name+"/debug2", rep)
			// Aggregated formats lack wait times and argument words: the rules
			// that need them cannot fire there, all others must.
			var wantAgg []string
			for _, id := range want {
				if !needsTraceback[id] {
					wantAgg = append(wantAgg, id)
				}
			}
			for _, file := range []string{"debug1.txt", "profile.pb.gz"} {
				rep := analyzeFile(t, filepath.Join(dir, file))
				checkGolden(t, name+"/"+strings.TrimSuffix(strings.TrimSuffix(file, ".gz"), filepath.Ext(strings.TrimSuffix(file, ".gz"))), rep)
				got := ruleIDs(rep, min)
				if strings.Join(got, ",") != strings.Join(wantAgg, ",") {
					t.Errorf("%s rules %v, want %v", file, got, wantAgg)
				}
			}
		})
	}
}
