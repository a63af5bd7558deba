package detect

import (
	"fmt"
	"sort"
	"strings"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// Finding is one rule matched on a set of goroutines. Its JSON form is
// stable (see docs/json.md): fields are only ever added.
type Finding struct {
	Rule     string   `json:"rule"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	// Message says what this dump shows, in one or two sentences.
	Message string `json:"message"`
	// Library is the client's module path; Version its version ("" when
	// the dump does not show it) and VersionNote how it was found.
	Library     string `json:"library"`
	Version     string `json:"version,omitempty"`
	VersionNote string `json:"version_note,omitempty"`
	// Connection and Channel are the addresses of the *Connection and
	// *Channel involved, when the dump shows them.
	Connection string `json:"connection,omitempty"`
	Channel    string `json:"channel,omitempty"`
	// Goroutines are the stuck goroutines the rule is about; Collateral
	// those blocked because of them (on the connection's locks or replies).
	Goroutines []GoroutineRef `json:"goroutines"`
	Collateral []GoroutineRef `json:"collateral,omitempty"`
	// Count is how many goroutines the finding covers, collateral included.
	Count int `json:"count"`
	// MaxWaitMinutes is the longest wait shown; WaitKnown is false when the
	// input has no wait times (debug=1, proto).
	MaxWaitMinutes int  `json:"max_wait_minutes"`
	WaitKnown      bool `json:"wait_known"`
	// Evidence are the frames of the first goroutine that show the problem,
	// innermost first.
	Evidence []Frame `json:"evidence"`
	Why      string  `json:"why"`
	Fix      string  `json:"fix"`
	// Unknown lists what the input cannot tell for this finding.
	Unknown []string `json:"unknown,omitempty"`
}

// GoroutineRef names one goroutine (or one aggregated stack) of a finding.
type GoroutineRef struct {
	ID          int64  `json:"id,omitempty"`
	Count       int    `json:"count"`
	State       string `json:"state"`
	WaitMinutes int    `json:"wait_minutes,omitempty"`
	Role        string `json:"role"`
	// At is the innermost library frame ("(*Channel).shutdown.func1
	// channel.go:114") and App the innermost application frame.
	At  string `json:"at"`
	App string `json:"app,omitempty"`
}

// Frame is one evidence frame.
type Frame struct {
	Func string `json:"func"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Kind is "app", "amqp", or "runtime" (the runtime and standard library).
	Kind string `json:"kind"`
}

// Report is everything detect found in one dump.
type Report struct {
	// Format is the input format ("traceback", "debug1", "proto").
	Format string `json:"format"`
	// Goroutines is how many goroutines the dump holds.
	Goroutines int `json:"goroutines"`
	// AMQPGoroutines is how many of them run AMQP client code.
	AMQPGoroutines int `json:"amqp_goroutines"`
	// Connections is how many connection reader goroutines there are.
	Connections int        `json:"connections"`
	Findings    []*Finding `json:"findings"`
	// Unknown lists what this input cannot tell at all.
	Unknown []string `json:"unknown,omitempty"`
	Summary Summary  `json:"summary"`
}

// Summary describes the whole dump, so a report is useful when no rule
// fires.
type Summary struct {
	ByState []StateCount `json:"by_state"`
	// Groups are the largest groups of identical stacks.
	Groups []Group `json:"groups"`
	// GroupCount is how many distinct stacks there are in all.
	GroupCount int `json:"group_count"`
	// Sites are all the goroutines by where they wait (see Site), largest
	// first, for Compare. They are not part of the JSON form.
	Sites []Site `json:"-"`
}

// StateCount is how many goroutines are in one state.
type StateCount struct {
	State string `json:"state"`
	Count int    `json:"count"`
}

// Group is a set of goroutines with identical stacks.
type Group struct {
	Count   int     `json:"count"`
	State   string  `json:"state"`
	MinWait int     `json:"min_wait_minutes"`
	MaxWait int     `json:"max_wait_minutes"`
	IDs     []int64 `json:"ids,omitempty"`
	// Top is the innermost application frame (or the innermost frame when
	// no application code runs); Frames the whole stack.
	Top       Frame   `json:"top"`
	Frames    []Frame `json:"frames"`
	CreatedBy Frame   `json:"created_by"`
}

// Option configures an Analyzer.
type Option func(*Analyzer)

// WithPileupThreshold sets how many open connections of one program count as
// a pile-up (rule connection-pileup). Default 10.
func WithPileupThreshold(n int) Option { return func(a *Analyzer) { a.pileup = n } }

// WithMinWait sets how many minutes a goroutine must have waited before the
// wait-time rules (rpc-stuck, consumer-unread) report it. Default 1.
func WithMinWait(minutes int) Option { return func(a *Analyzer) { a.minWait = minutes } }

// WithMaxGroups sets how many stack groups the summary lists. Default 20.
func WithMaxGroups(n int) Option { return func(a *Analyzer) { a.maxGroups = n } }

// Analyzer matches the catalog against goroutines fed to it one at a time.
// It keeps the goroutines that run AMQP code and one sample per distinct
// stack, so its memory grows with those, not with the dump.
type Analyzer struct {
	pileup, minWait, maxGroups int

	format  stackparse.Format
	total   int
	amqp    []*gor
	grouper stackparse.Grouper
	hasIDs  bool
	// isAMQP remembers per stack whether it runs AMQP code, so only the
	// first goroutine of each stack is searched for library frames.
	isAMQP map[*stackparse.Group]bool
	// waiters are application goroutines parked in their own code on a
	// channel receive or select (at most maxWaiters).
	waiters []*stackparse.Goroutine
}

// New returns an Analyzer.
func New(opts ...Option) *Analyzer {
	a := &Analyzer{pileup: 10, minWait: 1, maxGroups: 20, isAMQP: map[*stackparse.Group]bool{}}
	a.grouper.KeepIDs = 20
	for _, o := range opts {
		o(a)
	}
	return a
}

// SetFormat records the input format, which decides what is unknown.
func (a *Analyzer) SetFormat(f stackparse.Format) { a.format = f }

// Add feeds one goroutine. The Analyzer copies what it keeps, so g may be
// reused by its Reader afterwards.
func (a *Analyzer) Add(g *stackparse.Goroutine) {
	a.total += g.Count
	grp := a.grouper.Add(g)
	if g.ID != 0 {
		a.hasIDs = true
	}
	amqp, seen := a.isAMQP[grp]
	if seen && !amqp {
		a.noteWaiter(g)
		return
	}
	x := classify(g)
	if !seen {
		a.isAMQP[grp] = x != nil
	}
	if x != nil {
		a.amqp = append(a.amqp, x)
	} else {
		a.noteWaiter(g)
	}
}

// maxWaiters bounds how many application goroutines parked on a channel
// are kept for the rules that need them.
const maxWaiters = 32

// noteWaiter keeps application goroutines parked on a channel receive: in
// their own code, below only runtime frames. In debug=1 the wait reason of
// such a goroutine is not shown, so any goroutine parked in its own code
// counts.
func (a *Analyzer) noteWaiter(g *stackparse.Goroutine) {
	if len(a.waiters) >= maxWaiters {
		return
	}
	switch g.State {
	case "chan receive", "select", stackparse.StateUnknown:
	default:
		return
	}
	for _, f := range g.Frames {
		if strings.HasPrefix(f.Func, "runtime.") {
			continue
		}
		if isAppFunc(f.Func) {
			a.waiters = append(a.waiters, g.Clone())
		}
		return
	}
}

// Analyze reads every goroutine of r and returns the report. On a read
// error it returns the report of what was read, and the error.
func Analyze(r *stackparse.Reader, opts ...Option) (*Report, error) {
	a := New(opts...)
	for r.Next() {
		if a.format == stackparse.FormatAuto {
			a.format = r.Format()
		}
		a.Add(r.Goroutine())
	}
	a.SetFormat(r.Format())
	return a.Report(), r.Err()
}

// Report matches the catalog and returns the findings, most severe first.
// Call it once, after the last Add.
func (a *Analyzer) Report() *Report {
	s := newSnapshot(a)
	var findings []*Finding
	for _, r := range catalog {
		fs := r.match(s, r)
		for _, f := range fs {
			s.finish(f, r)
		}
		findings = append(findings, fs...)
		if r.ID == collateralAfter {
			s.attachCollateral(findings)
		}
	}
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].Severity > findings[j].Severity })
	rep := &Report{
		Format:         a.format.String(),
		Goroutines:     a.total,
		AMQPGoroutines: s.amqpCount,
		Connections:    s.readers,
		Findings:       findings,
		Unknown:        s.unknownInput(),
		Summary:        a.summary(),
	}
	if rep.Findings == nil {
		rep.Findings = []*Finding{}
	}
	return rep
}

