module github.com/amqpleaks/amqpleaks/bench

go 1.23.0

require (
	github.com/DataDog/gostackparse v0.7.0
	github.com/amqpleaks/amqpleaks v0.0.0
	github.com/maruel/panicparse/v2 v2.5.0
)

require github.com/google/pprof v0.0.0-20241029153458-d1b30febd7db // indirect

replace github.com/amqpleaks/amqpleaks => ../
