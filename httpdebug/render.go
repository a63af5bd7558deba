package httpdebug

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/internal/textfmt"
)

func render(w io.Writer, format string, p *Page) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "html":
		return htmlPage.Execute(w, p)
	}
	bw := bufio.NewWriter(w)
	writeText(bw, p)
	return bw.Flush()
}

// Helpers used by the templates and the text form.

var plural = textfmt.Plural

// headline sums up a report in one line.
func headline(rep *detect.Report) string {
	s := fmt.Sprintf("%s, %d in AMQP code, %s; ", plural(rep.Goroutines, "goroutine"), rep.AMQPGoroutines,
		plural(rep.Connections, "connection"))
	if len(rep.Findings) == 0 {
		return s + "no findings"
	}
	return s + countFindings(rep.Findings)
}

func countFindings(fs []*detect.Finding) string {
	count := map[detect.Severity]int{}
	for _, f := range fs {
		count[f.Severity]++
	}
	var parts []string
	for _, sev := range []detect.Severity{detect.Critical, detect.Warning, detect.Info} {
		if count[sev] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[sev], sev))
		}
	}
	return plural(len(fs), "finding") + " (" + strings.Join(parts, ", ") + ")"
}

func waitText(f *detect.Finding) string {
	switch {
	case !f.WaitKnown:
		return "unknown in this mode"
	case f.MaxWaitMinutes == 0:
		return "under a minute"
	}
	return "up to " + plural(f.MaxWaitMinutes, "minute")
}

func dur(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(100 * time.Millisecond).String()
}

// costLine says what the capture behind the page cost.
func (p *Page) CostLine() string {
	c := p.Capture
	s := fmt.Sprintf("taking it took %s", dur(c.WallSeconds))
	if c.PauseKnown {
		if c.Pauses == 0 {
			s += " with no stop-the-world pause"
		} else {
			s += fmt.Sprintf(", stopping the program for at most %s (%s)", dur(c.PauseMaxSeconds), plural(int(c.Pauses), "pause"))
		}
	}
	s += fmt.Sprintf("; analysing it %s", dur(c.AnalysisSeconds))
	return s
}

// AgeLine says how old the capture is and whether it was shared.
func (p *Page) AgeLine() string {
	s := "taken " + p.CapturedAt.Format("2006-01-02 15:04:05 MST")
	if p.Capture.AgeSeconds >= 1 {
		s += ", " + ago(time.Duration(p.Capture.AgeSeconds*float64(time.Second))) + " ago"
	}
	if p.Capture.Shared {
		s += " (shared with another request: captures are rate-limited)"
	}
	return s
}

// FullLine says what ?mode=full costs and when it may run again.
func (p *Page) FullLine() string {
	f := p.Full
	s := fmt.Sprintf("?mode=full takes one text dump of every goroutine (IDs, wait minutes, and receiver addresses that "+
		"tie findings to connections). The program is stopped for the whole dump: with %s now, about %s",
		plural(f.Goroutines, "goroutine"), dur(f.EstimatePauseSeconds))
	if f.LastAt != nil && f.LastGoroutines > 0 {
		s += fmt.Sprintf(" (the last one here stopped it for up to %s with %s)", dur(f.LastPauseMaxSeconds),
			plural(f.LastGoroutines, "goroutine"))
	}
	if f.IntervalSeconds == 0 {
		s += ". There is no rate limit"
	} else {
		s += fmt.Sprintf(". At most one runs every %s", ago(secondsDur(f.IntervalSeconds)))
	}
	if f.NextInSeconds > 0 {
		s += fmt.Sprintf("; for %s more it shows the last dump", ago(secondsDur(f.NextInSeconds)))
	}
	return s + "."
}

// Tie returns the tie of the i-th finding of the report, if any.
func (p *Page) Tie(i int) *Tie {
	if p.Tracked == nil {
		return nil
	}
	for k := range p.Tracked.Ties {
		if p.Tracked.Ties[k].Finding == i {
			return &p.Tracked.Ties[k]
		}
	}
	return nil
}

// Now is the time the page was made.
func (p *Page) Now() time.Time { return p.now }

