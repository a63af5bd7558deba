package stackparse_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// manifest is what testdata/gendump knows it parked (testdata/README.md).
type manifest struct {
	GoVersion string            `json:"go_version"`
	Variant   string            `json:"variant"`
	Env       map[string]string `json:"env"`
	Files     []struct {
		File         string `json:"file"`
		HasKinds     bool   `json:"has_kinds"`
		HeaderLabels bool   `json:"header_labels"`
		Truncated    bool   `json:"truncated"`
	} `json:"files"`
	Kinds []kind `json:"kinds"`
}

type kind struct {
	Name               string            `json:"name"`
	Func               string            `json:"func"`
	FuncDebug1         string            `json:"func_debug1"`
	Count              int               `json:"count"`
	WaitReason         string            `json:"wait_reason"`
	MinWaitMinutes     int               `json:"min_wait_minutes"`
	LockedToThread     bool              `json:"locked_to_thread"`
	Labels             map[string]string `json:"labels"`
	CreatedBy          string            `json:"created_by"`
	CreatedByGoroutine int64             `json:"created_by_goroutine"`
	Ancestors          int               `json:"ancestors"`
	Elided             bool              `json:"elided"`
	Leaked             bool              `json:"leaked"`
	Durable            bool              `json:"durable"`
	SynctestBubble     bool              `json:"synctest_bubble"`
}

func parseFile(t *testing.T, path string) *stackparse.Dump {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := stackparse.Parse(f, stackparse.WithName(path))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func hasFrame(g *stackparse.Goroutine, fn string) bool {
	for _, f := range g.Frames {
		if f.Func == fn {
			return true
		}
	}
	return false
}

// TestCorpus checks every dump the generator wrote, under every Go version
// and setting, against what the generator knows it created.
func TestCorpus(t *testing.T) {
	manifests, _ := filepath.Glob("testdata/corpus/go*/*/manifest.json")
	if len(manifests) < 10 {
		t.Fatalf("only %d manifests: is testdata/corpus there?", len(manifests))
	}
	for _, mpath := range manifests {
		var m manifest
		b, err := os.ReadFile(mpath)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", mpath, err)
		}
		dir := filepath.Dir(mpath)
		for _, file := range m.Files {
			path := filepath.Join(dir, file.File)
			t.Run(strings.TrimPrefix(path, "testdata/corpus/"), func(t *testing.T) {
				d := parseFile(t, path)
				if file.Truncated {
					last := d.Goroutines[len(d.Goroutines)-1]
					if !last.Truncated || len(d.Warnings) == 0 {
						t.Errorf("truncated dump: last goroutine truncated=%v, warnings %v", last.Truncated, d.Warnings)
					}
					return
				}
				if strings.HasSuffix(file.File, ".txt") && file.File != "panic.txt" && file.File != "sigquit.txt" &&
					file.File != "stackunavail.txt" && file.File != "testtimeout.txt" && len(d.Warnings) > 0 {
					t.Errorf("warnings on a clean dump: %v", d.Warnings)
				}
				if file.File == "stackunavail.txt" {
					n := 0
					for _, g := range d.Goroutines {
						if g.StackUnavailable {
							n++
						}
					}
					if n == 0 {
						t.Error("no goroutine with its stack unavailable")
					}
				}
				if !file.HasKinds {
					return
				}
				for _, k := range m.Kinds {
					checkKind(t, m, file.File, file.HeaderLabels, d, k)
				}
			})
		}
	}
}

