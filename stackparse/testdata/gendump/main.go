// Command gendump produces the real goroutine-dump corpus used by the
// stackparse tests. It parks goroutines in known states (park.go), waits so
// that headers show ", N minutes", and writes the dumps in every format the
// runtime and runtime/pprof can produce. See ../README.md and regen.sh.
//
// Never edit the files it writes by hand: rerun regen.sh.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	flagMode    = flag.String("mode", "dump", "dump | child-panic | child-sigquit | child-unavail | child-logpanic | logger | twoproc | embed | checkfile")
	flagOut     = flag.String("out", "", "output directory (dump, twoproc, embed)")
	flagWait    = flag.Duration("wait", 65*time.Second, "how long goroutines stay parked before dumping")
	flagVariant = flag.String("variant", "default", "variant name recorded in manifest.json")
	flagIn      = flag.String("in", "", "embed: real dump to embed")
	flagLog     = flag.String("log", "", "embed: real log output to interleave")
	flagDur     = flag.Duration("dur", 3*time.Second, "logger: how long to log")
)

func syscallMinutes(mins int) int {
	// All supported versions print minutes for _Gsyscall too.
	return mins
}

func main() {
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	switch *flagMode {
	case "dump":
		runDump()
	case "child-panic":
		parkAll(*flagWait)
		time.Sleep(*flagWait)
		panic("gendump: deliberate panic after parking goroutines")
	case "child-sigquit":
		parkAll(*flagWait)
		time.Sleep(*flagWait)
		syscall.Kill(os.Getpid(), syscall.SIGQUIT)
		time.Sleep(time.Hour)
	case "child-unavail":
		runUnavail()
	case "child-logpanic":
		runLogPanic()
	case "logger":
		runLogger()
	case "twoproc":
		runTwoProc()
	case "embed":
		runEmbed()
	case "checkfile":
		runCheckFile()
	default:
		log.Fatalf("unknown mode %q", *flagMode)
	}
}

type fileInfo struct {
	File   string `json:"file"`
	Source string `json:"source"`
	// Kinds: the parked kinds of "kinds" are present in this file.
	Kinds bool `json:"has_kinds"`
	// Labels: header lines show pprof labels (GODEBUG tracebacklabels).
	HeaderLabels bool `json:"header_labels,omitempty"`
	// Truncated: the dump is cut off mid-goroutine.
	Truncated bool   `json:"truncated,omitempty"`
	Notes     string `json:"notes,omitempty"`
	// SelfCheck lists mismatches between this file and "kinds" found by
	// check.go (empty when the file matches the expectations).
	SelfCheck []string `json:"self_check,omitempty"`
}

type manifest struct {
	GoVersion   string            `json:"go_version"`
	Variant     string            `json:"variant"`
	Env         map[string]string `json:"env"`
	WaitSeconds float64           `json:"wait_seconds"`
	// MainGoroutine is the id of the goroutine that created the kinds.
	MainGoroutine int        `json:"main_goroutine"`
	Files         []fileInfo `json:"files"`
	Kinds         []Kind     `json:"kinds"`
}

func envSnapshot() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"GODEBUG", "GOTRACEBACK", "GOEXPERIMENT", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			m[k] = v
		}
	}
	return m
}

func tracebackLevelAtLeastAll() bool {
	switch os.Getenv("GOTRACEBACK") {
	case "all", "2", "system", "crash", "wer":
		return true
	}
	return false
}

func labelsInHeader() bool {
	if strings.Contains(os.Getenv("GODEBUG"), "tracebacklabels=1") {
		return true
	}
	if strings.Contains(os.Getenv("GODEBUG"), "tracebacklabels=0") {
		return false
	}
	return os.Getenv("GENDUMP_DEFAULT_LABELS") == "1"
}

func ancestorsOn() bool { return strings.Contains(os.Getenv("GODEBUG"), "tracebackancestors=") }

type child struct {
	name string
	cmd  *exec.Cmd
	buf  *bytes.Buffer
}

func startChild(mode, outName string, extraEnv ...string) *child {
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(self, "-mode", mode, "-wait", flagWait.String())
	env := os.Environ()
	if !tracebackLevelAtLeastAll() {
		env = append(env, "GOTRACEBACK=all")
	}
	env = append(env, extraEnv...)
	cmd.Env = env
	buf := new(bytes.Buffer)
	cmd.Stderr = buf
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	return &child{name: outName, cmd: cmd, buf: buf}
}

