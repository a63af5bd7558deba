// Package heartbeatstreadway: streadway/amqp does not read heartbeat from
// the URI, so the parameter is ignored and not reported; a negative
// Config.Heartbeat is.
package heartbeatstreadway

import (
	"time"

	"github.com/streadway/amqp"
)

func dial() {
	amqp.Dial("amqp://localhost/?heartbeat=0")
	amqp.DialConfig("amqp://localhost/", amqp.Config{Heartbeat: -30 * time.Second}) // want `Config.Heartbeat is -30s`
}
