// Command reconnect runs the reference consumer and publisher of client.go:
// it publishes a message every -every and consumes it back, surviving
// network faults, connections closed by the broker and resource alarms, and
// stops without leaving a goroutine behind. client.go is the file to copy.
//
//	go run . -duration=30s
//
// While it runs, close its connections from the broker and watch them come
// back:
//
//	rabbitmqctl close_connection "$(rabbitmqctl --quiet list_connections pid client_properties | awk '/reconnect-example-consumer/ {print $1}')" "try me"
//
// See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

type options struct {
	url       string
	queue     string
	name      string
	every     time.Duration
	heartbeat time.Duration
	duration  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("reconnect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := os.Getenv("AMQP_URL")
	if def == "" {
		def = "amqp://guest:guest@127.0.0.1:5672/"
	}
	fs.StringVar(&o.url, "url", def, "broker `URL` (default from AMQP_URL)")
	fs.StringVar(&o.queue, "queue", "amqpleaks-reconnect-example", "queue to publish to and consume from")
	fs.StringVar(&o.name, "name", "reconnect-example", "connection name prefix the broker shows")
	fs.DurationVar(&o.every, "every", time.Second, "publish a message this often")
	fs.DurationVar(&o.heartbeat, "heartbeat", 10*time.Second, "AMQP heartbeat interval")
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
	run(ctx, o, log.New(os.Stderr, "", log.Ltime|log.Lmicroseconds).Printf)
}

// run publishes and consumes until ctx ends, then stops both and reports the
// goroutines left.
func run(ctx context.Context, o *options, logf func(string, ...any)) {
	before := runtime.NumGoroutine()
	cfg := Config{URL: o.url, Queue: o.queue, Name: o.name, Heartbeat: o.heartbeat, Logf: logf}

	var consumed atomic.Int64
	c := StartConsumer(cfg, func(ctx context.Context, d amqp.Delivery) error {
		logf("consumed %q", d.Body)
		consumed.Add(1)
		return nil
	})
	p := StartPublisher(cfg)

	tick := time.NewTicker(o.every)
	defer tick.Stop()
	for i := 1; ctx.Err() == nil; i++ {
		select {
		case <-tick.C:
		case <-ctx.Done():
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 10*o.every)
		err := p.Publish(pctx, []byte(fmt.Sprintf("message %d", i)))
		cancel()
		if err != nil && ctx.Err() == nil {
			logf("publish message %d: %v", i, err)
		}
	}

	p.Stop()
	c.Stop()
	// The library's reader goroutines end a moment after Close returns.
	for i := 0; i < 50 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	logf("stopped after %d consumed, %d+%d connections opened; %d goroutines left of the %d before starting",
		consumed.Load(), c.Stats().Connects, p.Stats().Connects, runtime.NumGoroutine(), before)
}
