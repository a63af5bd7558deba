// Command stackbench measures goroutine-dump parsers on real dumps: speed
// (MB/s) and peak memory (max RSS), each run in a fresh subprocess so that
// one parser's heap never inflates another's numbers.
//
//	cd bench && go run ./cmd/stackbench                     # 1k,10k,100k (and 1m if -sizes says so)
//	go run ./cmd/stackbench -sizes 1m -runs 1               # the big one, once
//	go run ./cmd/stackbench -json > results.json
//
// Missing dumps are generated first (see cmd/gendumps), in their own process.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/amqpleaks/amqpleaks/bench/internal/gen"
	"github.com/amqpleaks/amqpleaks/bench/internal/parsers"
)

// childArg, as the first argument, makes stackbench measure one parser on
// one file and print a measurement as JSON: the hidden re-exec mode.
const childArg = "-child-measure"

// measurement is what one child reports.
type measurement struct {
	Parser    string         `json:"parser"`
	File      string         `json:"file"`
	Bytes     int64          `json:"bytes"`
	WallNS    int64          `json:"wall_ns"`     // open + parse + close, in the child
	MaxRSSKiB int64          `json:"max_rss_kib"` // getrusage(RUSAGE_SELF).ru_maxrss of the child
	Result    parsers.Result `json:"result"`
	Err       string         `json:"error,omitempty"`
}

func main() {
	gen.MaybeChild()
	if len(os.Args) == 4 && os.Args[1] == childArg {
		child(os.Args[2], os.Args[3])
		return
	}

	var (
		dir        = flag.String("dir", "/tmp/amqpleaks-bench", "directory holding (or receiving) dump-SIZE.txt")
		sizesFlag  = flag.String("sizes", "1k,10k,100k", "comma-separated dump sizes in goroutines (k = 1000, m = 1000000); add 1m for the 1M dump")
		parserList = flag.String("parsers", strings.Join(parsers.Names(), ","), "comma-separated parsers to run")
		runs       = flag.Int("runs", 3, "runs per parser and size; the table reports the BEST (shortest) wall time and the LARGEST peak RSS seen")
		skipPP     = flag.Int("skip-panicparse-above", 100000, "skip panicparse on dumps of more goroutines than this (it holds the whole dump, ~20 GiB at 1M); -1 never skips")
		forcePP    = flag.Bool("force-panicparse", false, "run panicparse at every size, whatever -skip-panicparse-above says")
		jsonOut    = flag.Bool("json", false, "print JSON instead of the Markdown tables")
		jsonFile   = flag.String("json-out", "", "also write the JSON to this file (the Markdown still goes to stdout)")
		generate   = flag.Bool("generate", true, "generate missing dumps (as cmd/gendumps does)")
		age        = flag.Duration("age", 61*time.Second, "when generating: how long goroutines stay parked before the dump (headers then show \", 1 minutes\")")
		formats    = flag.Bool("formats", true, "also time stackparse on the debug=1 text and the proto of sizes that have them")
		timeout    = flag.Duration("timeout", 30*time.Minute, "limit on one measurement")
	)
	flag.Parse()

	sizes, err := gen.ParseSizes(*sizesFlag)
	if err != nil {
		fatal(err)
	}
	ps, err := parsers.Select(*parserList)
	if err != nil {
		fatal(err)
	}
	for _, p := range ps {
		if p.Name == "stackscan" && os.Getenv(parsers.StackscanEnv) == "" {
			bin, err := buildStackscan()
			if err != nil {
				fatal(err)
			}
			defer os.RemoveAll(filepath.Dir(bin))
			os.Setenv(parsers.StackscanEnv, bin)
		}
	}
	if *runs < 1 {
		*runs = 1
	}
	if *forcePP {
		*skipPP = -1
	}

	rep := &report{
		GoVersion:  runtime.Version(),
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Runs:       *runs,
		Policy:     fmt.Sprintf("best (minimum) wall time of %d run(s); peak RSS is the largest of those runs; each run a fresh process", *runs),
		MBDef:      "MB = 10^6 bytes; MB/s = dump bytes / wall time of open+parse+close in the child",
		Started:    time.Now().UTC().Format(time.RFC3339),
	}

	for _, n := range sizes {
		sz, err := runSize(n, ps, *dir, *runs, *skipPP, *generate, *age, *formats, *timeout, rep)
		if err != nil {
			fatal(err)
		}
		rep.Sizes = append(rep.Sizes, sz)
	}

	if *jsonFile != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonFile, append(b, '\n'), 0o644); err != nil {
			fatal(err)
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		return
	}
	printMarkdown(os.Stdout, rep)
}

