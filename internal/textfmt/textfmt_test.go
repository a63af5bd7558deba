package textfmt

import (
	"testing"

	"github.com/amqpleaks/amqpleaks/detect"
)

func TestHelpers(t *testing.T) {
	if got := Plural(1, "goroutine") + ", " + Plural(3, "goroutine"); got != "1 goroutine, 3 goroutines" {
		t.Error(got)
	}
	if got := Wrap("aa bb cc dd", 8, "  "); got != "  aa bb\n  cc dd\n" {
		t.Errorf("%q", got)
	}
	if got := Wrap("", 8, "  "); got != "" {
		t.Errorf("%q", got)
	}
	f := &detect.Finding{Connection: "0x1", Library: detect.LibAMQP091, Version: "v1.10.0"}
	if got := Where(f, "in this dump"); got != "connection 0x1; github.com/rabbitmq/amqp091-go v1.10.0" {
		t.Error(got)
	}
	if got := Where(&detect.Finding{Library: detect.LibStreadway}, "in this mode"); got != "connection not shown in this mode; github.com/streadway/amqp" {
		t.Error(got)
	}
}
