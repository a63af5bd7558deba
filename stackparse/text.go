package stackparse

import (
	"bytes"
	"slices"
	"strconv"
)

// textParser is the state machine over lines that reads full tracebacks and
// the debug=1 aggregated text. It never looks back more than one line.
type textParser struct {
	yielded int

	// intern shares the strings of function names and file paths, which
	// repeat across goroutines, so a dump of 1M goroutines keeps a few
	// thousand of them instead of tens of millions.
	intern map[string]string
	cache  [4096]string

	prefix  func([]byte) int // strips a log collector's per-line prefix
	scratch []byte

	// bufs are the two Goroutines the parser fills in turn: one is being
	// read while the other, returned by the last Next, stays valid.
	bufs [2]Goroutine
	// The goroutine being read, or nil between goroutines.
	g        *Goroutine
	debug1   bool
	argSpans [][2]int32 // per frame: Args as a span of arena, or {-1,-1}
	arena    []byte
	anc      *Ancestor // the ancestry block being read, if any
	// expect says what the previous line leaves open.
	expect   int
	foreign  int  // lines of unknown text seen since the last recognised one
	foreignL int  // the first of them
	stray    bool // in a run of frame lines outside any goroutine
	// total is N of a debug=1 "profile: total N" header, if sawTotal.
	total    int
	sawTotal bool
}

const (
	expectFunc        = iota // a function line (or created by, elided, a blank)
	expectFile               // the file line of the last function line
	expectCreatorFile        // the file line of "created by"
)

const maxIntern = 1 << 16

func newTextParser() *textParser {
	return &textParser{intern: make(map[string]string, 64)}
}

// str returns b as a string, shared with earlier equal ones. A small
// direct-mapped cache answers most look-ups without hashing all of b.
func (p *textParser) str(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	h := uint(n)*131 + uint(b[n-1])*31 + uint(b[n/2])*7 + uint(b[n/3])
	slot := &p.cache[h%uint(len(p.cache))]
	if *slot == string(b) {
		return *slot
	}
	s, ok := p.intern[string(b)]
	if !ok {
		s = string(b)
		if len(p.intern) < maxIntern {
			p.intern[s] = s
		}
	}
	*slot = s
	return s
}

func (p *textParser) next(r *Reader) *Goroutine {
	for {
		line, ok := r.readLine()
		if !ok {
			if p.g == nil {
				return nil
			}
			if r.lastNoEOL || p.expect != expectFunc || (len(p.g.Frames) == 0 && !p.g.StackUnavailable) {
				p.g.Truncated = true
				r.warn(r.lineNo, "input ends inside goroutine %d (truncated dump)", p.g.ID)
			}
			return p.finish()
		}
		line = p.clean(r, line)
		if len(line) == 0 && r.lastNoEOL && p.g != nil {
			// Cut right after the indentation of a line.
			p.g.Truncated = true
			r.warn(r.lineNo, "input ends inside goroutine %d (truncated dump)", p.g.ID)
			return p.finish()
		}
		if g := p.feed(r, line); g != nil {
			return g
		}
	}
}

// clean removes ANSI escape sequences and a log collector's line prefix.
func (p *textParser) clean(r *Reader, line []byte) []byte {
	if r.sawESC && bytes.IndexByte(line, 0x1b) >= 0 {
		p.scratch = stripANSI(p.scratch[:0], line)
		line = p.scratch
	}
	if p.prefix != nil {
		if n := p.prefix(line); n > 0 {
			line = line[n:]
		}
	}
	// Text pasted into issues and logs often gains trailing blanks.
	for n := len(line); n > 0 && (line[n-1] == ' ' || line[n-1] == '\t'); n-- {
		line = line[:n-1]
	}
	return line
}

func stripANSI(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		dst = append(dst, s[i])
	}
	return dst
}

var (
	bGoroutine   = []byte("goroutine ")
	bProfileHdr  = []byte(" profile: total ")
	bCreatedBy   = []byte("created by ")
	bInGoroutine = []byte(" in goroutine ")
	bUnavailable = []byte("goroutine running on other thread; stack unavailable")
	bOrigin      = []byte("[originating from goroutine ")
	bElidedOld   = []byte("...additional frames elided...")
	bFramesElid  = []byte(" frames elided...")
	bLabelsHash  = []byte("# labels: ")
	bAt          = []byte(" @ ")
	bTab011      = []byte("#011")
)

