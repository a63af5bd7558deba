//go:build streadway || amqp091old

package main

// boundedNotify reports whether this library version bounds Notify* sends
// (amqp091-go >= v1.13: select with a 5 s timer, then drop) instead of
// blocking the reader forever (streadway/amqp, amqp091-go <= v1.11).
const boundedNotify = false

// waitChannelClosed is only used on bounded versions (ver_latest.go).
func waitChannelClosed(*Channel) error { return nil }
