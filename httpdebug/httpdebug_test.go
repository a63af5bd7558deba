package httpdebug

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqpleaks/amqpleaks/leakcheck"

	"github.com/amqpleaks/amqpleaks/detect"
)

// TestMain checks that no test leaves a goroutine behind.
func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

func get(t *testing.T, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// jsonPage is the JSON form, with the fields stackscan -format json writes
// decoded strictly as stackscan's own type does.
type jsonPage struct {
	Input      string          `json:"input"`
	Report     *detect.Report  `json:"report"`
	Warnings   []string        `json:"warnings"`
	Error      string          `json:"error"`
	Mode       string          `json:"mode"`
	CapturedAt time.Time       `json:"captured_at"`
	Capture    CaptureInfo     `json:"capture"`
	Full       FullInfo        `json:"full"`
	Labels     []LabelCount    `json:"labels"`
	Tracked    *Tracked        `json:"tracked"`
	Growth     *Growth         `json:"growth"`
	RuleURLs   json.RawMessage `json:"rule_urls"`
}

func TestFormats(t *testing.T) {
	s := Handler()
	defer s.Close()
	tests := []struct {
		target, accept, ctype, want string
	}{
		{"/debug/amqpleaks", "", "text/plain", "goroutine profile of pid"},
		{"/debug/amqpleaks", "*/*", "text/plain", "Summary:"},
		{"/debug/amqpleaks", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html", "<!DOCTYPE html>"},
		{"/debug/amqpleaks", "application/json", "application/json", `"report": {`},
		{"/debug/amqpleaks", "text/html;q=0.5, application/json", "application/json", `"input":`},
		{"/debug/amqpleaks?format=text", "text/html", "text/plain", "no findings"},
		{"/debug/amqpleaks?format=html", "", "text/html", `id="no-findings"`},
		{"/debug/amqpleaks?format=json&mode=full", "", "application/json", `"format": "traceback"`},
		{"/debug/amqpleaks?mode=full", "", "text/plain", "runtime.Stack dump"},
	}
	for _, tc := range tests {
		w := get(t, s, tc.target, "Accept", tc.accept)
		if w.Code != 200 {
			t.Fatalf("%s (Accept %q): status %d: %s", tc.target, tc.accept, w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
			t.Errorf("%s (Accept %q): Content-Type %q, want %s", tc.target, tc.accept, ct, tc.ctype)
		}
		if !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%s (Accept %q): body lacks %q:\n%.2000s", tc.target, tc.accept, tc.want, w.Body)
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: no Cache-Control: no-store", tc.target)
		}
	}
}

func TestJSONIsStackscanSchema(t *testing.T) {
	s := Handler()
	defer s.Close()
	for _, mode := range []string{"profile", "full"} {
		w := get(t, s, "/debug/amqpleaks?format=json&mode="+mode)
		var p jsonPage
		dec := json.NewDecoder(w.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if p.Report == nil || p.Report.Goroutines < 2 || p.Report.Findings == nil || p.Mode != mode {
			t.Errorf("%s: report %+v, mode %q", mode, p.Report, p.Mode)
		}
		want := map[string]string{"profile": "proto", "full": "traceback"}[mode]
		if p.Report.Format != want {
			t.Errorf("%s: format %q, want %q", mode, p.Report.Format, want)
		}
		if !p.Capture.PauseKnown || p.Capture.WallSeconds <= 0 {
			t.Errorf("%s: capture %+v", mode, p.Capture)
		}
	}
}

func TestBadRequests(t *testing.T) {
	s := Handler()
	defer s.Close()
	tests := []struct{ target, want string }{
		{"/debug/amqpleaks?format=xml", `bad format="xml": want html, json or text`},
		{"/debug/amqpleaks?mode=fast", `bad mode="fast"`},
		{"/debug/amqpleaks?debug=2", `unknown query parameter "debug" (this is not net/http/pprof: ?mode=full`},
		{"/debug/amqpleaks?foo=1", `unknown query parameter "foo"`},
		{"/debug/amqpleaks?mode=full&mode=profile", `"mode" given 2 times`},
		{"/debug/amqpleaks?rule=no-such-rule", `bad rule="no-such-rule": no such rule; the rules are conn-notifyclose-unread`},
		{"/debug/amqpleaks?rule=", `bad rule=""`},
		{"/debug/amqpleaks?format=%zz", "malformed query string"},
	}
	for _, tc := range tests {
		w := get(t, s, tc.target)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tc.target, w.Code)
		}
		if !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%s: body %q lacks %q", tc.target, w.Body, tc.want)
		}
	}
	if n := s.prof.taken.Load() + s.full.taken.Load(); n != 0 {
		t.Errorf("bad requests took %d captures", n)
	}
	r := httptest.NewRequest("POST", "/debug/amqpleaks", nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v", w.Code, w.Header())
	}
}

