package stackparse

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Default limits. Each can be changed with an Option.
const (
	// DefaultMaxLineBytes is the longest line read; a longer one is skipped
	// with a warning.
	DefaultMaxLineBytes = 1 << 20
	// DefaultMaxBytes caps the bytes a gzip-compressed input may expand to,
	// so a gzip bomb ends with an error instead of running for ever.
	DefaultMaxBytes = 16 << 30
	// DefaultMaxProtoBytes caps a proto profile, which is read whole.
	DefaultMaxProtoBytes = 256 << 20
	// maxWarnings is how many warnings are kept; later ones are counted.
	maxWarnings = 100
)

// Option configures a Reader.
type Option func(*options)

type options struct {
	name          string
	format        Format
	maxLine       int
	maxBytes      int64
	maxProtoBytes int64
}

// WithName sets the input's name (a file name or URL) used in errors and
// warnings: "goroutines.txt:123: …".
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithFormat forces a format instead of detecting it.
func WithFormat(f Format) Option { return func(o *options) { o.format = f } }

// WithMaxLineBytes sets the longest line read (default DefaultMaxLineBytes).
func WithMaxLineBytes(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxLine = n
		}
	}
}

// WithMaxBytes caps how far compressed input may expand (default
// DefaultMaxBytes) and how large a proto profile may be.
func WithMaxBytes(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxBytes = n
			if n < o.maxProtoBytes {
				o.maxProtoBytes = n
			}
		}
	}
}

// Error is a problem at a place in the input. Warnings are Errors too.
type Error struct {
	// Name is the input's name as given by WithName ("" if none).
	Name string
	// Line is the 1-based line number, or 0 when the problem has no line.
	Line int
	// Msg says what is wrong.
	Msg string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	name := e.Name
	if name == "" {
		name = "input"
	}
	msg := e.Msg
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", name, e.Line, msg)
	}
	return name + ": " + msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrNoGoroutines is wrapped by the error a Reader returns when the input
// holds no goroutine at all.
var ErrNoGoroutines = errors.New("no goroutine found")

// Reader reads goroutines from a dump one at a time, in bounded memory:
//
//	r := stackparse.NewReader(f, stackparse.WithName("goroutines.txt"))
//	for r.Next() {
//		g := r.Goroutine()
//		…
//	}
//	if err := r.Err(); err != nil { … }
//
// The format (traceback, debug=1 text or proto, each optionally
// gzip-compressed) is detected from the input. Like bufio.Scanner's Bytes,
// the Goroutine returned is valid until the next call to Next, which reuses
// its memory: Clone it to keep it. (Its strings never change and may be
// kept.) That keeps a scan of millions of goroutines nearly free of
// allocation.
type Reader struct {
	opt    options
	src    io.Reader
	format Format
	err    error
	warns  []*Error
	nwarn  int

	started bool
	done    bool
	cur     *Goroutine

	// Line reading.
	buf        []byte
	r, w       int // unread bytes are buf[r:w]
	srcEOF     bool
	srcErr     error
	lineNo     int
	lastNoEOL  bool // the last line read had no newline (input cut mid-line)
	sawESC     bool // the input holds an escape byte: look for ANSI codes
	totalBytes int64
	firstLine  []byte

	text  *textParser
	proto *protoParser
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader, opts ...Option) *Reader {
	o := options{maxLine: DefaultMaxLineBytes, maxBytes: DefaultMaxBytes, maxProtoBytes: DefaultMaxProtoBytes}
	for _, f := range opts {
		f(&o)
	}
	return &Reader{opt: o, src: r}
}

// Format returns the detected (or forced) format. It is FormatAuto until the
// first call to Next.
func (r *Reader) Format() Format { return r.format }

// Goroutine returns the goroutine read by the last successful Next, valid
// until the next call to Next.
func (r *Reader) Goroutine() *Goroutine { return r.cur }

// Err returns the error that stopped the Reader, or nil at a clean end.
// Input with no goroutine at all is an error wrapping ErrNoGoroutines.
func (r *Reader) Err() error { return r.err }

// Warnings returns the problems met in input that could still be read, in
// input order; at most 100 are kept (WarningCount counts all).
func (r *Reader) Warnings() []*Error { return r.warns }

// WarningCount returns how many warnings there were, kept or not.
func (r *Reader) WarningCount() int { return r.nwarn }

