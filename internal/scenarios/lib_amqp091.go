//go:build !streadway

package main

import amqp "github.com/rabbitmq/amqp091-go"

// The scenarios are written once against these aliases; lib_streadway.go maps
// the same names onto github.com/streadway/amqp (build tag "streadway").
const libModule = "github.com/rabbitmq/amqp091-go"

// libPkg is the package path as it appears in goroutine dump frames.
const libPkg = "github.com/rabbitmq/amqp091-go"

type (
	Connection   = amqp.Connection
	Channel      = amqp.Channel
	Config       = amqp.Config
	Error        = amqp.Error
	Publishing   = amqp.Publishing
	Confirmation = amqp.Confirmation
	Return       = amqp.Return
	Blocking     = amqp.Blocking
	Delivery     = amqp.Delivery
	Table        = amqp.Table
)

var (
	Dial       = amqp.Dial
	DialConfig = amqp.DialConfig
)
