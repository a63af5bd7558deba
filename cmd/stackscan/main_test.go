package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amqpleaks/amqpleaks/detect"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

const dumps = "testdata/dumps/"

// stackscan runs the command in this process, with stdout not a terminal.
func stackscan(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	status = run(args, stdin, &out, &errOut, terminal{})
	return out.String(), errOut.String(), status
}

// checkGolden compares got with testdata/golden/name, or rewrites it.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/stackscan -update, and review)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it); got:\n%s", path, got)
	}
}

// indentJSONLines pretty-prints each line of JSON Lines output so that the
// golden files can be read and diffed.
func indentJSONLines(t *testing.T, out string) string {
	t.Helper()
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if err := json.Indent(&b, []byte(line), "", "  "); err != nil {
			t.Fatalf("output line is not JSON: %v\n%s", err, line)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
		status int
	}{
		{"chan-notifyclose-unread.debug2.txt", []string{dumps + "chan-notifyclose-unread.debug2.txt"}, 1},
		{"chan-notifyclose-unread.debug1.txt", []string{dumps + "chan-notifyclose-unread.debug1.txt"}, 1},
		{"chan-notifyclose-unread.proto.txt", []string{dumps + "chan-notifyclose-unread.profile.pb.gz"}, 1},
		{"publish-blocked.debug2.txt", []string{dumps + "publish-blocked.debug2.txt"}, 1},
		{"healthy.debug2.txt", []string{dumps + "healthy.debug2.txt"}, 0},
		{"base.txt", []string{"-base", dumps + "healthy.debug2.txt", dumps + "chan-notifyclose-unread.debug2.txt"}, 1},
		{"chan-notifyclose-unread.debug2.json", []string{"-format", "json", dumps + "chan-notifyclose-unread.debug2.txt"}, 1},
		{"chan-notifyclose-unread.debug1.json", []string{"-format", "json", dumps + "chan-notifyclose-unread.debug1.txt"}, 1},
		{"chan-notifyclose-unread.proto.json", []string{"-format", "json", dumps + "chan-notifyclose-unread.profile.pb.gz"}, 1},
		{"healthy.debug2.json", []string{"-format", "json", dumps + "healthy.debug2.txt"}, 0},
		{"base.json", []string{"-format", "json", "-base", dumps + "healthy.debug2.txt", dumps + "chan-notifyclose-unread.debug2.txt"}, 1},
		{"chan-notifyclose-unread.debug2.html", []string{"-format", "html", dumps + "chan-notifyclose-unread.debug2.txt"}, 1},
		{"healthy.debug2.html", []string{"-format", "html", dumps + "healthy.debug2.txt"}, 0},
		{"base.html", []string{"-format", "html", "-base", dumps + "healthy.debug2.txt", dumps + "chan-notifyclose-unread.debug2.txt"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out, errOut, status := stackscan(t, nil, tt.args...)
			if status != tt.status || errOut != "" {
				t.Errorf("status %d, stderr %q; want %d and nothing", status, errOut, tt.status)
			}
			if strings.HasSuffix(tt.golden, ".json") {
				out = indentJSONLines(t, out)
			}
			if strings.Contains(out, "\x1b[") {
				t.Error("colour escapes in output to a non-terminal")
			}
			checkGolden(t, tt.golden, out)
		})
	}
}

// TestJSONRoundTrip: the JSON output decodes into the documented schema.
func TestJSONRoundTrip(t *testing.T) {
	out, _, _ := stackscan(t, nil, "-format", "json", dumps+"chan-notifyclose-unread.debug2.txt", dumps+"healthy.debug2.txt", "missing.txt")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d JSON lines, want one per input (3)", len(lines))
	}
	var objs []jsonResult
	for _, l := range lines {
		var o jsonResult
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	if objs[0].Report == nil || len(objs[0].Report.Findings) != 1 || objs[0].Report.Findings[0].Rule != "chan-notifyclose-unread" {
		t.Errorf("first object %+v", objs[0])
	}
	if objs[1].Report == nil || len(objs[1].Report.Findings) != 0 || objs[1].Error != "" {
		t.Errorf("healthy object %+v", objs[1])
	}
	if objs[2].Report != nil || !strings.Contains(objs[2].Error, "missing.txt") {
		t.Errorf("missing file object %+v, want an error naming it", objs[2])
	}
}