// buildStackscan builds cmd/stackscan of the module this benchmark replaces
// into a temporary directory.
func buildStackscan() (string, error) {
	dir, err := os.MkdirTemp("", "stackbench")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "stackscan")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/amqpleaks/amqpleaks/cmd/stackscan").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building stackscan: %v: %s", err, out)
	}
	return bin, nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "stackbench:", err)
	os.Exit(1)
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
}

// ---------------------------------------------------------------- child

func child(parserName, file string) {
	m := measurement{Parser: parserName, File: file}
	p, ok := parsers.Lookup(parserName)
	if !ok {
		m.Err = "unknown parser " + parserName
	} else {
		t0 := time.Now()
		f, err := os.Open(file)
		if err == nil {
			var st os.FileInfo
			if st, err = f.Stat(); err == nil {
				m.Bytes = st.Size()
			}
			m.Result, err = p.Parse(f, filepath.Base(file))
			f.Close()
		}
		m.WallNS = time.Since(t0).Nanoseconds()
		if err != nil {
			m.Err = err.Error()
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		m.MaxRSSKiB = int64(ru.Maxrss) // KiB on Linux
	}
	// A parser that runs a program (the stackscan binary) is measured by
	// that program's peak.
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err == nil && int64(ru.Maxrss) > 0 {
		m.MaxRSSKiB = int64(ru.Maxrss)
	}
	json.NewEncoder(os.Stdout).Encode(m)
}

// measure runs one parser on one file in a fresh process.
func measure(parser, file string, timeout time.Duration) (measurement, error) {
	exe, err := os.Executable()
	if err != nil {
		return measurement{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, childArg, parser, file)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	runErr := cmd.Run()
	var m measurement
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		msg := strings.TrimSpace(errb.String())
		if ctx.Err() != nil {
			return measurement{}, fmt.Errorf("timed out after %s", timeout)
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			msg = fmt.Sprintf("killed by %s (out of memory?) %s", ws.Signal(), lastLine(msg))
		} else if runErr != nil {
			msg = fmt.Sprintf("%v: %s", runErr, lastLine(msg))
		}
		return measurement{}, errors.New(msg)
	}
	return m, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// ---------------------------------------------------------------- parent

type report struct {
	GoVersion  string        `json:"go_version"`
	NumCPU     int           `json:"num_cpu"`
	GOMAXPROCS int           `json:"gomaxprocs"`
	Runs       int           `json:"runs"`
	Policy     string        `json:"policy"`
	MBDef      string        `json:"mb"`
	Started    string        `json:"started"`
	Sizes      []*sizeResult `json:"sizes"`
}

type sizeResult struct {
	Label    string       `json:"label"`
	File     string       `json:"file"`
	Bytes    int64        `json:"bytes"`
	Expected int          `json:"expected_goroutines"` // runtime.NumGoroutine() when the dump was taken
	Meta     *gen.Meta    `json:"meta,omitempty"`
	Rows     []*parserRow `json:"parsers"`
	Formats  []*parserRow `json:"other_formats,omitempty"` // stackparse on debug=1 / proto
}

type parserRow struct {
	Parser     string        `json:"parser"`
	Label      string        `json:"label"`
	Floor      bool          `json:"floor,omitempty"`
	File       string        `json:"file"`
	Bytes      int64         `json:"bytes"`
	Skipped    string        `json:"skipped,omitempty"`
	Failed     string        `json:"failed,omitempty"`
	Runs       []measurement `json:"runs,omitempty"`
	BestNS     int64         `json:"best_wall_ns,omitempty"`
	MedianNS   int64         `json:"median_wall_ns,omitempty"`
	MBps       float64       `json:"mb_per_s,omitempty"`
	MaxRSSKiB  int64         `json:"max_rss_kib,omitempty"`
	Goroutines int64         `json:"goroutines"`
	Records    int64         `json:"records"`
	Frames     int64         `json:"frames"`
	Errors     int           `json:"errors,omitempty"`
	Note       string        `json:"note,omitempty"`
	Mismatch   string        `json:"count_mismatch,omitempty"`
	// Ratios of stackparse to this row at the same size: speed is
	// stackparse MB/s ÷ this MB/s (>1: stackparse faster), rss is
	// stackparse peak RSS ÷ this peak RSS (<1: stackparse smaller).
	SpeedRatio float64 `json:"stackparse_speed_ratio,omitempty"`
	RSSRatio   float64 `json:"stackparse_rss_ratio,omitempty"`
}

func runSize(n int, ps []parsers.Parser, dir string, runs, skipPP int, generate bool, age time.Duration, formats bool, timeout time.Duration, rep *report) (*sizeResult, error) {
	label := gen.SizeLabel(n)
	path := gen.TracebackPath(dir, n)
	meta, err := gen.ReadMeta(dir, n)
	st, statErr := os.Stat(path)
	if err != nil || statErr != nil || st.Size() != meta.TracebackBytes {
		if !generate {
			return nil, fmt.Errorf("%s missing (run go run ./cmd/gendumps -sizes %s, or drop -generate=false)", path, label)
		}
		logf("generating %s (parks %d goroutines for %s first; see cmd/gendumps)…", path, n, age)
		meta, err = gen.GenerateInSubprocess(gen.Options{
			Config:   gen.Config{N: n},
			Dir:      dir,
			Profiles: n == 100000,
			Age:      age,
			Log:      os.Stderr,
		})
		if err != nil {
			return nil, err
		}
		if st, err = os.Stat(path); err != nil {
			return nil, err
		}
	}
	sz := &sizeResult{Label: label, File: path, Bytes: st.Size(), Expected: meta.NumGoroutine, Meta: meta}

	warm(path)
	for _, p := range ps {
		r := &parserRow{Parser: p.Name, Label: p.Label, Floor: p.Floor, File: path, Bytes: sz.Bytes}
		if p.Name == "panicparse" && skipPP >= 0 && n > skipPP {
			r.Skipped = panicparseSkipText(rep, sz.Bytes)
		}
		sz.Rows = append(sz.Rows, r)
	}
	// Interleave the runs (all parsers, then all parsers again) so that a
	// burst of load from elsewhere does not land on one parser's runs only.
	for i := 0; i < runs; i++ {
		for _, r := range sz.Rows {
			if r.Skipped != "" || r.Failed != "" {
				continue
			}
			logf("%s: %s run %d/%d…", label, r.Parser, i+1, runs)
			m, err := measure(r.Parser, path, timeout)
			if err == nil && m.Err != "" {
				err = errors.New(m.Err)
			}
			if err != nil {
				r.Failed = err.Error()
				logf("%s: %s failed: %v", label, r.Parser, err)
				continue
			}
			logf("%s: %s %.3fs, %d MiB, %d goroutines", label, r.Parser, float64(m.WallNS)/1e9, m.MaxRSSKiB>>10, m.Result.Goroutines)
			r.Runs = append(r.Runs, m)
		}
	}
	for _, r := range sz.Rows {
		summarize(r, sz.Expected)
	}
	ratios(sz.Rows)

	if formats {
		for _, f := range []struct{ path, label string }{
			{gen.Debug1Path(dir, n), "stackparse on debug=1 text"},
			{gen.ProtoPath(dir, n), "stackparse on debug=0 proto (gzip)"},
		} {
			fst, err := os.Stat(f.path)
			if err != nil || !hasParser(ps, "stackparse") {
				continue
			}
			warm(f.path)
			r := &parserRow{Parser: "stackparse", Label: f.label, File: f.path, Bytes: fst.Size()}
			for i := 0; i < runs; i++ {
				logf("%s: %s run %d/%d…", label, f.label, i+1, runs)
				m, err := measure("stackparse", f.path, timeout)
				if err == nil && m.Err != "" {
					err = errors.New(m.Err)
				}
				if err != nil {
					r.Failed = err.Error()
					break
				}
				r.Runs = append(r.Runs, m)
			}
			summarize(r, sz.Expected)
			sz.Formats = append(sz.Formats, r)
		}
	}
	return sz, nil
}

func hasParser(ps []parsers.Parser, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

// panicparseSkipText says why panicparse was not run, with the memory it
// would need extrapolated from a smaller dump measured in this run when
// there is one.
func panicparseSkipText(rep *report, bytes int64) string {
	for i := len(rep.Sizes) - 1; i >= 0; i-- {
		for _, r := range rep.Sizes[i].Rows {
			if r.Parser == "panicparse" && r.MaxRSSKiB > 0 && r.Bytes > 0 {
				gib := float64(r.MaxRSSKiB) * 1024 / float64(r.Bytes) * float64(bytes) / (1 << 30)
				return fmt.Sprintf("skipped (needs ~%.0f GiB, extrapolated from the %s dump)", gib, rep.Sizes[i].Label)
			}
		}
	}
	// Measured on the 100k dump (Go 1.26, panicparse v2.5.0): peak RSS was
	// 2.8 GiB for 332 MB of dump, about 9 bytes of memory per dump byte.
	gib := float64(bytes) * panicparseRSSPerByte / (1 << 30)
	return fmt.Sprintf("skipped (needs ~%.0f GiB: ~%.0f× the dump size, as measured at 100k)", gib, panicparseRSSPerByte)
}

// panicparseRSSPerByte is panicparse's peak RSS per byte of dump, measured.
const panicparseRSSPerByte = 9.0

// warm reads the file once so every parser starts from the page cache.
func warm(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	io.CopyBuffer(io.Discard, f, make([]byte, 1<<20))
}

func summarize(r *parserRow, expected int) {
	if len(r.Runs) == 0 {
		return
	}
	var walls []int64
	for _, m := range r.Runs {
		walls = append(walls, m.WallNS)
		if m.MaxRSSKiB > r.MaxRSSKiB {
			r.MaxRSSKiB = m.MaxRSSKiB
		}
	}
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	r.BestNS = walls[0]
	r.MedianNS = walls[len(walls)/2]
	r.MBps = float64(r.Bytes) / 1e6 / (float64(r.BestNS) / 1e9)
	last := r.Runs[len(r.Runs)-1].Result
	r.Goroutines, r.Records, r.Frames, r.Errors, r.Note = last.Goroutines, last.Records, last.Frames, last.Errors, last.Note
	for _, m := range r.Runs {
		if m.Result.Goroutines != last.Goroutines {
			r.Mismatch = fmt.Sprintf("runs disagree: %d vs %d", m.Result.Goroutines, last.Goroutines)
		}
	}
	if r.Goroutines >= 0 && r.Goroutines != int64(expected) && r.Mismatch == "" {
		r.Mismatch = fmt.Sprintf("found %d, the dump holds %d", r.Goroutines, expected)
	}
}

func ratios(rows []*parserRow) {
	var sp *parserRow
	for _, r := range rows {
		if r.Parser == "stackparse" && r.BestNS > 0 {
			sp = r
		}
	}
	if sp == nil {
		return
	}
	for _, r := range rows {
		if r.BestNS > 0 {
			r.SpeedRatio = sp.MBps / r.MBps
		}
		if r.MaxRSSKiB > 0 {
			r.RSSRatio = float64(sp.MaxRSSKiB) / float64(r.MaxRSSKiB)
		}
	}
}

// ---------------------------------------------------------------- output

func printMarkdown(w io.Writer, rep *report) {
	fmt.Fprintf(w, "Go %s, %d CPUs (GOMAXPROCS %d). %s. %s. Peak RSS is the child's getrusage ru_maxrss.\n\n",
		rep.GoVersion, rep.NumCPU, rep.GOMAXPROCS, upper(rep.Policy), rep.MBDef)

	fmt.Fprintln(w, "| dump | parser | goroutines found | time | MB/s | peak RSS | stackparse speed × | stackparse RSS × |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|")
	for _, sz := range rep.Sizes {
		dump := fmt.Sprintf("%s (%s)", sz.Label, mb(sz.Bytes))
		for _, r := range sz.Rows {
			switch {
			case r.Skipped != "":
				fmt.Fprintf(w, "| %s | %s | %s | | | | | |\n", dump, r.Label, r.Skipped)
			case r.Failed != "" && len(r.Runs) == 0:
				fmt.Fprintf(w, "| %s | %s | failed: %s | | | | | |\n", dump, r.Label, mdEscape(r.Failed))
			default:
				fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f | %s | %s | %s |\n",
					dump, r.Label, count(r), dur(r.BestNS), r.MBps, mib(r.MaxRSSKiB), ratio(r.SpeedRatio), ratio(r.RSSRatio))
			}
		}
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ratios of stackparse to each alternative (speed: stackparse MB/s ÷ theirs, above 1 is faster; memory: stackparse peak RSS ÷ theirs, below 1 is smaller):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| dump | vs gostackparse speed | vs gostackparse RSS | vs panicparse speed | vs panicparse RSS | vs floor (bytes.Count) speed | vs floor (Scanner) speed |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
	for _, sz := range rep.Sizes {
		get := func(name string) *parserRow {
			for _, r := range sz.Rows {
				if r.Parser == name {
					return r
				}
			}
			return nil
		}
		sp := func(name string, speed bool) string {
			r := get(name)
			switch {
			case get("stackparse") == nil || get("stackparse").BestNS == 0:
				return "–"
			case r == nil:
				return "–"
			case r.Skipped != "":
				return "skipped"
			case r.BestNS == 0:
				return "failed"
			case speed:
				return ratio(r.SpeedRatio)
			default:
				return ratio(r.RSSRatio)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", sz.Label,
			sp("gostackparse", true), sp("gostackparse", false),
			sp("panicparse", true), sp("panicparse", false),
			sp("count", true), sp("scanner", true))
	}

	var other bool
	for _, sz := range rep.Sizes {
		if len(sz.Formats) > 0 {
			other = true
		}
	}
	if other {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Other formats of the same process (stackparse only; the others read tracebacks only). \"records\" is the number of distinct stacks:")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| dump | input | bytes | goroutines found | records | time | MB/s | peak RSS |")
		fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|")
		for _, sz := range rep.Sizes {
			for _, r := range sz.Formats {
				if len(r.Runs) == 0 {
					fmt.Fprintf(w, "| %s | %s | %d | failed: %s | | | | |\n", sz.Label, r.Label, r.Bytes, mdEscape(r.Failed))
					continue
				}
				fmt.Fprintf(w, "| %s | %s | %d | %s | %d | %s | %.0f | %s |\n",
					sz.Label, r.Label, r.Bytes, count(r), r.Records, dur(r.BestNS), r.MBps, mib(r.MaxRSSKiB))
			}
		}
	}

	fmt.Fprintln(w)
	var bad []string
	for _, sz := range rep.Sizes {
		for _, r := range append(append([]*parserRow{}, sz.Rows...), sz.Formats...) {
			if r.Mismatch != "" {
				bad = append(bad, fmt.Sprintf("- %s, %s: %s", sz.Label, r.Label, r.Mismatch))
			}
			if r.Errors > 0 {
				bad = append(bad, fmt.Sprintf("- %s, %s: %d parse errors reported (first: %s)", sz.Label, r.Label, r.Errors, mdEscape(r.Note)))
			}
			if r.Failed != "" && len(r.Runs) > 0 {
				bad = append(bad, fmt.Sprintf("- %s, %s: a later run failed: %s", sz.Label, r.Label, mdEscape(r.Failed)))
			}
		}
	}
	if len(bad) == 0 {
		fmt.Fprintln(w, "Goroutine counts: every parser that counts goroutines found exactly the number the generator's process had (runtime.NumGoroutine() at dump time).")
	} else {
		fmt.Fprintln(w, "Goroutine count problems:")
		fmt.Fprintln(w)
		for _, b := range bad {
			fmt.Fprintln(w, b)
		}
	}
	fmt.Fprintln(w)
	for _, sz := range rep.Sizes {
		fmt.Fprintf(w, "- %s: %s, %d bytes, %d goroutines", sz.Label, sz.File, sz.Bytes, sz.Expected)
		if sz.Meta != nil && sz.Meta.Debug1Bytes > 0 {
			fmt.Fprintf(w, " (debug=1 text %d bytes, proto %d bytes)", sz.Meta.Debug1Bytes, sz.Meta.ProtoBytes)
		}
		fmt.Fprintln(w)
	}
}

func count(r *parserRow) string {
	if r.Goroutines < 0 {
		return fmt.Sprintf("n/a (%s lines)", commas(r.Runs[len(r.Runs)-1].Result.Lines))
	}
	s := commas(r.Goroutines)
	if r.Mismatch != "" {
		s += " ⚠"
	}
	return s
}

func commas(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func mb(b int64) string {
	v := float64(b) / 1e6
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2f GB", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0f MB", v)
	}
	return fmt.Sprintf("%.1f MB", v)
}

func mib(kib int64) string {
	v := float64(kib) / 1024
	switch {
	case v >= 1024:
		return fmt.Sprintf("%.1f GiB", v/1024)
	case v >= 100:
		return fmt.Sprintf("%.0f MiB", v)
	}
	return fmt.Sprintf("%.1f MiB", v)
}

func dur(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(ns)/1e6)
}

func ratio(v float64) string {
	if v == 0 {
		return ""
	}
	if v >= 10 {
		return fmt.Sprintf("%.0f×", v)
	}
	if v < 0.1 {
		return fmt.Sprintf("%.3f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
