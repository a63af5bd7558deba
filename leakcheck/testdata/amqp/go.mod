// Test packages that leakcheck's own tests run with `go test` in a
// subprocess (leakcheck/testdata_test.go): leaky ones that must fail with the
// right diagnosis, clean ones that must pass, and parallel tests where one
// leaks. amqp091-go v1.10.0: its NotifyClose send blocks for ever (as up to
// v1.11). Not run by scripts/test (it skips testdata).
module github.com/amqpleaks/amqpleaks/leakcheck/testdata/amqp

go 1.22

require (
	github.com/amqpleaks/amqpleaks v0.0.0
	github.com/rabbitmq/amqp091-go v1.10.0
)

require (
	github.com/google/pprof v0.0.0-20241029153458-d1b30febd7db // indirect
	go.uber.org/goleak v1.3.0 // indirect
)

replace github.com/amqpleaks/amqpleaks => ../../..
