package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); when it
// is empty the main module's version from the build info is printed.
var version string

// Exit statuses.
const (
	exitOK       = 0 // no finding at or above -fail-on
	exitFindings = 1 // findings at or above -fail-on
	exitError    = 2 // usage or input error
)

// terminal says what stdout and stderr are connected to.
type terminal struct {
	// color is true when stdout is a terminal and NO_COLOR is unset.
	color bool
	// progress is true when stderr is a terminal.
	progress bool
}

func main() {
	term := terminal{
		color:    isTerminal(os.Stdout) && os.Getenv("NO_COLOR") == "",
		progress: isTerminal(os.Stderr),
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, term))
}

// run is the whole command; it returns the exit status. A bug that panics
// is reported in one line, like any other error, not as a Go stack trace.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, term terminal) (status int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "stackscan: internal error (please report it): %s\n", strings.Join(strings.Fields(fmt.Sprint(p)), " "))
			status = exitError
		}
	}()
	return command(args, stdin, stdout, stderr, term)
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// config is the parsed command line.
type config struct {
	format      string // text, json or html
	inputFormat stackparse.Format
	failOn      detect.Severity // 0: never fail on findings
	failGrow    int
	timeout     time.Duration
	maxBytes    int64
	base        string
	opts        []detect.Option
	term        terminal
}

// usageError is a mistake on the command line: exit status 2, with a hint.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// command parses the command line and does what it says.
func command(args []string, stdin io.Reader, stdout, stderr io.Writer, term terminal) int {
	fs := flag.NewFlagSet("stackscan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		format      = fs.String("format", "text", "output `format`: text, json or html")
		inputFormat = fs.String("input-format", "auto", "input `format`: auto, traceback (debug=2), debug1 or proto")
		failOn      = fs.String("fail-on", "warning", "exit 1 when a finding is at or above this `severity`: info, warning, critical or none")
		failGrow    = fs.Int("fail-grow", 0, "with -base, also exit 1 when a site grew by at least `n` goroutines (0: growth never fails)")
		timeout     = fs.Duration("timeout", 30*time.Second, "time limit for fetching each URL input")
		maxBytes    = byteSize(4 << 30)
		base        = fs.String("base", "", "compare each input with this earlier dump of the same process (`file` or URL)")
		minWait     = fs.Int("min-wait", 1, "`minutes` a goroutine must have waited before the wait-time rules (rpc-dead-conn, consumer-unread) report it")
		pileup      = fs.Int("pileup", 10, "open connections that count as a pile-up (rule conn-pileup)")
		groups      = fs.Int("groups", 10, "how many of the largest stack groups the summary lists")
		rules       = fs.Bool("rules", false, "list the rule catalog and exit")
		explain     = fs.String("explain", "", "print the full text of rule `ID` and exit")
		showVersion = fs.Bool("version", false, "print the version and build information and exit")
	)
	fs.Var(&maxBytes, "max-bytes", "stop reading an input after this many `bytes` (suffixes KiB, MiB, GiB, KB, MB, GB)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: stackscan [flags] input...\n\n"+
			"Inputs are files, - for stdin, or http(s) URLs such as /debug/pprof/goroutine?debug=2.\n"+
			"Exit status: 0 no finding at or above -fail-on, 1 findings, 2 usage or input error.\n"+
			"See go doc github.com/amqpleaks/amqpleaks/cmd/stackscan.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError // the flag package has printed the error and usage
	}
	switch {
	case *showVersion:
		printVersion(stdout)
		return exitOK
	case *rules:
		printRules(stdout)
		return exitOK
	case *explain != "":
		r, ok := detect.Lookup(*explain)
		if !ok {
			fmt.Fprintf(stderr, "stackscan: unknown rule %q (stackscan -rules lists them)\n", *explain)
			return exitError
		}
		explainRule(stdout, r)
		return exitOK
	}

	cfg, err := newConfig(*format, *inputFormat, *failOn, *failGrow, *timeout, int64(maxBytes), *base)
	if err == nil && fs.NArg() == 0 {
		err = &usageError{"no input (give files, - for stdin, or URLs)"}
	}
	if err != nil {
		fmt.Fprintf(stderr, "stackscan: %v\n", err)
		fmt.Fprintf(stderr, "run stackscan -h for usage\n")
		return exitError
	}
	cfg.term = term
	cfg.opts = []detect.Option{detect.WithMinWait(*minWait), detect.WithPileupThreshold(*pileup), detect.WithMaxGroups(*groups)}
	return scanAll(cfg, fs.Args(), stdin, stdout, stderr)
}