func (a *Analyzer) summary() Summary {
	var sm Summary
	groups := a.grouper.Groups()
	states := map[string]int{}
	for _, g := range groups {
		states[g.Sample.State] += g.Count
	}
	for st, n := range states {
		sm.ByState = append(sm.ByState, StateCount{State: st, Count: n})
	}
	sort.Slice(sm.ByState, func(i, j int) bool {
		if sm.ByState[i].Count != sm.ByState[j].Count {
			return sm.ByState[i].Count > sm.ByState[j].Count
		}
		return sm.ByState[i].State < sm.ByState[j].State
	})
	sm.GroupCount = len(groups)
	sm.Sites = sites(groups)
	for i, g := range groups {
		if i == a.maxGroups {
			break
		}
		gr := Group{Count: g.Count, State: g.Sample.State, MinWait: g.MinWait, MaxWait: g.MaxWait, IDs: g.IDs,
			Frames: frames(g.Sample.Frames, len(g.Sample.Frames)), CreatedBy: frameOf(g.Sample.CreatedBy)}
		gr.Top = topFrame(g.Sample)
		sm.Groups = append(sm.Groups, gr)
	}
	return sm
}

// topFrame is the innermost application frame, else the innermost frame.
func topFrame(g *stackparse.Goroutine) Frame {
	for _, f := range g.Frames {
		if isAppFunc(f.Func) {
			return frameOf(f)
		}
	}
	if len(g.Frames) > 0 {
		return frameOf(g.Frames[0])
	}
	return Frame{}
}

