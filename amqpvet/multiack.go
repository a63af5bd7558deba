package amqpvet

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// MultiAck reports acks and nacks with multiple=true made from goroutines
// started per delivery.
var MultiAck = &analysis.Analyzer{
	Name:     "multiack",
	Doc:      mustExtractDoc("multiack"),
	URL:      docURL + "multiack",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runMultiAck,
}

func runMultiAck(pass *analysis.Pass) (any, error) {
	if isLibPackage(pass) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo
	decls := funcDecls(pass)
	reported := map[ast.Expr]bool{}

	var visit func(body ast.Node, depth int, seen map[ast.Node]bool)
	visit = func(body ast.Node, depth int, seen map[ast.Node]bool) {
		if body == nil || seen[body] {
			return
		}
		seen[body] = true
		ast.Inspect(body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if arg, what := multiAck(info, call); arg != nil && !reported[arg] {
				reported[arg] = true
				report(pass, arg, RuleWatchConnOnly,
					what+" with multiple=true in a goroutine started per delivery: it also acknowledges every earlier delivery, which other goroutines still hold and will acknowledge again; the broker answers the second acknowledgement of a tag by closing the channel (406 PRECONDITION_FAILED), and a consumer that watches only its connection stops silently; use multiple=false",
					analysis.SuggestedFix{
						Message:   "Acknowledge only this delivery (multiple=false)",
						TextEdits: []analysis.TextEdit{{Pos: arg.Pos(), End: arg.End(), NewText: []byte("false")}},
					})
			}
			if depth < 3 {
				if fn := typeutil.StaticCallee(info, call); fn != nil {
					if fd := decls[fn]; fd != nil {
						visit(fd.Body, depth+1, seen)
					}
				}
			}
			return true
		})
	}

	ins.WithStack([]ast.Node{(*ast.GoStmt)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		g := n.(*ast.GoStmt)
		loops := enclosingLoops(stack)
		if len(loops) == 0 {
			return true
		}
		perDelivery := false
		for _, l := range loops {
			if deliveryLoop(info, l) {
				perDelivery = true
			}
		}
		if !perDelivery && !handsDelivery(info, g.Call) {
			return true
		}
		var body ast.Node
		switch fun := ast.Unparen(g.Call.Fun).(type) {
		case *ast.FuncLit:
			body = fun.Body
		default:
			if fn := typeutil.StaticCallee(info, g.Call); fn != nil {
				if fd := decls[fn]; fd != nil {
					body = fd.Body
				}
			}
		}
		visit(body, 0, map[ast.Node]bool{})
		return true
	})
	return nil, nil
}

// multiAck returns the multiple argument of an ack or nack call when it is
// the constant true, and what the call is.
func multiAck(info *types.Info, call *ast.CallExpr) (ast.Expr, string) {
	recv, name, ok := libMethod(info, call)
	if !ok || (name != "Ack" && name != "Nack") {
		return nil, ""
	}
	i := 0
	switch recv {
	case "Delivery":
	case "Channel", "Acknowledger":
		i = 1
	default:
		return nil, ""
	}
	if i < len(call.Args) && isConstBool(info, call.Args[i], true) {
		return call.Args[i], recv + "." + name
	}
	return nil, ""
}

func isDelivery(t types.Type) bool { return t != nil && isLibNamed(t, "Delivery") }

func isDeliveryChan(t types.Type) bool {
	if t == nil {
		return false
	}
	c, ok := t.Underlying().(*types.Chan)
	return ok && isDelivery(c.Elem())
}

// deliveryLoop reports whether loop ranges over, or receives from, a
// channel of deliveries (outside function literals).
func deliveryLoop(info *types.Info, loop ast.Node) bool {
	if r, ok := loop.(*ast.RangeStmt); ok && isDeliveryChan(info.TypeOf(r.X)) {
		return true
	}
	found := false
	ast.Inspect(loop, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.UnaryExpr:
			if n.Op.String() == "<-" && isDeliveryChan(info.TypeOf(n.X)) {
				found = true
			}
		}
		return !found
	})
	return found
}

// handsDelivery reports whether a go statement's call passes a Delivery to
// the goroutine, as an argument or captured by a function literal.
func handsDelivery(info *types.Info, call *ast.CallExpr) bool {
	for _, a := range call.Args {
		if isDelivery(info.TypeOf(a)) {
			return true
		}
	}
	lit, ok := ast.Unparen(call.Fun).(*ast.FuncLit)
	if !ok {
		return false
	}
	found := false
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if v, ok := info.Uses[id].(*types.Var); ok && isDelivery(v.Type()) && !contains(lit, v.Pos()) {
				found = true
			}
		}
		return !found
	})
	return found
}
