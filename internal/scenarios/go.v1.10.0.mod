// Scenario programs that reproduce amqpleaks' blocking patterns against a real
// RabbitMQ broker and write the goroutine dumps used as detector fixtures.
// Variant of go.mod pinning amqp091-go v1.10.0 (go run -modfile=go.v1.10.0.mod -tags amqp091old).
module github.com/amqpleaks/amqpleaks/internal/scenarios

go 1.22

require (
	github.com/amqpleaks/amqpleaks v0.0.0
	github.com/rabbitmq/amqp091-go v1.10.0
	github.com/streadway/amqp v1.1.0
)

require github.com/google/pprof v0.0.0-20241029153458-d1b30febd7db // indirect

replace github.com/amqpleaks/amqpleaks => ../..
