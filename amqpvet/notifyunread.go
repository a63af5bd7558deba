package amqpvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// NotifyUnread reports Notify* listeners that the package never receives
// from, or receives from too few times.
var NotifyUnread = &analysis.Analyzer{
	Name:     "notifyunread",
	Doc:      mustExtractDoc("notifyunread"),
	URL:      docURL + "notifyunread",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runNotifyUnread,
}

// A listener is one channel registered by a Notify* call, followed through
// the package: the variables and fields it is stored in, and what happens
// to it there.
type listener struct {
	m       *notifyMethod
	call    *ast.CallExpr
	fn      *ast.FuncDecl // where it is registered
	arg     ast.Expr
	idx     int
	objs    map[*types.Var]bool
	queue   []*types.Var
	recvs   int  // receives outside any loop (per registration)
	select_ int  // how many of them are one case of a select among others
	drain   bool // received in a loop that does not register anew, or ranged over
	escape  bool // handed to code we do not see (another package, a return, a map...)
}

type useSite struct {
	expr  ast.Expr
	stack []ast.Node // ends with expr
}

type unreadPass struct {
	pass   *analysis.Pass
	info   *types.Info
	uses   map[*types.Var][]useSite
	params map[*types.Var]bool
	decls  map[*types.Func]*ast.FuncDecl
	makes  makes
}

func runNotifyUnread(pass *analysis.Pass) (any, error) {
	if isLibPackage(pass) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	u := &unreadPass{
		pass:   pass,
		info:   pass.TypesInfo,
		uses:   map[*types.Var][]useSite{},
		params: map[*types.Var]bool{},
		decls:  funcDecls(pass),
		makes:  singleMakes(pass),
	}
	type reg struct {
		call  *ast.CallExpr
		m     *notifyMethod
		stack []ast.Node
	}
	var regs []reg
	ins.WithStack([]ast.Node{(*ast.Ident)(nil), (*ast.CallExpr)(nil), (*ast.FuncType)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		switch n := n.(type) {
		case *ast.FuncType:
			for _, fl := range []*ast.FieldList{n.Params, n.Results} {
				if fl == nil {
					continue
				}
				for _, f := range fl.List {
					for _, name := range f.Names {
						if v, ok := u.info.Defs[name].(*types.Var); ok {
							u.params[v] = true
						}
					}
				}
			}
		case *ast.CallExpr:
			if m := notifyCall(u.info, n); m != nil {
				regs = append(regs, reg{n, m, append([]ast.Node(nil), stack...)})
			}
		case *ast.Ident:
			v, ok := u.info.Uses[n].(*types.Var)
			if !ok {
				return true
			}
			if _, ok := v.Type().Underlying().(*types.Chan); !ok {
				return true
			}
			var expr ast.Expr = n
			st := stack
			if sel, ok := stack[len(stack)-2].(*ast.SelectorExpr); ok && sel.Sel == n {
				expr, st = sel, stack[:len(stack)-1]
			}
			u.uses[v] = append(u.uses[v], useSite{expr, append([]ast.Node(nil), st...)})
		}
		return true
	})
	// Method receivers are parameters too.
	for _, fd := range u.decls {
		if fd.Recv != nil {
			for _, f := range fd.Recv.List {
				for _, name := range f.Names {
					if v, ok := u.info.Defs[name].(*types.Var); ok {
						u.params[v] = true
					}
				}
			}
		}
	}

	for _, r := range regs {
		for i, arg := range r.m.listeners(r.call) {
			l := &listener{m: r.m, call: r.call, fn: enclosingFunc(r.stack), arg: arg, idx: i, objs: map[*types.Var]bool{}}
			if v := objOf(u.info, arg); v != nil {
				u.add(l, v)
			}
			if r.m.name != "NotifyStateChange" { // it returns nothing
				u.classify(l, r.call, r.stack)
			}
			for len(l.queue) > 0 && !l.escape {
				v := l.queue[0]
				l.queue = l.queue[1:]
				for _, s := range u.uses[v] {
					u.classify(l, s.expr, s.stack)
				}
			}
			u.judge(l)
		}
	}
	return nil, nil
}

