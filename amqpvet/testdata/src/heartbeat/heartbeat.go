package heartbeat

import (
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

const noHeartbeat = -10 * time.Second

func dial(host string) {
	amqp.DialConfig("amqp://guest:guest@localhost:5672/", amqp.Config{Heartbeat: -1}) // -1ns: Heartbeat/time.Second is 0, the broker's interval
	amqp.DialConfig("amqp://localhost/", amqp.Config{Heartbeat: -time.Second})        // want `Config.Heartbeat is -1s, which turns heartbeats off: the library negotiates the interval as pick\(-1, broker's\) = -1 s .*the broker is told 65535 s.*io-wait-no-heartbeat`
	amqp.DialConfig("amqp://localhost/", amqp.Config{Heartbeat: noHeartbeat})         // want `Config.Heartbeat is -10s`
	cfg := amqp.Config{Vhost: "/"}
	cfg.Heartbeat = -5 * time.Second                                       // want `Config.Heartbeat is -5s`
	cfg.Heartbeat = 0                                                      // the default: fine
	amqp.DialConfig("amqp://guest:guest@localhost:5672/?heartbeat=0", cfg) // want `heartbeat=0 in an AMQP URI asks amqp091-go to turn heartbeats off.*pick\(0, broker's\).*io-wait-no-heartbeat`
	amqp.Dial("amqp://localhost/?connection_timeout=5000&heartbeat=-1")    // want `heartbeat=-1 in an AMQP URI turns heartbeats off`
	amqp.Dial(fmt.Sprintf("amqp://%s/?heartbeat=0", host))                 // want `heartbeat=0 in an AMQP URI`
	amqp.Dial("amqp://" + host + "?heartbeat=0")                           // want `heartbeat=0 in an AMQP URI`
	amqp.Dial("amqp://localhost/?heartbeat=30")
	amqp.Dial("amqp://localhost/?heartbeat=05&x=heartbeat=0")
	amqp.DialConfig("amqp://localhost/", amqp.Config{Heartbeat: 10 * time.Second})
	fmt.Println("heartbeat=0") // not a URI
}
