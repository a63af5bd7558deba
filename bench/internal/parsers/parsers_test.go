package parsers

import (
	"os"
	"strings"
	"testing"
)

func TestVersionsMatchGoMod(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod := string(b)
	for _, want := range []string{
		"github.com/DataDog/gostackparse " + gostackparseVersion,
		"github.com/maruel/panicparse/v2 " + panicparseVersion,
	} {
		if !strings.Contains(mod, want) {
			t.Errorf("go.mod does not require %s: update the constants in parsers.go", want)
		}
	}
}

func TestFloorsOnTinyDump(t *testing.T) {
	const d = "goroutine 1 [running]:\nmain.main()\n\t/x/main.go:3 +0x1\n\ngoroutine 2 [select]:\nmain.f()\n\t/x/main.go:9 +0x2\n"
	for _, name := range []string{"scanner", "count", "gostackparse", "panicparse"} {
		p, _ := Lookup(name)
		res, err := p.Parse(strings.NewReader(d), "tiny.txt")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Goroutines != 2 && res.Goroutines != -1 {
			t.Errorf("%s: %d goroutines, want 2", name, res.Goroutines)
		}
		if name == "count" && res.Lines != 7 {
			t.Errorf("count: %d lines, want 7", res.Lines)
		}
	}
}
