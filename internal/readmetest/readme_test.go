// Package readmetest keeps the top README honest: its commands name paths
// that exist and its Go snippets compile against the packages as they are.
package readmetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPaths checks every repository path the README's commands use.
func TestPaths(t *testing.T) {
	s := readme(t)
	re := regexp.MustCompile(`(?m)(?:go run|go test|go build) (?:-[a-z]+ \S+ )*(\./[\w./-]+)`)
	found := 0
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		found++
		p := strings.TrimSuffix(strings.TrimSuffix(m[1], "/..."), "/")
		if _, err := os.Stat(filepath.Join("../..", p)); err != nil {
			// Commands run after "cd bench" name paths inside it.
			if _, err2 := os.Stat(filepath.Join("../../bench", p)); err2 != nil {
				t.Errorf("README command %q: %v", m[0], err)
			}
		}
	}
	for _, p := range []string{"scripts/test", ".ci/run", "detect/testdata/scenarios/amqp091-go-v1.10.0/go1.26/chan-notifyclose-unread/debug2.txt",
		"docs/rules.md", "docs/json.md", "examples/README.md"} {
		if !strings.Contains(s, p) {
			t.Errorf("README no longer mentions %s", p)
		}
		if _, err := os.Stat(filepath.Join("../..", p)); err != nil {
			t.Error(err)
		}
	}
	if found < 4 {
		t.Errorf("found only %d commands in the README", found)
	}
}

// TestSnippets compiles each Go snippet of the README inside a function
// that provides the variables the snippets use.
func TestSnippets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	s := readme(t)
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(s, -1)
	if len(blocks) < 2 {
		t.Fatalf("found %d Go snippets", len(blocks))
	}
	var body strings.Builder
	for i, b := range blocks {
		code := b[1]
		if strings.HasPrefix(code, "func ") {
			// Top-level functions: rename them so several snippets can
			// declare TestMain.
			body.WriteString(regexp.MustCompile(`(?m)^func (\w+)`).ReplaceAllString(code, "func ${1}_"+string(rune('A'+i))) + "\n")
			continue
		}
		body.WriteString("func snippet" + string(rune('A'+i)) + "(f *os.File) {\n" + code + "}\n\n")
	}
	src := `package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"testing"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/httpdebug"
	"github.com/amqpleaks/amqpleaks/leakcheck"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

var _, _, _ = fmt.Println, log.Fatal, detect.Rules
var _, _, _ = stackparse.NewReader, httpdebug.Handler, leakcheck.Check
var _ = http.NewServeMux
var _ testing.TB

` + body.String() + "func main() {}\n"
	// Build inside the module so the snippets see this version of the packages.
	mod, _ := filepath.Abs("../..")
	tmp := filepath.Join(mod, "internal", "readmetest", "snippets_tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := cmdIn(mod, "go", "vet", "./internal/readmetest/snippets_tmp").CombinedOutput()
	if err != nil {
		t.Fatalf("README snippets do not compile: %v\n%s\n%s", err, out, src)
	}
}

func cmdIn(dir string, name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Dir = dir
	return c
}
