// Command scenarios reproduces, against a real RabbitMQ broker, the blocking
// patterns amqpleaks detects, and writes the goroutine dumps of the moment the
// goroutines are parked. The dumps are the detector's test fixtures; they are
// never written or edited by hand.
//
// Usage:
//
//	go run . -scenario NAME -out DIR [-url amqp://guest:guest@127.0.0.1:5672/] [-hold 65s]
//	go run . -list
//
// The same source builds against three client libraries:
//
//	go run .                                      # github.com/rabbitmq/amqp091-go, latest (go.mod)
//	go run -modfile=go.v1.10.0.mod -tags amqp091old .  # github.com/rabbitmq/amqp091-go v1.10.0
//	go run -tags streadway .                      # github.com/streadway/amqp v1.1.0
//
// Each run writes DIR/debug2.txt (pprof goroutine profile, debug=2),
// DIR/debug1.txt (debug=1), DIR/profile.pb.gz (debug=0, protobuf) and
// DIR/meta.json (what was done, which goroutines are expected to be stuck and
// which rule they should trigger, and the goroutines actually observed).
//
// A scenario sets the bug up the way production code does, injects the fault
// (network fault through internal/faultproxy, a broker-side channel error, or a
// broker resource alarm), then polls the goroutine profile until the expected
// frames are parked, with a timeout. Broker-wide changes (the memory high
// watermark) are undone before the process exits, also on error and on
// SIGINT/SIGTERM. Goroutines left blocked are not cleaned up: the process exits.
//
// regen.sh runs every scenario for every library and Go version.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// scenario is one reproducible pattern.
type scenario struct {
	Name string
	Rule string // detector rule the dump should trigger ("" = no finding expected)
	Doc  string
	Run  func(s *S) error
}

var registry = map[string]*scenario{}

func register(sc *scenario) {
	if _, dup := registry[sc.Name]; dup {
		panic("duplicate scenario " + sc.Name)
	}
	registry[sc.Name] = sc
}

// Expect describes goroutines the scenario waits for before dumping.
type Expect struct {
	Role     string `json:"role"`                    // what this goroutine is, in words
	State    string `json:"state"`                   // wait reason prefix, e.g. "chan send"
	Function string `json:"function"`                // fully qualified function that must be on the stack
	Also     string `json:"also_on_stack,omitempty"` // another function that must be on the same stack
	Min      int    `json:"min"`                     // at least this many goroutines
	Stuck    bool   `json:"stuck"`                   // blocked forever (true) or a context/transient goroutine (false)
	Absent   bool   `json:"absent,omitempty"`        // must NOT be present (Min ignored)
}

// Observed is a goroutine of the dump that matched an Expect.
type Observed struct {
	Expect  int    `json:"expect"` // index into expected
	ID      int    `json:"goroutine"`
	Header  string `json:"header"`
	Frame   string `json:"frame"` // the matched frame with its file:line
	TopFunc string `json:"top"`
}

type Meta struct {
	Scenario     string            `json:"scenario"`
	Rule         string            `json:"rule"`  // primary rule this fixture proves ("" = no finding expected)
	Rules        []string          `json:"rules"` // every rule the dump should trigger (empty = zero findings)
	Reproduced   bool              `json:"reproduced"`
	Library      map[string]string `json:"library"`
	GoVersion    string            `json:"go_version"`
	Platform     string            `json:"platform"`
	Broker       string            `json:"broker"`
	Description  string            `json:"description"`
	Steps        []string          `json:"steps"`
	Expected     []Expect          `json:"expected"`
	Observed     []Observed        `json:"observed"`
	Notes        []string          `json:"notes,omitempty"`
	Files        []string          `json:"files"`
	Goroutines   int               `json:"goroutines"`
	CapturedAt   string            `json:"captured_at"`
	ElapsedMilli int64             `json:"setup_to_dump_ms"`
}

