package amqpvet

import (
	_ "embed"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

//go:embed doc.go
var doc string

// Analyzers is every analyzer of this package, in the order the package
// documentation lists them. cmd/amqpvet runs them all.
var Analyzers = []*analysis.Analyzer{
	NotifyBuffer,
	NotifyUnread,
	MultiAck,
	ConnOnly,
	Heartbeat,
}

// The amqpleaks runtime rules (docs/rules.md of the main module) that the
// analyzers' diagnostics name: each diagnostic says which stuck state, as a
// goroutine dump would later show it, the code leads to.
const (
	RuleConnNotifyCloseUnread = "conn-notifyclose-unread"
	RuleChanNotifyCloseUnread = "chan-notifyclose-unread"
	RuleConfirmsUndrained     = "confirms-undrained"
	RuleReturnUnread          = "return-unread"
	RuleCancelUnread          = "cancel-unread"
	RuleFlowUnread            = "flow-unread"
	RuleBlockedUnread         = "blocked-unread"
	RuleStateChangeUnread     = "statechange-unread"
	RuleNoHeartbeat           = "io-wait-no-heartbeat"
	RuleWatchConnOnly         = "reconnect-watches-conn-only"
)

// RuleIDs lists the rule IDs the analyzers may name.
var RuleIDs = []string{
	RuleConnNotifyCloseUnread,
	RuleChanNotifyCloseUnread,
	RuleConfirmsUndrained,
	RuleReturnUnread,
	RuleCancelUnread,
	RuleFlowUnread,
	RuleBlockedUnread,
	RuleStateChangeUnread,
	RuleNoHeartbeat,
	RuleWatchConnOnly,
}

// RulesURL is the page that documents the runtime rules.
const RulesURL = "https://github.com/amqpleaks/amqpleaks/blob/main/docs/rules.md"

// RuleURL returns the link to the documentation of rule id.
func RuleURL(id string) string { return RulesURL + "#" + id }

const docURL = "https://pkg.go.dev/github.com/amqpleaks/amqpleaks/amqpvet#hdr-Analyzer_"

// report emits a diagnostic that names the runtime rule it prevents, both in
// the message (drivers print only that) and as Category and URL (for -json
// output and editors).
func report(pass *analysis.Pass, rng analysis.Range, rule, msg string, fixes ...analysis.SuggestedFix) {
	pass.Report(analysis.Diagnostic{
		Pos:            rng.Pos(),
		End:            rng.End(),
		Category:       rule,
		URL:            RuleURL(rule),
		Message:        fmt.Sprintf("%s (amqpleaks rule %s: %s)", msg, rule, RuleURL(rule)),
		SuggestedFixes: fixes,
	})
}

// mustExtractDoc returns the section "# Analyzer name" of the package
// documentation in doc.go, without the "name:" prefix of its first line, as
// x/tools' own analyzers do, so that code and documentation cannot drift.
func mustExtractDoc(name string) string {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", doc, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil || f.Doc == nil {
		panic("amqpvet: doc.go has no package comment")
	}
	for _, section := range strings.Split(f.Doc.Text(), "\n# ") {
		body := strings.TrimPrefix(section, "Analyzer "+name)
		if body == section || body == "" || body[0] != '\n' {
			continue
		}
		body = strings.TrimSpace(body)
		rest := strings.TrimPrefix(body, name+":")
		if rest == body {
			panic("amqpvet: heading 'Analyzer " + name + "' not followed by '" + name + ": summary'")
		}
		return strings.TrimSpace(rest)
	}
	panic("amqpvet: doc.go has no heading 'Analyzer " + name + "'")
}

// The libraries, matched by import path suffix so that vendored copies
// (example.com/app/vendor/github.com/streadway/amqp) count too.
const (
	pathAMQP091   = "github.com/rabbitmq/amqp091-go"
	pathStreadway = "github.com/streadway/amqp"
)

// libOf returns the library an import path is, or "".
func libOf(path string) string {
	for _, lib := range [...]string{pathAMQP091, pathStreadway} {
		if path == lib || strings.HasSuffix(path, "/vendor/"+lib) {
			return lib
		}
	}
	return ""
}

// isLibPackage reports whether the package under analysis is one of the
// libraries itself (with its in-package tests): their own use of their API is
// not the application code amqpvet is for.
func isLibPackage(pass *analysis.Pass) bool { return libOf(pass.Pkg.Path()) != "" }

// enclosingFunc returns the function declaration of a stack, or nil.
func enclosingFunc(stack []ast.Node) *ast.FuncDecl {
	for i := len(stack) - 1; i >= 0; i-- {
		if fd, ok := stack[i].(*ast.FuncDecl); ok {
			return fd
		}
	}
	return nil
}

