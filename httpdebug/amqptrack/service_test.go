package amqptrack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqpleaks/amqpleaks/leakcheck"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/httpdebug"
	"github.com/amqpleaks/amqpleaks/internal/brokertest"
	"github.com/amqpleaks/amqpleaks/internal/faultproxy"
)

// page is the JSON form of /debug/amqpleaks (the fields the tests read).
type page struct {
	Input   string             `json:"input"`
	Mode    string             `json:"mode"`
	Report  *detect.Report     `json:"report"`
	Tracked *httpdebug.Tracked `json:"tracked"`
}

// service is a program under test: an AMQP consumer with /debug/amqpleaks
// mounted on an HTTP server.
type service struct {
	t       *testing.T
	proxy   *faultproxy.Proxy
	url     string
	tracker *Tracker
	h       *httpdebug.Server
	srv     *httptest.Server
	client  *http.Client

	mu       sync.Mutex
	conns    []*amqp.Connection
	cleanups []func()
}

func newService(t *testing.T, opts ...httpdebug.Option) *service {
	t.Helper()
	raw := brokertest.URL(t)
	p, err := faultproxy.Start(brokertest.Addr(t))
	if err != nil {
		t.Fatal(err)
	}
	u, err := p.URL(raw)
	if err != nil {
		t.Fatal(err)
	}
	s := &service{t: t, proxy: p, url: u, tracker: New()}
	opts = append([]httpdebug.Option{httpdebug.WithSource(s.tracker), httpdebug.WithProfileInterval(0),
		httpdebug.WithFullInterval(0), httpdebug.WithShutdownGrace(500 * time.Millisecond)}, opts...)
	s.h = httpdebug.Handler(opts...)
	mux := http.NewServeMux()
	mux.Handle("/debug/amqpleaks", s.h)
	s.srv = httptest.NewServer(mux)
	s.client = s.srv.Client()
	return s
}

// close releases everything, in an order that lets every library
// goroutine finish.
func (s *service) close() {
	s.mu.Lock()
	cleanups := s.cleanups
	conns := s.conns
	s.mu.Unlock()
	for _, f := range cleanups {
		f()
	}
	for _, c := range conns {
		_ = c.Close()
	}
	s.client.CloseIdleConnections()
	s.srv.Close()
	s.h.Close()
	_ = s.proxy.Close()
}

func (s *service) dial(name string) (*amqp.Connection, *Conn) {
	s.t.Helper()
	conn, err := amqp.DialConfig(s.url, amqp.Config{Heartbeat: 10 * time.Second})
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.conns = append(s.conns, conn)
	s.mu.Unlock()
	return conn, s.tracker.Connection(conn, name)
}

// consume opens a tracked channel on conn, declares a private queue and
// consumes from it, acking each delivery.
func (s *service) consume(conn *amqp.Connection, tc *Conn) (*amqp.Channel, *Chan) {
	s.t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		s.t.Fatal(err)
	}
	tch := tc.Channel(ch, "consume")
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	ds, err := tch.Consume(q.Name, "", false, false, false, false, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	go func() {
		for d := range ds {
			_ = d.Ack(false)
		}
	}()
	return ch, tch
}

