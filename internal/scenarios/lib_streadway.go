//go:build streadway

package main

import "github.com/streadway/amqp"

// The scenarios are written once against these aliases; this file maps
// the same names onto github.com/streadway/amqp (build tag "streadway").
const libModule = "github.com/streadway/amqp"

// libPkg is the package path as it appears in goroutine dump frames.
const libPkg = "github.com/streadway/amqp"

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
