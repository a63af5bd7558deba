package httpdebug

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/amqpleaks/amqpleaks/detect"
)

// defaultPausePerGoroutine is what runtime.Stack(buf, true) costs per
// goroutine of a few frames (README.md: 0.8 s at 100,000 goroutines of 8
// frames, Go 1.26, 2 cores).
const defaultPausePerGoroutine = 10 * time.Microsecond

// Path is where Register mounts the page.
const Path = "/debug/amqpleaks"

// Defaults of the options.
const (
	DefaultFullInterval    = time.Minute
	DefaultProfileInterval = time.Second
	DefaultMaxFullBytes    = 256 << 20
	DefaultBlockedAfter    = time.Minute
	DefaultShutdownGrace   = 30 * time.Second
	// DefaultSamplerSites bounds the sites the sampler follows.
	DefaultSamplerSites = 256
)

// Option configures a Server.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	authorize       func(http.ResponseWriter, *http.Request) bool
	fullInterval    time.Duration
	profileInterval time.Duration
	maxFullBytes    int
	sampleEvery     time.Duration
	history         int
	maxSites        int
	sources         []Source
	th              thresholds
	detect          []detect.Option
	now             func() time.Time
}

// WithAuthorize sets a hook called before anything else on every request.
// It reports whether the request may see the page. When it returns false
// it may write the response itself (a 401 with WWW-Authenticate, say); if
// it writes nothing the Server answers 403 Forbidden. Without a hook the
// page is open to whoever reaches it: serve it on a private port, as
// net/http/pprof.
func WithAuthorize(fn func(w http.ResponseWriter, r *http.Request) bool) Option {
	return optionFunc(func(o *options) { o.authorize = fn })
}

// WithFullInterval sets how often ?mode=full may take a new text dump
// (default DefaultFullInterval). Requests within the interval get the last
// dump, with its age; concurrent requests share one dump. 0 removes the
// limit (for benchmarks; never in production).
func WithFullInterval(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d >= 0 {
			o.fullInterval = d
		}
	})
}

// WithProfileInterval is WithFullInterval for the default mode (default
// DefaultProfileInterval).
func WithProfileInterval(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d >= 0 {
			o.profileInterval = d
		}
	})
}

// WithMaxFullBytes caps the buffer of a full dump (default
// DefaultMaxFullBytes). A dump that fills it is cut short, and says so.
func WithMaxFullBytes(n int) Option {
	return optionFunc(func(o *options) {
		if n > 0 {
			o.maxFullBytes = n
		}
	})
}

// WithSampler starts a background sampler that reads the goroutine profile
// every interval (the default mode's cost, once per interval), keeps the
// last history samples of each blocking site, and flags the sites that
// keep growing. It is off by default. Close stops it.
func WithSampler(every time.Duration, history int) Option {
	return optionFunc(func(o *options) {
		if every > 0 {
			o.sampleEvery = every
		}
		if history > 0 {
			o.history = history
		}
	})
}

// WithSamplerSites bounds how many blocking sites the sampler follows
// (default DefaultSamplerSites); when full, the site with the smallest peak
// makes room for a larger new one.
func WithSamplerSites(n int) Option {
	return optionFunc(func(o *options) {
		if n > 0 {
			o.maxSites = n
		}
	})
}

// WithSource adds a Source of tracked AMQP objects, such as
// amqptrack.Default.
func WithSource(s Source) Option {
	return optionFunc(func(o *options) {
		if s != nil {
			o.sources = append(o.sources, s)
		}
	})
}

// WithBlockedAfter sets how long a tracked connection must have been
// blocked by the broker before live-connection-blocked reports it
// (default DefaultBlockedAfter).
func WithBlockedAfter(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d >= 0 {
			o.th.blockedAfter = d
		}
	})
}

// WithShutdownGrace sets how long a tracked object may take to finish its
// shutdown before live-shutdown-stuck reports it (default
// DefaultShutdownGrace; amqp091-go v1.13+ gives up on a listener after 5 s).
func WithShutdownGrace(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d >= 0 {
			o.th.shutdownGrace = d
		}
	})
}

// WithDetectOptions passes options to the detect.Analyzer of each capture.
func WithDetectOptions(opts ...detect.Option) Option {
	return optionFunc(func(o *options) { o.detect = append(o.detect, opts...) })
}

// Server serves /debug/amqpleaks. It is an http.Handler; Close stops its
// sampler, if any.
type Server struct {
	o     options
	an    analysis
	prof  *capturer
	full  *capturer
	sizer *fullSizer
	smp   *sampler
	once  sync.Once
}