func runDump() {
	out := *flagOut
	if out == "" {
		log.Fatal("-out required")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		log.Fatal(err)
	}
	children := []*child{
		startChild("child-panic", "panic.txt"),
		startChild("child-sigquit", "sigquit.txt"),
	}
	kinds := parkAll(*flagWait)
	time.Sleep(*flagWait)

	m := newManifest(kinds)
	write := writer(out)
	hl := labelsInHeader()
	writeDumps(out, &m)

	for _, c := range children {
		done := make(chan error, 1)
		go func(c *child) { done <- c.cmd.Wait() }(c)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			c.cmd.Process.Kill()
			<-done
		}
		write(c.name, c.buf.Bytes())
		src := "stderr of a child (same parked goroutines) that panics from main with GOTRACEBACK=" + childTraceback()
		if c.name == "sigquit.txt" {
			src = "stderr of a child (same parked goroutines) that sends itself SIGQUIT, GOTRACEBACK=" + childTraceback()
		}
		m.Files = append(m.Files, fileInfo{File: c.name, Source: src, Kinds: true, HeaderLabels: hl,
			SelfCheck: check(c.buf.String(), kinds, hl, ancestorsOn(), false)})
	}

	// stack unavailable: separate short child (no parked kinds).
	c := startChild("child-unavail", "stackunavail.txt", "GODEBUG="+appendGodebug("asyncpreemptoff=1"))
	c.cmd.Wait()
	write(c.name, c.buf.Bytes())
	m.Files = append(m.Files, fileInfo{File: c.name, Source: "stderr of a child that panics from main while main.busyLoop spins on another thread (GOMAXPROCS>=2, asyncpreemptoff=1, GOTRACEBACK=" + childTraceback() + ")",
		Notes: `contains "goroutine running on other thread; stack unavailable" for main.busyLoop's goroutine when it was still running`})

	writeManifest(out, &m)
}

func newManifest(kinds []Kind) manifest {
	return manifest{
		GoVersion:     runtime.Version(),
		Variant:       *flagVariant,
		Env:           envSnapshot(),
		WaitSeconds:   flagWait.Seconds(),
		MainGoroutine: curGoid(),
		Kinds:         kinds,
	}
}

func writer(out string) func(string, []byte) {
	return func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// writeDumps writes debug2.txt, debug1.txt, profile.pb.gz, stack.txt,
// stack_truncated.txt and (where the profile exists) the goroutineleak
// dumps of the current process into out, recording them in m.
func writeDumps(out string, m *manifest) {
	kinds := m.Kinds
	write := writer(out)
	hl := labelsInHeader()
	var b bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&b, 2)
	write("debug2.txt", b.Bytes())
	m.Files = append(m.Files, fileInfo{File: "debug2.txt", Source: `pprof.Lookup("goroutine").WriteTo(w, 2)`, Kinds: true, HeaderLabels: hl,
		SelfCheck: check(b.String(), kinds, hl, ancestorsOn(), false)})
	b.Reset()
	pprof.Lookup("goroutine").WriteTo(&b, 1)
	write("debug1.txt", b.Bytes())
	m.Files = append(m.Files, fileInfo{File: "debug1.txt", Source: `pprof.Lookup("goroutine").WriteTo(w, 1)`, Kinds: true,
		SelfCheck: checkDebug1(b.String(), kinds)})
	b.Reset()
	pprof.Lookup("goroutine").WriteTo(&b, 0)
	write("profile.pb.gz", b.Bytes())
	m.Files = append(m.Files, fileInfo{File: "profile.pb.gz", Source: `pprof.Lookup("goroutine").WriteTo(w, 0) (gzipped protobuf)`, Kinds: true})

	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	write("stack.txt", buf[:n])
	m.Files = append(m.Files, fileInfo{File: "stack.txt", Source: "runtime.Stack(buf, true) with a 1 MiB buffer", Kinds: true, HeaderLabels: hl,
		SelfCheck: check(string(buf[:n]), kinds, hl, ancestorsOn(), false)})
	// Truncated: pick a buffer size that cuts a goroutine in the middle of
	// a frame line (just after "goroutine N [" of the ~8th goroutine + 40).
	cut := truncPoint(string(buf[:n]))
	small := make([]byte, cut)
	n2 := runtime.Stack(small, true)
	write("stack_truncated.txt", small[:n2])
	m.Files = append(m.Files, fileInfo{File: "stack_truncated.txt", Source: fmt.Sprintf("runtime.Stack(buf, true) with a %d-byte buffer", cut), Truncated: true, HeaderLabels: hl,
		Notes: "output ends in the middle of a goroutine; the kinds are only partly present"})

	if lp := pprof.Lookup("goroutineleak"); lp != nil {
		b.Reset()
		lp.WriteTo(&b, 2)
		write("goroutineleak_debug2.txt", b.Bytes())
		m.Files = append(m.Files, fileInfo{File: "goroutineleak_debug2.txt", Source: `pprof.Lookup("goroutineleak").WriteTo(w, 2): runs the leak-detecting GC, then prints all goroutines; leaked ones show " (leaked)"`,
			Kinds: true, HeaderLabels: hl, SelfCheck: check(b.String(), kinds, hl, ancestorsOn(), true)})
		b.Reset()
		lp.WriteTo(&b, 1)
		write("goroutineleak_debug1.txt", b.Bytes())
		m.Files = append(m.Files, fileInfo{File: "goroutineleak_debug1.txt", Source: `pprof.Lookup("goroutineleak").WriteTo(w, 1): only leaked goroutines`})
	}

}

