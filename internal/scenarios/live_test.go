package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/internal/brokertest"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// TestLiveScenarios reproduces two patterns against the real broker right
// now, with the builds regen.sh uses, and checks the detector names them on
// the fresh dumps: the committed fixtures stay reproducible, and the
// catalog keeps matching what the libraries really do.
func TestLiveScenarios(t *testing.T) {
	url := brokertest.URL(t)
	if testing.Short() {
		t.Skip("runs the scenario programs against the broker")
	}
	tests := []struct {
		build    []string
		scenario string
		rule     string
	}{
		{[]string{"-modfile=go.v1.10.0.mod", "-tags", "amqp091old"}, "chan-notifyclose-unread", "chan-notifyclose-unread"},
		{[]string{"-tags", "streadway"}, "confirms-undrained", "confirms-undrained"},
		{nil, "statechange-unread", "statechange-unread"},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			out := t.TempDir()
			args := append(append([]string{"run"}, tc.build...), ".", "-scenario", tc.scenario, "-out", out, "-url", url)
			cmd := exec.Command("go", args...)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go %v: %v\n%s", args, err, b)
			}
			for _, file := range []string{"debug2.txt", "debug1.txt", "profile.pb.gz"} {
				f, err := os.Open(filepath.Join(out, file))
				if err != nil {
					t.Fatal(err)
				}
				rep, err := detect.Analyze(stackparse.NewReader(f, stackparse.WithName(file)))
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, fd := range rep.Findings {
					found = found || fd.Rule == tc.rule
				}
				if !found {
					t.Errorf("%s: no %s finding in %d findings", file, tc.rule, len(rep.Findings))
				}
			}
		})
	}
}
