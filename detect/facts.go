package detect

import (
	"strings"

	"github.com/amqpleaks/amqpleaks/stackparse"
)

// The AMQP client libraries, by the import path that ends their package
// path (vendored copies keep it as a suffix).
const (
	LibAMQP091   = "github.com/rabbitmq/amqp091-go"
	LibStreadway = "github.com/streadway/amqp"
)

// Roles of the goroutines the library starts itself.
const (
	RoleReader      = "reader"      // (*Connection).reader: reads frames, dispatches, shuts down
	RoleHeartbeater = "heartbeater" // (*Connection).heartbeater
	RoleConsumer    = "consumer"    // (*consumers).buffer: one per Consume
	RoleConfirm     = "confirm"     // NotifyConfirm's relay goroutine
	RoleNotify      = "notify"      // a goroutine the library started to deliver one notification (v1.12+)
	RoleRecovery    = "recovery"    // v1.16+ reconnection machinery
	RoleCaller      = "caller"      // an application goroutine inside a library call
)

// gor is what detect knows of one goroutine that runs AMQP library code.
type gor struct {
	g       *stackparse.Goroutine
	lib     string // LibAMQP091 or LibStreadway
	version string // module version from file paths, "" when unknown
	// lf are the library frames, innermost first, as short names such as
	// "(*Connection).shutdown.func1", with their index in g.Frames.
	lf    []libFrame
	role  string
	conn  string // *Connection receiver address, when certain
	ch    string // *Channel receiver address, when certain
	state string // g.State, or what the innermost library frame implies in debug=1
	// claimed is set when a finding has reported this goroutine.
	claimed bool
}

type libFrame struct {
	name   string // short name after the package path
	method string // receiver and method without closure suffixes: "(*Connection).shutdown"
	idx    int
}

// libPrefixes are the package paths of the libraries followed by the dot
// that ends them in a function name.
var libPrefixes = [...]struct{ lib, prefix string }{
	{LibAMQP091, LibAMQP091 + "."},
	{LibStreadway, LibStreadway + "."},
}

// libOf returns the library whose package the function belongs to and the
// rest of the name after "pkg.".
func libOf(fn string) (lib, rest string) {
	// Both paths contain "/amqp": one search rejects almost every frame.
	if !strings.Contains(fn, "/amqp") {
		return "", ""
	}
	for _, l := range libPrefixes {
		if i := strings.Index(fn, l.prefix); i >= 0 && (i == 0 || fn[i-1] == '/') {
			rest = fn[i+len(l.prefix):]
			if strings.HasPrefix(rest, "(_") {
				// Markdown ate the '*' of "(*T)" in dumps pasted into issues.
				rest = "(*" + rest[2:]
			}
			return l.lib, rest
		}
	}
	return "", ""
}

// methodOf strips closure and wrapper suffixes from a short name, so a
// rule matches whatever a Go version calls the function literal:
// "(*Connection).shutdown.func1", "(*Connection).shutdown.func1.1",
// "(*Connection).shutdown.gowrap2" and "(*Connection).shutdown-range1"
// all give "(*Connection).shutdown".
func methodOf(short string) string {
	start := 0
	if strings.HasPrefix(short, "(") {
		if i := strings.Index(short, ")."); i > 0 {
			start = i + 2
		}
	}
	if i := strings.IndexAny(short[start:], ".-["); i >= 0 {
		return short[:start+i]
	}
	return short
}

