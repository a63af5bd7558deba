// Command leakyconsumer is the incident behind amqpleaks, in
// github.com/rabbitmq/amqp091-go v1.10.0: a consumer whose handlers
// acknowledge with Ack(true) from goroutines, whose channel NotifyClose is
// unbuffered and read too late, and whose reconnect loop watches only the
// connection. Flags make it suffer a fault; /debug/amqpleaks and the
// goroutine dump it writes on exit show what is stuck and why.
//
//	go run . -fault=reset -dump=goroutines.txt -duration=10s
//	go run ../../cmd/stackscan goroutines.txt
//
// The fault flags use a loopback TCP proxy from this repository
// (internal/faultproxy); the consumer itself (consumer.go) is plain
// application code. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	rpprof "runtime/pprof"
	"syscall"
	"time"

	"github.com/amqpleaks/amqpleaks/httpdebug"
	"github.com/amqpleaks/amqpleaks/internal/faultproxy"
)

// options are the command-line flags.
type options struct {
	url        string
	fault      string
	faultAfter time.Duration
	faults     int
	heartbeat  time.Duration
	duration   time.Duration
	dump       string
	http       string
}

// faults are the values of -fault.
var faults = []string{"none", "reset", "blackhole", "channel-close"}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("leakyconsumer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := os.Getenv("AMQP_URL")
	if def == "" {
		def = "amqp://guest:guest@127.0.0.1:5672/"
	}
	fs.StringVar(&o.url, "url", def, "broker `URL` (default from AMQP_URL)")
	fs.StringVar(&o.fault, "fault", "reset", "fault to suffer: none, reset (TCP RST), blackhole (packets dropped), channel-close (the broker closes the channel after a double ack)")
	fs.DurationVar(&o.faultAfter, "fault-after", 3*time.Second, "time before each fault")
	fs.IntVar(&o.faults, "faults", 1, "how many faults, each -fault-after the previous one")
	fs.DurationVar(&o.heartbeat, "heartbeat", 10*time.Second, "AMQP heartbeat interval (a black hole is noticed after 3 of them)")
	fs.DurationVar(&o.duration, "duration", 0, "run this long, then write -dump and exit (0: until interrupted)")
	fs.StringVar(&o.dump, "dump", "", "write a goroutine dump (debug=2) to this `file` on exit")
	fs.StringVar(&o.http, "http", "127.0.0.1:6060", "serve /debug/amqpleaks and /debug/pprof/ on this `address` (empty: off)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, f := range faults {
		if o.fault == f {
			return o, nil
		}
	}
	return nil, fmt.Errorf("-fault=%s: want one of %v", o.fault, faults)
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	if err := run(ctx, o, log.New(os.Stderr, "", log.Ltime|log.Lmicroseconds).Printf); err != nil {
		fmt.Fprintln(os.Stderr, "leakyconsumer:", err)
		os.Exit(1)
	}
	// Exit without cleaning up: the stuck goroutines would keep a clean
	// shutdown waiting for ever, which is the point of the example.
	os.Exit(0)
}

// run starts the consumer, injects the faults and, when ctx ends, writes
// the dump and shows whether the connection can still be closed.
func run(ctx context.Context, o *options, logf func(string, ...any)) error {
	queue := fmt.Sprintf("amqpleaks-leakyconsumer-%d", os.Getpid())
	c := &consumer{url: o.url, queue: queue, heartbeat: o.heartbeat, logf: logf}

	var proxy *faultproxy.Proxy
	if o.fault == "reset" || o.fault == "blackhole" {
		u, err := url.Parse(o.url)
		if err != nil {
			return err
		}
		port := u.Port()
		if port == "" {
			port = "5672"
		}
		proxy, err = faultproxy.Start(net.JoinHostPort(u.Hostname(), port))
		if err != nil {
			return err
		}
		defer proxy.Close()
		if c.url, err = proxy.URL(o.url); err != nil {
			return err
		}
		logf("the consumer connects through a fault proxy at %s", proxy.Addr())
	}
	if o.http != "" {
		ln, err := net.Listen("tcp", o.http)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		logf("debug endpoints: http://%s/debug/amqpleaks and http://%s/debug/pprof/", ln.Addr(), ln.Addr())
	}

	go produce(ctx, o.url, queue, logf)
	go c.run(ctx)
	go injectFaults(ctx, o, proxy, c, logf)

	status := time.NewTicker(2 * time.Second)
	defer status.Stop()
	for done := false; !done; {
		select {
		case <-status.C:
			line := fmt.Sprintf("status: %d messages acked, %d connections opened, %d goroutines", c.acked.Load(), c.conns.Load(), runtime.NumGoroutine())
			if proxy != nil {
				line += fmt.Sprintf(", %d TCP connections open through the proxy", proxy.Conns())
			}
			logf("%s", line)
		case <-ctx.Done():
			done = true
		}
	}

	if o.dump != "" {
		if err := writeDump(o.dump); err != nil {
			return err
		}
		logf("wrote the goroutine dump to %s; read it with: go run github.com/amqpleaks/amqpleaks/cmd/stackscan %s", o.dump, o.dump)
	}
	if conn := c.current(); conn != nil {
		closed := make(chan error, 1)
		go func() { closed <- conn.Close() }()
		select {
		case err := <-closed:
			logf("closing the newest connection: %v", err)
		case <-time.After(2 * time.Second):
			logf("closing the newest connection: still waiting after 2s; its reader goroutine is stuck (see the dump)")
		}
	}
	return nil
}

// injectFaults makes the consumer suffer o.faults faults of kind o.fault.
func injectFaults(ctx context.Context, o *options, p *faultproxy.Proxy, c *consumer, logf func(string, ...any)) {
	for i := 0; i < o.faults && o.fault != "none"; i++ {
		if !sleep(ctx, o.faultAfter) {
			return
		}
		switch o.fault {
		case "reset":
			logf("fault: the proxy resets every connection (RST to both sides)")
			p.Reset()
		case "blackhole":
			hold := 3*o.heartbeat + o.heartbeat/2
			logf("fault: the proxy drops all traffic for %v, like a firewall that forgot the flow", hold)
			p.BlackHole()
			sleep(ctx, hold)
			p.Restore()
			logf("fault over: the proxy forwards again")
		case "channel-close":
			logf("fault: the next handler is slow, so a later Ack(true) covers its tag before it acks it again")
			c.slowNext.Store(true)
		}
	}
}

// debugMux serves the debug endpoints: /debug/amqpleaks says what is stuck
// and why, /debug/pprof/goroutine?debug=2 gives the raw dump.
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/debug/amqpleaks", httpdebug.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// writeDump writes every goroutine's stack to file, as
// /debug/pprof/goroutine?debug=2 does.
func writeDump(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := rpprof.Lookup("goroutine").WriteTo(f, 2); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