func (u *unreadPass) add(l *listener, v *types.Var) {
	if l.objs[v] {
		return
	}
	l.objs[v] = true
	// A parameter holds whatever the callers pass; an exported field or
	// package variable can be read by other packages.
	if u.params[v] || (v.Exported() && (v.IsField() || v.Parent() == v.Pkg().Scope())) {
		l.escape = true
	}
	l.queue = append(l.queue, v)
}

// classify records what the context of expr (a listener value) does with it.
func (u *unreadPass) classify(l *listener, expr ast.Expr, stack []ast.Node) {
	info := u.info
	for len(stack) >= 2 {
		parent := stack[len(stack)-2]
		switch p := parent.(type) {
		case *ast.ParenExpr:
			expr, stack = p, stack[:len(stack)-1]
			continue
		case *ast.CallExpr:
			if p.Fun == expr {
				return
			}
			if tv, ok := info.Types[p.Fun]; ok && tv.IsType() { // a conversion
				expr, stack = p, stack[:len(stack)-1]
				continue
			}
			if id, ok := ast.Unparen(p.Fun).(*ast.Ident); ok {
				if _, ok := info.Uses[id].(*types.Builtin); ok {
					return // len, cap, close
				}
			}
			if notifyCall(info, p) != nil {
				return // registered (again)
			}
			u.passedTo(l, p, expr)
			return
		case *ast.UnaryExpr:
			if p.Op != token.ARROW {
				l.escape = true // &ch
				return
			}
			u.receive(l, stack[:len(stack)-1])
			return
		case *ast.RangeStmt:
			if p.X == expr {
				l.drain = true
			}
			return
		case *ast.AssignStmt:
			for j, r := range p.Rhs {
				if r != expr {
					continue
				}
				var lhs ast.Expr
				if len(p.Lhs) == len(p.Rhs) {
					lhs = p.Lhs[j]
				} else if len(p.Rhs) == 1 && l.idx < len(p.Lhs) {
					lhs = p.Lhs[l.idx]
				}
				u.assignTo(l, lhs)
			}
			return
		case *ast.ValueSpec:
			for j, r := range p.Values {
				if r != expr {
					continue
				}
				var lhs ast.Expr
				if len(p.Names) == len(p.Values) {
					lhs = p.Names[j]
				} else if len(p.Values) == 1 && l.idx < len(p.Names) {
					lhs = p.Names[l.idx]
				}
				u.assignTo(l, lhs)
			}
			return
		case *ast.KeyValueExpr:
			if p.Value != expr {
				return
			}
			if id, ok := p.Key.(*ast.Ident); ok {
				if v, ok := info.Uses[id].(*types.Var); ok && v.IsField() {
					u.add(l, v)
					return
				}
			}
			l.escape = true // a map or slice literal
			return
		case *ast.SendStmt:
			if p.Value == expr {
				l.escape = true
			}
			return
		case *ast.BinaryExpr, *ast.ExprStmt, *ast.IncDecStmt, *ast.SelectorExpr, *ast.IndexExpr:
			return // compared, dropped (the ExprStmt case is judged later)
		default:
			l.escape = true // returned, stored in a slice, ...
			return
		}
	}
}

func (u *unreadPass) assignTo(l *listener, lhs ast.Expr) {
	if lhs == nil {
		l.escape = true
		return
	}
	if id, ok := lhs.(*ast.Ident); ok && id.Name == "_" {
		return
	}
	if v := objOf(u.info, lhs); v != nil {
		u.add(l, v)
		return
	}
	l.escape = true // stored in a map, a slice, through a pointer...
}