// isLibNamed reports whether t (or what it points to) is the named type
// name of one of the libraries.
func isLibNamed(t types.Type, name string) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	obj := n.Obj()
	return obj.Name() == name && obj.Pkg() != nil && libOf(obj.Pkg().Path()) != ""
}

// libMethod returns the receiver type name and method name when call is a
// static call of a method of one of the libraries' types (or an interface
// method of one of them, such as Acknowledger.Ack).
func libMethod(info *types.Info, call *ast.CallExpr) (recv, method string, ok bool) {
	fn, _ := typeutil.Callee(info, call).(*types.Func)
	if fn == nil || fn.Pkg() == nil || libOf(fn.Pkg().Path()) == "" {
		return "", "", false
	}
	sig, _ := fn.Type().(*types.Signature)
	if sig == nil || sig.Recv() == nil {
		return "", "", false
	}
	t := sig.Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Name(), fn.Name(), true
	}
	// An interface method: find the named interface through the call's selector.
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
		if tv, ok := info.Types[sel.X]; ok {
			xt := tv.Type
			if n, ok := types.Unalias(xt).(*types.Named); ok {
				return n.Obj().Name(), fn.Name(), true
			}
		}
	}
	return "", fn.Name(), true
}

// libFunc returns the name of a package-level function of one of the
// libraries that call calls, with the library's path.
func libFunc(info *types.Info, call *ast.CallExpr) (lib, name string) {
	fn, _ := typeutil.Callee(info, call).(*types.Func)
	if fn == nil || fn.Pkg() == nil {
		return "", ""
	}
	if sig, _ := fn.Type().(*types.Signature); sig == nil || sig.Recv() != nil {
		return "", ""
	}
	return libOf(fn.Pkg().Path()), fn.Name()
}

// isConstBool reports whether e is the constant value v.
func isConstBool(info *types.Info, e ast.Expr, v bool) bool {
	tv, ok := info.Types[e]
	return ok && tv.Value != nil && tv.Value.Kind() == constant.Bool && constant.BoolVal(tv.Value) == v
}

// makeChan returns the capacity of a make(chan T[, n]) call: known is false
// when n is not a constant.
func makeChan(info *types.Info, e ast.Expr) (mk *ast.CallExpr, capacity int64, known bool) {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return nil, 0, false
	}
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return nil, 0, false
	}
	if b, ok := info.Uses[id].(*types.Builtin); !ok || b.Name() != "make" || len(call.Args) == 0 {
		return nil, 0, false
	}
	if _, ok := info.TypeOf(call.Args[0]).Underlying().(*types.Chan); !ok {
		return nil, 0, false
	}
	if len(call.Args) == 1 {
		return call, 0, true
	}
	tv := info.Types[call.Args[1]]
	if tv.Value == nil {
		return call, 0, false
	}
	n, exact := constant.Int64Val(constant.ToInt(tv.Value))
	return call, n, exact
}

// objOf returns the variable an identifier or field selector denotes.
func objOf(info *types.Info, e ast.Expr) *types.Var {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		v, _ := info.ObjectOf(e).(*types.Var)
		return v
	case *ast.SelectorExpr:
		if sel, ok := info.Selections[e]; ok && sel.Kind() == types.FieldVal {
			v, _ := sel.Obj().(*types.Var)
			return v
		}
		// A package-qualified variable: pkg.V.
		v, _ := info.ObjectOf(e.Sel).(*types.Var)
		return v
	}
	return nil
}

// funcDecls maps the package's functions and methods to their declarations,
// so that analyzers can follow a static call into its body.
func funcDecls(pass *analysis.Pass) map[*types.Func]*ast.FuncDecl {
	m := make(map[*types.Func]*ast.FuncDecl)
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				if fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func); ok {
					m[fn] = fd
				}
			}
		}
	}
	return m
}

// enclosingLoops returns the for and range statements of stack that
// enclose its last node within the same function.
func enclosingLoops(stack []ast.Node) []ast.Node {
	var loops []ast.Node
	for i := len(stack) - 2; i >= 0; i-- {
		switch n := stack[i].(type) {
		case *ast.FuncLit, *ast.FuncDecl:
			return loops
		case *ast.ForStmt:
			if stack[i+1] == n.Body {
				loops = append(loops, n)
			}
		case *ast.RangeStmt:
			if stack[i+1] == n.Body {
				loops = append(loops, n)
			}
		}
	}
	return loops
}

func contains(n ast.Node, pos token.Pos) bool { return n.Pos() <= pos && pos < n.End() }