// feed handles one cleaned line and returns a goroutine when one is complete.
func (p *textParser) feed(r *Reader, line []byte) *Goroutine {
	if len(line) == 0 {
		p.stray = false
		if p.g != nil {
			return p.finish()
		}
		return nil
	}
	if line[0] == 'g' && bytes.HasPrefix(line, bGoroutine) {
		if g, ok := p.header(r, line); ok {
			return g
		}
	}
	if i := profileHeader(p, line); i > 0 {
		// "goroutine profile: total 12", "goroutineleak profile: total 0":
		// a debug=1 profile starts.
		done := p.finish()
		r.format = FormatDebug1
		if n, ok := atoi(line[i+len(bProfileHdr):]); ok {
			p.total = n
			p.sawTotal = true
		}
		return done
	}
	if p.g == nil {
		p.outside(r, line)
		return nil
	}
	if p.debug1 {
		p.debug1Line(r, line)
		return nil
	}
	switch line[0] {
	case '\t', ' ', '#':
		if p.fileLine(r, line) {
			return nil
		}
	case '.':
		if p.elided(line) {
			return nil
		}
	case 'c':
		if bytes.HasPrefix(line, bCreatedBy) {
			p.createdBy(r, line)
			return nil
		}
	case '[':
		if bytes.HasPrefix(line, bOrigin) {
			p.origin(r, line)
			return nil
		}
	}
	if p.funcLine(r, line) {
		return nil
	}
	p.unknown(r)
	return nil
}

// profileHeader returns where " profile: total " starts in a debug=1
// profile's first line ("goroutine profile: total 12"), or -1. Such a line
// only comes between records.
func profileHeader(p *textParser, line []byte) int {
	if p.g != nil || line[0] < 'a' || line[0] > 'z' {
		return -1
	}
	i := bytes.Index(line, bProfileHdr)
	if i <= 0 || bytes.IndexByte(line[:i], ' ') >= 0 {
		return -1
	}
	return i
}

// unknown notes a line that is not part of a goroutine. Text after a
// goroutine's last frame (a log line, "exit status 2") ends nothing by
// itself; if frames follow, the text was inside the goroutine and is
// reported then.
func (p *textParser) unknown(r *Reader) {
	if p.foreign == 0 {
		p.foreignL = r.lineNo
	}
	p.foreign++
}

func (p *textParser) recognised(r *Reader) {
	if p.foreign > 0 {
		r.warn(p.foreignL, "%d lines of other text inside goroutine %d skipped", p.foreign, p.g.ID)
		p.foreign = 0
	}
}

// header starts a goroutine at "goroutine N …" or a debug=1 profile.
func (p *textParser) header(r *Reader, line []byte) (*Goroutine, bool) {
	g := p.spare()
	ok := parseHeader(line, g)
	if !ok && r.lastNoEOL {
		// The input ends inside this header line.
		ok = cutHeader(line, g)
	}
	if !ok {
		return nil, false
	}
	done := p.finish()
	g.Line = r.lineNo
	p.begin(g, false)
	if r.format == FormatAuto {
		r.format = FormatTraceback
	}
	return done, true
}

// spare returns the buffer not being read, reset for a new goroutine.
func (p *textParser) spare() *Goroutine {
	g := &p.bufs[0]
	if p.g == g {
		g = &p.bufs[1]
	}
	*g = Goroutine{Frames: g.Frames[:0], Labels: g.Labels[:0], Flags: g.Flags[:0]}
	return g
}

func (p *textParser) begin(g *Goroutine, debug1 bool) {
	p.g = g
	p.debug1 = debug1
	p.argSpans = p.argSpans[:0]
	p.arena = p.arena[:0]
	p.anc = nil
	p.expect = expectFunc
	p.foreign = 0
}

