package amqpvet

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// NotifyBuffer reports unbuffered channels handed to Notify* methods, and
// NotifyPublish buffers that the same function overruns before it first
// receives a confirmation.
var NotifyBuffer = &analysis.Analyzer{
	Name:     "notifybuffer",
	Doc:      mustExtractDoc("notifybuffer"),
	URL:      docURL + "notifybuffer",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runNotifyBuffer,
}

func runNotifyBuffer(pass *analysis.Pass) (any, error) {
	if isLibPackage(pass) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo
	made := singleMakes(pass)
	ins.WithStack([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		call := n.(*ast.CallExpr)
		m := notifyCall(info, call)
		if m == nil {
			return true
		}
		if !m.multi && receivedAtOnce(call, stack) {
			// <-conn.NotifyClose(make(chan *amqp.Error)): the registering
			// goroutine waits on the receive already, and one error is all
			// that is ever sent.
			return true
		}
		for _, arg := range m.listeners(call) {
			mk, n, known := makeChan(info, arg)
			if mk == nil {
				if v := objOf(info, arg); v != nil {
					mk, n, known = made.of(v)
				}
			}
			if mk == nil || !known {
				continue
			}
			if n == 0 {
				elem := types.ExprString(mk.Args[0])
				fix := analysis.SuggestedFix{
					Message: "Give the listener a buffer of " + m.buf,
					TextEdits: []analysis.TextEdit{{
						Pos: mk.Args[0].End(), End: mk.Args[0].End(), NewText: []byte(", " + m.buf),
					}},
				}
				report(pass, arg, m.rule, fmt.Sprintf(
					"unbuffered channel passed to %s: the library sends %s with a blocking send, so unless a receiver is waiting at that instant %s; use make(%s, %s) and keep receiving until it is closed",
					m, m.what, m.blocks, elem, m.buf), fix)
				continue
			}
			if m.name == "NotifyPublish" && arg == ast.Unparen(call.Args[0]) && mk == ast.Unparen(arg) {
				checkConfirmBuffer(pass, call, n, stack)
			}
		}
		return true
	})
	return nil, nil
}

// makes records, for each local variable assigned exactly once, the make
// call it was assigned, so that `c := make(chan T); conn.NotifyClose(c)`
// is seen as unbuffered.
type makes struct {
	info    *types.Info
	assigns map[*types.Var][]ast.Expr
}

func singleMakes(pass *analysis.Pass) makes {
	info := pass.TypesInfo
	m := makes{info, map[*types.Var][]ast.Expr{}}
	add := func(lhs ast.Expr, rhs ast.Expr) {
		if id, ok := ast.Unparen(lhs).(*ast.Ident); ok {
			if v, ok := info.ObjectOf(id).(*types.Var); ok && !v.IsField() {
				m.assigns[v] = append(m.assigns[v], rhs)
			}
		}
	}
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					var r ast.Expr
					if len(n.Lhs) == len(n.Rhs) {
						r = n.Rhs[i]
					}
					add(l, r)
				}
			case *ast.ValueSpec:
				for i, name := range n.Names {
					var r ast.Expr
					if len(n.Names) == len(n.Values) {
						r = n.Values[i]
					}
					add(name, r)
				}
			case *ast.UnaryExpr:
				if n.Op == token.AND {
					add(n.X, nil) // address taken: it may be assigned through the pointer
					add(n.X, nil)
				}
			}
			return true
		})
	}
	return m
}

func (m makes) of(v *types.Var) (*ast.CallExpr, int64, bool) {
	if rhs := m.assigns[v]; len(rhs) == 1 && rhs[0] != nil && v.Parent() != nil && v.Parent() != v.Pkg().Scope() {
		return makeChan(m.info, rhs[0])
	}
	return nil, 0, false
}