func writeManifest(out string, m *manifest) {
	js, _ := json.MarshalIndent(m, "", "  ")
	writer(out)("manifest.json", append(js, '\n'))
	for _, f := range m.Files {
		for _, e := range f.SelfCheck {
			fmt.Fprintf(os.Stderr, "SELFCHECK %s %s %s: %s\n", m.GoVersion, m.Variant, f.File, e)
		}
	}
}

func childTraceback() string {
	if tracebackLevelAtLeastAll() {
		return os.Getenv("GOTRACEBACK")
	}
	return "all"
}

func appendGodebug(s string) string {
	if g := os.Getenv("GODEBUG"); g != "" {
		return g + "," + s
	}
	return s
}

// truncPoint returns a buffer size that ends in the middle of the 8th
// goroutine's second line.
func truncPoint(s string) int {
	idx := 0
	for i := 0; i < 8; i++ {
		j := strings.Index(s[idx+1:], "\ngoroutine ")
		if j < 0 {
			break
		}
		idx += 1 + j
	}
	nl := strings.Index(s[idx+1:], "\n")
	p := idx + 1 + nl + 1 + 20
	if p > len(s) {
		p = len(s) / 2
	}
	return p
}

var spin atomic.Int64

//go:noinline
func busyLoop(started *atomic.Bool) {
	started.Store(true)
	for {
		spin.Add(1)
	}
}

func runUnavail() {
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	ch := make(chan int)
	go parkChanRecv(ch)
	var started atomic.Bool
	go busyLoop(&started)
	for !started.Load() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	panic("gendump: panic while another goroutine is running")
}

// runLogger writes application-style log lines to stderr, one write(2)
// per line, for -dur.
func runLogger() {
	l := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	end := time.Now().Add(*flagDur)
	for i := 0; time.Now().Before(end); i++ {
		l.Printf("amqp: worker=%d delivery tag=%d acked queue=orders", os.Getpid(), i)
		time.Sleep(500 * time.Microsecond)
	}
}

// runLogPanic logs a few lines, then panics (GOTRACEBACK=all) while a
// goroutine of the same process keeps logging.
func runLogPanic() {
	l := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	l.Printf("amqp: starting consumer pid=%d", os.Getpid())
	kinds := parkAll(*flagWait)
	l.Printf("amqp: parked %d kinds of goroutines", len(kinds))
	go func() {
		time.Sleep(*flagWait - 200*time.Millisecond)
		for i := 0; ; i++ {
			l.Printf("amqp: heartbeat %d", i)
			time.Sleep(100 * time.Microsecond)
		}
	}()
	time.Sleep(*flagWait)
	l.Printf("amqp: channel closed unexpectedly, giving up")
	panic("gendump: consumer lost")
}

// runTwoProc runs a panicking child and an independent logger process that
// share one stderr pipe, as when several processes of a container write to
// the same stream, and saves what came out of the pipe.
func runTwoProc() {
	self, _ := os.Executable()
	pr, pw, err := os.Pipe()
	if err != nil {
		log.Fatal(err)
	}
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&out, pr); close(copied) }()
	lg := exec.Command(self, "-mode", "logger", "-dur", "1s")
	lg.Stderr = pw
	pc := exec.Command(self, "-mode", "child-logpanic", "-wait", flagWait.String())
	pc.Env = append(os.Environ(), "GOTRACEBACK=all")
	pc.Stderr = pw
	if err := pc.Start(); err != nil {
		log.Fatal(err)
	}
	// Start logging shortly before the child panics.
	time.Sleep(*flagWait - 300*time.Millisecond)
	if err := lg.Start(); err != nil {
		log.Fatal(err)
	}
	pc.Wait()
	lg.Wait()
	pw.Close()
	<-copied
	if err := os.MkdirAll(*flagOut, 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*flagOut, "twoproc_raw.txt"), out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// runCheckFile self-checks -in (a traceback dump that has the kinds of the
// manifest.json next to it, e.g. testtimeout.txt) and records the result
// in that manifest.
func runCheckFile() {
	dir := filepath.Dir(*flagIn)
	mb, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		log.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		log.Fatal(err)
	}
	data, err := os.ReadFile(*flagIn)
	if err != nil {
		log.Fatal(err)
	}
	name := filepath.Base(*flagIn)
	for i := range m.Files {
		if m.Files[i].File == name {
			m.Files[i].SelfCheck = check(string(data), m.Kinds, m.Files[i].HeaderLabels, strings.Contains(m.Env["GODEBUG"], "tracebackancestors="), false)
		}
	}
	writeManifest(dir, &m)
}
