package amqpvet

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Heartbeat reports heartbeats turned off in a Config or an AMQP URI.
var Heartbeat = &analysis.Analyzer{
	Name:     "heartbeat",
	Doc:      mustExtractDoc("heartbeat"),
	URL:      docURL + "heartbeat",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runHeartbeat,
}

// heartbeatParam finds heartbeat=N in a URI or a piece of one.
var heartbeatParam = regexp.MustCompile(`(?:^|[?&])heartbeat=(-?[0-9]+)(?:$|[&#])`)

func runHeartbeat(pass *analysis.Pass) (any, error) {
	if isLibPackage(pass) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo

	// Only amqp091-go reads heartbeat from the URI; streadway/amqp ignores it.
	uriHeartbeat := false
	for _, imp := range pass.Pkg.Imports() {
		if libOf(imp.Path()) == pathAMQP091 {
			uriHeartbeat = true
		}
	}

	ins.Preorder([]ast.Node{(*ast.CompositeLit)(nil), (*ast.AssignStmt)(nil), (*ast.BasicLit)(nil)}, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.CompositeLit:
			if !isLibNamed(info.TypeOf(n), "Config") {
				return
			}
			for _, e := range n.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "Heartbeat" {
						checkHeartbeat(pass, kv.Value)
					}
				}
			}
		case *ast.AssignStmt:
			if len(n.Lhs) != len(n.Rhs) || n.Tok != token.ASSIGN {
				return
			}
			for i, l := range n.Lhs {
				sel, ok := ast.Unparen(l).(*ast.SelectorExpr)
				if ok && sel.Sel.Name == "Heartbeat" && isLibNamed(info.TypeOf(sel.X), "Config") {
					checkHeartbeat(pass, n.Rhs[i])
				}
			}
		case *ast.BasicLit:
			if uriHeartbeat && n.Kind == token.STRING {
				checkURI(pass, n)
			}
		}
	})
	return nil, nil
}

func checkHeartbeat(pass *analysis.Pass, e ast.Expr) {
	tv := pass.TypesInfo.Types[e]
	if tv.Value == nil || tv.Value.Kind() != constant.Int {
		return
	}
	ns, ok := constant.Int64Val(tv.Value)
	if !ok {
		return
	}
	// The library negotiates whole seconds: Heartbeat/time.Second truncates
	// toward zero, so (-1s, 0) means 0, the broker's interval.
	secs := ns / int64(time.Second)
	if secs >= 0 {
		return
	}
	report(pass, e, RuleNoHeartbeat, fmt.Sprintf(
		"Config.Heartbeat is %v, which turns heartbeats off: the library negotiates the interval as pick(%d, broker's) = %d s (a non-zero client value under the broker's wins), its heartbeater then never ticks and sets no read deadline, and the broker is told %d s; a half-open connection is never noticed and its reader waits in IO wait for ever; use a positive interval such as 10 * time.Second, or leave it 0 for the library's default",
		time.Duration(ns), secs, secs, uint16(secs)))
}

func checkURI(pass *analysis.Pass, lit *ast.BasicLit) {
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		return
	}
	if !strings.Contains(s, "amqp://") && !strings.Contains(s, "amqps://") && !strings.HasPrefix(s, "?") && !strings.HasPrefix(s, "&") {
		return
	}
	m := heartbeatParam.FindStringSubmatch(s)
	if m == nil {
		return
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n > 0 {
		return
	}
	if n < 0 {
		report(pass, lit, RuleNoHeartbeat, fmt.Sprintf(
			"heartbeat=%d in an AMQP URI turns heartbeats off: amqp091-go up to v1.15 parses it as %d s, which wins the negotiation with the broker (v1.16 rejects it and Dial fails); a half-open connection is never noticed; drop the parameter or use a positive interval such as heartbeat=10",
			n, n))
		return
	}
	report(pass, lit, RuleNoHeartbeat,
		"heartbeat=0 in an AMQP URI asks amqp091-go to turn heartbeats off (its documented way; the URI overrides Config.Heartbeat): the library then negotiates pick(0, broker's), so heartbeats are off whenever the broker's heartbeat is 0 as well, and otherwise silently use the broker's interval; a connection without heartbeats never notices a half-open peer; drop the parameter or use heartbeat=10")
}