func frameOf(f stackparse.Frame) Frame {
	kind := "runtime"
	if lib, _ := libOf(f.Func); lib != "" {
		kind = "amqp"
	} else if isAppFunc(f.Func) {
		kind = "app"
	}
	return Frame{Func: f.Func, File: f.File, Line: f.Line, Kind: kind}
}

func frames(fs []stackparse.Frame, n int) []Frame {
	if n > len(fs) {
		n = len(fs)
	}
	out := make([]Frame, 0, n)
	for _, f := range fs[:n] {
		out = append(out, frameOf(f))
	}
	return out
}

// snapshot is what the rules read: the AMQP goroutines and indexes.
type snapshot struct {
	a         *Analyzer
	gs        []*gor
	byConn    map[string][]*gor
	chanConn  map[string]string // *Channel address → *Connection address
	readers   int
	amqpCount int
}

func newSnapshot(a *Analyzer) *snapshot {
	s := &snapshot{a: a, gs: a.amqp, byConn: map[string][]*gor{}, chanConn: map[string]string{}}
	for _, x := range s.gs {
		s.amqpCount += x.g.Count
		if x.role == RoleReader {
			s.readers += x.g.Count
		}
		if x.conn != "" && x.ch != "" {
			s.chanConn[x.ch] = x.conn
		}
	}
	// With a single connection in the dump, every goroutine of its library
	// is on it, whatever its frames show.
	only := ""
	if s.readers == 1 {
		for _, x := range s.gs {
			if x.role == RoleReader {
				only = x.conn
			}
		}
	}
	for _, x := range s.gs {
		if x.conn == "" && x.ch != "" {
			x.conn = s.chanConn[x.ch]
		}
		if x.conn == "" {
			x.conn = only
		}
		if x.conn != "" {
			s.byConn[x.conn] = append(s.byConn[x.conn], x)
		}
	}
	return s
}