func TestHTMLSelfContained(t *testing.T) {
	out, _, _ := stackscan(t, nil, "-format", "html", dumps+"chan-notifyclose-unread.debug2.txt", dumps+"publish-blocked.debug2.txt")
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`)
	if m := external.FindString(out); m != "" {
		t.Errorf("external asset reference %q", m)
	}
	if regexp.MustCompile(`(?i)<script|<link|@import|url\(`).MatchString(out) {
		t.Error("script, stylesheet link, @import or url() in the page")
	}
	rule, _ := detect.Lookup("chan-notifyclose-unread")
	for _, want := range []string{"<!DOCTYPE html>", "<style>", "<details", "chan-notifyclose-unread", "publish-blocked",
		html.EscapeString(rule.Fix), `class="app"`} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestExitStatus(t *testing.T) {
	const warningOnly = dumps + "conn-pileup.debug1.txt" // one warning finding
	tests := []struct {
		args   []string
		status int
	}{
		{[]string{dumps + "chan-notifyclose-unread.debug2.txt"}, 1},
		{[]string{dumps + "healthy.debug2.txt"}, 0},
		{[]string{"-fail-on", "none", dumps + "chan-notifyclose-unread.debug2.txt"}, 0},
		{[]string{"-fail-on", "critical", dumps + "chan-notifyclose-unread.debug2.txt"}, 1},
		{[]string{warningOnly}, 1},
		{[]string{"-fail-on", "critical", warningOnly}, 0},
		{[]string{"-fail-on", "info", warningOnly}, 1},
		{[]string{"-fail-on", "critical", warningOnly, dumps + "chan-notifyclose-unread.debug2.txt"}, 1},
		{[]string{dumps + "healthy.debug2.txt", "missing.txt"}, 2},
		// With -base only new findings count, and growth with -fail-grow.
		{[]string{"-base", dumps + "chan-notifyclose-unread.debug2.txt", dumps + "chan-notifyclose-unread.debug2.txt"}, 0},
		{[]string{"-base", dumps + "healthy.debug2.txt", dumps + "chan-notifyclose-unread.debug2.txt"}, 1},
		{[]string{"-base", dumps + "chan-notifyclose-unread.debug2.txt", dumps + "healthy.debug2.txt"}, 0},
		{[]string{"-base", dumps + "chan-notifyclose-unread.debug2.txt", "-fail-grow", "3", dumps + "healthy.debug2.txt"}, 1},
		{[]string{"-base", "missing.txt", dumps + "healthy.debug2.txt"}, 2},
		// Usage errors.
		{[]string{}, 2},
		{[]string{"-format", "xml", dumps + "healthy.debug2.txt"}, 2},
		{[]string{"-input-format", "debug3", dumps + "healthy.debug2.txt"}, 2},
		{[]string{"-fail-on", "fatal", dumps + "healthy.debug2.txt"}, 2},
		{[]string{"-max-bytes", "lots", dumps + "healthy.debug2.txt"}, 2},
		{[]string{"-no-such-flag", dumps + "healthy.debug2.txt"}, 2},
		{[]string{"-explain", "no-such-rule"}, 2},
		{[]string{"-h"}, 0},
	}
	for _, tt := range tests {
		_, errOut, status := stackscan(t, nil, tt.args...)
		if status != tt.status {
			t.Errorf("stackscan %s: status %d, want %d (stderr %q)", strings.Join(tt.args, " "), status, tt.status, errOut)
		}
		if status == 2 && !strings.Contains(errOut, "stackscan") && !strings.Contains(errOut, "flag") {
			t.Errorf("stackscan %s: stderr %q does not say what is wrong", strings.Join(tt.args, " "), errOut)
		}
	}
}

// TestForcedFormat: -input-format overrides detection.
func TestForcedFormat(t *testing.T) {
	out, _, status := stackscan(t, nil, "-input-format", "debug1", "-format", "json", dumps+"chan-notifyclose-unread.debug1.txt")
	if status != 1 || !strings.Contains(out, `"format":"debug1"`) {
		t.Errorf("status %d, output %.200s", status, out)
	}
	_, errOut, status := stackscan(t, nil, "-input-format", "proto", dumps+"healthy.debug2.txt")
	if status != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "healthy.debug2.txt") {
		t.Errorf("text forced as proto: status %d, stderr %q", status, errOut)
	}
}

func TestRulesAndExplain(t *testing.T) {
	out, _, status := stackscan(t, nil, "-rules")
	if status != 0 {
		t.Errorf("-rules: status %d", status)
	}
	for _, r := range detect.Rules() {
		if !strings.Contains(out, r.ID) || !strings.Contains(out, r.Title) {
			t.Errorf("-rules lacks %s", r.ID)
		}
	}
	out, _, status = stackscan(t, nil, "-explain", "conn-notifyclose-unread")
	r, _ := detect.Lookup("conn-notifyclose-unread")
	if status != 0 {
		t.Errorf("-explain: status %d", status)
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{r.Title, "Severity: critical", "Versions:", strings.Join(strings.Fields(r.Fix), " "),
		strings.Join(strings.Fields(r.Why), " "), "Example:", "References:", r.References[0]} {
		if !strings.Contains(flat, want) {
			t.Errorf("-explain lacks %q", want)
		}
	}
}

// TestColour: on a terminal, severities are coloured and application
// frames bold; the text is otherwise the same.
func TestColour(t *testing.T) {
	var out bytes.Buffer
	run([]string{dumps + "publish-blocked.debug2.txt"}, nil, &out, io.Discard, terminal{color: true})
	s := out.String()
	// publish-blocked under a minute is a warning (yellow).
	if !strings.Contains(s, "\x1b[1;33mWARNING\x1b[0m") || !strings.Contains(s, "\x1b[1m> \x1b[0m\x1b[1mmain.") {
		t.Errorf("no colour for severity or application frame:\n%s", s)
	}
	plain, _, _ := stackscan(t, nil, dumps+"publish-blocked.debug2.txt")
	if regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(s, "") != plain {
		t.Error("coloured text differs from the plain text beyond its escapes")
	}
}

func TestStdin(t *testing.T) {
	b, err := os.ReadFile(dumps + "chan-notifyclose-unread.debug2.txt")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, status := stackscan(t, bytes.NewReader(b), "-format", "json", "-")
	if status != 1 || errOut != "" || !strings.HasPrefix(out, `{"input":"stdin","report":`) ||
		!strings.Contains(out, `"rule":"chan-notifyclose-unread"`) {
		t.Errorf("status %d, stderr %q, output %.100s", status, errOut, out)
	}
	_, errOut, status = stackscan(t, strings.NewReader(""), "-")
	if status != 2 || !strings.HasPrefix(errOut, "stackscan: stdin: ") {
		t.Errorf("empty stdin: status %d, stderr %q", status, errOut)
	}
}

func TestURL(t *testing.T) {
	files := map[string]string{
		"/debug/pprof/goroutine?debug=2": "chan-notifyclose-unread.debug2.txt",
		"/debug/pprof/goroutine?debug=1": "chan-notifyclose-unread.debug1.txt",
		"/debug/pprof/goroutine":         "chan-notifyclose-unread.profile.pb.gz",
		"/healthy":                       "healthy.debug2.txt",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := files[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, dumps+name)
	}))
	defer srv.Close()

	for path, file := range files {
		out, errOut, status := stackscan(t, nil, srv.URL+path)
		want, _, _ := stackscan(t, nil, dumps+file)
		want = strings.Replace(want, dumps+file, srv.URL+path, 1)
		if out != want || errOut != "" || (status != 1) != (path == "/healthy") {
			t.Errorf("%s: status %d, stderr %q, output differs from the file's: %v", path, status, errOut, out != want)
		}
	}
	_, errOut, status := stackscan(t, nil, srv.URL+"/nothing")
	if status != 2 || !strings.Contains(errOut, srv.URL+"/nothing: HTTP 404") {
		t.Errorf("404: status %d, stderr %q", status, errOut)
	}
}

func TestURLSizeCap(t *testing.T) {
	dump, err := os.ReadFile(dumps + "chan-notifyclose-unread.debug2.txt")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat(dump, 20) // 160 kB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/streamed" {
			// No Content-Length: the cap stops the read part way.
			for i := 0; i < len(big); i += 4096 {
				w.Write(big[i:min(i+4096, len(big))])
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Write(big) // Content-Length announced
	}))
	defer srv.Close()
	for _, path := range []string{"/announced", "/streamed"} {
		out, errOut, status := stackscan(t, nil, "-max-bytes", "64KiB", srv.URL+path)
		if status != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "-max-bytes 65536") ||
			!strings.Contains(errOut, srv.URL+path) {
			t.Errorf("%s: status %d, stderr %q", path, status, errOut)
		}
		if path == "/streamed" && !strings.Contains(out, "PARTIAL REPORT") {
			t.Errorf("%s: no partial report of what was read before the cap:\n%.300s", path, out)
		}
	}
}

func TestURLTimeout(t *testing.T) {
	dump, err := os.ReadFile(dumps + "chan-notifyclose-unread.debug2.txt")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stalls" {
			// Half the dump, then nothing.
			w.Write(dump[:len(dump)/2])
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	defer srv.Close()
	defer close(done)
	for _, path := range []string{"/silent", "/stalls"} {
		start := time.Now()
		out, errOut, status := stackscan(t, nil, "-timeout", "300ms", srv.URL+path)
		if time.Since(start) > 5*time.Second {
			t.Errorf("%s: the timeout did not stop the read", path)
		}
		if status != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, srv.URL+path) ||
			!strings.Contains(errOut, "Timeout") {
			t.Errorf("%s: status %d, stderr %q", path, status, errOut)
		}
		if path == "/stalls" && !strings.Contains(out, "PARTIAL REPORT") {
			t.Errorf("%s: no partial report:\n%.300s", path, out)
		}
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"4GiB": 4 << 30, "100MB": 100e6, "65536": 65536, "64kib": 64 << 10, "2 MiB": 2 << 20} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "GiB", "1.5GiB", "99999999999GiB"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, b)
		}
	}
	b := byteSize(4 << 30)
	if b.String() != "4GiB" {
		t.Errorf("String() = %q", b.String())
	}
}

// TestProgress: on a terminal, long inputs show progress on stderr, which
// is cleared at the end.
func TestProgress(t *testing.T) {
	defer func(n int) { progressLines = n }(progressLines)
	progressLines = 50
	var out, errOut bytes.Buffer
	run([]string{dumps + "healthy.debug2.txt"}, nil, &out, &errOut, terminal{progress: true})
	if s := errOut.String(); !regexp.MustCompile(`^\rstackscan: `+dumps+`healthy.debug2.txt: \d+ lines, 0 MB read\r`).MatchString(s) ||
		!strings.HasSuffix(s, "\r\x1b[K") {
		t.Errorf("progress %q", s)
	}
	want, _, _ := stackscan(t, nil, dumps+"healthy.debug2.txt")
	if out.String() != want {
		t.Error("progress changed the report")
	}
}
