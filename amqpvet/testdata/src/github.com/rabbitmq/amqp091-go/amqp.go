// Package amqp091 is a stub of github.com/rabbitmq/amqp091-go for amqpvet's
// tests: the API surface the analyzers look at, with the real signatures.
package amqp091

import (
	"context"
	"crypto/tls"
	"io"
	"time"
)

type Error struct {
	Code    int
	Reason  string
	Server  bool
	Recover bool
}

func (e *Error) Error() string { return e.Reason }

type Table map[string]interface{}

type Publishing struct {
	ContentType string
	Body        []byte
}

type Confirmation struct {
	DeliveryTag uint64
	Ack         bool
}

type Return struct {
	ReplyCode  uint16
	ReplyText  string
	RoutingKey string
}

type Blocking struct {
	Active bool
	Reason string
}

type LifeCycleState int

type StateChanged struct {
	From, To LifeCycleState
}

type Acknowledger interface {
	Ack(tag uint64, multiple bool) error
	Nack(tag uint64, multiple, requeue bool) error
	Reject(tag uint64, requeue bool) error
}

type Delivery struct {
	Acknowledger Acknowledger
	DeliveryTag  uint64
	Body         []byte
}

func (d Delivery) Ack(multiple bool) error           { return nil }
func (d Delivery) Nack(multiple, requeue bool) error { return nil }
func (d Delivery) Reject(requeue bool) error         { return nil }

type Config struct {
	Vhost           string
	ChannelMax      uint16
	FrameSize       int
	Heartbeat       time.Duration
	TLSClientConfig *tls.Config
	Locale          string
}

type URI struct {
	Scheme string
	Host   string
}

func ParseURI(uri string) (URI, error) { return URI{}, nil }

type Connection struct{ Config Config }

func Dial(url string) (*Connection, error)                             { return nil, nil }
func DialTLS(url string, amqps *tls.Config) (*Connection, error)       { return nil, nil }
func DialConfig(url string, config Config) (*Connection, error)        { return nil, nil }
func Open(conn io.ReadWriteCloser, config Config) (*Connection, error) { return nil, nil }

func (c *Connection) NotifyClose(receiver chan *Error) chan *Error       { return receiver }
func (c *Connection) NotifyBlocked(receiver chan Blocking) chan Blocking { return receiver }
func (c *Connection) NotifyStateChange(ch chan *StateChanged)            {}
func (c *Connection) Channel() (*Channel, error)                         { return nil, nil }
func (c *Connection) Close() error                                       { return nil }
func (c *Connection) CloseDeadline(deadline time.Time) error             { return nil }
func (c *Connection) IsClosed() bool                                     { return false }

type Channel struct{}

type DeferredConfirmation struct{}

func (d *DeferredConfirmation) Wait() bool { return true }

func (ch *Channel) NotifyClose(c chan *Error) chan *Error                          { return c }
func (ch *Channel) NotifyFlow(c chan bool) chan bool                               { return c }
func (ch *Channel) NotifyReturn(c chan Return) chan Return                         { return c }
func (ch *Channel) NotifyCancel(c chan string) chan string                         { return c }
func (ch *Channel) NotifyConfirm(ack, nack chan uint64) (chan uint64, chan uint64) { return ack, nack }
func (ch *Channel) NotifyPublish(confirm chan Confirmation) chan Confirmation      { return confirm }
func (ch *Channel) NotifyStateChange(c chan *StateChanged)                         {}
func (ch *Channel) Confirm(noWait bool) error                                      { return nil }
func (ch *Channel) Qos(prefetchCount, prefetchSize int, global bool) error         { return nil }
func (ch *Channel) Close() error                                                   { return nil }
func (ch *Channel) Ack(tag uint64, multiple bool) error                            { return nil }
func (ch *Channel) Nack(tag uint64, multiple, requeue bool) error                  { return nil }
func (ch *Channel) Consume(queue, consumer string, autoAck, exclusive, noLocal, noWait bool, args Table) (<-chan Delivery, error) {
	return nil, nil
}
func (ch *Channel) ConsumeWithContext(ctx context.Context, queue, consumer string, autoAck, exclusive, noLocal, noWait bool, args Table) (<-chan Delivery, error) {
	return nil, nil
}
func (ch *Channel) Publish(exchange, key string, mandatory, immediate bool, msg Publishing) error {
	return nil
}
func (ch *Channel) PublishWithContext(ctx context.Context, exchange, key string, mandatory, immediate bool, msg Publishing) error {
	return nil
}
func (ch *Channel) PublishWithDeferredConfirm(exchange, key string, mandatory, immediate bool, msg Publishing) (*DeferredConfirmation, error) {
	return nil, nil
}
