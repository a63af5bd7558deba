module github.com/amqpleaks/amqpleaks

go 1.22

require (
	github.com/google/pprof v0.0.0-20241029153458-d1b30febd7db
	go.uber.org/goleak v1.3.0
)