// S is the state of one scenario run.
type S struct {
	URL   string
	Out   string
	Hold  time.Duration
	Meta  Meta
	start time.Time
	seq   int
	mu    sync.Mutex
	undo  []func()
	sigOn bool

	restoreWatermark func() // set by memoryAlarm; idempotent
	afterDump        func() // observations made after the dump (recorded in meta notes)
}

func main() {
	var (
		name   = flag.String("scenario", "", "scenario to run")
		out    = flag.String("out", "", "directory for debug2.txt, debug1.txt, profile.pb.gz, meta.json")
		url    = flag.String("url", "amqp://guest:guest@127.0.0.1:5672/", "broker URL")
		hold   = flag.Duration("hold", 0, "after the goroutines are parked, run a GC and wait this long before dumping (>=1m makes the runtime print wait minutes)")
		list   = flag.Bool("list", false, "list scenarios available in this build")
		layout = flag.Bool("layout", false, "print the fixture directory for this build (<library>-<version>/go<major.minor>) and exit")
		readme = flag.String("readme", "", "write README.md for the fixture tree rooted here (from its meta.json files) and exit")
	)
	flag.Parse()
	if *readme != "" {
		if err := writeReadme(*readme); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *layout {
		lib := libraryVersion()
		short := map[string]string{"github.com/rabbitmq/amqp091-go": "amqp091-go", "github.com/streadway/amqp": "streadway-amqp"}[libModule]
		gv := runtime.Version()
		if parts := strings.SplitN(gv, ".", 3); len(parts) >= 2 {
			gv = parts[0] + "." + parts[1]
		}
		fmt.Printf("%s-%s/%s\n", short, lib["version"], gv)
		return
	}
	if *list {
		names := make([]string, 0, len(registry))
		for n := range registry {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Printf("%-36s rule=%-28s %s\n", n, registry[n].Rule, registry[n].Doc)
		}
		return
	}
	sc := registry[*name]
	if sc == nil || *out == "" {
		fmt.Fprintf(os.Stderr, "usage: scenarios -scenario NAME -out DIR (unknown scenario %q; -list)\n", *name)
		os.Exit(2)
	}
	s := &S{URL: *url, Out: *out, Hold: *hold, start: time.Now()}
	s.Meta = Meta{
		Scenario:    sc.Name,
		Rule:        sc.Rule,
		Library:     libraryVersion(),
		GoVersion:   runtime.Version(),
		Platform:    runtime.GOOS + "/" + runtime.GOARCH,
		Broker:      brokerVersion(),
		Description: sc.Doc,
	}
	err := sc.Run(s)
	if err == nil && s.afterDump != nil {
		s.afterDump()
	}
	s.runUndo()
	if err != nil {
		fmt.Fprintf(os.Stderr, "scenario %s: %v\n", sc.Name, err)
		os.Exit(1)
	}
	fmt.Printf("%s: wrote %s (%d goroutines)\n", sc.Name, s.Out, s.Meta.Goroutines)
	os.Exit(0) // blocked goroutines are left as they are
}

func libraryVersion() map[string]string {
	m := map[string]string{"module": libModule, "version": "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == libModule {
				m["version"] = d.Version
			}
		}
	}
	return m
}

// step records what the program did, in order, for meta.json.
func (s *S) step(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Meta.Steps = append(s.Meta.Steps, msg)
	fmt.Fprintf(os.Stderr, "  [%s] %s\n", s.Meta.Scenario, msg)
}

// fixedIn records that this library version no longer blocks on the pattern:
// the fixture then expects no finding.
func (s *S) fixedIn(how string) {
	s.note("%s %s bounds Notify* sends: %s. Expected findings: none (rule %s does not fire on this version).", libModule, s.Meta.Library["version"], how, s.Meta.Rule)
	s.Meta.Rule = ""
}

func (s *S) note(format string, args ...any) {
	s.Meta.Notes = append(s.Meta.Notes, fmt.Sprintf(format, args...))
}

