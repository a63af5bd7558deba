module github.com/amqpleaks/amqpleaks/examples/testing

go 1.22

require (
	github.com/amqpleaks/amqpleaks v0.0.0
	github.com/rabbitmq/amqp091-go v1.16.0
)

require (
	github.com/google/pprof v0.0.0-20241029153458-d1b30febd7db // indirect
	go.uber.org/goleak v1.3.0 // indirect
)

replace github.com/amqpleaks/amqpleaks => ../..