// outside handles a line between goroutines: a debug=1 record header, a
// goroutine header behind a log prefix, or other text, which is ignored.
func (p *textParser) outside(r *Reader, line []byte) {
	if c := line[0]; c >= '0' && c <= '9' {
		if n, ok := parseDebug1Header(line); ok {
			g := p.spare()
			g.Count, g.State, g.Line = n, StateUnknown, r.lineNo
			p.begin(g, true)
			if r.format == FormatAuto {
				r.format = FormatDebug1
			}
			return
		}
	}
	if p.prefix != nil {
		return
	}
	i := bytes.Index(line, bGoroutine)
	if i <= 0 {
		p.strayFrame(r, line)
		return
	}
	g := p.spare()
	if !parseHeader(line[i:], g) {
		return
	}
	p.prefix = prefixMatcher(append([]byte(nil), line[:i]...))
	g.Line = r.lineNo
	p.begin(g, false)
	if r.format == FormatAuto {
		r.format = FormatTraceback
	}
}

// strayFrame warns once per run about frame lines outside any goroutine:
// the input starts, or was cut, in the middle of one.
func (p *textParser) strayFrame(r *Reader, line []byte) {
	if line[0] != '\t' && line[0] != ' ' {
		return
	}
	if _, _, ok := splitFileLine(bytes.TrimLeft(line, " \t")); !ok || p.stray {
		return
	}
	p.stray = true
	r.warn(r.lineNo, "stack frames outside any goroutine skipped (the goroutine's header is missing)")
}

// finish completes the goroutine being read, if any, and returns it.
func (p *textParser) finish() *Goroutine {
	g := p.g
	if g == nil {
		return nil
	}
	p.g = nil
	p.foreign = 0
	if p.expect == expectCreatorFile {
		p.expect = expectFunc
	}
	if len(p.arena) > 0 {
		args := string(p.arena)
		for i, sp := range p.argSpans {
			if sp[0] >= 0 {
				g.Frames[i].Args = args[sp[0]:sp[1]]
			}
		}
	}
	if p.debug1 {
		g.State, g.StateInferred = inferState(g.Frames)
	}
	p.yielded++
	return g
}

// funcLine reads "pkg.F(args)".
func (p *textParser) funcLine(r *Reader, line []byte) bool {
	n := len(line)
	if line[n-1] != ')' {
		return false
	}
	open := bytes.LastIndexByte(line, '(')
	if open <= 0 || bytes.IndexByte(line[:open], ' ') >= 0 {
		return false
	}
	p.recognised(r)
	f := Frame{Func: p.str(line[:open])}
	args := line[open+1 : n-1]
	span := [2]int32{-1, -1}
	if len(args) == 3 && args[0] == '.' && args[1] == '.' && args[2] == '.' {
		f.Inlined = true
	} else if len(args) > 0 {
		span[0] = int32(len(p.arena))
		p.arena = append(p.arena, args...)
		span[1] = int32(len(p.arena))
	}
	if p.anc != nil {
		if span[0] >= 0 {
			f.Args = string(args)
		}
		p.anc.Frames = append(p.anc.Frames, f)
	} else {
		p.g.Frames = append(p.g.Frames, f)
		p.argSpans = append(p.argSpans, span)
	}
	p.expect = expectFile
	return true
}

// fileLine reads "\t/path/file.go:123 +0x1d" and the stack-unavailable note.
func (p *textParser) fileLine(r *Reader, line []byte) bool {
	i := 0
	for i < len(line) && (line[i] == '\t' || line[i] == ' ') {
		i++
	}
	if i == 0 && bytes.HasPrefix(line, bTab011) {
		i = len(bTab011)
	}
	if i == 0 {
		return false
	}
	line = line[i:]
	if bytes.Equal(line, bUnavailable) {
		p.recognised(r)
		p.g.StackUnavailable = true
		return true
	}
	file, ln, ok := splitFileLine(line)
	if !ok {
		return false
	}
	switch p.expect {
	case expectFile:
		p.recognised(r)
		var f *Frame
		if p.anc != nil {
			f = &p.anc.Frames[len(p.anc.Frames)-1]
		} else {
			f = &p.g.Frames[len(p.g.Frames)-1]
		}
		f.File, f.Line = p.str(file), ln
	case expectCreatorFile:
		p.recognised(r)
		if p.anc != nil {
			p.anc.CreatedBy.File, p.anc.CreatedBy.Line = p.str(file), ln
		} else {
			p.g.CreatedBy.File, p.g.CreatedBy.Line = p.str(file), ln
		}
	default:
		return false
	}
	p.expect = expectFunc
	return true
}