// name returns a unique broker object name for this run.
func (s *S) name(kind string) string {
	s.seq++
	return fmt.Sprintf("amqpleaks.%s.%s.%d.%d", s.Meta.Scenario, kind, os.Getpid(), s.seq)
}

// onExit registers an undo action for a broker-wide change. Undo actions run
// in reverse order when the scenario returns (success or error) and on
// SIGINT/SIGTERM.
func (s *S) onExit(f func()) {
	s.mu.Lock()
	s.undo = append(s.undo, f)
	if !s.sigOn {
		s.sigOn = true
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
		go func() {
			sig := <-c
			fmt.Fprintf(os.Stderr, "signal %v: undoing broker changes\n", sig)
			s.runUndo()
			os.Exit(1)
		}()
	}
	s.mu.Unlock()
}

func (s *S) runUndo() {
	s.mu.Lock()
	undo := s.undo
	s.undo = nil
	s.mu.Unlock()
	for i := len(undo) - 1; i >= 0; i-- {
		undo[i]()
	}
}

// --- goroutine profile polling ---

type goroutine struct {
	id     int
	header string
	state  string
	funcs  []string // function names, innermost first
	files  []string // file:line for each function
}

var headerRE = regexp.MustCompile(`^goroutine (\d+)(?: [^\[]*)?\[([^\]]*)\]:?$`)

func parseDump(b []byte) []goroutine {
	var gs []goroutine
	var cur *goroutine
	for _, line := range strings.Split(string(b), "\n") {
		if m := headerRE.FindStringSubmatch(line); m != nil {
			gs = append(gs, goroutine{header: line})
			cur = &gs[len(gs)-1]
			fmt.Sscan(m[1], &cur.id)
			cur.state = m[2]
			continue
		}
		if cur == nil || line == "" {
			continue
		}
		if strings.HasPrefix(line, "\t") {
			if len(cur.files) < len(cur.funcs) {
				f := strings.TrimSpace(line)
				if i := strings.LastIndex(f, " +0x"); i > 0 {
					f = f[:i]
				}
				cur.files = append(cur.files, f)
			}
			continue
		}
		fn := line
		if strings.HasPrefix(fn, "created by ") {
			fn = strings.TrimPrefix(fn, "created by ")
			if i := strings.Index(fn, " in goroutine "); i > 0 {
				fn = fn[:i]
			}
			fn = "created by " + fn
		} else if strings.HasSuffix(fn, ")") {
			// strip the argument list: the last "(" that opens it
			depth := 0
			for i := len(fn) - 1; i >= 0; i-- {
				if fn[i] == ')' {
					depth++
				} else if fn[i] == '(' {
					depth--
					if depth == 0 {
						fn = fn[:i]
						break
					}
				}
			}
		}
		cur.funcs = append(cur.funcs, fn)
	}
	return gs
}

func (g *goroutine) has(fn string) int {
	for i, f := range g.funcs {
		if f == fn || (strings.HasPrefix(f, fn) && strings.HasPrefix(f[len(fn):], "[")) {
			return i
		}
	}
	return -1
}

func stateMatches(state, want string) bool {
	return want == "" || state == want || strings.HasPrefix(state, want+",")
}

// match returns the observed goroutines and whether all expectations hold.
func match(gs []goroutine, exp []Expect) ([]Observed, bool, string) {
	obs := []Observed{}
	ok := true
	var why []string
	for ei, e := range exp {
		n := 0
		for gi := range gs {
			g := &gs[gi]
			if !stateMatches(g.state, e.State) {
				continue
			}
			i := g.has(e.Function)
			if i < 0 || (e.Also != "" && g.has(e.Also) < 0) {
				continue
			}
			n++
			file := ""
			if i < len(g.files) {
				file = g.files[i]
			}
			top := ""
			if len(g.funcs) > 0 {
				top = g.funcs[0]
			}
			obs = append(obs, Observed{Expect: ei, ID: g.id, Header: g.header, Frame: g.funcs[i] + " at " + file, TopFunc: top})
		}
		if e.Absent {
			if n > 0 {
				ok = false
				why = append(why, fmt.Sprintf("%s present %d times", e.Function, n))
			}
		} else if n < e.Min {
			ok = false
			why = append(why, fmt.Sprintf("%s [%s]: %d < %d", e.Function, e.State, n, e.Min))
		}
	}
	return obs, ok, strings.Join(why, "; ")
}