// classify returns what detect knows of g, or nil when g runs no AMQP code.
func classify(g *stackparse.Goroutine) *gor {
	var x *gor
	for i, f := range g.Frames {
		lib, rest := libOf(f.Func)
		if lib == "" {
			continue
		}
		if x == nil {
			x = &gor{g: g, lib: lib, state: g.State}
		}
		lf := libFrame{name: rest, method: methodOf(rest), idx: i}
		x.lf = append(x.lf, lf)
		if x.version == "" {
			if path, v := f.Module(); strings.HasSuffix(path, lib) {
				x.version = v
			}
		}
		if w, ok := f.FirstArg(); ok {
			switch {
			case x.conn == "" && strings.HasPrefix(lf.method, "(*Connection)."):
				x.conn = w
			case x.ch == "" && strings.HasPrefix(lf.method, "(*Channel)."):
				x.ch = w
			}
		}
	}
	if x == nil {
		if lib, rest := libOf(g.CreatedBy.Func); lib != "" {
			// Started by the library but running none of its frames: a
			// goroutine waiting in runtime code only.
			x = &gor{g: g, lib: lib, state: g.State}
			x.lf = []libFrame{{name: rest, method: methodOf(rest), idx: -1}}
		} else {
			return nil
		}
	}
	if x.version == "" {
		if path, v := g.CreatedBy.Module(); strings.HasSuffix(path, x.lib) {
			x.version = v
		}
	}
	x.g = g.Clone() // the Reader reuses g
	x.role = roleOf(x)
	return x
}

// roleOf names the library goroutine by its outermost library frame.
func roleOf(x *gor) string {
	outer := x.lf[len(x.lf)-1].method
	_, creator := libOf(x.g.CreatedBy.Func)
	switch {
	case outer == "(*Connection).reader":
		return RoleReader
	case outer == "(*Connection).heartbeater":
		return RoleHeartbeater
	case outer == "(*consumers).buffer":
		return RoleConsumer
	case outer == "(*Channel).NotifyConfirm":
		return RoleConfirm
	case outer == "(*lifeCycle).deliverToListener":
		return RoleNotify
	}
	if creator != "" {
		switch m := methodOf(creator); {
		case strings.Contains(m, "ecover") || strings.Contains(m, "econnect"):
			return RoleRecovery
		case x.lf[len(x.lf)-1].idx == len(x.g.Frames)-1 || x.lf[len(x.lf)-1].idx == -1:
			// The library started it and nothing of the application runs
			// below: a delivery goroutine.
			return RoleNotify
		}
	}
	return RoleCaller
}

// inner returns the innermost library frame.
func (x *gor) inner() libFrame { return x.lf[0] }

// has reports whether any library frame is the method m.
func (x *gor) has(m string) bool {
	for _, f := range x.lf {
		if f.method == m {
			return true
		}
	}
	return false
}

// innerIs reports whether the innermost library frame is one of methods.
func (x *gor) innerIs(methods ...string) bool {
	in := x.inner().method
	for _, m := range methods {
		if in == m {
			return true
		}
	}
	return false
}

// blockedSend reports whether the goroutine is parked sending on a channel.
// In debug=1 input the runtime frames that say so are hidden; a goroutine
// whose innermost frame is a library function that does nothing but send
// at that point is then taken as parked there (sendOnly).
func (x *gor) blockedSend(sendOnly bool) bool {
	if x.state == "chan send" {
		return true
	}
	if x.state != stackparse.StateUnknown || !sendOnly {
		return false
	}
	// In debug=1 the innermost frame shown is the library's own.
	return x.inner().idx == 0
}

// appFrame returns the innermost frame of the application (neither the
// library, the runtime nor the standard library), or nil.
func (x *gor) appFrame() *stackparse.Frame {
	for i := range x.g.Frames {
		if isAppFunc(x.g.Frames[i].Func) {
			return &x.g.Frames[i]
		}
	}
	return nil
}

// isAppFunc reports whether fn belongs to the application: not the AMQP
// library and not the standard library (whose package paths have no dot in
// their first element).
func isAppFunc(fn string) bool {
	if lib, _ := libOf(fn); lib != "" {
		return false
	}
	pkg, _, _ := stackparse.SplitFunc(fn)
	first := pkg
	if i := strings.IndexByte(pkg, '/'); i >= 0 {
		first = pkg[:i]
	}
	return strings.Contains(first, ".") || pkg == "main"
}
