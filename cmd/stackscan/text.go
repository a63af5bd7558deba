package main

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/internal/textfmt"
)

// renderer writes the results in one output format.
type renderer interface {
	// add writes (or keeps, for formats written whole) one input's result.
	add(res *result) error
	// close ends the output.
	close() error
}

func newRenderer(cfg *config, w io.Writer) renderer {
	switch cfg.format {
	case "json":
		return newJSONRenderer(w)
	case "html":
		return &htmlRenderer{w: w}
	}
	return &textRenderer{w: bufio.NewWriter(w), st: style{on: cfg.term.color}}
}

// style adds ANSI terminal attributes when on.
type style struct{ on bool }

func (s style) wrap(code, text string) string {
	if !s.on || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) bold(t string) string { return s.wrap("1", t) }
func (s style) dim(t string) string  { return s.wrap("2", t) }

// severity colours a severity name: critical red, warning yellow, info cyan.
func (s style) severity(sev detect.Severity, t string) string {
	switch sev {
	case detect.Critical:
		return s.wrap("1;31", t)
	case detect.Warning:
		return s.wrap("1;33", t)
	}
	return s.wrap("1;36", t)
}

// frame highlights application frames and dims runtime ones.
func (s style) frame(kind, t string) string {
	switch kind {
	case "app":
		return s.bold(t)
	case "runtime":
		return s.dim(t)
	}
	return t
}

// textRenderer writes the report for a person.
type textRenderer struct {
	w  *bufio.Writer
	st style
	n  int
}

// Limits of the text output; the JSON output has everything.
const (
	refsShown   = 5  // goroutines listed per finding (and as many collateral)
	idsShown    = 10 // IDs of the goroutines beyond those
	grownShown  = 15 // grown sites listed with -base
	stuckFrames = 12 // evidence frames (the report keeps at most 12 and the creator)
)

func (t *textRenderer) add(res *result) error {
	w, st, rep := t.w, t.st, res.Report
	if rep == nil {
		return nil // nothing read: the error on stderr says why
	}
	if t.n > 0 {
		fmt.Fprintln(w)
	}
	t.n++
	fmt.Fprintf(w, "%s: %s\n", st.bold(res.Input), headline(rep))
	if res.Err != nil {
		fmt.Fprintf(w, "PARTIAL REPORT: reading stopped at an error: %s\n", oneLine(res.Err))
	}
	for _, u := range rep.Unknown {
		fmt.Fprint(w, wrap("This input cannot show "+u+".", 78, ""))
	}
	findings := rep.Findings
	if res.Diff != nil {
		t.diff(res)
		findings = res.Diff.New
		if len(findings) > 0 {
			fmt.Fprintf(w, "\nNew findings since the base:\n")
		}
	}
	for i, f := range findings {
		fmt.Fprintln(w)
		t.finding(i+1, f)
	}
	t.summary(rep)
	return w.Flush()
}

func (t *textRenderer) close() error { return t.w.Flush() }

// headline sums up a report in one line.
func headline(rep *detect.Report) string {
	s := fmt.Sprintf("%s, %s dump; %d in AMQP code, %s; ", plural(rep.Goroutines, "goroutine"), rep.Format,
		rep.AMQPGoroutines, plural(rep.Connections, "connection"))
	if len(rep.Findings) == 0 {
		return s + "no findings"
	}
	count := map[detect.Severity]int{}
	for _, f := range rep.Findings {
		count[f.Severity]++
	}
	var parts []string
	for _, sev := range []detect.Severity{detect.Critical, detect.Warning, detect.Info} {
		if count[sev] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[sev], sev))
		}
	}
	return s + plural(len(rep.Findings), "finding") + " (" + strings.Join(parts, ", ") + ")"
}

var plural = textfmt.Plural