func (s *service) get(query string, header ...string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest("GET", s.srv.URL+"/debug/amqpleaks"+query, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func (s *service) page(query string) *page {
	s.t.Helper()
	code, body := s.get(query + "&format=json")
	if code != 200 {
		s.t.Fatalf("%s: %d %s", query, code, body)
	}
	var p page
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return &p
}

// waitFor polls the page until cond holds.
func (s *service) waitFor(query, what string, cond func(*page) bool) *page {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p := s.page(query)
		if cond(p) {
			return p
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: no %s after 20s; findings %v, tracked %+v", query, what, rules(p.Report.Findings), p.Tracked)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func rules(fs []*detect.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}

func has(fs []*detect.Finding, rule string) bool {
	for _, f := range fs {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

// startIncident reproduces background.md incident 1 (second failure) with
// amqp091-go v1.10.0: a reconnect loop registers unbuffered NotifyClose
// channels on the connection and its channel, returns on the first
// notification, reconnects, and never reads the other. A network reset
// (faultproxy) then leaves the old connection's reader blocked for ever in
// (*Channel).shutdown. It returns a function that reads the forgotten
// channel, releasing the reader.
func (s *service) startIncident(healthy bool) {
	conn, tc := s.dial("main")
	ch, _ := s.consume(conn, tc)
	size := 0
	if healthy {
		size = 1
	}
	connClose := conn.NotifyClose(make(chan *amqp.Error, size))
	chClose := ch.NotifyClose(make(chan *amqp.Error, size))
	if healthy {
		// Read both until the library closes them.
		go func() {
			for range connClose {
			}
		}()
		go func() {
			for range chClose {
			}
		}()
	}
	reconnected := make(chan struct{})
	go func() {
		defer close(reconnected)
		if healthy {
			<-conn.NotifyClose(make(chan *amqp.Error, 1))
		} else {
			select {
			case <-connClose:
			case <-chClose:
			}
		}
		conn2, tc2 := s.dial("main")
		s.consume(conn2, tc2)
	}()
	if !healthy {
		s.mu.Lock()
		s.cleanups = append(s.cleanups, func() {
			for range chClose { // the forgotten notification: reading it releases the reader
			}
		})
		s.mu.Unlock()
	}
	s.proxy.Reset()
	select {
	case <-reconnected:
	case <-time.After(20 * time.Second):
		s.t.Fatal("the service did not reconnect")
	}
}

// TestLeakyService: the incident serves its finding at /debug/amqpleaks
// in every mode and format, with the tracked connection's name.
func TestLeakyService(t *testing.T) {
	defer leakcheck.VerifyNone(t)
	s := newService(t)
	defer s.close()
	s.startIncident(false)

	const rule = "chan-notifyclose-unread"
	p := s.waitFor("?mode=profile", rule+" and live-shutdown-stuck", func(p *page) bool {
		return has(p.Report.Findings, rule) && p.Tracked != nil && has(p.Tracked.Findings, "live-shutdown-stuck")
	})
	if p.Report.Format != "proto" || p.Mode != "profile" {
		t.Errorf("default mode: format %q, mode %q", p.Report.Format, p.Mode)
	}
	// Profile mode shows no addresses; the stuck shutdown ties the finding
	// to the tracked objects.
	if tie := tieOf(p, rule); tie == nil || tie.Connection != "main" || tie.Channel != "consume" || tie.By != "stuck shutdown" {
		t.Errorf("profile mode tie: %+v", p.Tracked.Ties)
	}
	live := p.Tracked.Findings[0]
	if !strings.Contains(live.Message, `connection "main"`) || !strings.Contains(live.Message, `Channel "consume"`) {
		t.Errorf("live finding message: %s", live.Message)
	}

	// Full mode: IDs and the receiver address, tied by address.
	full := s.page("?mode=full")
	var f *detect.Finding
	for _, x := range full.Report.Findings {
		if x.Rule == rule {
			f = x
		}
	}
	if f == nil || f.Connection == "" || f.Goroutines[0].ID == 0 || f.Version != "v1.10.0" {
		t.Fatalf("full mode finding: %+v", f)
	}
	first := s.tracker.Objects()[0]
	if tie := tieOf(full, rule); tie == nil || tie.ConnectionAddr != first.Addr || tie.Connection != "main" || tie.By != "address" {
		t.Errorf("full mode tie: %+v (first connection %s, finding's %s)", full.Tracked.Ties, first.Addr, f.Connection)
	}

	// Text and HTML, by format and by Accept.
	for _, tc := range []struct{ query, accept, want string }{
		{"?format=text", "", "CRITICAL chan-notifyclose-unread"},
		{"", "*/*", "Why and how to fix: " + s.srv.URL + "/debug/amqpleaks?rule=chan-notifyclose-unread"},
		{"?mode=full", "", `tracked as connection "main"`},
		{"?format=html", "", `data-rule="chan-notifyclose-unread"`},
		{"", "text/html", `<a class="rule" href="/debug/amqpleaks?rule=chan-notifyclose-unread">`},
		{"?format=json", "", `"rule": "chan-notifyclose-unread"`},
		{"", "application/json", `"rule_urls": {`},
		{"?rule=chan-notifyclose-unread", "", "Read every Channel.NotifyClose channel until it is closed"},
	} {
		code, body := s.get(tc.query, "Accept", tc.accept)
		if code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("GET %q (Accept %q): %d, lacks %q:\n%.3000s", tc.query, tc.accept, code, tc.want, body)
		}
	}

	t.Run("chromium", func(t *testing.T) { checkInChromium(t, s) })
}

func tieOf(p *page, rule string) *httpdebug.Tie {
	if p.Tracked == nil {
		return nil
	}
	for i, tie := range p.Tracked.Ties {
		if tie.Rule == rule {
			return &p.Tracked.Ties[i]
		}
	}
	return nil
}

// TestHealthyService: the same service reading every notification
// reconnects after the same reset and serves no finding.
func TestHealthyService(t *testing.T) {
	defer leakcheck.VerifyNone(t)
	s := newService(t)
	defer s.close()
	s.startIncident(true)
	// Let the old connection finish, then look well past the grace period.
	s.waitFor("?mode=profile", "a settled tracker", func(p *page) bool {
		objs := p.Tracked.Objects
		return len(objs) == 4 && objs[0].Closed != nil && objs[1].Closed != nil && p.Report.Connections == 1
	})
	time.Sleep(600 * time.Millisecond)
	for _, mode := range []string{"profile", "full"} {
		p := s.page("?mode=" + mode)
		if len(p.Report.Findings) != 0 || len(p.Tracked.Findings) != 0 {
			t.Errorf("%s: findings %v, live %v", mode, rules(p.Report.Findings), rules(p.Tracked.Findings))
		}
		if g := p.Tracked.Objects[2]; g.Name != "main" || g.Generation != 2 || g.Closed != nil {
			t.Errorf("%s: reconnected connection %+v", mode, g)
		}
	}
	for _, tc := range []struct{ query, want string }{
		{"?format=text", "no findings"},
		{"?format=html", `id="no-findings"`},
		{"?format=json", `"findings": []`},
	} {
		if code, body := s.get(tc.query); code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, lacks %q:\n%.2000s", tc.query, code, tc.want, body)
		}
	}
}

// TestChannelClosedWhileConsuming: incident 1's first failure. Handlers
// ack with multiple=true out of order, the broker closes the channel with
// 406 PRECONDITION_FAILED, the connection stays open, and the application,
// which watches only the connection, still believes it consumes. Only
// the tracker can prove it.
func TestChannelClosedWhileConsuming(t *testing.T) {
	defer leakcheck.VerifyNone(t)
	s := newService(t)
	defer s.close()
	conn, tc := s.dial("main")
	go func() {
		for range conn.NotifyClose(make(chan *amqp.Error, 1)) { // watches only the connection
		}
	}()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	tch := tc.Channel(ch, "orders")
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := ch.Publish("", q.Name, false, false, amqp.Publishing{Body: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := tch.Consume(q.Name, "orders-consumer", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := <-ds, <-ds
	_ = d2.Ack(true)  // acks 1 and 2
	_ = d1.Ack(false) // 1 again: 406 PRECONDITION_FAILED
	for range ds {    // the consumer loop ends quietly
	}
	p := s.waitFor("?mode=profile", "live-channel-closed-consuming", func(p *page) bool {
		return has(p.Tracked.Findings, "live-channel-closed-consuming")
	})
	f := p.Tracked.Findings[0]
	for _, want := range []string{"406 PRECONDITION_FAILED", `"orders-consumer" on queue`, `connection "main"`, "is still open"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
	if conn.IsClosed() {
		t.Error("the connection closed too")
	}
	for _, tc := range []struct{ query, want string }{
		{"?format=text", "CRITICAL live-channel-closed-consuming"},
		{"?format=html", `data-rule="live-channel-closed-consuming"`},
		{"?format=json", `"code": 406`},
		{"?rule=live-channel-closed-consuming&format=html", "Channel closed by the broker while the application consumes from it"},
	} {
		if code, body := s.get(tc.query); code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, lacks %q:\n%.2000s", tc.query, code, tc.want, body)
		}
	}
}
