package stackparse_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// FuzzParse feeds arbitrary bytes to the Reader, seeded with the real
// corpus: it must never panic, must end, and must either read goroutines or
// say why not.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 5m -fuzzminimizetime 5s ./stackparse
func FuzzParse(f *testing.F) {
	live := liveDump(f)
	f.Add(live[:min(len(live), 4<<10)])
	for _, glob := range []string{"testdata/corpus/*/*/*", "testdata/corpus/*/*", "testdata/public/*.txt"} {
		files, _ := filepath.Glob(glob)
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil || strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".md") {
				continue
			}
			if len(b) > 4<<10 {
				b = b[:4<<10]
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := stackparse.NewReader(bytes.NewReader(in), stackparse.WithMaxLineBytes(4096), stackparse.WithMaxBytes(1<<20))
		n := 0
		for r.Next() {
			g := r.Goroutine()
			if g == nil {
				t.Fatal("Next true with nil goroutine")
			}
			for _, fr := range g.Frames {
				fr.Pkg()
				fr.Receiver()
				fr.Name()
				fr.ArgWords()
				fr.FirstArg()
				fr.Module()
			}
			n++
			if n > len(in)+1 && r.Format() != stackparse.FormatProto {
				t.Fatalf("%d goroutines from %d bytes", n, len(in))
			}
		}
		err := r.Err()
		// Only a debug=1 header saying so may give no goroutine and no error.
		if n == 0 && err == nil && !bytes.Contains(in, []byte(" profile: total 0")) {
			t.Fatal("no goroutine and no error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "input") {
			t.Fatalf("error does not name the input: %v", err)
		}
	})
}