// finding writes one finding.
func (t *textRenderer) finding(n int, f *detect.Finding) {
	w, st := t.w, t.st
	fmt.Fprintf(w, "%d. %s %s  %s\n", n, st.severity(f.Severity, strings.ToUpper(f.Severity.String())), st.bold(f.Rule), f.Title)
	fmt.Fprintf(w, "   %s\n", textfmt.Where(f, "in this dump"))
	fmt.Fprintf(w, "   %s, %s\n", plural(f.Count, "goroutine"), waitText(f))
	t.refs("stuck", f.Goroutines)
	t.refs("blocked by it", f.Collateral)
	fmt.Fprintln(w)
	fmt.Fprint(w, wrap(f.Message, 78, "   "))
	fmt.Fprintf(w, "\n   Evidence (innermost first; %s marks application code):\n", st.bold(">"))
	for i, fr := range f.Evidence {
		if i == stuckFrames+1 {
			break
		}
		mark := "  "
		if fr.Kind == "app" {
			mark = st.bold("> ")
		}
		fmt.Fprintf(w, "   %s%s\n", mark, st.frame(fr.Kind, fr.Func))
		if fr.File != "" {
			fmt.Fprintf(w, "         %s\n", st.dim(fmt.Sprintf("%s:%d", fr.File, fr.Line)))
		}
	}
	fmt.Fprintf(w, "\n   %s\n%s", st.bold("Why:"), wrap(f.Why, 78, "     "))
	fmt.Fprintf(w, "   %s\n%s", st.bold("Fix:"), wrap(f.Fix, 78, "     "))
	if f.VersionNote != "" && f.Version == "" {
		fmt.Fprintf(w, "   %s\n%s", st.bold("Version:"), wrap(f.VersionNote, 78, "     "))
	}
	if len(f.Unknown) > 0 {
		fmt.Fprintf(w, "   %s\n", st.bold("This dump cannot tell:"))
		for _, u := range f.Unknown {
			fmt.Fprint(w, wrap("- "+u, 78, "     "))
		}
	}
	fmt.Fprintf(w, "   %s\n", st.dim("stackscan -explain "+f.Rule+" tells more."))
}

// waitText says how long a finding's goroutines waited.
func waitText(f *detect.Finding) string {
	switch {
	case !f.WaitKnown:
		return "wait unknown"
	case f.MaxWaitMinutes == 0:
		return "waiting under a minute"
	}
	return fmt.Sprintf("waiting up to %s", plural(f.MaxWaitMinutes, "minute"))
}

// refs lists the first goroutines of a finding and the IDs of the rest.
func (t *textRenderer) refs(label string, refs []detect.GoroutineRef) {
	if len(refs) == 0 {
		return
	}
	w := t.w
	fmt.Fprintf(w, "   %s:\n", label)
	for i, r := range refs {
		if i == refsShown {
			break
		}
		id := fmt.Sprintf("×%d", r.Count)
		if r.ID != 0 {
			id = fmt.Sprintf("#%d", r.ID)
		}
		state := r.State
		if r.WaitMinutes > 0 {
			state += fmt.Sprintf(", %d min", r.WaitMinutes)
		}
		line := fmt.Sprintf("     %-7s [%s] %s at %s", id, state, r.Role, r.At)
		if r.App != "" {
			line += " from " + t.st.bold(r.App)
		}
		fmt.Fprintln(w, line)
	}
	if rest := refs[min(len(refs), refsShown):]; len(rest) > 0 {
		var ids []string
		n := 0
		for _, r := range rest {
			n += r.Count
			if r.ID != 0 && len(ids) < idsShown {
				ids = append(ids, fmt.Sprint(r.ID))
			}
		}
		more := fmt.Sprintf("     and %s more", plural(n, "goroutine"))
		if len(ids) > 0 {
			more += ": " + strings.Join(ids, ", ")
			if len(ids) < len(rest) {
				more += ", …"
			}
		}
		fmt.Fprintln(w, more)
	}
}

// diff writes what changed since the base.
func (t *textRenderer) diff(res *result) {
	w, st, d := t.w, t.st, res.Diff
	fmt.Fprintf(w, "\nCompared with %s (%d → %d goroutines): %d new, %d resolved, %d persisting findings\n",
		st.bold(res.Base), d.BaseGoroutines, d.Goroutines, len(d.New), len(d.Resolved), d.Persisting)
	for _, n := range d.Notes {
		fmt.Fprint(w, wrap("Note: "+n, 78, "   "))
	}
	if len(d.Grown) == 0 {
		fmt.Fprintln(w, "   No waiting site grew.")
	} else {
		fmt.Fprintln(w, "   Waiting sites that grew (base → now, delta):")
		for i, g := range d.Grown {
			if i == grownShown {
				fmt.Fprintf(w, "   and %d more (-format json lists all)\n", len(d.Grown)-i)
				break
			}
			fmt.Fprintf(w, "   %6d → %-6d %s  [%s]%s\n", g.Base, g.Count, st.bold(fmt.Sprintf("%+d", g.Delta)), g.State, waitSuffix(g.MaxWait))
			for _, line := range siteLines(g.Site) {
				fmt.Fprintf(w, "        %s\n", st.frame(line.Kind, line.Text))
			}
		}
	}
	isNew := map[*detect.Finding]bool{}
	for _, f := range d.New {
		isNew[f] = true
	}
	for _, f := range res.Report.Findings {
		if !isNew[f] {
			fmt.Fprintf(w, "   Also in the base: %s %s%s\n", f.Severity, f.Rule, connSuffix(f))
		}
	}
	for _, f := range d.Resolved {
		fmt.Fprintf(w, "   Resolved: %s %s%s\n", f.Severity, f.Rule, connSuffix(f))
	}
}