// checkConfirmBuffer reports a NotifyPublish listener made with a constant
// buffer of size that the enclosing function is sure to overrun: it
// publishes more messages on the same channel, in straight-line code or in
// loops with constant bounds, before anything mentions the listener (a
// receive, or handing it to a goroutine). The library then blocks the
// connection's reader on confirmation size+1, and the publisher waits for
// ever behind it.
func checkConfirmBuffer(pass *analysis.Pass, call *ast.CallExpr, size int64, stack []ast.Node) {
	info := pass.TypesInfo
	if len(stack) < 3 {
		return
	}
	as, ok := stack[len(stack)-2].(*ast.AssignStmt)
	if !ok || len(as.Rhs) != 1 || len(as.Lhs) != 1 || ast.Unparen(as.Rhs[0]) != call {
		return
	}
	listener := objOf(info, as.Lhs[0])
	if listener == nil {
		return
	}
	var list []ast.Stmt
	switch b := stack[len(stack)-3].(type) {
	case *ast.BlockStmt:
		list = b.List
	case *ast.CaseClause:
		list = b.Body
	case *ast.CommClause:
		list = b.Body
	default:
		return
	}
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return
	}
	recv := objOf(info, sel.X)
	if recv == nil {
		return
	}
	c := &pubCounter{info: info, listener: listener, recv: recv}
	for i, s := range list {
		if s == as {
			n, _, _ := c.stmts(list[i+1:])
			if n > size {
				report(pass, call.Args[0], RuleConfirmsUndrained, fmt.Sprintf(
					"NotifyPublish listener with a buffer of %d, but this function publishes at least %d messages on %s before it first receives a confirmation: when the broker confirms faster than the function publishes, the connection's reader blocks delivering confirmation %d, the next publish waits behind it, and nothing ever receives: a deadlock; receive confirmations concurrently (a goroutine ranging over the listener) or give it a buffer of at least %d",
					size, n, types.ExprString(sel.X), size+1, n))
			}
			return
		}
	}
}

// pubCounter counts the publishes a list of statements is sure to make
// (a lower bound) before it mentions the listener.
type pubCounter struct {
	info     *types.Info
	listener *types.Var
	recv     *types.Var
}

// stmts returns the lower bound of the publishes of a list of statements;
// abort means the listener is mentioned (counting ends for good), cut that
// the rest of the list may not run.
func (c *pubCounter) stmts(list []ast.Stmt) (n int64, abort, cut bool) {
	for _, s := range list {
		k, abort, cut := c.stmt(s)
		n += k
		if abort || cut {
			return n, abort, cut
		}
	}
	return n, false, false
}

func (c *pubCounter) stmt(s ast.Stmt) (n int64, abort, cut bool) {
	if c.mentions(s) {
		return 0, true, true
	}
	switch s := s.(type) {
	case *ast.ExprStmt, *ast.AssignStmt, *ast.DeclStmt, *ast.IncDecStmt, *ast.SendStmt:
		return c.publishes(s), false, false
	case *ast.BlockStmt:
		return c.stmts(s.List)
	case *ast.IfStmt:
		// The init statement and the condition always run; the branches may not.
		return c.publishes(s.Init) + c.publishes(s.Cond), false, c.jumps(s)
	case *ast.ForStmt:
		if k, ok := c.tripCount(s); ok {
			n, abort, _ := c.stmts(s.Body.List)
			return k * n, abort, abort
		}
		return c.publishes(s.Init), false, c.exits(s.Body)
	case *ast.RangeStmt:
		if k, ok := c.rangeCount(s); ok {
			n, abort, _ := c.stmts(s.Body.List)
			return k * n, abort, abort
		}
		return 0, false, c.exits(s.Body)
	case *ast.GoStmt, *ast.DeferStmt, *ast.EmptyStmt:
		return 0, false, false
	default:
		// return, branch, labeled; switch and select count as zero publishes.
		return 0, false, true
	}
}

// jumps reports whether n holds a statement that transfers control
// (outside function literals).
func (c *pubCounter) jumps(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ReturnStmt, *ast.BranchStmt:
			found = true
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if id, ok := ast.Unparen(n.Fun).(*ast.Ident); ok && id.Name == "panic" {
				found = true
			}
		}
		return !found
	})
	return found
}

