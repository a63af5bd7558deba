package stackparse_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// headerRE finds goroutine headers independently of the parser, to count
// what each public dump holds.
var headerRE = regexp.MustCompile(`(?m)goroutine \d+ [^\n]*\[[^\n]*\]:?\s*$`)

// TestPublicDumps reads the dumps people posted in public issue threads
// (testdata/public/README.md names each source).
func TestPublicDumps(t *testing.T) {
	type check func(t *testing.T, d *stackparse.Dump)
	byID := func(d *stackparse.Dump, id int64) *stackparse.Goroutine {
		for _, g := range d.Goroutines {
			if g.ID == id {
				return g
			}
		}
		t.Fatalf("no goroutine %d", id)
		return nil
	}
	tests := map[string]check{
		"golang-go-64650.txt": func(t *testing.T, d *stackparse.Dump) {
			// Indented by 8 spaces inside test output; gp= m= mp= headers.
			for _, g := range d.Goroutines {
				if !g.StackUnavailable || g.GP == "" || g.M == "" || g.MP == "" || g.CreatorID != 1 ||
					g.CreatedBy.Func != "main.CrashDumpsAllThreads" || !strings.HasSuffix(g.CreatedBy.File, "crashdump.go") {
					t.Errorf("goroutine %+v", g)
				}
			}
		},
		"golang-go-22289.txt": func(t *testing.T, d *stackparse.Dump) {
			g := byID(d, 23)
			if len(g.Ancestors) != 1 || g.Ancestors[0].ID != 22 || len(g.Ancestors[0].Frames) != 5 {
				t.Errorf("ancestors %+v", g.Ancestors)
			}
		},
		"golang-go-17473.txt": func(t *testing.T, d *stackparse.Dump) {
			if g := byID(d, 75); g.State != "runnable" || !g.LockedToThread {
				t.Errorf("75: %q locked %v", g.State, g.LockedToThread)
			}
			if g := byID(d, 19); g.State != "GC worker (idle)" || g.WaitMinutes != 16 {
				t.Errorf("19: %q %d", g.State, g.WaitMinutes)
			}
		},
		"caddy-snake-102.txt": func(t *testing.T, d *stackparse.Dump) {
			g := byID(d, 7)
			if g.M != "nil" || g.State != "cleanup wait" || g.Frames[0].File != "C:/Program Files/Go/src/runtime/proc.go" {
				t.Errorf("7: m=%s %q %s", g.M, g.State, g.Frames[0].File)
			}
			if !byID(d, 25).Truncated {
				t.Error("25 not truncated")
			}
		},
		"milvus-7977-1.txt": func(t *testing.T, d *stackparse.Dump) {
			// Line numbers and timestamps before every line.
			g := byID(d, 177)
			if g.WaitMinutes != 9 || len(g.Frames) != 3 || g.Frames[0].Func != "testing.(*T).Run" ||
				g.Frames[2].File != "/usr/local/go/src/testing/testing.go" || g.CreatedBy.Line != 1178 {
				t.Errorf("177: %d min, %d frames", g.WaitMinutes, len(g.Frames))
			}
		},
		"matrixone-19185.txt": func(t *testing.T, d *stackparse.Dump) {
			if g := byID(d, 1); g.State != "chan receive" || g.WaitMinutes != 39 || len(g.Frames) == 0 {
				t.Errorf("1: %q %d", g.State, g.WaitMinutes)
			}
		},
		"go-arm64-4ad-115.txt": func(t *testing.T, d *stackparse.Dump) {
			if len(d.Warnings) != 1 || d.Warnings[0].Line != 1 || !strings.Contains(d.Warnings[0].Msg, "outside any goroutine") {
				t.Errorf("warnings %v", d.Warnings)
			}
		},
		"kubectl-1647.txt": func(t *testing.T, d *stackparse.Dump) {
			if g := byID(d, 0); g.State != "idle" || g.GP == "" || !g.Truncated {
				t.Errorf("0: %+v", g)
			}
		},
	}
	files, _ := os.ReadDir("testdata/public")
	seen := 0
	for _, fi := range files {
		name := fi.Name()
		if !strings.HasSuffix(name, ".txt") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/public/" + name)
			if err != nil {
				t.Fatal(err)
			}
			want := len(headerRE.FindAll(raw, -1))
			f, _ := os.Open("testdata/public/" + name)
			defer f.Close()
			d, err := stackparse.Parse(f, stackparse.WithName(name))
			if want == 0 {
				// Not a dump (two interleaved outputs): an error, not an empty report.
				if err == nil || !strings.Contains(err.Error(), name+": no goroutine found") {
					t.Fatalf("err = %v, want no-goroutine error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Goroutines) != want {
				t.Fatalf("%d goroutines, %d headers", len(d.Goroutines), want)
			}
			if c, ok := tests[name]; ok {
				seen++
				c(t, d)
			}
		})
	}
	if seen != len(tests) {
		t.Errorf("checked %d of %d public dumps: some are missing", seen, len(tests))
	}
}
