package stackparse_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// liveDump returns a real traceback of this process.
func liveDump(t testing.TB) []byte {
	t.Helper()
	buf := make([]byte, 1<<20)
	return buf[:runtime.Stack(buf, true)]
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// repeatReader yields n bytes of a pattern without holding them.
type repeatReader struct {
	pat []byte
	n   int64
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = r.pat[r.off]
		r.off = (r.off + 1) % len(r.pat)
	}
	r.n -= int64(len(p))
	return len(p), nil
}

func TestBadInput(t *testing.T) {
	dump := liveDump(t)
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	io.Copy(zw, &repeatReader{pat: []byte("log line\n"), n: 64 << 20})
	zw.Close()

	tests := []struct {
		name   string
		in     io.Reader
		opts   []stackparse.Option
		errHas []string
	}{
		{"empty", strings.NewReader(""), nil, []string{"bad.txt: empty input"}},
		{"blank lines", strings.NewReader("\n\n\r\n"), nil, []string{"no goroutine found in 3 lines"}},
		{"binary", bytes.NewReader([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0xff, 0xfe}), nil, []string{"binary input", "not a goroutine dump"}},
		{"json", strings.NewReader(`{"findings": []}` + "\n"), nil, []string{"no goroutine found", `first line: "{\"findings\": []}"`}},
		{"truncated gzip", bytes.NewReader(gz(t, dump)[:200]), nil, []string{"bad.txt:", "unexpected EOF"}},
		{"gzip bomb", &bomb, []stackparse.Option{stackparse.WithMaxBytes(8 << 20)}, []string{"exceeds the limit of 8388608 bytes"}},
		{"huge line", &repeatReader{pat: []byte("x"), n: 100 << 20}, nil, []string{"no goroutine found", "bad.txt:1: line longer than 1048576 bytes (104857600 bytes) skipped"}},
		{"gzip of nothing", bytes.NewReader(gz(t, nil)), nil, []string{"decompresses to nothing"}},
		{"heap profile", bytes.NewReader(heapProfile(t)), nil, []string{"not a goroutine profile"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := stackparse.Parse(tc.in, append([]stackparse.Option{stackparse.WithName("bad.txt")}, tc.opts...)...)
			if err == nil {
				t.Fatalf("no error; read %d goroutines", len(d.Goroutines))
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			var pe *stackparse.Error
			if !errors.As(err, &pe) || pe.Name != "bad.txt" {
				t.Errorf("error %T is not a *stackparse.Error naming the input", err)
			}
		})
	}
}

func heapProfile(t *testing.T) []byte {
	var b bytes.Buffer
	if err := writeHeap(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestHugeLineInsideDump: a line over the limit inside a dump is skipped with
// a warning naming its line, and the goroutines around it are still read.
func TestHugeLineInsideDump(t *testing.T) {
	dump := liveDump(t)
	i := bytes.Index(dump, []byte("\n\n"))
	if i < 0 {
		t.Skip("single-goroutine dump")
	}
	in := io.MultiReader(bytes.NewReader(dump[:i+2]), &repeatReader{pat: []byte("y"), n: 5 << 20}, strings.NewReader("\n\n"), bytes.NewReader(dump[i+2:]))
	d, err := stackparse.Parse(in, stackparse.WithName("x.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Count(dump, []byte("\ngoroutine ")) + 1
	if len(d.Goroutines) != want {
		t.Errorf("read %d goroutines, want %d", len(d.Goroutines), want)
	}
	line := bytes.Count(dump[:i+2], []byte("\n")) + 1
	if len(d.Warnings) != 1 || d.Warnings[0].Line != line || !strings.Contains(d.Warnings[0].Msg, "longer than") {
		t.Errorf("warnings %v, want one at line %d", d.Warnings, line)
	}
}

// TestTruncated cuts a real dump at every byte of its last goroutine: every
// cut reads the goroutines before it and flags the last one as truncated.
func TestTruncated(t *testing.T) {
	dump := liveDump(t)
	last := bytes.LastIndex(dump, []byte("\ngoroutine ")) + 1
	if last <= 0 {
		t.Skip("single-goroutine dump")
	}
	want := bytes.Count(dump, []byte("\ngoroutine ")) + 1
	for cut := last + 12; cut < len(dump)-1; cut++ {
		if dump[cut-1] == '\n' {
			continue // a cut at a line end after a file line is a complete goroutine
		}
		d, err := stackparse.Parse(bytes.NewReader(dump[:cut]))
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if len(d.Goroutines) != want {
			t.Fatalf("cut %d: %d goroutines, want %d", cut, len(d.Goroutines), want)
		}
		if g := d.Goroutines[want-1]; !g.Truncated {
			t.Fatalf("cut %d: last goroutine not marked truncated: ...%q", cut, dump[max(0, cut-80):cut])
		}
		if len(d.Warnings) == 0 || !strings.Contains(d.Warnings[len(d.Warnings)-1].Msg, "truncated") {
			t.Fatalf("cut %d: no truncation warning: %v", cut, d.Warnings)
		}
	}
}

func TestGzipAndCRLF(t *testing.T) {
	dump := liveDump(t)
	want, err := stackparse.Parse(bytes.NewReader(dump))
	if err != nil {
		t.Fatal(err)
	}
	crlf := bytes.ReplaceAll(dump, []byte("\n"), []byte("\r\n"))
	for name, in := range map[string][]byte{"gzip": gz(t, dump), "crlf": crlf, "gzip+crlf": gz(t, crlf)} {
		got, err := stackparse.Parse(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got.Goroutines) != len(want.Goroutines) {
			t.Fatalf("%s: %d goroutines, want %d", name, len(got.Goroutines), len(want.Goroutines))
		}
		for i := range got.Goroutines {
			if stackparse.StackKey(got.Goroutines[i]) != stackparse.StackKey(want.Goroutines[i]) {
				t.Errorf("%s: goroutine %d differs", name, i)
			}
		}
	}
}