func secondsDur(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// RuleLink is the link to a rule's explanation.
func (p *Page) RuleLink(id string) string { return p.links.Rule(id) }

// Link is the page in another mode and format.
func (p *Page) Link(mode, format string) string {
	q := []string{}
	if mode != ModeProfile {
		q = append(q, "mode="+mode)
	}
	if format != "" {
		q = append(q, "format="+format)
	}
	if len(q) == 0 {
		return p.links.base
	}
	return p.links.base + "?" + strings.Join(q, "&")
}

// Rules lists the catalog and the live rules, for the page's footer.
func (p *Page) Rules() []*detect.Rule {
	return append(append([]*detect.Rule(nil), detect.Rules()...), detect.LiveRules()...)
}

func tieText(t *Tie) string {
	var parts []string
	if t.Connection != "" {
		parts = append(parts, fmt.Sprintf("connection %q", t.Connection))
	}
	if t.Channel != "" {
		parts = append(parts, fmt.Sprintf("channel %q", t.Channel))
	}
	how := "by address"
	if t.By != "address" {
		how = "the only tracked object whose shutdown is stuck; this mode shows no addresses"
	}
	return "tracked as " + strings.Join(parts, ", ") + " (" + how + ")"
}

func objState(o Object, now time.Time) string {
	switch {
	case o.Closed != nil && o.CloseError != nil:
		return fmt.Sprintf("closed %s ago: %d %s%s", ago(now.Sub(*o.Closed)), o.CloseError.Code, o.CloseError.Reason, byServer(o.CloseError))
	case o.Closed != nil:
		return fmt.Sprintf("closed by the application %s ago", ago(now.Sub(*o.Closed)))
	case o.CloseError != nil:
		return fmt.Sprintf("closing for %s, not finished: %d %s%s", ago(now.Sub(o.CloseError.At)), o.CloseError.Code,
			o.CloseError.Reason, byServer(o.CloseError))
	case o.Blocked != nil:
		return fmt.Sprintf("blocked by the broker for %s (%s)", ago(now.Sub(o.Blocked.Since)), o.Blocked.Reason)
	}
	return fmt.Sprintf("open for %s", ago(now.Sub(o.Opened)))
}

func byServer(e *CloseError) string {
	if e.Server {
		return " (from the broker)"
	}
	return ""
}

func siteText(s detect.Site) []detect.Frame {
	var out []detect.Frame
	if s.App != nil {
		out = append(out, *s.App)
	}
	if s.Lib != nil {
		out = append(out, *s.Lib)
	}
	out = append(out, s.Top...)
	return out
}

// sparkline returns the points of an SVG polyline of counts in a w×h box.
func sparkline(counts []int, w, h float64) string {
	if len(counts) == 0 {
		return ""
	}
	lo, hi := minOf(counts), maxOf(counts)
	var b strings.Builder
	for i, c := range counts {
		x := 1.0
		if len(counts) > 1 {
			x = 1 + float64(i)*(w-2)/float64(len(counts)-1)
		}
		y := h / 2
		if hi > lo {
			y = h - 2 - float64(c-lo)*(h-4)/float64(hi-lo)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x, y)
	}
	return b.String()
}

func countsText(counts []int) string {
	parts := make([]string, len(counts))
	for i, c := range counts {
		parts[i] = fmt.Sprint(c)
	}
	return strings.Join(parts, " → ")
}

var wrap = textfmt.Wrap

const (
	textRefs   = 5
	textFrames = 12
	textGroups = 10
)

// writeText writes the page for a terminal.
func writeText(w *bufio.Writer, p *Page) {
	fmt.Fprintf(w, "amqpleaks: %s, %s\n", p.Input, p.AgeLine())
	fmt.Fprint(w, wrap(capital(p.CostLine())+".", 78, ""))
	if p.Error != "" {
		fmt.Fprintf(w, "ERROR: %s\n", p.Error)
	}
	for _, warn := range p.Warnings {
		fmt.Fprint(w, wrap("warning: "+warn, 78, ""))
	}
	rep := p.Report
	if rep == nil {
		return
	}
	fmt.Fprintf(w, "\n%s\n", headline(rep))
	for _, u := range rep.Unknown {
		fmt.Fprint(w, wrap("This mode cannot show "+u+".", 78, ""))
	}
	for i, f := range rep.Findings {
		fmt.Fprintln(w)
		textFinding(w, p, i+1, f, p.Tie(i))
	}
	if t := p.Tracked; t != nil {
		fmt.Fprintf(w, "\nTracked AMQP objects: %s", plural(len(t.Objects), "object"))
		if len(t.Findings) > 0 {
			fmt.Fprintf(w, "; %s that goroutine stacks cannot show", countFindings(t.Findings))
		}
		fmt.Fprintln(w)
		for i, f := range t.Findings {
			fmt.Fprintln(w)
			textFinding(w, p, i+1, f, nil)
		}
		if len(t.Objects) > 0 {
			fmt.Fprintln(w)
		}
		for _, o := range t.Objects {
			name := o.Name
			if o.Kind == "channel" && o.ConnName != "" {
				name = o.ConnName + "/" + o.Name
			}
			fmt.Fprintf(w, "  %-10s %-24s #%d %s  %s\n", o.Kind, name, o.Generation, o.Addr, objState(o, p.now))
		}
	}
	if g := p.Growth; g != nil {
		fmt.Fprintf(w, "\nSampler: %s every %s, %s followed; ", plural(len(g.Times), "sample"),
			ago(time.Duration(g.Every*float64(time.Second))), plural(g.Tracked, "site"))
		if len(g.Growing) == 0 {
			fmt.Fprintln(w, "no site keeps growing.")
		} else {
			fmt.Fprintf(w, "%s growing:\n", plural(len(g.Growing), "site"))
		}
		for _, s := range g.Growing {
			fmt.Fprintf(w, "  %+d [%s] %s\n", s.Growth, s.State, countsText(s.Counts))
			for _, f := range siteText(s.Site) {
				fmt.Fprintf(w, "      %s %s:%d\n", f.Func, path.Base(f.File), f.Line)
			}
		}
		if g.LastError != "" {
			fmt.Fprintf(w, "  last sample failed: %s\n", g.LastError)
		}
	}
	sm := rep.Summary
	fmt.Fprintf(w, "\nSummary: %s in %s.\nBy state:", plural(rep.Goroutines, "goroutine"), plural(sm.GroupCount, "distinct stack"))
	for i, s := range sm.ByState {
		if i > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprintf(w, " %d %s", s.Count, s.State)
	}
	fmt.Fprintln(w)
	for i, g := range sm.Groups {
		if i == textGroups {
			fmt.Fprintf(w, "  … %d more groups (?format=json lists %d)\n", len(sm.Groups)-textGroups, len(sm.Groups))
			break
		}
		wait := ""
		if g.MaxWait > 0 {
			wait = fmt.Sprintf(", %d min", g.MaxWait)
		}
		if g.Top.Func == "" {
			fmt.Fprintf(w, "  %6d [%s%s] (no frames)\n", g.Count, g.State, wait)
			continue
		}
		fmt.Fprintf(w, "  %6d [%s%s] %s %s:%d\n", g.Count, g.State, wait, g.Top.Func, path.Base(g.Top.File), g.Top.Line)
	}
	if len(p.Labels) > 0 {
		fmt.Fprintln(w, "\npprof labels (goroutines per label set):")
		for _, l := range p.Labels {
			fmt.Fprintf(w, "  %6d %s\n", l.Count, labelText(l.Labels))
		}
	}
	fmt.Fprintf(w, "\n%s", wrap(p.FullLine(), 78, ""))
	fmt.Fprintf(w, "Formats: ?format=html, ?format=json, ?format=text. Rules: %s\n", p.links.abs+"?rule=ID")
}

func labelText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// small maps: insertion sort keeps it dependency-free and stable
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func textFinding(w *bufio.Writer, p *Page, n int, f *detect.Finding, tie *Tie) {
	fmt.Fprintf(w, "%d. %s %s  %s\n", n, strings.ToUpper(f.Severity.String()), f.Rule, f.Title)
	fmt.Fprintf(w, "   %s\n", textfmt.Where(f, "in this mode"))
	if tie != nil {
		fmt.Fprint(w, wrap(tieText(tie), 78, "   "))
	}
	if len(f.Goroutines)+len(f.Collateral) > 0 {
		fmt.Fprintf(w, "   %s, wait %s\n", plural(f.Count, "goroutine"), waitText(f))
	}
	refs := func(label string, rs []detect.GoroutineRef) {
		if len(rs) == 0 {
			return
		}
		fmt.Fprintf(w, "   %s:\n", label)
		for i, r := range rs {
			if i == textRefs {
				fmt.Fprintf(w, "     … %d more\n", len(rs)-textRefs)
				break
			}
			id := fmt.Sprintf("×%d", r.Count)
			if r.ID != 0 {
				id = fmt.Sprintf("#%d", r.ID)
			}
			line := fmt.Sprintf("     %-7s [%s] %s at %s", id, r.State, r.Role, r.At)
			if r.App != "" {
				line += " from " + r.App
			}
			fmt.Fprintln(w, line)
		}
	}
	refs("stuck", f.Goroutines)
	refs("blocked by it", f.Collateral)
	fmt.Fprintln(w)
	fmt.Fprint(w, wrap(f.Message, 78, "   "))
	if len(f.Evidence) > 0 {
		fmt.Fprintln(w, "   Evidence (innermost first; > marks application code):")
		for i, fr := range f.Evidence {
			if i == textFrames+1 {
				break
			}
			mark := "  "
			if fr.Kind == "app" {
				mark = "> "
			}
			fmt.Fprintf(w, "   %s%s\n", mark, fr.Func)
			if fr.File != "" {
				fmt.Fprintf(w, "         %s:%d\n", fr.File, fr.Line)
			}
		}
	}
	fmt.Fprintf(w, "   Fix:\n%s", wrap(f.Fix, 78, "     "))
	for _, u := range f.Unknown {
		fmt.Fprint(w, wrap("This mode cannot tell "+u+".", 78, "   "))
	}
	fmt.Fprintf(w, "   Why and how to fix: %s\n", p.links.AbsRule(f.Rule))
}

// RuleJSON is the JSON form of a rule's page.
type RuleJSON struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Severity   string   `json:"severity"`
	Versions   string   `json:"versions"`
	Shows      string   `json:"shows"`
	Why        string   `json:"why"`
	Fix        string   `json:"fix"`
	Example    string   `json:"example,omitempty"`
	Limits     string   `json:"limits,omitempty"`
	References []string `json:"references,omitempty"`
	// Live is true for the rules of tracked objects (not in docs/rules.md).
	Live bool `json:"live"`
}