func checkKind(t *testing.T, m manifest, file string, headerLabels bool, d *stackparse.Dump, k kind) {
	t.Helper()
	leakFile := strings.HasPrefix(file, "goroutineleak")
	if leakFile && !k.Leaked {
		return // the leak profile lists only leaked goroutines
	}
	fn := k.Func
	aggregated := d.Format != stackparse.FormatTraceback
	if aggregated && k.FuncDebug1 != "" {
		fn = k.FuncDebug1
	}
	var gs []*stackparse.Goroutine
	n := 0
	for _, g := range d.Goroutines {
		if hasFrame(g, fn) {
			gs = append(gs, g)
			n += g.Count
		}
	}
	if n != k.Count {
		t.Errorf("%s (%s): %d goroutines, want %d", k.Name, fn, n, k.Count)
		return
	}
	wantState, durable := strings.CutSuffix(k.WaitReason, " (durable)")
	for _, g := range gs {
		if k.Labels != nil && (headerLabels || d.Format != stackparse.FormatTraceback) {
			got := map[string]string{}
			for _, l := range g.Labels {
				got[l.Key] = l.Value
			}
			if !reflect.DeepEqual(got, k.Labels) {
				t.Errorf("%s: labels %q, want %q", k.Name, got, k.Labels)
			}
		}
		if aggregated {
			if g.ID != 0 || g.WaitMinutes != 0 {
				t.Errorf("%s: aggregated record with ID %d, wait %d", k.Name, g.ID, g.WaitMinutes)
			}
			// The state is inferred only where certain.
			// Inferred states are coarse: a receive on a nil channel parks in
			// the same runtime function as any receive.
			if g.StateInferred && !strings.HasPrefix(wantState, g.State) && !(wantState == "semacquire" && g.State == "sync.WaitGroup.Wait") {
				t.Errorf("%s: inferred state %q, want %q", k.Name, g.State, wantState)
			}
			continue
		}
		if g.ID == 0 {
			t.Errorf("%s: no goroutine ID", k.Name)
		}
		if g.State != wantState && file != "panic.txt" {
			t.Errorf("%s: goroutine %d state %q, want %q", k.Name, g.ID, g.State, wantState)
		}
		if (durable || k.Durable) != g.HasFlag("durable") {
			t.Errorf("%s: durable flag %v, want %v", k.Name, g.Flags, durable || k.Durable)
		}
		if leakFile && !g.HasFlag("leaked") {
			t.Errorf("%s: not flagged leaked: %v", k.Name, g.Flags)
		}
		if k.SynctestBubble != (g.SynctestBubble != 0) {
			t.Errorf("%s: synctest bubble %d, want one: %v", k.Name, g.SynctestBubble, k.SynctestBubble)
		}
		if g.WaitMinutes < k.MinWaitMinutes && !leakFile {
			t.Errorf("%s: goroutine %d waited %d minutes, want >= %d", k.Name, g.ID, g.WaitMinutes, k.MinWaitMinutes)
		}
		if g.LockedToThread != k.LockedToThread {
			t.Errorf("%s: locked to thread %v", k.Name, g.LockedToThread)
		}
		if k.CreatedBy != "" && g.CreatedBy.Func != k.CreatedBy {
			t.Errorf("%s: created by %q, want %q", k.Name, g.CreatedBy.Func, k.CreatedBy)
		}
		if k.CreatedByGoroutine > 0 && g.CreatorID != k.CreatedByGoroutine && !strings.HasPrefix(m.GoVersion, "go1.20") {
			t.Errorf("%s: creator goroutine %d, want %d", k.Name, g.CreatorID, k.CreatedByGoroutine)
		}
		if k.Elided && !g.Elided {
			t.Errorf("%s: frames elided not seen", k.Name)
		}
		if strings.Contains(m.Env["GODEBUG"], "tracebackancestors") && k.Ancestors > 0 && len(g.Ancestors) != k.Ancestors {
			t.Errorf("%s: %d ancestry blocks, want %d", k.Name, len(g.Ancestors), k.Ancestors)
		}
		for _, f := range g.Frames {
			if f.Func == "" || f.File == "" && !strings.HasPrefix(f.Func, "0x") {
				t.Errorf("%s: incomplete frame %+v", k.Name, f)
			}
		}
	}
}

// TestEmbedded reads one real panic dump as log collectors and terminals
// mangle it (testdata/README.md says how each file was made): every copy
// must give the same goroutines as the original.
func TestEmbedded(t *testing.T) {
	want := parseFile(t, "testdata/corpus/go1.26.8/default/panic.txt")
	keys := func(d *stackparse.Dump) []string {
		var out []string
		for _, g := range d.Goroutines {
			out = append(out, stackparse.StackKey(g))
		}
		sort.Strings(out)
		return out
	}
	files := []string{"ansi.txt", "cri.txt", "cri.txt.gz", "crlf.txt", "docker_timestamps.txt", "dump_plain.txt.gz",
		"journald.txt", "logs_around.txt", "logs_around.txt.gz"}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			d := parseFile(t, "testdata/corpus/embedded/"+name)
			if !reflect.DeepEqual(keys(d), keys(want)) {
				t.Errorf("%d goroutines differ from the original's %d", len(d.Goroutines), len(want.Goroutines))
			}
		})
	}
	// Two processes writing to one pipe: lines are cut mid-way, so some
	// goroutines lose frames, but every header is found and the damage is
	// reported with line numbers.
	raw, err := os.ReadFile("testdata/corpus/embedded/twoproc_raw.txt")
	if err != nil {
		t.Fatal(err)
	}
	d := parseFile(t, "testdata/corpus/embedded/twoproc_raw.txt")
	if n := len(headerRE.FindAll(raw, -1)); len(d.Goroutines) != n {
		t.Errorf("twoproc_raw: %d goroutines, %d headers", len(d.Goroutines), n)
	}
	if len(d.Warnings) == 0 {
		t.Error("twoproc_raw: no warnings for the interleaved text")
	}
}
