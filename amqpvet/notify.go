package amqpvet

import (
	"go/ast"
	"go/types"
)

// A notifyMethod is one of the libraries' Notify* methods: each registers a
// Go channel the library sends to from its own goroutines.
type notifyMethod struct {
	recv, name string
	rule       string
	// multi: the library may send more than one value over the listener's
	// life. NotifyClose sends at most one error, then closes the channel.
	multi bool
	// buf is the buffer the suggested fix gives an unbuffered listener (the
	// one the rule's documented example uses).
	buf string
	// what is sent, and what blocks when nobody receives.
	what, blocks string
}

var notifyMethods = []notifyMethod{
	{"Connection", "NotifyClose", RuleConnNotifyCloseUnread, false, "1", "the close error",
		"the connection's reader blocks in (*Connection).shutdown before it closes the socket, and the connection leaks"},
	{"Channel", "NotifyClose", RuleChanNotifyCloseUnread, false, "1", "the close error",
		"the library blocks in (*Channel).shutdown holding its locks, and the connection is never released"},
	{"Channel", "NotifyPublish", RuleConfirmsUndrained, true, "100", "each publisher confirmation",
		"the connection's reader blocks and every channel of the connection stalls, publishers first"},
	{"Channel", "NotifyConfirm", RuleConfirmsUndrained, true, "100", "each publisher ack or nack",
		"the library's relay goroutine blocks, and then the connection's reader"},
	{"Channel", "NotifyReturn", RuleReturnUnread, true, "16", "each returned message",
		"the connection's reader blocks and no frame of any channel of the connection is read"},
	{"Channel", "NotifyCancel", RuleCancelUnread, true, "1", "each consumer cancellation",
		"the connection's reader blocks and no frame of any channel of the connection is read"},
	{"Channel", "NotifyFlow", RuleFlowUnread, true, "1", "each channel.flow",
		"the connection's reader blocks and no frame of any channel of the connection is read"},
	{"Connection", "NotifyBlocked", RuleBlockedUnread, true, "1", "each connection.blocked and unblocked",
		"the connection's reader blocks for ever, even after the alarm clears"},
	{"Connection", "NotifyStateChange", RuleStateChangeUnread, true, "8", "each state change",
		"one goroutine per state change is left waiting for ever"},
	{"Channel", "NotifyStateChange", RuleStateChangeUnread, true, "8", "each state change",
		"one goroutine per state change is left waiting for ever"},
}

// notifyCall returns the Notify* method call calls, or nil.
func notifyCall(info *types.Info, call *ast.CallExpr) *notifyMethod {
	recv, name, ok := libMethod(info, call)
	if !ok {
		return nil
	}
	for i := range notifyMethods {
		if m := &notifyMethods[i]; m.recv == recv && m.name == name {
			return m
		}
	}
	return nil
}

func (m *notifyMethod) String() string { return m.recv + "." + m.name }

// listeners returns the listener channel arguments of a Notify* call (two
// for NotifyConfirm).
func (m *notifyMethod) listeners(call *ast.CallExpr) []ast.Expr {
	if m.name == "NotifyConfirm" && len(call.Args) == 2 {
		return call.Args
	}
	if len(call.Args) == 1 {
		return call.Args
	}
	return nil
}

// isPublish reports whether call publishes on a Channel, and returns the
// channel expression.
func isPublish(info *types.Info, call *ast.CallExpr) (ast.Expr, bool) {
	recv, name, ok := libMethod(info, call)
	if !ok || recv != "Channel" {
		return nil, false
	}
	switch name {
	case "Publish", "PublishWithContext", "PublishWithDeferredConfirm", "PublishWithDeferredConfirmWithContext":
		sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
		if !ok {
			return nil, false
		}
		return sel.X, true
	}
	return nil, false
}