// Handler returns the /debug/amqpleaks handler, to mount where you like:
//
//	mux.Handle("/debug/amqpleaks", httpdebug.Handler())
//
// With WithSampler, call Close when done to stop the sampler.
func Handler(opts ...Option) *Server {
	o := options{
		fullInterval: DefaultFullInterval, profileInterval: DefaultProfileInterval,
		maxFullBytes: DefaultMaxFullBytes, maxSites: DefaultSamplerSites,
		th:  thresholds{blockedAfter: DefaultBlockedAfter, shutdownGrace: DefaultShutdownGrace},
		now: time.Now,
	}
	for _, opt := range opts {
		opt.apply(&o)
	}
	s := &Server{o: o, an: analysis{opts: o.detect}, sizer: &fullSizer{max: o.maxFullBytes}}
	s.prof = &capturer{interval: o.profileInterval, run: s.an.captureProfile, now: o.now}
	s.full = &capturer{interval: o.fullInterval, run: func() *capture { return s.an.captureFull(s.sizer) }, now: o.now}
	if o.sampleEvery > 0 {
		if o.history <= 0 {
			o.history = 60
		}
		s.smp = newSampler(o.sampleEvery, o.history, o.maxSites, func(ctx context.Context) (*capture, error) {
			c, _, err := s.prof.get(ctx)
			return c, err
		})
		s.smp.start()
	}
	return s
}

// Register mounts a new Server on mux at Path ("/debug/amqpleaks"), or on
// http.DefaultServeMux when mux is nil, and returns it. Importing this
// package registers nothing: only a call of Register puts the page on the
// default mux.
func Register(mux *http.ServeMux, opts ...Option) *Server {
	if mux == nil {
		mux = http.DefaultServeMux
	}
	s := Handler(opts...)
	mux.Handle(Path, s)
	return s
}

// Close stops the background sampler and waits for it. The Server still
// serves requests afterwards.
func (s *Server) Close() error {
	s.once.Do(func() {
		if s.smp != nil {
			s.smp.stop()
		}
	})
	return nil
}

// query is a parsed request.
type query struct {
	format string // html, json or text
	mode   string
	rule   string
}

var knownParams = map[string]string{
	"format": "html, json or text",
	"mode":   "profile or full",
	"rule":   "a rule ID",
}

// parseQuery validates the query string.
func parseQuery(r *http.Request) (query, error) {
	var q query
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return q, fmt.Errorf("malformed query string: %v", err)
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := vals[k]
		if _, ok := knownParams[k]; !ok {
			hint := ""
			if k == "debug" {
				hint = " (this is not net/http/pprof: ?mode=full takes a full dump)"
			}
			return q, fmt.Errorf("unknown query parameter %q%s; known: format, mode, rule", k, hint)
		}
		if len(v) > 1 {
			return q, fmt.Errorf("query parameter %q given %d times; give it once", k, len(v))
		}
	}
	switch f := strings.ToLower(vals.Get("format")); f {
	case "", "html", "json", "text":
		q.format = f
	case "txt", "plain":
		q.format = "text"
	default:
		return q, fmt.Errorf("bad format=%q: want html, json or text", vals.Get("format"))
	}
	switch m := strings.ToLower(vals.Get("mode")); m {
	case "", ModeProfile:
		q.mode = ModeProfile
	case ModeFull:
		q.mode = ModeFull
	default:
		return q, fmt.Errorf("bad mode=%q: want profile (the default: goroutine profile, no long pause) or full (one "+
			"text dump, stops the program for its whole duration)", vals.Get("mode"))
	}
	if _, ok := vals["rule"]; ok {
		id := vals.Get("rule")
		if _, found := lookupRule(id); !found {
			return q, fmt.Errorf("bad rule=%q: no such rule; the rules are %s", id, strings.Join(ruleIDs(), ", "))
		}
		q.rule = id
	}
	if q.format == "" {
		q.format = negotiate(r.Header.Get("Accept"))
	}
	return q, nil
}

func ruleIDs() []string {
	var ids []string
	for _, r := range detect.Rules() {
		ids = append(ids, r.ID)
	}
	for _, r := range detect.LiveRules() {
		ids = append(ids, r.ID)
	}
	return ids
}

// negotiate picks html, json or text from an Accept header: the supported
// type with the highest q (ties in the order html, json, text); text when
// nothing matches, as for curl's */*.
func negotiate(accept string) string {
	best, bestQ := "text", 0.0
	rank := map[string]int{"html": 0, "json": 1, "text": 2}
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(fields[0]))
		qv := 1.0
		for _, p := range fields[1:] {
			p = strings.TrimSpace(p)
			if strings.HasPrefix(p, "q=") {
				if f, err := strconv.ParseFloat(p[2:], 64); err == nil {
					qv = f
				}
			}
		}
		var f string
		switch mt {
		case "text/html", "application/xhtml+xml":
			f = "html"
		case "application/json":
			f = "json"
		case "text/plain":
			f = "text"
		default:
			continue
		}
		if qv > bestQ || qv == bestQ && qv > 0 && rank[f] < rank[best] {
			best, bestQ = f, qv
		}
	}
	return best
}