func TestRulePages(t *testing.T) {
	s := Handler()
	defer s.Close()
	for _, id := range ruleIDs() {
		rule, _ := lookupRule(id)
		for _, f := range []string{"html", "json", "text"} {
			w := get(t, s, "/debug/amqpleaks?format="+f+"&rule="+id)
			if w.Code != 200 {
				t.Fatalf("%s %s: %d %s", id, f, w.Code, w.Body)
			}
			body := w.Body.String()
			want := rule.Title
			if f == "html" {
				want = strings.ReplaceAll(want, "'", "&#39;")
			}
			if !strings.Contains(body, want) {
				t.Errorf("%s %s: no title %q", id, f, want)
			}
		}
	}
	if s.prof.taken.Load() != 0 {
		t.Error("a rule page took a capture")
	}
	var rj RuleJSON
	if err := json.Unmarshal(get(t, s, "/debug/amqpleaks?format=json&rule=live-channel-closed-consuming").Body.Bytes(), &rj); err != nil || !rj.Live || rj.Fix == "" {
		t.Errorf("live rule JSON: %+v %v", rj, err)
	}
}

func TestAuthorize(t *testing.T) {
	allow := false
	s := Handler(WithAuthorize(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-Login") == "basic" {
			w.Header().Set("WWW-Authenticate", `Basic realm="debug"`)
			w.WriteHeader(http.StatusUnauthorized)
			return false
		}
		return allow
	}))
	defer s.Close()
	if w := get(t, s, "/debug/amqpleaks"); w.Code != http.StatusForbidden {
		t.Errorf("denied: %d", w.Code)
	}
	if w := get(t, s, "/debug/amqpleaks?bad=1"); w.Code != http.StatusForbidden {
		t.Errorf("denied request with a bad parameter: %d, want 403 before validation", w.Code)
	}
	if w := get(t, s, "/debug/amqpleaks", "X-Login", "basic"); w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("hook's own answer: %d %v", w.Code, w.Header())
	}
	if s.prof.taken.Load() != 0 {
		t.Error("a denied request took a capture")
	}
	allow = true
	if w := get(t, s, "/debug/amqpleaks"); w.Code != 200 {
		t.Errorf("allowed: %d", w.Code)
	}
}

func TestRegister(t *testing.T) {
	if _, pattern := http.DefaultServeMux.Handler(httptest.NewRequest("GET", Path, nil)); pattern != "" {
		t.Fatalf("importing httpdebug registered %q on http.DefaultServeMux", pattern)
	}
	mux := http.NewServeMux()
	s := Register(mux)
	defer s.Close()
	if w := get(t, mux, Path+"?format=json"); w.Code != 200 || !strings.Contains(w.Body.String(), `"report"`) {
		t.Errorf("Register(mux): %d", w.Code)
	}
	if _, pattern := http.DefaultServeMux.Handler(httptest.NewRequest("GET", Path, nil)); pattern != "" {
		t.Fatalf("Register(mux) registered %q on http.DefaultServeMux", pattern)
	}
}