// exits reports whether a loop body may end the loop early (continue only
// ends an iteration; a break inside an inner loop, switch or select ends
// only that).
func (c *pubCounter) exits(body *ast.BlockStmt) bool {
	found := false
	var walk func(n ast.Node, inner bool)
	walk = func(n ast.Node, inner bool) {
		ast.Inspect(n, func(x ast.Node) bool {
			if found {
				return false
			}
			switch x := x.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
				if x != n {
					walk(x, true)
					return false
				}
			case *ast.ReturnStmt:
				found = true
			case *ast.BranchStmt:
				switch {
				case x.Label != nil, x.Tok == token.GOTO:
					found = true
				case x.Tok == token.BREAK && !inner:
					found = true
				}
			case *ast.CallExpr:
				if id, ok := ast.Unparen(x.Fun).(*ast.Ident); ok && id.Name == "panic" {
					found = true
				}
			}
			return true
		})
	}
	walk(body, false)
	return found
}

func (c *pubCounter) mentions(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && c.info.ObjectOf(id) == c.listener {
			found = true
		}
		return !found
	})
	return found
}

// publishes counts the publish calls on the listener's channel in a simple
// statement, outside function literals.
func (c *pubCounter) publishes(s ast.Node) int64 {
	var n int64
	if s == nil {
		return 0
	}
	ast.Inspect(s, func(x ast.Node) bool {
		switch x := x.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if ch, ok := isPublish(c.info, x); ok && objOf(c.info, ch) == c.recv {
				n++
			}
		}
		return true
	})
	return n
}

// tripCount returns K for `for i := a; i < b; i++` (or <=) with constant a
// and b and a body that neither assigns i nor leaves the loop early.
func (c *pubCounter) tripCount(s *ast.ForStmt) (int64, bool) {
	init, ok := s.Init.(*ast.AssignStmt)
	if !ok || len(init.Lhs) != 1 || len(init.Rhs) != 1 {
		return 0, false
	}
	iv := objOf(c.info, init.Lhs[0])
	cond, ok := s.Cond.(*ast.BinaryExpr)
	if !ok || iv == nil || objOf(c.info, cond.X) != iv {
		return 0, false
	}
	post, ok := s.Post.(*ast.IncDecStmt)
	if !ok || post.Tok != token.INC || objOf(c.info, post.X) != iv {
		return 0, false
	}
	lo, ok1 := c.intConst(init.Rhs[0])
	hi, ok2 := c.intConst(cond.Y)
	if !ok1 || !ok2 || c.exits(s.Body) || c.assigns(s.Body, iv) {
		return 0, false
	}
	switch cond.Op {
	case token.LSS:
		return max(hi-lo, 0), true
	case token.LEQ:
		return max(hi-lo+1, 0), true
	}
	return 0, false
}

// rangeCount returns K for `for range K` (an integer constant) and for a
// range over an array, when the body does not leave the loop early.
func (c *pubCounter) rangeCount(s *ast.RangeStmt) (int64, bool) {
	if c.exits(s.Body) {
		return 0, false
	}
	if k, ok := c.intConst(s.X); ok {
		return k, true
	}
	t := c.info.TypeOf(s.X)
	if t == nil {
		return 0, false
	}
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	if a, ok := t.Underlying().(*types.Array); ok {
		return a.Len(), true
	}
	return 0, false
}

func (c *pubCounter) intConst(e ast.Expr) (int64, bool) {
	tv, ok := c.info.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.Int {
		return 0, false
	}
	return constant.Int64Val(tv.Value)
}

func (c *pubCounter) assigns(body ast.Node, v *types.Var) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, l := range n.Lhs {
				if objOf(c.info, l) == v {
					found = true
				}
			}
		case *ast.IncDecStmt:
			if objOf(c.info, n.X) == v {
				found = true
			}
		}
		return !found
	})
	return found
}

// receivedAtOnce reports whether the result of call (the last node of
// stack) is received from directly, as a plain receive or a range, not as
// one case of a select.
func receivedAtOnce(call *ast.CallExpr, stack []ast.Node) bool {
	var expr ast.Node = call
	for i := len(stack) - 2; i >= 0; i-- {
		switch p := stack[i].(type) {
		case *ast.ParenExpr:
			expr = p
			continue
		case *ast.RangeStmt:
			return p.X == expr
		case *ast.UnaryExpr:
			if p.Op != token.ARROW {
				return false
			}
			for _, up := range stack[max(i-2, 0):i] {
				if _, ok := up.(*ast.CommClause); ok {
					return false
				}
			}
			return true
		}
		return false
	}
	return false
}