// newConfig checks the flags' values.
func newConfig(format, inputFormat, failOn string, failGrow int, timeout time.Duration, maxBytes int64, base string) (*config, error) {
	cfg := &config{format: format, failGrow: failGrow, timeout: timeout, maxBytes: maxBytes, base: base}
	switch format {
	case "text", "json", "html":
	default:
		return nil, &usageError{fmt.Sprintf("-format %q: want text, json or html", format)}
	}
	f, ok := stackparse.ParseFormat(inputFormat)
	if !ok {
		return nil, &usageError{fmt.Sprintf("-input-format %q: want auto, traceback, debug1 or proto", inputFormat)}
	}
	cfg.inputFormat = f
	if failOn != "none" {
		s, err := detect.ParseSeverity(failOn)
		if err != nil {
			return nil, &usageError{fmt.Sprintf("-fail-on %q: want info, warning, critical or none", failOn)}
		}
		cfg.failOn = s
	}
	if failGrow < 0 || timeout <= 0 || maxBytes <= 0 {
		return nil, &usageError{"-fail-grow must not be negative, -timeout and -max-bytes must be positive"}
	}
	return cfg, nil
}

// result is what became of one input.
type result struct {
	Input string
	// Report is nil when nothing could be read.
	Report *detect.Report
	// Base and Diff are set with -base.
	Base     string
	Diff     *detect.Diff
	Warnings []string
	// Err stopped the reading; Report is then partial.
	Err error
}

// failing reports whether the result makes the exit status 1.
func (r *result) failing(cfg *config) bool {
	if r.Report == nil {
		return false
	}
	findings := r.Report.Findings
	if r.Diff != nil {
		findings = r.Diff.New
		for _, g := range r.Diff.Grown {
			if cfg.failGrow > 0 && g.Delta >= cfg.failGrow {
				return true
			}
		}
	}
	for _, f := range findings {
		if cfg.failOn != 0 && f.Severity >= cfg.failOn {
			return true
		}
	}
	return false
}

// scanAll reads every input, writes the output and returns the exit status.
func scanAll(cfg *config, inputs []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var progress io.Writer
	if cfg.term.progress {
		progress = stderr
	}
	var base *detect.Report
	if cfg.base != "" {
		res := scanInput(cfg, cfg.base, stdin, progress)
		if res.Err != nil {
			fmt.Fprintf(stderr, "stackscan: base: %v\n", oneLine(res.Err))
			return exitError
		}
		base = res.Report
	}
	out := newRenderer(cfg, stdout)
	status := exitOK
	for _, in := range inputs {
		res := scanInput(cfg, in, stdin, progress)
		if base != nil && res.Report != nil {
			res.Base = cfg.base
			res.Diff = detect.Compare(base, res.Report)
		}
		if err := out.add(res); err != nil {
			fmt.Fprintf(stderr, "stackscan: writing output: %v\n", oneLine(err))
			return exitError
		}
		switch {
		case res.Err != nil:
			fmt.Fprintf(stderr, "stackscan: %s\n", oneLine(res.Err))
			status = exitError
		default:
			for i, w := range res.Warnings {
				if i == maxWarningsShown {
					fmt.Fprintf(stderr, "stackscan: %s: %d more warnings\n", res.Input, len(res.Warnings)-i)
					break
				}
				fmt.Fprintf(stderr, "stackscan: warning: %s\n", strings.Join(strings.Fields(w), " "))
			}
			if res.failing(cfg) && status == exitOK {
				status = exitFindings
			}
		}
	}
	if err := out.close(); err != nil {
		fmt.Fprintf(stderr, "stackscan: writing output: %v\n", oneLine(err))
		return exitError
	}
	return status
}

// maxWarningsShown is how many parser warnings per input go to stderr.
const maxWarningsShown = 5

