// Command amqpvet reports misuse of the RabbitMQ Go clients
// (github.com/rabbitmq/amqp091-go, github.com/streadway/amqp) that leads to
// the goroutine leaks and stuck shutdowns amqpleaks finds at run time.
//
// Run it standalone on packages:
//
//	go install github.com/amqpleaks/amqpleaks/amqpvet/cmd/amqpvet@latest
//	amqpvet ./...
//	amqpvet -fix ./...        # apply the suggested fixes (buffers, Ack(false))
//	amqpvet -heartbeat=false ./...   # turn one analyzer off
//
// or as a vet tool, which also checks test files and works in any build
// system that drives go vet:
//
//	go vet -vettool=$(which amqpvet) ./...
//
// See the package github.com/amqpleaks/amqpleaks/amqpvet for the analyzers.
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/amqpleaks/amqpleaks/amqpvet"
)

func main() { multichecker.Main(amqpvet.Analyzers...) }
