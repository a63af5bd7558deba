package detect_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// haystack is a real dump of 20,000 unrelated goroutines around one stuck
// connection (internal/scenarios, scenario haystack).
func haystack(b *testing.B) []byte {
	f, err := os.Open("testdata/scenarios/amqp091-go-v1.10.0/go1.26/haystack/debug2.txt.gz")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkParse and BenchmarkParseAndDetect measure what matching adds to
// parsing: compare their ns/op (go test -bench . ./detect).
func BenchmarkParse(b *testing.B) {
	data := haystack(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := stackparse.NewReader(bytes.NewReader(data))
		n := 0
		for r.Next() {
			n += r.Goroutine().Count
		}
		if r.Err() != nil || n < 20000 {
			b.Fatal(r.Err(), n)
		}
	}
}

func BenchmarkParseAndDetect(b *testing.B) {
	data := haystack(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rep, err := detect.Analyze(stackparse.NewReader(bytes.NewReader(data)))
		if err != nil || len(rep.Findings) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDetectOnly matches already parsed goroutines: its ns/op over
// BenchmarkParse's is what detect adds to parsing.
func BenchmarkDetectOnly(b *testing.B) {
	data := haystack(b)
	d, err := stackparse.Parse(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := detect.New()
		a.SetFormat(d.Format)
		for _, g := range d.Goroutines {
			a.Add(g)
		}
		if len(a.Report().Findings) == 0 {
			b.Fatal("no finding")
		}
	}
}