// passedTo follows a listener passed as argument to a function of this
// package into the parameter; any other callee may read it.
func (u *unreadPass) passedTo(l *listener, call *ast.CallExpr, arg ast.Expr) {
	var sig *ast.FuncType
	switch fun := ast.Unparen(call.Fun).(type) {
	case *ast.FuncLit:
		sig = fun.Type
	default:
		if fn := typeutil.StaticCallee(u.info, call); fn != nil {
			if fd := u.decls[fn]; fd != nil {
				sig = fd.Type
			}
		}
	}
	if sig == nil || call.Ellipsis.IsValid() {
		l.escape = true
		return
	}
	var params []*ast.Ident
	for _, f := range sig.Params.List {
		if len(f.Names) == 0 {
			params = append(params, nil)
		}
		params = append(params, f.Names...)
	}
	for i, a := range call.Args {
		if a != arg {
			continue
		}
		if i >= len(params) || (i == len(params)-1 && isVariadic(sig)) {
			l.escape = true
			return
		}
		if params[i] == nil || params[i].Name == "_" {
			return // unnamed: the callee cannot read it
		}
		if v, ok := u.info.Defs[params[i]].(*types.Var); ok {
			// Not through add: a parameter seeded this way is followed,
			// not treated as unknown.
			if !l.objs[v] {
				l.objs[v] = true
				l.queue = append(l.queue, v)
			}
		}
	}
}

func isVariadic(ft *ast.FuncType) bool {
	n := len(ft.Params.List)
	if n == 0 {
		return false
	}
	_, ok := ft.Params.List[n-1].Type.(*ast.Ellipsis)
	return ok
}

// receive records a receive; stack ends with the <- expression.
func (u *unreadPass) receive(l *listener, stack []ast.Node) {
	if fd := enclosingFunc(stack); fd != l.fn {
		// Another function or method (a Delivered() that receives one
		// confirmation per publish, say) may be called any number of times.
		l.drain = true
		return
	}
	for _, loop := range enclosingLoops(stack) {
		if !contains(loop, l.call.Pos()) {
			l.drain = true // a loop that keeps receiving from the same listener
			return
		}
	}
	l.recvs++
	// <-x as a select case: CommClause{Comm: ExprStmt or AssignStmt}.
	for i := len(stack) - 2; i >= 2 && i >= len(stack)-3; i-- {
		if cc, ok := stack[i].(*ast.CommClause); ok {
			if sel, ok := stack[i-2].(*ast.SelectStmt); ok && len(sel.Body.List) > 1 && cc.Comm != nil {
				l.select_++
			}
			return
		}
	}
}

func (u *unreadPass) judge(l *listener) {
	if l.escape || l.drain {
		return
	}
	m := l.m
	mk, capacity, known := makeChan(u.info, l.arg)
	if mk == nil {
		if v := objOf(u.info, l.arg); v != nil {
			_, capacity, known = u.makes.of(v)
		}
	}
	what := "the channel registered with " + m.String()
	if m.name == "NotifyConfirm" {
		what = [...]string{"the ack channel", "the nack channel"}[l.idx] + " registered with NotifyConfirm"
	}
	switch {
	case l.recvs == 0 && !m.multi && known && capacity > 0:
		report(u.pass, l.call, m.rule, fmt.Sprintf(
			"%s is never received from in this package: its buffer takes the close error, so nothing blocks, but the program never learns of the close; receive from it (and reconnect) or do not register it",
			what))
	case l.recvs == 0:
		report(u.pass, l.call, m.rule, fmt.Sprintf(
			"%s is never received from in this package: the library sends %s to it and, once its buffer is full, %s; receive from it until it is closed, or do not register it",
			what, m.what, m.blocks))
	case m.multi:
		report(u.pass, l.call, m.rule, fmt.Sprintf(
			"%s is received from only %s and never in a loop: the library sends %s to it and, once its buffer is full, %s; range over it until it is closed",
			what, times(l.recvs), m.what, m.blocks))
	case known && capacity == 0 && l.select_ == l.recvs:
		report(u.pass, l.call, m.rule, fmt.Sprintf(
			"%s is unbuffered and received from only as a case of a select, never drained: when another case wins, nobody receives the close error and %s; drain it after the select or give it a buffer of 1",
			what, m.blocks))
	}
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}