// scanInput reads one input and analyzes it.
func scanInput(cfg *config, name string, stdin io.Reader, progress io.Writer) *result {
	res := &result{Input: name}
	rc, err := openInput(cfg, name, stdin)
	if err != nil {
		res.Err = err
		return res
	}
	defer rc.Close()
	if name == "-" {
		res.Input = stdinName
	}
	r := stackparse.NewReader(rc, stackparse.WithName(res.Input), stackparse.WithFormat(cfg.inputFormat),
		stackparse.WithMaxBytes(cfg.maxBytes))
	a := detect.New(cfg.opts...)
	n := 0
	nextReport := progressLines
	for r.Next() {
		a.Add(r.Goroutine())
		n++
		if progress != nil && r.Lines() >= nextReport {
			lines := fmt.Sprint(r.Lines())
			if r.Lines() >= 1e6 {
				lines = fmt.Sprintf("%.1fM", float64(r.Lines())/1e6)
			}
			fmt.Fprintf(progress, "\rstackscan: %s: %s lines, %d MB read", res.Input, lines, r.Bytes()>>20)
			nextReport += progressLines
		}
	}
	if progress != nil && nextReport > progressLines {
		fmt.Fprint(progress, "\r\x1b[K")
	}
	a.SetFormat(r.Format())
	for _, w := range r.Warnings() {
		res.Warnings = append(res.Warnings, w.Error())
	}
	if more := r.WarningCount() - len(r.Warnings()); more > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %d more warnings not kept", res.Input, more))
	}
	res.Err = r.Err()
	if n > 0 {
		res.Report = a.Report()
	}
	return res
}

// progressLines is how often, in lines, progress is shown (a variable
// for the tests).
var progressLines = 1_000_000

// stdinName names the standard input in messages and output.
const stdinName = "stdin"

// byteSize is a flag value of bytes with an optional unit suffix.
type byteSize int64

// String returns the size with the largest unit that divides it.
func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range units {
		if n >= u.n && n%u.n == 0 {
			return strconv.FormatInt(n/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// units are the suffixes byteSize accepts, largest first.
var units = []struct {
	name string
	n    int64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
}

// Set parses "4GiB", "100MB", "65536".
func (b *byteSize) Set(s string) error {
	mult := int64(1)
	num := s
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.name)) {
			mult, num = u.n, strings.TrimSpace(s[:len(s)-len(u.name)])
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return fmt.Errorf("want a positive number of bytes, optionally with KiB, MiB, GiB, KB, MB or GB")
	}
	*b = byteSize(n * mult)
	return nil
}

// printVersion prints the version and the build's module information.
func printVersion(w io.Writer) {
	bi, ok := debug.ReadBuildInfo()
	v := version
	if v == "" && ok {
		v = bi.Main.Version
	}
	if v == "" {
		v = "(unknown)"
	}
	fmt.Fprintf(w, "stackscan %s\n", v)
	if !ok {
		fmt.Fprintln(w, "no build information (not built with module support)")
		return
	}
	fmt.Fprintf(w, "path %s\n", bi.Path)
	fmt.Fprintf(w, "module %s %s\n", bi.Main.Path, bi.Main.Version)
	fmt.Fprintf(w, "go %s\n", bi.GoVersion)
	for _, s := range bi.Settings {
		if strings.HasPrefix(s.Key, "vcs") {
			fmt.Fprintf(w, "%s %s\n", s.Key, s.Value)
		}
	}
	for _, d := range bi.Deps {
		fmt.Fprintf(w, "dep %s %s\n", d.Path, d.Version)
	}
}

// printRules lists the catalog: ID, severity, title.
func printRules(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE")
	for _, r := range detect.Rules() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Title)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nstackscan -explain ID prints a rule's full text.")
}

// explainRule prints everything the catalog says of one rule.
func explainRule(w io.Writer, r *detect.Rule) {
	fmt.Fprintf(w, "%s — %s\n", r.ID, r.Title)
	fmt.Fprintf(w, "Severity: %s\n\n", r.Severity)
	para := func(label, text string) {
		if text == "" {
			return
		}
		fmt.Fprintf(w, "%s:\n%s\n", label, wrap(text, 78, "  "))
	}
	para("Versions", r.Versions)
	para("What the goroutines show", r.Shows)
	para("Why it is a bug", r.Why)
	para("Fix", r.Fix)
	if r.Example != "" {
		fmt.Fprintln(w, "Example:")
		for _, l := range strings.Split(strings.TrimSpace(r.Example), "\n") {
			fmt.Fprintln(w, "  "+strings.ReplaceAll(l, "\t", "    "))
		}
		fmt.Fprintln(w)
	}
	para("What a dump cannot tell", r.Limits)
	if len(r.References) > 0 {
		fmt.Fprintln(w, "References:")
		for _, ref := range r.References {
			fmt.Fprintln(w, "  "+ref)
		}
	}
}