// splitFileLine splits "/a/b.go:12 +0x1d fp=… sp=… pc=…" into the path and
// the line number. Paths may hold spaces and (on Windows) a drive colon.
func splitFileLine(b []byte) (file []byte, line int, ok bool) {
	// Nothing after the line number (" +0x1d fp=0x… sp=0x… pc=0x…") holds
	// a colon, so the last one ends the path.
	c := bytes.LastIndexByte(b, ':')
	if c <= 0 {
		return nil, 0, false
	}
	n, i := 0, c+1
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	if i == c+1 || i-c > 10 || (i < len(b) && b[i] != ' ') {
		return nil, 0, false
	}
	return b[:c], n, true
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// elided reads "...N frames elided..." and "...additional frames elided...".
func (p *textParser) elided(line []byte) bool {
	if bytes.Equal(line, bElidedOld) {
		p.g.Elided = true
		p.expect = expectFunc
		return true
	}
	if bytes.HasPrefix(line, []byte("...")) && bytes.HasSuffix(line, bFramesElid) {
		if n, ok := atoi(line[3 : len(line)-len(bFramesElid)]); ok {
			p.g.Elided = true
			p.g.ElidedCount += n
			p.expect = expectFunc
			return true
		}
	}
	return false
}

// createdBy reads "created by pkg.F in goroutine N".
func (p *textParser) createdBy(r *Reader, line []byte) {
	p.recognised(r)
	rest := line[len(bCreatedBy):]
	var id int64
	if i := bytes.LastIndex(rest, bInGoroutine); i >= 0 {
		if n, ok := atoi(rest[i+len(bInGoroutine):]); ok {
			id = int64(n)
			rest = rest[:i]
		}
	}
	f := Frame{Func: p.str(rest)}
	if p.anc != nil {
		p.anc.CreatedBy, p.anc.CreatorID = f, id
	} else {
		p.g.CreatedBy, p.g.CreatorID = f, id
	}
	p.expect = expectCreatorFile
}

// origin starts an ancestry block "[originating from goroutine N]:".
func (p *textParser) origin(r *Reader, line []byte) {
	p.recognised(r)
	rest := bytes.TrimSuffix(bytes.TrimSuffix(line[len(bOrigin):], []byte(":")), []byte("]"))
	n, _ := atoi(rest)
	p.g.Ancestors = append(p.g.Ancestors, Ancestor{ID: int64(n)})
	p.anc = &p.g.Ancestors[len(p.g.Ancestors)-1]
	p.expect = expectFunc
}

// debug1Line reads the lines of a debug=1 record.
func (p *textParser) debug1Line(r *Reader, line []byte) {
	if line[0] != '#' {
		p.unknown(r)
		return
	}
	if bytes.HasPrefix(line, bLabelsHash) {
		p.recognised(r)
		p.g.Labels = parseLabels(line[len(bLabelsHash):], p.g.Labels)
		return
	}
	// "#\t0x4a1b2c\tpkg.F+0x2c\t/path/file.go:42"
	if len(line) < 2 || line[1] != '\t' {
		p.unknown(r)
		return
	}
	fields := bytes.SplitN(line[2:], []byte{'\t'}, 3)
	pc, err := strconv.ParseUint(string(bytes.TrimPrefix(fields[0], []byte("0x"))), 16, 64)
	if err != nil {
		p.unknown(r)
		return
	}
	p.recognised(r)
	f := Frame{PC: pc}
	if len(fields) >= 2 {
		fn := fields[1]
		if i := bytes.LastIndex(fn, []byte("+0x")); i > 0 {
			fn = fn[:i]
		}
		fn = bytes.TrimRight(fn, "\t")
		f.Func = p.str(fn)
	}
	if len(fields) == 3 {
		if file, ln, ok := splitFileLine(bytes.TrimLeft(fields[2], "\t")); ok {
			f.File, f.Line = p.str(file), ln
		}
	}
	p.g.Frames = append(p.g.Frames, f)
	p.argSpans = append(p.argSpans, [2]int32{-1, -1})
}

// parseDebug1Header reads "N @ 0x1 0x2 …" and returns N.
func parseDebug1Header(line []byte) (int, bool) {
	i := bytes.Index(line, bAt)
	if i <= 0 {
		return 0, false
	}
	n, ok := atoi(line[:i])
	if !ok || !bytes.HasPrefix(line[i+len(bAt):], []byte("0x")) {
		return 0, false
	}
	return n, true
}

// flagNames are the parenthesised header flags, as shared strings.
var flagNames = map[string]string{"scan": "scan", "leaked": "leaked", "durable": "durable"}

// states holds the wait reasons the runtime prints, so reading one does not
// allocate; others are allocated.
var states = func() map[string]string {
	m := map[string]string{}
	for _, s := range []string{"running", "runnable", "syscall", "chan send", "chan receive", "select", "IO wait",
		"sleep", "semacquire", "sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock", "sync.WaitGroup.Wait",
		"sync.Cond.Wait", "select (no cases)", "chan receive (nil chan)", "chan send (nil chan)", "GC worker (idle)",
		"force gc (idle)", "GC sweep wait", "GC scavenge wait", "finalizer wait", "idle", "dead", "copystack", "preempted"} {
		m[s] = s
	}
	return m
}()

func internState(b []byte) string {
	if s, ok := states[string(b)]; ok {
		return s
	}
	return string(b)
}

// cutHeader reads what is left of a header cut short by the end of input.
func cutHeader(line []byte, g *Goroutine) bool {
	rest := line[len(bGoroutine):]
	i := 0
	for i < len(rest) && i < 19 && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	id, _ := atoi(rest[:i])
	g.ID, g.Count, g.State = int64(id), 1, StateUnknown
	return true
}

// parseHeader reads a goroutine header. Forms (Go 1.20–1.27):
//
//	goroutine 7 [chan send]:
//	goroutine 7 gp=0xc000007a40 m=nil [chan send, 3 minutes, locked to thread]:
//	goroutine 7 [select (scan), synctest bubble 5]:
//	goroutine 7 [chan receive labels:{"k": "v"}]:      (Go 1.26, GODEBUG=tracebacklabels=1)
//	goroutine 7 [chan receive] {k: v, "a b": "c]"}:    (Go 1.27)
func parseHeader(line []byte, g *Goroutine) bool {
	rest := line[len(bGoroutine):]
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(rest) || rest[i] != ' ' {
		return false
	}
	if i > 18 {
		return false
	}
	id, _ := atoi(rest[:i])
	g.ID, g.Count = int64(id), 1
	rest = rest[i+1:]
	// gp=… m=… mp=… words.
	for len(rest) > 0 && rest[0] != '[' {
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			return false
		}
		word := rest[:sp]
		eq := bytes.IndexByte(word, '=')
		if eq < 0 {
			return false
		}
		v := string(word[eq+1:])
		switch string(word[:eq]) {
		case "gp":
			g.GP = v
		case "m":
			g.M = v
		case "mp":
			g.MP = v
		}
		rest = rest[sp+1:]
	}
	if len(rest) == 0 {
		return false
	}
	rest = rest[1:] // '['
	// The state runs to the first ',' or ']' or " labels:{".
	end := 0
	for end < len(rest) && rest[end] != ',' && rest[end] != ']' {
		if rest[end] == ' ' && bytes.HasPrefix(rest[end:], []byte(" labels:{")) {
			break
		}
		end++
	}
	if end == len(rest) {
		return false
	}
	state := rest[:end]
	for {
		// Trailing flags: " (scan)", " (leaked)", " (durable)".
		if len(state) > 0 && state[len(state)-1] == ')' {
			if o := bytes.LastIndex(state, []byte(" (")); o > 0 {
				flag := string(state[o+2 : len(state)-1])
				if flag == "scan" || flag == "leaked" || flag == "durable" {
					g.Flags = append(g.Flags, flagNames[flag])
					state = state[:o]
					continue
				}
			}
		}
		break
	}
	slices.Reverse(g.Flags) // read from the end
	g.State = internState(state)
	rest = rest[end:]
	for len(rest) > 0 && rest[0] == ',' {
		rest = bytes.TrimPrefix(rest[1:], []byte(" "))
		e := 0
		for e < len(rest) && rest[e] != ',' && rest[e] != ']' {
			if rest[e] == ' ' && bytes.HasPrefix(rest[e:], []byte(" labels:{")) {
				break
			}
			e++
		}
		item := rest[:e]
		switch {
		case bytes.HasSuffix(item, []byte(" minutes")):
			if n, ok := atoi(item[:len(item)-len(" minutes")]); ok {
				g.WaitMinutes = n
			}
		case bytes.Equal(item, []byte("locked to thread")):
			g.LockedToThread = true
		case bytes.HasPrefix(item, []byte("synctest bubble ")):
			n, _ := atoi(item[len("synctest bubble "):])
			g.SynctestBubble = int64(n)
		case bytes.HasPrefix(item, []byte("synctest group ")):
			n, _ := atoi(item[len("synctest group "):])
			g.SynctestBubble = int64(n)
		}
		rest = rest[e:]
	}
	if bytes.HasPrefix(rest, []byte(" labels:")) {
		lab, n := scanBraces(rest[len(" labels:"):])
		if n < 0 {
			return false
		}
		g.Labels = parseLabels(lab, g.Labels)
		rest = rest[len(" labels:")+n:]
	}
	if len(rest) == 0 || rest[0] != ']' {
		return false
	}
	rest = rest[1:]
	if bytes.HasPrefix(rest, []byte(" {")) {
		lab, n := scanBraces(rest[1:])
		if n < 0 {
			return false
		}
		g.Labels = parseLabels(lab, g.Labels)
		rest = rest[1+n:]
	}
	if len(rest) != 1 || rest[0] != ':' {
		return false
	}
	return true
}