// wroteTracker records whether the authorization hook wrote a response.
type wroteTracker struct {
	http.ResponseWriter
	wrote bool
}

func (w *wroteTracker) WriteHeader(code int) { w.wrote = true; w.ResponseWriter.WriteHeader(code) }
func (w *wroteTracker) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// ServeHTTP serves the page; see the package documentation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if s.o.authorize != nil {
		wt := &wroteTracker{ResponseWriter: w}
		if !s.o.authorize(wt, r) {
			if !wt.wrote {
				http.Error(w, "httpdebug: forbidden", http.StatusForbidden)
			}
			return
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "httpdebug: method "+r.Method+" not allowed; use GET", http.StatusMethodNotAllowed)
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		http.Error(w, "httpdebug: "+err.Error(), http.StatusBadRequest)
		return
	}
	links := linker{base: r.URL.Path, abs: absBase(r)}
	if q.rule != "" {
		rule, _ := lookupRule(q.rule)
		s.writeRule(w, r, q, rule, links)
		return
	}
	setContentType(h, q.format)
	if r.Method == http.MethodHead {
		return
	}
	p, err := s.page(r.Context(), q.mode, links)
	if err != nil {
		http.Error(w, "httpdebug: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err := render(w, q.format, p); err != nil && !errors.Is(err, context.Canceled) {
		// The headers are gone; the connection is all that is left.
		fmt.Fprintf(w, "\nhttpdebug: rendering failed: %v\n", err)
	}
}

func setContentType(h http.Header, format string) {
	switch format {
	case "html":
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "+
			"base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	case "json":
		h.Set("Content-Type", "application/json; charset=utf-8")
	default:
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	h.Add("Vary", "Accept")
}

// absBase is the page's absolute URL, for links in the text form.
func absBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if r.Host == "" {
		return r.URL.Path
	}
	return scheme + "://" + r.Host + r.URL.Path
}

// linker makes links to the page's views.
type linker struct{ base, abs string }

func (l linker) Rule(id string) string    { return l.base + "?rule=" + url.QueryEscape(id) }
func (l linker) AbsRule(id string) string { return l.abs + "?rule=" + url.QueryEscape(id) }

// page captures (or reuses a capture) and assembles what every form shows.
func (s *Server) page(ctx context.Context, mode string, links linker) (*Page, error) {
	cp := s.prof
	if mode == ModeFull {
		cp = s.full
	}
	c, shared, err := cp.get(ctx)
	if err != nil {
		return nil, err
	}
	now := s.o.now()
	p := &Page{
		Input:      fmt.Sprintf("%s of pid %d", inputName(c.Mode), os.Getpid()),
		Report:     c.Report,
		Warnings:   c.Warnings,
		Mode:       c.Mode,
		CapturedAt: c.At,
		Capture: CaptureInfo{
			WallSeconds: c.Wall.Seconds(), AnalysisSeconds: c.Analysis.Seconds(), Bytes: c.Bytes,
			PauseKnown: c.Pause.Known, Pauses: c.Pause.Count, PauseMaxSeconds: c.Pause.Max.Seconds(),
			PauseTotalSeconds: c.Pause.Total.Seconds(),
			Shared:            shared, AgeSeconds: now.Sub(c.At).Seconds(), Truncated: c.Truncated,
		},
		Labels:   c.Labels,
		RuleURLs: map[string]string{},
		links:    links,
		now:      now,
	}
	if c.Err != nil {
		p.Error = c.Err.Error()
	}
	p.Full = s.fullInfo(now)
	if s.smp != nil {
		p.Growth = s.smp.snapshot()
	}
	if len(s.o.sources) > 0 {
		t := &Tracked{Objects: []Object{}}
		for _, src := range s.o.sources {
			t.Objects = append(t.Objects, src.Objects()...)
		}
		t.Findings = liveFindings(t.Objects, now, s.o.th)
		if t.Findings == nil {
			t.Findings = []*detect.Finding{}
		}
		if p.Report != nil {
			t.Ties = ties(p.Report.Findings, t.Objects, t.Findings)
		}
		p.Tracked = t
	}
	if p.Report != nil {
		for _, f := range p.Report.Findings {
			p.RuleURLs[f.Rule] = links.Rule(f.Rule)
		}
	}
	if p.Tracked != nil {
		for _, f := range p.Tracked.Findings {
			p.RuleURLs[f.Rule] = links.Rule(f.Rule)
		}
	}
	return p, nil
}

