package amqpvet

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// ConnOnly reports consumers whose channel's NotifyClose is never watched
// in a package that watches only Connection.NotifyClose.
var ConnOnly = &analysis.Analyzer{
	Name:     "connonly",
	Doc:      mustExtractDoc("connonly"),
	URL:      docURL + "connonly",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runConnOnly,
}

func runConnOnly(pass *analysis.Pass) (any, error) {
	if isLibPackage(pass) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo
	decls := funcDecls(pass)

	// Variables and fields that hold the same *Channel, by simple
	// assignment, struct literal or parameter passing, share a class.
	parent := map[*types.Var]*types.Var{}
	var find func(v *types.Var) *types.Var
	find = func(v *types.Var) *types.Var {
		p, ok := parent[v]
		if !ok || p == v {
			return v
		}
		r := find(p)
		parent[v] = r
		return r
	}
	union := func(a, b ast.Expr) {
		va, vb := objOf(info, a), objOf(info, b)
		if va == nil || vb == nil || !isLibNamed(va.Type(), "Channel") {
			return
		}
		ra, rb := find(va), find(vb)
		if ra != rb {
			parent[ra] = rb
		}
	}
	params := map[*types.Var]bool{}

	type consume struct {
		call *ast.CallExpr
		fn   *ast.FuncDecl
	}
	var consumes []consume
	watched := map[*types.Var]bool{} // roots are computed after the walk
	var watchedExprs []ast.Expr
	connWatchers := map[*ast.FuncDecl]bool{} // functions that register Connection.NotifyClose
	unknownWatch := false

	ins.WithStack([]ast.Node{(*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil), (*ast.KeyValueExpr)(nil), (*ast.CallExpr)(nil), (*ast.FuncType)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		switch n := n.(type) {
		case *ast.FuncType:
			if n.Params != nil {
				for _, f := range n.Params.List {
					for _, name := range f.Names {
						if v, ok := info.Defs[name].(*types.Var); ok {
							params[v] = true
						}
					}
				}
			}
		case *ast.AssignStmt:
			if len(n.Lhs) == len(n.Rhs) {
				for i := range n.Lhs {
					union(n.Lhs[i], n.Rhs[i])
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) == len(n.Values) {
				for i := range n.Names {
					union(n.Names[i], n.Values[i])
				}
			}
		case *ast.KeyValueExpr:
			if id, ok := n.Key.(*ast.Ident); ok {
				if v, ok := info.Uses[id].(*types.Var); ok && v.IsField() {
					union(id, n.Value)
				}
			}
		case *ast.CallExpr:
			if fn := typeutil.StaticCallee(info, n); fn != nil {
				if fd := decls[fn]; fd != nil && !n.Ellipsis.IsValid() {
					var names []*ast.Ident
					for _, f := range fd.Type.Params.List {
						if len(f.Names) == 0 {
							names = append(names, nil)
						}
						names = append(names, f.Names...)
					}
					for i, a := range n.Args {
						if i < len(names) && names[i] != nil {
							union(names[i], a)
						}
					}
				}
			}
			recv, name, ok := libMethod(info, n)
			if !ok {
				return true
			}
			sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch {
			case recv == "Connection" && name == "NotifyClose":
				connWatchers[enclosingFunc(stack)] = true
			case recv == "Channel" && name == "NotifyClose":
				if objOf(info, sel.X) == nil {
					unknownWatch = true
				}
				watchedExprs = append(watchedExprs, sel.X)
			case recv == "Channel" && (name == "Consume" || name == "ConsumeWithContext"):
				consumes = append(consumes, consume{n, enclosingFunc(stack)})
			}
		}
		return true
	})
	if len(connWatchers) == 0 || unknownWatch {
		return nil, nil
	}
	sc := newScopes(pass, decls)
	for _, e := range watchedExprs {
		watched[find(objOf(info, e))] = true
	}
	// Does a class hold a parameter? Its channel may come from code we do not see.
	classParam := map[*types.Var]bool{}
	for p := range params {
		classParam[find(p)] = true
	}
	for _, c := range consumes {
		sel := ast.Unparen(c.call.Fun).(*ast.SelectorExpr)
		v := objOf(info, sel.X)
		if v == nil {
			continue
		}
		// Only a consumer whose own code watches the connection: the
		// function, the methods of its type and of the type holding the
		// channel, and what they call.
		watchesConn := false
		for fd := range sc.of(c.fn, sel.X) {
			if connWatchers[fd] {
				watchesConn = true
			}
		}
		if !watchesConn {
			continue
		}
		root := find(v)
		if watched[root] || (len(watchedExprs) > 0 && classParam[root]) {
			continue
		}
		report(pass, sel.Sel, RuleWatchConnOnly,
			"consuming on "+types.ExprString(sel.X)+", whose NotifyClose is never watched, while this package watches only Connection.NotifyClose: the broker closes a channel, not its connection, on a channel error (406 after a double ack, 404 for a deleted queue), so the deliveries stop and nothing here notices; also watch "+types.ExprString(sel.X)+".NotifyClose and reopen the channel and its consumers when it closes")
	}
	return nil, nil
}

// scopes tells which function declarations make up "the consumer" around a
// Consume call.
type scopes struct {
	info    *types.Info
	decls   map[*types.Func]*ast.FuncDecl
	methods map[*types.TypeName][]*ast.FuncDecl
	callees map[*ast.FuncDecl][]*ast.FuncDecl
}

func newScopes(pass *analysis.Pass, decls map[*types.Func]*ast.FuncDecl) *scopes {
	s := &scopes{pass.TypesInfo, decls, map[*types.TypeName][]*ast.FuncDecl{}, map[*ast.FuncDecl][]*ast.FuncDecl{}}
	for fn, fd := range decls {
		if tn := recvTypeName(fn); tn != nil {
			s.methods[tn] = append(s.methods[tn], fd)
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if callee := typeutil.StaticCallee(s.info, call); callee != nil && decls[callee] != nil {
					s.callees[fd] = append(s.callees[fd], decls[callee])
				}
			}
			return true
		})
	}
	return s
}

func recvTypeName(fn *types.Func) *types.TypeName {
	sig, _ := fn.Type().(*types.Signature)
	if sig == nil || sig.Recv() == nil {
		return nil
	}
	return namedOf(sig.Recv().Type())
}

func namedOf(t types.Type) *types.TypeName {
	if t == nil {
		return nil
	}
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Origin().Obj()
	}
	return nil
}

// of returns fn, the methods of its receiver type and of the type whose
// field recv is, and the functions of the package these call (two levels).
func (s *scopes) of(fn *ast.FuncDecl, recv ast.Expr) map[*ast.FuncDecl]bool {
	out := map[*ast.FuncDecl]bool{}
	var types_ []*types.TypeName
	if fn != nil {
		out[fn] = true
		if f, ok := s.info.Defs[fn.Name].(*types.Func); ok {
			if tn := recvTypeName(f); tn != nil {
				types_ = append(types_, tn)
			}
		}
	}
	if sel, ok := ast.Unparen(recv).(*ast.SelectorExpr); ok {
		if tn := namedOf(s.info.TypeOf(sel.X)); tn != nil {
			types_ = append(types_, tn)
		}
	}
	for _, tn := range types_ {
		for _, fd := range s.methods[tn] {
			out[fd] = true
		}
	}
	for depth := 0; depth < 2; depth++ {
		for fd := range out {
			for _, c := range s.callees[fd] {
				out[c] = true
			}
		}
	}
	return out
}