// scanBraces returns the "{…}" at the start of b, honouring quoted strings,
// and its length, or -1 if it does not close.
func scanBraces(b []byte) ([]byte, int) {
	if len(b) == 0 || b[0] != '{' {
		return nil, -1
	}
	inQuote := false
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '}':
			return b[:i+1], i + 1
		}
	}
	return nil, -1
}

// parseLabels reads `{"k": "v", k2: v2}` (traceback) or `{"k":"v", …}`
// (debug=1) and appends to dst. Quoted strings use Go escapes.
func parseLabels(b []byte, dst []Label) []Label {
	b = bytes.TrimSpace(b)
	b = bytes.TrimPrefix(b, []byte("{"))
	b = bytes.TrimSuffix(b, []byte("}"))
	for len(b) > 0 {
		b = bytes.TrimLeft(b, " ,")
		if len(b) == 0 {
			break
		}
		k, n := labelToken(b, ':')
		b = b[n:]
		b = bytes.TrimPrefix(b, []byte(":"))
		b = bytes.TrimLeft(b, " ")
		v, n := labelToken(b, ',')
		b = b[n:]
		dst = append(dst, Label{Key: k, Value: v})
	}
	return dst
}

// labelToken reads a quoted string or a bare word ending at stop.
func labelToken(b []byte, stop byte) (string, int) {
	if len(b) > 0 && b[0] == '"' {
		for i := 1; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				raw := b[:i+1]
				if s, err := strconv.Unquote(string(raw)); err == nil {
					return s, i + 1
				}
				return string(raw[1:i]), i + 1
			}
		}
		return string(b[1:]), len(b)
	}
	i := bytes.IndexByte(b, stop)
	if stop == ',' {
		// A bare value ends at ", ".
		i = bytes.Index(b, []byte(", "))
	}
	if i < 0 {
		i = len(b)
	}
	return string(bytes.TrimSpace(b[:i])), i
}