func inputName(mode string) string {
	if mode == ModeFull {
		return "runtime.Stack dump"
	}
	return "goroutine profile"
}

// fullInfo says what ?mode=full costs and when it may run again.
func (s *Server) fullInfo(now time.Time) FullInfo {
	fi := FullInfo{IntervalSeconds: s.o.fullInterval.Seconds(), Goroutines: runtime.NumGoroutine()}
	perG := defaultPausePerGoroutine.Seconds()
	if l := s.full.lastCapture(); l != nil {
		fi.LastAt = &l.At
		fi.LastWallSeconds = l.Wall.Seconds()
		fi.LastPauseMaxSeconds = l.Pause.Max.Seconds()
		fi.LastGoroutines = 0
		if l.Report != nil {
			fi.LastGoroutines = l.Report.Goroutines
			if l.Pause.Known && l.Pause.Max > 0 && l.Report.Goroutines >= 1000 {
				perG = l.Pause.Max.Seconds() / float64(l.Report.Goroutines)
			}
		}
		if next := l.At.Add(s.o.fullInterval); next.After(now) {
			fi.NextInSeconds = next.Sub(now).Seconds()
		}
	}
	fi.EstimatePauseSeconds = perG * float64(fi.Goroutines)
	return fi
}

// Page is what a request shows, and its JSON form: the object stackscan
// -format json writes for one input (input, report, warnings, error), with
// the live fields added after them.
type Page struct {
	Input    string         `json:"input"`
	Report   *detect.Report `json:"report,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	Error    string         `json:"error,omitempty"`

	// Mode is "profile" or "full"; CapturedAt when the capture was taken.
	Mode       string      `json:"mode"`
	CapturedAt time.Time   `json:"captured_at"`
	Capture    CaptureInfo `json:"capture"`
	// Full says what ?mode=full costs here and when it may run again.
	Full FullInfo `json:"full"`
	// Labels are the most common pprof label sets.
	Labels []LabelCount `json:"labels,omitempty"`
	// Growth is the sampler's view (with WithSampler only).
	Growth *Growth `json:"growth,omitempty"`
	// Tracked are the live objects and their findings (with WithSource).
	Tracked *Tracked `json:"tracked,omitempty"`
	// RuleURLs links each rule of the findings to its explanation.
	RuleURLs map[string]string `json:"rule_urls"`

	links linker
	now   time.Time
}

// CaptureInfo is what the capture behind a page cost.
type CaptureInfo struct {
	WallSeconds     float64 `json:"wall_seconds"`
	AnalysisSeconds float64 `json:"analysis_seconds"`
	Bytes           int     `json:"bytes"`
	// PauseKnown is false when the runtime has no pause metric. Pauses is
	// how many stop-the-world pauses (not the garbage collector's) the
	// process had during the capture, PauseMaxSeconds the longest (upper
	// bound of its histogram bucket) and PauseTotalSeconds their sum.
	PauseKnown        bool    `json:"pause_known"`
	Pauses            uint64  `json:"pauses"`
	PauseMaxSeconds   float64 `json:"pause_max_seconds"`
	PauseTotalSeconds float64 `json:"pause_total_seconds"`
	// Shared is true when the capture was taken for an earlier or
	// concurrent request; AgeSeconds is how old it is.
	Shared     bool    `json:"shared"`
	AgeSeconds float64 `json:"age_seconds"`
	Truncated  bool    `json:"truncated,omitempty"`
}

// FullInfo is the cost and rate limit of ?mode=full.
type FullInfo struct {
	IntervalSeconds float64 `json:"interval_seconds"`
	// Goroutines is how many goroutines the program has now, and
	// EstimatePauseSeconds how long a full dump would stop it: from the
	// last full dump's pause per goroutine, or 10 µs per goroutine.
	Goroutines           int        `json:"goroutines"`
	EstimatePauseSeconds float64    `json:"estimate_pause_seconds"`
	LastAt               *time.Time `json:"last_at,omitempty"`
	LastWallSeconds      float64    `json:"last_wall_seconds,omitempty"`
	LastPauseMaxSeconds  float64    `json:"last_pause_max_seconds,omitempty"`
	LastGoroutines       int        `json:"last_goroutines,omitempty"`
	NextInSeconds        float64    `json:"next_in_seconds,omitempty"`
}

// Tracked are the objects of the Sources, the findings they prove, and
// the ties between the report's findings and them.
type Tracked struct {
	Objects  []Object          `json:"objects"`
	Findings []*detect.Finding `json:"findings"`
	Ties     []Tie             `json:"ties,omitempty"`
}