func waitSuffix(minutes int) string {
	if minutes == 0 {
		return ""
	}
	return fmt.Sprintf(", up to %d min", minutes)
}

func connSuffix(f *detect.Finding) string {
	if f.Connection == "" {
		return ""
	}
	return " on connection " + f.Connection
}

// styledLine is a line of text and the kind of frame it shows.
type styledLine struct{ Kind, Text string }

// siteLines describes where a site is: its application and library frames,
// or its top frames.
func siteLines(s detect.Site) []styledLine {
	var out []styledLine
	add := func(prefix string, f *detect.Frame) {
		out = append(out, styledLine{f.Kind, fmt.Sprintf("%s%s %s:%d", prefix, f.Func, path.Base(f.File), f.Line)})
	}
	if s.App != nil {
		add("> ", s.App)
	}
	if s.Lib != nil {
		add("in ", s.Lib)
	}
	if s.App == nil {
		for i := range s.Top {
			if s.Lib != nil && s.Top[i].Func == s.Lib.Func && s.Top[i].Line == s.Lib.Line {
				continue
			}
			add("", &s.Top[i])
		}
	}
	return out
}

// summary writes the state counts and the largest stack groups.
func (t *textRenderer) summary(rep *detect.Report) {
	w, st, sm := t.w, t.st, &rep.Summary
	fmt.Fprintf(w, "\n%s %s in %s\n", st.bold("Summary:"), plural(rep.Goroutines, "goroutine"), plural(sm.GroupCount, "distinct stack"))
	var states []string
	for _, s := range sm.ByState {
		states = append(states, fmt.Sprintf("%d %s", s.Count, s.State))
	}
	fmt.Fprint(w, wrap("By state: "+strings.Join(states, ", "), 78, "   "))
	if len(sm.Groups) == 0 {
		return
	}
	fmt.Fprintf(w, "   Largest groups of identical stacks (%d of %d), by innermost application frame:\n", len(sm.Groups), sm.GroupCount)
	for _, g := range sm.Groups {
		wait := ""
		switch {
		case g.MaxWait > g.MinWait:
			wait = fmt.Sprintf(", %d-%d min", g.MinWait, g.MaxWait)
		case g.MaxWait > 0:
			wait = fmt.Sprintf(", %d min", g.MaxWait)
		}
		top := groupFrame(g)
		mark := "  "
		if top.Kind == "app" {
			mark = st.bold("> ")
		}
		fmt.Fprintf(w, "   %6d  [%s%s] %s%s\n", g.Count, g.State, wait, mark, st.frame(top.Kind, top.Func))
		var detail []string
		if top.File != "" {
			detail = append(detail, fmt.Sprintf("%s:%d", path.Base(top.File), top.Line))
		}
		if g.CreatedBy.Func != "" {
			detail = append(detail, "created by "+g.CreatedBy.Func)
		}
		if len(g.IDs) > 0 {
			var ids []string
			for i, id := range g.IDs {
				if i == idsShown {
					ids = append(ids, "…")
					break
				}
				ids = append(ids, fmt.Sprint(id))
			}
			detail = append(detail, "goroutines "+strings.Join(ids, ", "))
		}
		if len(detail) > 0 {
			fmt.Fprintf(w, "%s%s\n", strings.Repeat(" ", 20), st.dim(strings.Join(detail, "; ")))
		}
	}
}

// groupFrame is the frame that names a group: its innermost application
// frame, else its innermost frame outside package runtime (runtime.gopark
// and its kin say nothing of where the goroutine is).
func groupFrame(g detect.Group) detect.Frame {
	if g.Top.Kind == "app" {
		return g.Top
	}
	for _, f := range g.Frames {
		if !strings.HasPrefix(f.Func, "runtime.") {
			return f
		}
	}
	return g.Top
}

var wrap = textfmt.Wrap

// oneLine keeps an error message on one line, however it was made.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
