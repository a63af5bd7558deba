package leakcheck

import (
	"fmt"
	"strings"
	"time"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// maxFrames is how many frames of each group's stack the message shows.
const maxFrames = 16

// rulesURL is where each rule is documented.
const rulesURL = "https://github.com/amqpleaks/amqpleaks/blob/main/docs/rules.md#"

// render writes the failure message: the diagnosis first, then the
// goroutines grouped by stack.
func render(e *LeakError) string {
	var b strings.Builder
	n := 0
	for _, g := range e.Goroutines {
		n += g.Count
	}
	who := "found"
	if e.Test != "" {
		who = e.Test + " leaked"
	}
	fmt.Fprintf(&b, "leakcheck: %s %d goroutine%s still running after %s", who, n, plural(n), e.Waited.Round(time.Millisecond))
	if e.Label != "" {
		fmt.Fprintf(&b, " (started under pprof label %s=%s)", LabelKey, e.Label)
	}
	b.WriteString("\n")

	rep := e.Report
	if rep != nil && len(rep.Findings) > 0 {
		for _, f := range rep.Findings {
			renderFinding(&b, f)
		}
	} else {
		b.WriteString("\nNo rule of the amqpleaks catalog matched: the goroutines below were started and never ended.\n" +
			"Close what the test opened (connections, channels, consumers) and stop the goroutines it started before it returns.\n")
	}

	fmt.Fprintf(&b, "\n%d goroutine%s in %d group%s", n, plural(n), len(e.Goroutines), plural(len(e.Goroutines)))
	if e.Detail == stackparse.FormatProto.String() {
		b.WriteString(" (from the goroutine profile: other goroutines had the same stacks and a traceback could not tell which are the test's, so IDs, arguments and creators are not shown)")
	}
	b.WriteString(":\n")
	self := "(the goroutine that ran this check)"
	if e.Test != "" {
		self = "(the test's goroutine)"
	}
	for _, g := range e.Goroutines {
		renderGroup(&b, g, e.Self, self)
	}
	return strings.TrimRight(b.String(), "\n")
}

func renderFinding(b *strings.Builder, f *detect.Finding) {
	fmt.Fprintf(b, "\n[%s] %s: %s\n", f.Severity, f.Rule, f.Title)
	if f.Connection != "" || f.Channel != "" {
		b.WriteString("  ")
		if f.Connection != "" {
			fmt.Fprintf(b, "connection %s", f.Connection)
		}
		if f.Channel != "" {
			if f.Connection != "" {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "channel %s", f.Channel)
		}
		b.WriteString("\n")
	}
	lib := f.Library
	if f.Version != "" {
		lib += " " + f.Version
	}
	if lib != "" {
		fmt.Fprintf(b, "  library: %s\n", lib)
	}
	wrap(b, "  ", "", f.Message)
	wrap(b, "  ", "why: ", f.Why)
	wrap(b, "  ", "fix: ", f.Fix)
	for _, r := range f.Goroutines {
		renderRef(b, "goroutine", r)
	}
	for _, r := range f.Collateral {
		renderRef(b, "blocked by it", r)
	}
	fmt.Fprintf(b, "  more: %s%s\n", rulesURL, f.Rule)
}

func renderRef(b *strings.Builder, what string, r detect.GoroutineRef) {
	id := ""
	if r.ID != 0 {
		id = fmt.Sprintf(" %d", r.ID)
	} else if r.Count > 1 {
		id = fmt.Sprintf(" ×%d", r.Count)
	}
	fmt.Fprintf(b, "  %s%s (%s) [%s] at %s", what, id, r.Role, r.State, r.At)
	if r.App != "" {
		fmt.Fprintf(b, "; app: %s", r.App)
	}
	b.WriteString("\n")
}

func renderGroup(b *strings.Builder, g *stackparse.Group, self int64, selfDesc string) {
	s := g.Sample
	fmt.Fprintf(b, "\n%d goroutine%s [%s]", g.Count, plural(g.Count), s.State)
	if len(g.IDs) > 0 {
		ids := make([]string, len(g.IDs))
		for i, id := range g.IDs {
			ids[i] = fmt.Sprint(id)
		}
		fmt.Fprintf(b, " %s", strings.Join(ids, ", "))
	}
	if v, ok := s.Label(LabelKey); ok {
		fmt.Fprintf(b, " {%s=%s}", LabelKey, v)
	}
	b.WriteString(":\n")
	shown := 0
	for _, f := range s.Frames {
		if hiddenRuntime(f.Func) && s.ID == 0 {
			continue // profiles keep the runtime frames tracebacks hide
		}
		if shown == maxFrames {
			fmt.Fprintf(b, "    … %d more frames\n", len(s.Frames)-shown)
			break
		}
		fmt.Fprintf(b, "    %s\n        %s:%d\n", f.Func, f.File, f.Line)
		shown++
	}
	if s.CreatedBy.Func != "" {
		fmt.Fprintf(b, "    created by %s\n        %s:%d", s.CreatedBy.Func, s.CreatedBy.File, s.CreatedBy.Line)
		if s.CreatorID != 0 {
			fmt.Fprintf(b, " in goroutine %d", s.CreatorID)
			if s.CreatorID == self {
				b.WriteString(" " + selfDesc)
			}
		}
		b.WriteString("\n")
	}
	if app := appOrigin(s); app != "" {
		fmt.Fprintf(b, "    started from the application at %s\n", app)
	} else if s.CreatedBy.Func != "" && !isApp(s.CreatedBy.Func) && len(s.Ancestors) == 0 && !hasApp(s) {
		b.WriteString("    (run with GODEBUG=tracebackancestors=5 to see the application frames that started it)\n")
	}
}

// appOrigin names the application code that started the goroutine: the
// innermost application frame of its creator's stack when the dump has
// ancestors (GODEBUG=tracebackancestors=N), else the creator itself when it
// is application code, else "".
func appOrigin(s *stackparse.Goroutine) string {
	if isApp(s.CreatedBy.Func) {
		return ""
	}
	for _, a := range s.Ancestors {
		for _, f := range a.Frames {
			if isApp(f.Func) {
				return fmt.Sprintf("%s\n        %s:%d (in goroutine %d)", f.Func, f.File, f.Line, a.ID)
			}
		}
	}
	return ""
}

func hasApp(s *stackparse.Goroutine) bool {
	for _, f := range s.Frames {
		if isApp(f.Func) {
			return true
		}
	}
	return false
}

// isApp reports application code: neither the standard library (no dot in
// the first path element), the AMQP client, nor leakcheck.
func isApp(fn string) bool {
	if fn == "" || isLib(fn) {
		return false
	}
	pkg := funcPkg(fn)
	if pkg == "github.com/amqpleaks/amqpleaks/leakcheck" {
		return false
	}
	first, _, _ := strings.Cut(pkg, "/")
	return strings.Contains(first, ".") || pkg == "main"
}

// wrap writes prefix+text wrapped at 100 columns, continuation lines
// indented under the text.
func wrap(b *strings.Builder, indent, prefix, text string) {
	if text == "" {
		return
	}
	const width = 100
	line := indent + prefix
	cont := indent + strings.Repeat(" ", len(prefix))
	col := len(line)
	b.WriteString(line)
	first := true
	for _, w := range strings.Fields(text) {
		if !first && col+1+len(w) > width {
			b.WriteString("\n" + cont)
			col = len(cont)
			first = true
		}
		if !first {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
		first = false
	}
	b.WriteString("\n")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
