// leakyconsumer reproduces the incident behind amqpleaks with the library
// version that has the blocking NotifyClose. Keep this pin: from v1.12 on,
// NotifyClose no longer blocks and the example no longer shows the leak.
module github.com/amqpleaks/amqpleaks/examples/leakyconsumer

go 1.22

require (
	github.com/amqpleaks/amqpleaks v0.0.0
	github.com/rabbitmq/amqp091-go v1.10.0
)

require github.com/google/pprof v0.0.0-20241029153458-d1b30febd7db // indirect

replace github.com/amqpleaks/amqpleaks => ../..
