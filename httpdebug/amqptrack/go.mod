// Live tracking of github.com/rabbitmq/amqp091-go objects for
// /debug/amqpleaks. A module of its own so that the amqpleaks module does
// not depend on the AMQP client; its tests run the leaky and healthy
// services against RabbitMQ (scripts/test runs them).
module github.com/amqpleaks/amqpleaks/httpdebug/amqptrack

go 1.22

require (
	github.com/amqpleaks/amqpleaks v0.0.0
	github.com/rabbitmq/amqp091-go v1.10.0
)

require (
	github.com/google/pprof v0.0.0-20241029153458-d1b30febd7db // indirect
	go.uber.org/goleak v1.3.0 // indirect
)

replace github.com/amqpleaks/amqpleaks => ../..