func goroutineDump(debugLevel int) []byte {
	var b bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&b, debugLevel)
	return b.Bytes()
}

// waitFor polls the goroutine profile until every expectation holds.
func (s *S) waitFor(timeout time.Duration, exp ...Expect) error {
	deadline := time.Now().Add(timeout)
	for {
		_, ok, why := match(parseDump(goroutineDump(2)), exp)
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			os.Stderr.Write(goroutineDump(2))
			return fmt.Errorf("timeout after %v waiting for goroutines: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expect records the expectations, waits for them and writes the fixture.
func (s *S) expectAndDump(timeout time.Duration, exp ...Expect) error {
	s.Meta.Expected = exp
	if err := s.waitFor(timeout, exp...); err != nil {
		return err
	}
	if s.Hold > 0 {
		// The runtime prints "N minutes" only for goroutines whose wait start
		// a GC recorded (markroot sets g.waitsince); a single GC right after
		// parking was not enough in practice, so collect every 5 s, as a
		// program that allocates would.
		s.step("held the parked state for %v, with runtime.GC() every 5s so the runtime records the wait start and prints wait minutes", s.Hold)
		for end := time.Now().Add(s.Hold); time.Now().Before(end); {
			runtime.GC()
			time.Sleep(5 * time.Second)
		}
		runtime.GC()
		if err := s.waitFor(5*time.Second, exp...); err != nil {
			return err
		}
	}
	return s.dump(exp)
}

func (s *S) dump(exp []Expect) error {
	if err := os.MkdirAll(s.Out, 0o755); err != nil {
		return err
	}
	d2 := goroutineDump(2)
	d1 := goroutineDump(1)
	var pb bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&pb, 0)
	captured := time.Now()

	gs := parseDump(d2)
	obs, ok, why := match(gs, exp)
	if !ok {
		return fmt.Errorf("state changed while dumping: %s", why)
	}
	s.Meta.Observed = obs
	s.Meta.Reproduced = true
	if s.Meta.Rules == nil {
		s.Meta.Rules = []string{}
		if s.Meta.Rule != "" {
			s.Meta.Rules = append(s.Meta.Rules, s.Meta.Rule)
		}
	}
	s.Meta.Goroutines = len(gs)
	s.Meta.CapturedAt = captured.UTC().Format(time.RFC3339)
	s.Meta.ElapsedMilli = captured.Sub(s.start).Milliseconds()

	files := []struct {
		name string
		data []byte
	}{{"debug2.txt", d2}, {"debug1.txt", d1}, {"profile.pb.gz", pb.Bytes()}}
	s.Meta.Files = nil
	for _, f := range files {
		name, data := f.name, f.data
		if strings.HasSuffix(name, ".txt") && len(data) > 5<<20 {
			var z bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
			zw.Write(data)
			zw.Close()
			name, data = name+".gz", z.Bytes()
		}
		if err := os.WriteFile(filepath.Join(s.Out, name), data, 0o644); err != nil {
			return err
		}
		s.Meta.Files = append(s.Meta.Files, name)
	}
	return s.writeMeta()
}

func (s *S) writeMeta() error {
	if err := os.MkdirAll(s.Out, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s.Meta, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.Out, "meta.json"), append(b, '\n'), 0o644)
}

// fn is the dump name of a library function, e.g. fn("(*Connection).shutdown").
func fn(name string) string { return libPkg + "." + name }

const mainPkg = "main."
