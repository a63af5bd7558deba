package amqpvet_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamples runs amqpvet as a vet tool over the project's real examples:
// the reference client (examples/reconnect) must be clean, and the incident
// (examples/leakyconsumer) must be flagged for its three bugs.
func TestExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds amqpvet and vets two modules")
	}
	for _, dir := range []string{"../examples/reconnect", "../examples/leakyconsumer"} {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
	}
	bin := filepath.Join(t.TempDir(), "amqpvet")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/amqpvet").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	vet := func(dir string) (string, error) {
		cmd := exec.Command("go", "vet", "-vettool="+bin, "./...")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := vet("../examples/reconnect"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("reference client flagged (err %v):\n%s", err, out)
	}
	out, err := vet("../examples/leakyconsumer")
	if err == nil {
		t.Fatalf("leaky example not flagged:\n%s", out)
	}
	for _, want := range []string{"rule conn-notifyclose-unread", "rule chan-notifyclose-unread", "multiple=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("leaky example: no %q in\n%s", want, out)
		}
	}
}
