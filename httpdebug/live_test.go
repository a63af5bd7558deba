package httpdebug

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/amqpleaks/amqpleaks/detect"
)

type fakeSource []Object

func (f fakeSource) Objects() []Object { return append([]Object(nil), f...) }

func tp(t time.Time) *time.Time { return &t }

func rulesOf(fs []*detect.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}

func TestLiveFindings(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	th := thresholds{blockedAfter: time.Minute, shutdownGrace: 30 * time.Second}
	conn := Object{Kind: "connection", Name: "main", Generation: 1, Addr: "0xc000100000", Opened: now.Add(-time.Hour)}
	ch := Object{Kind: "channel", Name: "consume", Generation: 1, Addr: "0xc000200000", Conn: conn.Addr, ConnName: "main",
		Opened: now.Add(-time.Hour), Consumers: []Consumer{{Queue: "orders", Tag: "c1", Since: now.Add(-time.Hour)}}}
	closed406 := ch
	closed406.CloseError = &CloseError{At: now.Add(-3 * time.Minute), Code: 406, Reason: "PRECONDITION_FAILED - unknown delivery tag 2", Server: true}
	closed406.Closed = tp(now.Add(-3 * time.Minute))

	deadConn := conn
	deadConn.CloseError = &CloseError{At: now.Add(-2 * time.Minute), Code: 501, Reason: "read tcp: connection reset by peer"}
	deadConn.Closed = tp(now.Add(-2 * time.Minute))

	blocked := conn
	blocked.Blocked = &Blocked{Since: now.Add(-5 * time.Minute), Reason: "low on memory"}
	briefly := conn
	briefly.Blocked = &Blocked{Since: now.Add(-10 * time.Second), Reason: "low on memory"}

	cancelled := ch
	cancelled.Consumers = []Consumer{{Queue: "orders", Tag: "c1", Since: now.Add(-time.Hour), Cancelled: tp(now.Add(-time.Minute))}}

	reopened := ch
	reopened.Generation = 2
	reopened.Addr = "0xc000300000"

	for _, tc := range []struct {
		name string
		objs []Object
		want string
	}{
		{"healthy", []Object{conn, ch}, ""},
		{"channel closed by the broker while consuming", []Object{conn, closed406}, "live-channel-closed-consuming"},
		{"... and reopened since", []Object{conn, closed406, reopened}, ""},
		{"... with its connection closed too", []Object{deadConn, closed406}, ""},
		{"connection closed, channel shutdown never finished", []Object{deadConn, ch}, "live-shutdown-stuck"},
		{"close error, channel shutdown never finished", []Object{conn, func() Object {
			o := ch
			o.CloseError = &CloseError{At: now.Add(-time.Minute), Code: 501, Reason: "reset"}
			o.Consumers = nil
			return o
		}()}, "live-shutdown-stuck"},
		{"still within the grace period", []Object{func() Object {
			o := deadConn
			o.CloseError = &CloseError{At: now.Add(-5 * time.Second), Code: 501}
			o.Closed = tp(now.Add(-5 * time.Second))
			return o
		}(), ch}, ""},
		{"blocked for minutes", []Object{blocked}, "live-connection-blocked"},
		{"blocked for seconds", []Object{briefly}, ""},
		{"consumer cancelled", []Object{conn, cancelled}, "live-consumer-cancelled"},
	} {
		got := strings.Join(rulesOf(liveFindings(tc.objs, now, th)), ",")
		if got != tc.want {
			t.Errorf("%s: findings %q, want %q", tc.name, got, tc.want)
		}
	}

	fs := liveFindings([]Object{conn, closed406}, now, th)
	msg := fs[0].Message
	for _, want := range []string{`channel "consume" (0xc000200000)`, "3m00s ago", "406 PRECONDITION_FAILED", `"c1" on queue "orders"`,
		`connection "main" (0xc000100000) is still open`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if fs[0].Connection != conn.Addr || fs[0].Channel != ch.Addr || fs[0].MaxWaitMinutes != 3 {
		t.Errorf("finding %+v", fs[0])
	}
}

func TestTies(t *testing.T) {
	objs := []Object{
		{Kind: "connection", Name: "main", Addr: "0xc1"},
		{Kind: "channel", Name: "pub", Addr: "0xc2", Conn: "0xc1", ConnName: "main"},
	}
	findings := []*detect.Finding{
		{Rule: "chan-notifyclose-unread", Connection: "0xc1"},
		{Rule: "publish-blocked", Channel: "0xc2"},
		{Rule: "conn-pileup", Connection: "0xdead"},
		{Rule: "chan-notifyclose-unread"}, // profile mode: no address
	}
	stuck := []*detect.Finding{{Rule: "live-shutdown-stuck", Connection: "0xc1", Channel: "0xc2"}}
	got := ties(findings, objs, stuck)
	if len(got) != 3 {
		t.Fatalf("ties: %+v", got)
	}
	if got[0].Connection != "main" || got[0].By != "address" {
		t.Errorf("tie 0: %+v", got[0])
	}
	if got[1].Channel != "pub" || got[1].Connection != "main" || got[1].By != "address" {
		t.Errorf("tie 1: %+v", got[1])
	}
	if got[2].Finding != 3 || got[2].Channel != "pub" || got[2].By != "stuck shutdown" {
		t.Errorf("tie 2: %+v", got[2])
	}
	if len(ties(findings[3:], objs, nil)) != 0 {
		t.Error("tied a finding without address and without a stuck shutdown")
	}
}

// TestTrackedPage renders tracked objects and their findings in every
// format, with links to the live rules.
func TestTrackedPage(t *testing.T) {
	now := time.Now()
	src := fakeSource{
		{Kind: "connection", Name: "main", Generation: 2, Addr: "0xc1", Opened: now.Add(-time.Hour)},
		{Kind: "channel", Name: "consume", Generation: 1, Addr: "0xc2", Conn: "0xc1", ConnName: "main", Opened: now.Add(-time.Hour),
			CloseError: &CloseError{At: now.Add(-2 * time.Minute), Code: 406, Reason: "PRECONDITION_FAILED", Server: true},
			Closed:     tp(now.Add(-2 * time.Minute)), Consumers: []Consumer{{Queue: "q", Tag: "t"}}},
	}
	s := Handler(WithSource(src))
	defer s.Close()
	var p jsonPage
	if err := json.Unmarshal(get(t, s, "/debug/amqpleaks?format=json").Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Tracked == nil || len(p.Tracked.Objects) != 2 || len(p.Tracked.Findings) != 1 ||
		p.Tracked.Findings[0].Rule != "live-channel-closed-consuming" || !strings.Contains(string(p.RuleURLs), "?rule=live-channel-closed-consuming") {
		t.Fatalf("tracked: %+v, rule_urls %s", p.Tracked, p.RuleURLs)
	}
	html := get(t, s, "/debug/amqpleaks?format=html").Body.String()
	for _, want := range []string{`data-rule="live-channel-closed-consuming"`, `href="/debug/amqpleaks?rule=live-channel-closed-consuming"`,
		"main/consume", "closed 2m00s ago: 406 PRECONDITION_FAILED (from the broker)"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	text := get(t, s, "/debug/amqpleaks?format=text").Body.String()
	for _, want := range []string{"CRITICAL live-channel-closed-consuming", "Why and how to fix: http://example.com/debug/amqpleaks?rule=live-channel-closed-consuming",
		"main/consume"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}