type rulePage struct {
	*detect.Rule
	Live bool
	Back string
}

func isLive(r *detect.Rule) bool {
	for _, l := range detect.LiveRules() {
		if l == r {
			return true
		}
	}
	return false
}

func (s *Server) writeRule(w http.ResponseWriter, r *http.Request, q query, rule *detect.Rule, links linker) {
	setContentType(w.Header(), q.format)
	if r.Method == http.MethodHead {
		return
	}
	live := isLive(rule)
	switch q.format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(RuleJSON{ID: rule.ID, Title: rule.Title, Severity: rule.Severity.String(), Versions: rule.Versions,
			Shows: rule.Shows, Why: rule.Why, Fix: rule.Fix, Example: rule.Example, Limits: rule.Limits,
			References: rule.References, Live: live})
	case "html":
		_ = rulePageTmpl.Execute(w, rulePage{Rule: rule, Live: live, Back: links.base})
	default:
		bw := bufio.NewWriter(w)
		fmt.Fprintf(bw, "%s  [%s]\n%s\n\n", rule.ID, rule.Severity, rule.Title)
		for _, sec := range []struct{ name, text string }{{"Library versions", rule.Versions}, {"What the goroutines show", rule.Shows},
			{"Why it is a bug", rule.Why}, {"Fix", rule.Fix}} {
			if sec.text != "" {
				fmt.Fprintf(bw, "%s:\n%s\n", sec.name, wrap(sec.text, 78, "  "))
			}
		}
		if rule.Example != "" {
			fmt.Fprintln(bw, "Example:")
			for _, l := range strings.Split(rule.Example, "\n") {
				fmt.Fprintf(bw, "    %s\n", l)
			}
			fmt.Fprintln(bw)
		}
		if rule.Limits != "" {
			fmt.Fprintf(bw, "What this cannot prove:\n%s\n", wrap(rule.Limits, 78, "  "))
		}
		if len(rule.References) > 0 {
			fmt.Fprintln(bw, "References:")
			for _, ref := range rule.References {
				fmt.Fprintf(bw, "  %s\n", ref)
			}
		}
		if live {
			fmt.Fprintln(bw, "\nThis rule is proven by tracked objects (amqptrack), not by goroutine stacks.")
		}
		_ = bw.Flush()
	}
}
