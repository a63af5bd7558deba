// Command service is a small RabbitMQ consumer service that serves
// /debug/amqpleaks next to net/http/pprof, with the live tracker
// (amqptrack) and the background sampler on: the setup to copy into a
// service of your own.
//
//	go run . -http=127.0.0.1:6060
//	curl -s http://127.0.0.1:6060/debug/amqpleaks
//
// -leak makes it open a connection every -leak-every and never close it
// until exit, so the page has something to show. See README.md.
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
	"os"
	"os/signal"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/amqpleaks/amqpleaks/httpdebug"
	"github.com/amqpleaks/amqpleaks/httpdebug/amqptrack"
)

type options struct {
	url         string
	http        string
	queue       string
	sampleEvery time.Duration
	leak        bool
	leakEvery   time.Duration
	duration    time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := os.Getenv("AMQP_URL")
	if def == "" {
		def = "amqp://guest:guest@127.0.0.1:5672/"
	}
	fs.StringVar(&o.url, "url", def, "broker `URL` (default from AMQP_URL)")
	fs.StringVar(&o.http, "http", "127.0.0.1:6060", "serve the debug pages on this `address` (keep it private)")
	fs.StringVar(&o.queue, "queue", "amqpleaks-service-example", "queue to consume")
	fs.DurationVar(&o.sampleEvery, "sample-every", 10*time.Second, "how often the sampler counts blocked goroutines")
	fs.BoolVar(&o.leak, "leak", false, "open a connection every -leak-every and leave it open until exit")
	fs.DurationVar(&o.leakEvery, "leak-every", time.Second, "how often -leak opens a connection")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: when interrupted)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	logf := log.New(os.Stderr, "", log.Ltime|log.Lmicroseconds).Printf
	if err := run(ctx, o, logf, nil); err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		os.Exit(1)
	}
}

// debugMux is the private debug server: pprof and amqpleaks side by side.
func debugMux(dbg http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/amqpleaks", dbg)
	return mux
}

// run serves the debug pages and consumes until ctx ends, then shuts
// everything down. ready, if not nil, gets the debug server's address.
func run(ctx context.Context, o *options, logf func(string, ...any), ready func(addr string)) error {
	dbg := httpdebug.Handler(
		httpdebug.WithSource(amqptrack.Default),  // names the tracked connections and channels
		httpdebug.WithSampler(o.sampleEvery, 30), // notices goroutines that pile up over time
	)
	defer dbg.Close() // stops the sampler

	ln, err := net.Listen("tcp", o.http)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: debugMux(dbg), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logf("debug pages: http://%s/debug/amqpleaks and http://%s/debug/pprof/", ln.Addr(), ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
	}

	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		consume(ctx, o, logf)
	}()
	leaked := make(chan struct{})
	go func() {
		defer close(leaked)
		if o.leak {
			leak(ctx, o, logf)
		}
	}()

	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	<-consumed
	<-leaked
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// consume consumes o.queue and reconnects a second after a failure, until
// ctx ends. Every connection and channel is tracked under the same names,
// so the page counts the reconnects.
func consume(ctx context.Context, o *options, logf func(string, ...any)) {
	for ctx.Err() == nil {
		err := consumeOnce(ctx, o, logf)
		if ctx.Err() != nil {
			return
		}
		logf("consumer: %v; reconnecting in 1s", err)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
	}
}

func consumeOnce(ctx context.Context, o *options, logf func(string, ...any)) error {
	conn, err := amqp.DialConfig(o.url, amqp.Config{
		Heartbeat:  10 * time.Second,
		Properties: amqp.Table{"connection_name": "service-orders"},
	})
	if err != nil {
		return err
	}
	tconn := amqptrack.Track(conn, "orders") // right after Dial
	connClosed := conn.NotifyClose(make(chan *amqp.Error, 1))
	var chClosed chan *amqp.Error
	defer func() {
		_ = conn.CloseDeadline(time.Now().Add(5 * time.Second))
		for range connClosed {
		}
		for range chClosed {
		}
	}()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	tch := tconn.Channel(ch, "consume") // right after Channel
	chClosed = ch.NotifyClose(make(chan *amqp.Error, 1))
	if _, err := ch.QueueDeclare(o.queue, false, false, false, false, nil); err != nil {
		return err
	}
	deliveries, err := tch.Consume(o.queue, "", false, false, false, false, nil)
	if err != nil {
		return err
	}
	logf("consumer: consuming %s", o.queue)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-connClosed:
			return fmt.Errorf("connection closed: %v", err)
		case err := <-chClosed:
			return fmt.Errorf("channel closed: %v", err)
		case d, ok := <-deliveries:
			if !ok {
				return errors.New("consumer cancelled by the broker")
			}
			logf("consumer: %q", d.Body)
			_ = d.Ack(false)
		}
	}
}

// leak opens a connection every o.leakEvery and keeps it open until ctx
// ends: the mistake the page's conn-pileup finding and the sampler's
// growing sites point at.
func leak(ctx context.Context, o *options, logf func(string, ...any)) {
	var conns []*amqp.Connection
	defer func() {
		for _, c := range conns {
			_ = c.CloseDeadline(time.Now().Add(time.Second))
		}
	}()
	t := time.NewTicker(o.leakEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c, err := amqp.DialConfig(o.url, amqp.Config{Properties: amqp.Table{"connection_name": "service-leak"}})
		if err != nil {
			logf("leak: %v", err)
			continue
		}
		amqptrack.Track(c, "leak")
		conns = append(conns, c)
		logf("leak: %d connections open and never used", len(conns))
	}
}
