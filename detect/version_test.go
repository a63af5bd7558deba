package detect_test

import (
	"os"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// TestVersionInference: the same real dumps as a vendored build would show
// them (the module version cut from every file path) still say which
// versions they can be, from the frames that exist only in some versions.
func TestVersionInference(t *testing.T) {
	tests := []struct {
		dump, version, note string
	}{
		{"amqp091-go-v1.10.0/go1.26/chan-notifyclose-unread", "v1.10.0", "v1.11.x or earlier"},
		{"amqp091-go-v1.16.0/go1.26/statechange-unread", "v1.16.0", "v1.16.0 and later"},
		{"amqp091-go-v1.16.0/go1.26/return-unread", "v1.16.0", "v1.13.0 and later"},
	}
	for _, tc := range tests {
		t.Run(tc.dump, func(t *testing.T) {
			b, err := os.ReadFile("testdata/scenarios/" + tc.dump + "/debug2.txt")
			if err != nil {
				t.Fatal(err)
			}
			for _, vendored := range []bool{false, true} {
				a := detect.New()
				d, err := stackparse.Parse(strings.NewReader(string(b)))
				if err != nil {
					t.Fatal(err)
				}
				a.SetFormat(d.Format)
				for _, g := range d.Goroutines {
					if vendored {
						for i := range g.Frames {
							g.Frames[i].File = strings.Replace(g.Frames[i].File, "amqp091-go@"+tc.version, "vendor/github.com/rabbitmq/amqp091-go", 1)
						}
						g.CreatedBy.File = strings.Replace(g.CreatedBy.File, "amqp091-go@"+tc.version, "vendor/github.com/rabbitmq/amqp091-go", 1)
					}
					a.Add(g)
				}
				rep := a.Report()
				if len(rep.Findings) == 0 {
					t.Fatal("no finding")
				}
				f := rep.Findings[0]
				if !vendored && f.Version != tc.version {
					t.Errorf("version %q, want %q", f.Version, tc.version)
				}
				if vendored && (f.Version != "" || !strings.Contains(f.VersionNote, tc.note)) {
					t.Errorf("vendored: version %q, note %q, want note with %q", f.Version, f.VersionNote, tc.note)
				}
			}
		})
	}
}
