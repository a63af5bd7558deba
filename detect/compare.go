package detect

import (
	"sort"
	"strconv"
	"strings"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// Site is a place where goroutines wait: their state, the innermost
// application frame and the innermost AMQP library frame. A stack with no
// application frame is placed by its top frames and its creator instead.
// Goroutines of different stacks that wait at the same site are counted
// together, so a leak shows as one site that grows from dump to dump.
type Site struct {
	State string `json:"state"`
	// App is the innermost application frame; nil when the stack has none.
	App *Frame `json:"app,omitempty"`
	// Lib is the innermost AMQP library frame; nil when the stack has none.
	Lib *Frame `json:"lib,omitempty"`
	// Top are, when App is nil, the innermost frames outside package
	// runtime (at most siteTopFrames) and then the creator ("created by …").
	Top []Frame `json:"top,omitempty"`
	// Count is how many goroutines wait here; MaxWait the longest wait, in
	// minutes (0 when the input has no wait times).
	Count   int `json:"count"`
	MaxWait int `json:"max_wait_minutes"`
	// IDs are up to siteIDs goroutine IDs, when the input has them.
	IDs []int64 `json:"ids,omitempty"`
}

const (
	// siteTopFrames is how many frames place a stack with no application
	// frame.
	siteTopFrames = 3
	// siteIDs is how many goroutine IDs a Site keeps.
	siteIDs = 10
)

// Key identifies the site across dumps of one program: equal keys are the
// same state at the same lines.
func (s *Site) Key() string {
	var b strings.Builder
	b.WriteString(s.State)
	put := func(tag string, f *Frame) {
		b.WriteString("\x00" + tag + f.Func + " " + f.File + ":" + strconv.Itoa(f.Line))
	}
	if s.App != nil {
		put("app ", s.App)
	}
	if s.Lib != nil {
		put("lib ", s.Lib)
	}
	for i := range s.Top {
		put("top ", &s.Top[i])
	}
	return b.String()
}

// siteOf places one goroutine.
func siteOf(g *stackparse.Goroutine) Site {
	s := Site{State: g.State}
	for i := range g.Frames {
		f := &g.Frames[i]
		if s.Lib == nil {
			if lib, _ := libOf(f.Func); lib != "" {
				fr := frameOf(*f)
				s.Lib = &fr
			}
		}
		if s.App == nil && isAppFunc(f.Func) {
			fr := frameOf(*f)
			s.App = &fr
		}
	}
	if s.App != nil {
		return s
	}
	for _, f := range g.Frames {
		if len(s.Top) == siteTopFrames {
			break
		}
		if !strings.HasPrefix(f.Func, "runtime.") {
			s.Top = append(s.Top, frameOf(f))
		}
	}
	if g.CreatedBy.Func != "" {
		cb := frameOf(g.CreatedBy)
		cb.Func = "created by " + cb.Func
		s.Top = append(s.Top, cb)
	}
	return s
}

// sites merges the stack groups into sites, largest first.
func sites(groups []*stackparse.Group) []Site {
	var out []Site
	byKey := map[string]int{}
	for _, g := range groups {
		s := siteOf(g.Sample)
		k := s.Key()
		i, ok := byKey[k]
		if !ok {
			i = len(out)
			byKey[k] = i
			out = append(out, s)
		}
		x := &out[i]
		x.Count += g.Count
		if g.MaxWait > x.MaxWait {
			x.MaxWait = g.MaxWait
		}
		for _, id := range g.IDs {
			if len(x.IDs) < siteIDs {
				x.IDs = append(x.IDs, id)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

// Diff is what changed from one dump of a program to a later one.
type Diff struct {
	// BaseFormat and Format are the formats of the two dumps.
	BaseFormat string `json:"base_format"`
	Format     string `json:"format"`
	// BaseGoroutines and Goroutines are how many goroutines each holds.
	BaseGoroutines int `json:"base_goroutines"`
	Goroutines     int `json:"goroutines"`
	// Grown are the sites where more goroutines wait than in the base
	// (including sites the base did not have), largest growth first.
	// Running and runnable goroutines are not waiting and are left out.
	Grown []SiteDelta `json:"grown"`
	// New are the findings that the base does not have, Resolved those of
	// the base that are gone, and Persisting how many are in both.
	New        []*Finding `json:"new_findings"`
	Resolved   []*Finding `json:"resolved_findings"`
	Persisting int        `json:"persisting_findings"`
	// Notes says what makes the comparison less certain.
	Notes []string `json:"notes,omitempty"`
}

// SiteDelta is a site whose goroutine count changed: Count (of the Site) in
// the later dump, Base in the base, Delta the difference.
type SiteDelta struct {
	Site
	Base  int `json:"base_count"`
	Delta int `json:"delta"`
}

// Compare reports what changed from base to cur, two reports of the same
// program (the same binary: sites are matched by file and line). Sites are
// taken from Summary.Sites, so both reports must come from Report, not
// from their JSON form, which leaves the sites out.
//
// A finding of cur is new when no finding of base has the same rule and
// either the same connection (when both show one) or the same evidence
// frames: a leak that repeats on every reconnect shows as a new finding
// for each new connection.
func Compare(base, cur *Report) *Diff {
	d := &Diff{
		BaseFormat: base.Format, Format: cur.Format,
		BaseGoroutines: base.Goroutines, Goroutines: cur.Goroutines,
		Grown: []SiteDelta{}, New: []*Finding{}, Resolved: []*Finding{},
	}
	if base.Format != cur.Format {
		d.Notes = append(d.Notes, "the dumps have different formats ("+base.Format+", "+cur.Format+
			"): states and frames differ between formats, so sites may not match")
	}
	before := map[string]int{}
	for i := range base.Summary.Sites {
		s := &base.Summary.Sites[i]
		before[s.Key()] += s.Count
	}
	for _, s := range cur.Summary.Sites {
		if s.State == "running" || s.State == "runnable" {
			continue
		}
		if b := before[s.Key()]; s.Count > b {
			d.Grown = append(d.Grown, SiteDelta{Site: s, Base: b, Delta: s.Count - b})
		}
	}
	sort.SliceStable(d.Grown, func(i, j int) bool {
		if d.Grown[i].Delta != d.Grown[j].Delta {
			return d.Grown[i].Delta > d.Grown[j].Delta
		}
		return d.Grown[i].Count > d.Grown[j].Count
	})
	for _, f := range cur.Findings {
		if matchFinding(f, base.Findings) {
			d.Persisting++
		} else {
			d.New = append(d.New, f)
		}
	}
	for _, f := range base.Findings {
		if !matchFinding(f, cur.Findings) {
			d.Resolved = append(d.Resolved, f)
		}
	}
	return d
}

// matchFinding reports whether fs holds a finding of f's rule about the
// same connection or with the same evidence.
func matchFinding(f *Finding, fs []*Finding) bool {
	for _, g := range fs {
		if g.Rule != f.Rule {
			continue
		}
		if f.Connection != "" && g.Connection != "" {
			if f.Connection == g.Connection && f.Channel == g.Channel {
				return true
			}
			continue
		}
		if evidenceKey(f) == evidenceKey(g) {
			return true
		}
	}
	return false
}

// evidenceKey is the evidence frames' functions and lines.
func evidenceKey(f *Finding) string {
	var b strings.Builder
	for _, e := range f.Evidence {
		b.WriteString(e.Func + ":" + strconv.Itoa(e.Line) + "\x00")
	}
	return b.String()
}