// Lines returns how many lines have been read so far.
func (r *Reader) Lines() int { return r.lineNo }

// Bytes returns how many (decompressed) bytes have been read so far.
func (r *Reader) Bytes() int64 { return r.totalBytes }

func (r *Reader) warn(line int, format string, args ...any) {
	r.nwarn++
	if len(r.warns) < maxWarnings {
		r.warns = append(r.warns, &Error{Name: r.opt.name, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
}

func (r *Reader) fail(line int, err error, format string, args ...any) {
	if r.err == nil {
		r.err = &Error{Name: r.opt.name, Line: line, Msg: fmt.Sprintf(format, args...), Err: err}
	}
	r.done = true
	r.cur = nil
}

// Next reads the next goroutine. It returns false at the end of the input
// or on an error (see Err).
func (r *Reader) Next() bool {
	if r.done {
		return false
	}
	if !r.started {
		r.started = true
		if !r.start() {
			return false
		}
	}
	var g *Goroutine
	if r.proto != nil {
		g = r.proto.next(r)
	} else {
		g = r.text.next(r)
	}
	if g == nil {
		r.done = true
		r.cur = nil
		if r.err == nil && r.count() == 0 && !r.emptyProfile() {
			r.noGoroutines()
		}
		return false
	}
	r.cur = g
	return true
}

// emptyProfile reports a debug=1 profile whose header says it holds no
// goroutine ("goroutineleak profile: total 0"): a real answer, not an error.
func (r *Reader) emptyProfile() bool {
	return r.text != nil && r.text.sawTotal && r.text.total == 0
}

func (r *Reader) count() int {
	if r.proto != nil {
		return r.proto.yielded
	}
	return r.text.yielded
}

// start detects compression and format.
func (r *Reader) start() bool {
	r.buf = make([]byte, 64<<10)
	if err := r.fill(); err != nil && r.w == 0 {
		r.fail(0, err, "cannot read")
		return false
	}
	if r.w == 0 {
		r.fail(0, ErrNoGoroutines, "empty input")
		return false
	}
	if r.w >= 2 && r.buf[0] == 0x1f && r.buf[1] == 0x8b {
		zr, err := gzip.NewReader(io.MultiReader(bytes.NewReader(append([]byte(nil), r.buf[:r.w]...)), r.src))
		if err != nil {
			r.fail(0, err, "gzip header")
			return false
		}
		r.src = &limitReader{r: zr, n: r.opt.maxBytes, limit: r.opt.maxBytes}
		r.r, r.w, r.srcEOF, r.srcErr = 0, 0, false, nil
		if err := r.fill(); err != nil && r.w == 0 {
			r.fail(0, err, "cannot decompress")
			return false
		}
		if r.w == 0 {
			r.fail(0, ErrNoGoroutines, "gzip input decompresses to nothing")
			return false
		}
	}
	r.format = r.opt.format
	if r.format == FormatAuto {
		r.format = sniff(r.buf[r.r:r.w])
	}
	switch r.format {
	case FormatProto:
		head := clip(r.buf[r.r:r.w], 16)
		p, err := newProtoParser(r)
		if err != nil {
			r.fail(0, err, "binary input (starts %q) is not a goroutine dump or goroutine profile", head)
			return false
		}
		r.proto = p
		return true
	}
	if r.opt.format == FormatAuto && r.format == FormatTraceback {
		// Text that is not yet known to be debug=1: the first record decides.
		r.format = FormatAuto
	}
	r.text = newTextParser()
	return true
}

// sniff guesses the format from the first bytes of (decompressed) input.
func sniff(b []byte) Format {
	if bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(trimPartialRune(b)) {
		// Binary: a proto profile, or not a dump at all; parsing it tells.
		return FormatProto
	}
	if bytes.Contains(b, []byte(" profile: total ")) {
		return FormatDebug1
	}
	return FormatTraceback
}

func trimPartialRune(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if utf8.FullRune(b) && utf8.Valid(b) {
			return b
		}
		r, size := utf8.DecodeLastRune(b)
		if r != utf8.RuneError || size != 1 {
			return b
		}
		b = b[:len(b)-1]
	}
	return b
}

func (r *Reader) noGoroutines() {
	msg := "no goroutine found"
	switch {
	case r.lineNo == 0:
		msg += " (no lines)"
	default:
		msg += fmt.Sprintf(" in %d lines of text; first line: %q", r.lineNo, clip(r.firstLine, 80))
	}
	if r.nwarn > 0 {
		msg += fmt.Sprintf("; %d warnings, first: %s", r.nwarn, r.warns[0].Error())
	}
	r.err = &Error{Name: r.opt.name, Msg: msg, Err: ErrNoGoroutines}
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// fill reads more input into buf, compacting and growing it as needed.
func (r *Reader) fill() error {
	if r.srcEOF {
		return r.srcErr
	}
	if r.r > 0 {
		n := copy(r.buf, r.buf[r.r:r.w])
		r.r, r.w = 0, n
	}
	if r.w == len(r.buf) {
		// Grow, but not past what one line may need.
		limit := r.opt.maxLine + 1
		if len(r.buf) >= limit {
			return nil
		}
		n := len(r.buf) * 2
		if n > limit {
			n = limit
		}
		nb := make([]byte, n)
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	for r.w < len(r.buf) {
		n, err := r.src.Read(r.buf[r.w:])
		if !r.sawESC && bytes.IndexByte(r.buf[r.w:r.w+n], 0x1b) >= 0 {
			r.sawESC = true
		}
		r.w += n
		r.totalBytes += int64(n)
		if err != nil {
			r.srcEOF = true
			if err != io.EOF {
				r.srcErr = err
			}
			return r.srcErr
		}
		if n > 0 {
			return nil
		}
	}
	return nil
}

// readLine returns the next line without its line end, valid until the next
// call. ok is false at the end of input.
func (r *Reader) readLine() (line []byte, ok bool) {
	for {
		if r.buf == nil {
			return nil, false
		}
		if i := bytes.IndexByte(r.buf[r.r:r.w], '\n'); i >= 0 {
			line = r.buf[r.r : r.r+i]
			r.r += i + 1
			r.lineNo++
			r.lastNoEOL = false
			break
		}
		if r.srcEOF {
			if r.r == r.w {
				if r.srcErr != nil && r.err == nil {
					r.fail(r.lineNo+1, r.srcErr, "read error")
				}
				return nil, false
			}
			line = r.buf[r.r:r.w]
			r.r = r.w
			r.lineNo++
			r.lastNoEOL = true
			break
		}
		if r.w-r.r > r.opt.maxLine {
			r.skipLongLine()
			continue
		}
		if err := r.fill(); err != nil && !r.srcEOF {
			r.fail(r.lineNo+1, err, "read error")
			return nil, false
		}
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if r.firstLine == nil && len(bytes.TrimSpace(line)) > 0 {
		r.firstLine = append([]byte{}, clipBytes(line, 80)...)
	}
	return line, true
}

func clipBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// skipLongLine discards the rest of a line longer than the limit.
func (r *Reader) skipLongLine() {
	r.lineNo++
	start := r.lineNo
	var n int64
	for {
		if i := bytes.IndexByte(r.buf[r.r:r.w], '\n'); i >= 0 {
			n += int64(i)
			r.r += i + 1
			break
		}
		n += int64(r.w - r.r)
		r.r = r.w
		if r.srcEOF {
			break
		}
		if err := r.fill(); err != nil && !r.srcEOF {
			break
		}
	}
	r.warn(start, "line longer than %d bytes (%d bytes) skipped", r.opt.maxLine, n)
	if r.firstLine == nil {
		r.firstLine = []byte(fmt.Sprintf("<%d-byte line>", n))
	}
}

// limitReader fails once more than n bytes have been read.
type limitReader struct {
	r        io.Reader
	n, limit int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("decompressed input exceeds the limit of %d bytes (a gzip bomb? raise the limit with WithMaxBytes)", l.limit)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// Dump is a whole parsed input.
type Dump struct {
	// Format is the format read.
	Format Format
	// Goroutines are in input order.
	Goroutines []*Goroutine
	// Warnings are the problems met in input that could still be read.
	Warnings []*Error
}

// Parse reads a whole dump. It returns the goroutines read before an error
// together with the error.
func Parse(r io.Reader, opts ...Option) (*Dump, error) {
	rd := NewReader(r, opts...)
	d := &Dump{}
	for rd.Next() {
		d.Goroutines = append(d.Goroutines, rd.Goroutine().Clone())
	}
	d.Format = rd.Format()
	d.Warnings = rd.Warnings()
	return d, rd.Err()
}