// TestConcurrent sends 100 concurrent requests over HTTP, in every mode
// and format: every answer is right, captures stay within the rate limit
// (one per mode here), and no goroutine is left behind.
func TestConcurrent(t *testing.T) {
	defer leakcheck.VerifyNone(t)
	s := Handler(WithFullInterval(time.Hour), WithProfileInterval(time.Hour))
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	const n = 100
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mode := []string{"profile", "full"}[i%2]
			format := []string{"json", "text", "html"}[i%3]
			resp, err := client.Get(srv.URL + "/debug/amqpleaks?mode=" + mode + "&format=" + format)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 {
				errs <- resp.Status + " " + string(body)
				return
			}
			if format == "json" {
				var p jsonPage
				if err := json.Unmarshal(body, &p); err != nil || p.Report == nil || p.Mode != mode {
					errs <- "bad JSON: " + err.Error()
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if p, f := s.prof.taken.Load(), s.full.taken.Load(); p != 1 || f != 1 {
		t.Errorf("took %d profile and %d full captures for %d requests, want 1 and 1", p, f, n)
	}
}

func TestFullRateLimit(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := Handler(WithFullInterval(time.Minute))
	defer s.Close()
	s.full.now, s.o.now = clock, clock
	first := get(t, s, "/debug/amqpleaks?mode=full&format=json")
	var p1, p2 jsonPage
	_ = json.Unmarshal(first.Body.Bytes(), &p1)
	second := get(t, s, "/debug/amqpleaks?mode=full&format=json")
	_ = json.Unmarshal(second.Body.Bytes(), &p2)
	if p1.Capture.Shared || !p2.Capture.Shared || s.full.taken.Load() != 1 {
		t.Errorf("within the interval: shared %v %v, %d captures", p1.Capture.Shared, p2.Capture.Shared, s.full.taken.Load())
	}
	if !strings.Contains(get(t, s, "/debug/amqpleaks?mode=full").Body.String(), "more it shows the last dump") {
		t.Error("the page does not say the dump is reused")
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	get(t, s, "/debug/amqpleaks?mode=full")
	if s.full.taken.Load() != 2 {
		t.Errorf("after the interval: %d captures, want 2", s.full.taken.Load())
	}
}

func TestFullTruncated(t *testing.T) {
	s := Handler(WithMaxFullBytes(2048), WithFullInterval(0))
	defer s.Close()
	w := get(t, s, "/debug/amqpleaks?mode=full&format=json")
	var p jsonPage
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if !p.Capture.Truncated || len(p.Warnings) == 0 || !strings.Contains(strings.Join(p.Warnings, "\n"), "filled its 2.0 KiB buffer") {
		t.Errorf("truncated dump: %+v %q", p.Capture, p.Warnings)
	}
}

func TestFullSizer(t *testing.T) {
	sz := &fullSizer{max: 64 << 20}
	if got := sz.size(1000); got != 1000*initialPerGoroutine+fullSlack {
		t.Errorf("first size %d", got)
	}
	sz.learn(400_000, 1000) // 400 B per goroutine
	if got := sz.size(1000); got != 600*1000+fullSlack {
		t.Errorf("learned size %d", got)
	}
	if got := sz.size(10_000_000); got != 64<<20 {
		t.Errorf("capped size %d", got)
	}
}

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"": "text", "*/*": "text", "text/html": "html", "application/json": "json",
		"application/json;q=0.2, text/plain;q=0.9": "text", "image/png": "text",
		"text/html;q=0, application/json;q=0": "text",
	} {
		if got := negotiate(accept); got != want {
			t.Errorf("negotiate(%q) = %s, want %s", accept, got, want)
		}
	}
}

// TestLabels: the default mode counts goroutines per pprof label set.
func TestLabels(t *testing.T) {
	block := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go pprof.Do(context.Background(), pprof.Labels("worker", "billing"), func(context.Context) {
			defer wg.Done()
			<-block
		})
	}
	defer func() { close(block); wg.Wait() }()
	s := Handler(WithProfileInterval(0))
	defer s.Close()
	for deadline := time.Now().Add(5 * time.Second); ; {
		var p jsonPage
		if err := json.Unmarshal(get(t, s, "/debug/amqpleaks?format=json").Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Labels) > 0 && p.Labels[0].Count == 3 && p.Labels[0].Labels["worker"] == "billing" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("labels: %+v", p.Labels)
		}
		time.Sleep(time.Millisecond)
	}
	if text := get(t, s, "/debug/amqpleaks").Body.String(); !strings.Contains(text, "3 {worker=billing}") {
		t.Errorf("text lacks the label set:\n%s", text)
	}
}

func TestHead(t *testing.T) {
	s := Handler()
	defer s.Close()
	r := httptest.NewRequest("HEAD", "/debug/amqpleaks?format=json", nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 200 || w.Body.Len() != 0 || s.prof.taken.Load() != 0 {
		t.Errorf("HEAD: %d, %d bytes, %d captures", w.Code, w.Body.Len(), s.prof.taken.Load())
	}
}