// waitKnown reports whether the input carries wait times.
func (s *snapshot) waitKnown() bool { return s.a.format == stackparse.FormatTraceback }

// unclaimed returns the goroutines no finding has reported yet that keep.
func (s *snapshot) unclaimed(keep func(*gor) bool) []*gor {
	var out []*gor
	for _, x := range s.gs {
		if !x.claimed && keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// perGoroutine makes one finding per group of matching goroutines: those of
// one connection (or, when addresses are unknown, of one library version
// and stack) go together.
func (s *snapshot) perGoroutine(r *Rule, xs []*gor, msg func(x *gor) string) []*Finding {
	var out []*Finding
	byKey := map[string]*Finding{}
	for _, x := range xs {
		key := x.lib + "\x00" + x.version + "\x00" + x.conn
		if x.conn == "" {
			key += "\x00" + stackparse.StackKey(x.g)
		}
		f, ok := byKey[key]
		if !ok {
			f = &Finding{Connection: x.conn, Channel: x.ch, Message: msg(x)}
			byKey[key] = f
			out = append(out, f)
		}
		s.claim(f, x)
	}
	return out
}

// claim adds x to f's goroutines.
func (s *snapshot) claim(f *Finding, x *gor) {
	x.claimed = true
	f.Goroutines = append(f.Goroutines, ref(x))
	if len(f.Goroutines) == 1 {
		f.Library, f.Version = x.lib, x.version
		f.Evidence = evidence(x)
	}
	f.Count += x.g.Count
	if x.g.WaitMinutes > f.MaxWaitMinutes {
		f.MaxWaitMinutes = x.g.WaitMinutes
	}
}

func ref(x *gor) GoroutineRef {
	in := x.inner()
	at := in.name
	if in.idx >= 0 {
		f := x.g.Frames[in.idx]
		at += fmt.Sprintf(" %s:%d", baseName(f.File), f.Line)
	}
	r := GoroutineRef{ID: x.g.ID, Count: x.g.Count, State: x.state, WaitMinutes: x.g.WaitMinutes, Role: x.role, At: at}
	if app := x.appFrame(); app != nil {
		r.App = fmt.Sprintf("%s %s:%d", app.Func, baseName(app.File), app.Line)
	} else if app := x.g.CreatedBy; isAppFunc(app.Func) {
		r.App = fmt.Sprintf("created by %s %s:%d", app.Func, baseName(app.File), app.Line)
	}
	return r
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// evidence is the stack of x from its innermost library frame's caller
// chain: the runtime frames above it are left out.
func evidence(x *gor) []Frame {
	start := x.inner().idx
	if start < 0 {
		start = 0
	}
	out := frames(x.g.Frames[start:], 12)
	if x.g.CreatedBy.Func != "" {
		cb := frameOf(x.g.CreatedBy)
		cb.Func = "created by " + cb.Func
		out = append(out, cb)
	}
	return out
}

// finish fills in the rule's text and what the input cannot tell.
func (s *snapshot) finish(f *Finding, r *Rule) {
	f.Rule, f.Title, f.Why, f.Fix = r.ID, r.Title, r.Why, r.Fix
	if f.Severity == 0 {
		f.Severity = r.Severity // a matcher may have lowered it
	}
	f.WaitKnown = s.waitKnown()
	if f.Version == "" {
		f.VersionNote = versionNote(s, f)
	} else {
		f.VersionNote = "read from the module path in the frames' file names"
	}
	if !s.waitKnown() {
		f.Unknown = append(f.Unknown, "how long the goroutines have waited ("+s.a.format.String()+" input has no wait times)")
	}
	if s.a.format != stackparse.FormatTraceback {
		f.Unknown = append(f.Unknown, "goroutine IDs and receiver addresses, so connections cannot be told apart")
	}
}

// versionNote says what the frames tell of the version when the file paths
// do not (vendored or -trimpath builds without module versions), from
// functions that exist only in some versions.
func versionNote(s *snapshot, f *Finding) string {
	if f.Library == LibStreadway {
		return "version not in the file paths; all streadway/amqp versions behave alike here"
	}
	for _, x := range s.gs {
		if x.lib != LibAMQP091 {
			continue
		}
		for _, lf := range x.lf {
			switch {
			case strings.HasPrefix(lf.method, "(*lifeCycle)."):
				return "version not in the file paths; (*lifeCycle) frames exist only in v1.16.0 and later"
			case lf.method == "notifyAll":
				return "version not in the file paths; notifyAll (bounded sends) exists only in v1.13.0 and later"
			}
		}
	}
	switch f.Rule {
	case "conn-notifyclose-unread", "chan-notifyclose-unread", "return-unread", "cancel-unread", "flow-unread", "blocked-unread":
		return "version not in the file paths; a plain blocking send here means v1.11.x or earlier"
	}
	return "version unknown: the file paths carry no module version"
}

// attachCollateral hands each finding of a stuck connection the goroutines
// of that connection that wait on it (its locks, its replies), so they are
// reported under their cause rather than as findings of their own.
func (s *snapshot) attachCollateral(findings []*Finding) {
	var critical []*Finding
	for _, f := range findings {
		if f.Severity >= Critical {
			critical = append(critical, f)
		}
	}
	attach := func(f *Finding, x *gor) {
		x.claimed = true
		f.Collateral = append(f.Collateral, ref(x))
		f.Count += x.g.Count
	}
	// First the goroutines whose connection the dump shows.
	for _, f := range critical {
		if f.Connection == "" {
			continue
		}
		for _, x := range s.byConn[f.Connection] {
			if !x.claimed && blockedCaller(x, f.Library) {
				attach(f, x)
			}
		}
	}
	// Then those whose connection the dump does not show (uncertain
	// receiver words, or a *Channel of unknown connection): only when the
	// dump holds a single connection is it certainly theirs. With several,
	// the dump cannot tell, and they stay in the summary.
	if s.readers > 1 {
		return
	}
	for _, f := range critical {
		for _, x := range s.gs {
			if !x.claimed && x.conn == "" && blockedCaller(x, f.Library) && lockOrReply(x) {
				attach(f, x)
			}
		}
	}
}

// blockedCaller reports an application goroutine (or consumer) of lib
// parked inside the library.
func blockedCaller(x *gor, lib string) bool {
	return x.lib == lib && (x.role == RoleCaller || x.role == RoleConsumer) &&
		(x.g.Waiting() || x.state == stackparse.StateUnknown)
}

// lockOrReply reports a goroutine waiting for a lock of the library's
// objects or for an RPC reply: what a stuck reader makes others wait for.
func lockOrReply(x *gor) bool {
	switch x.state {
	case "sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock", "semacquire", stackparse.StateUnknown:
		return true
	case "select", "chan receive":
		return x.innerIs("(*Channel).call", "(*Connection).call")
	}
	return false
}

// unknownInput lists what the input format cannot tell at all.
func (s *snapshot) unknownInput() []string {
	switch s.a.format {
	case stackparse.FormatDebug1:
		return []string{
			"goroutine IDs, wait times and argument words (debug=1 aggregates identical stacks)",
			"wait reasons of goroutines parked in application code: debug=1 hides the runtime frames that tell them",
		}
	case stackparse.FormatProto:
		return []string{"goroutine IDs, wait times and argument words (the proto profile aggregates identical stacks)"}
	}
	return nil
}
