package multiack

import (
	"log"

	"github.com/streadway/amqp"
)

func handle(d amqp.Delivery) {
	log.Print(string(d.Body))
	d.Ack(true) // want `Delivery.Ack with multiple=true in a goroutine started per delivery: .*406 PRECONDITION_FAILED.*reconnect-watches-conn-only`
}

func consume(ch *amqp.Channel, msgs <-chan amqp.Delivery) {
	for d := range msgs {
		go handle(d)
	}
	for d := range msgs {
		go func() {
			if len(d.Body) == 0 {
				d.Nack(true, true) // want `Delivery.Nack with multiple=true`
				return
			}
			ch.Ack(d.DeliveryTag, true) // want `Channel.Ack with multiple=true`
		}()
	}
	for {
		select {
		case d, ok := <-msgs:
			if !ok {
				return
			}
			go func(d amqp.Delivery) {
				d.Acknowledger.Ack(d.DeliveryTag, true) // want `Acknowledger.Ack with multiple=true`
			}(d)
		}
	}
}

// A loop over something else that still hands a delivery to each goroutine.
func batch(ds []amqp.Delivery) {
	for _, d := range ds {
		go process(d)
	}
}

func process(d amqp.Delivery) { ackAll(d) }

func ackAll(d amqp.Delivery) {
	d.Ack(true) // want `Delivery.Ack with multiple=true`
}

// Clean: multiple=false, multiple=true outside a per-delivery goroutine, a
// single goroutine consuming in order.
func clean(ch *amqp.Channel, msgs <-chan amqp.Delivery, multiple bool) {
	for d := range msgs {
		go func() {
			d.Ack(false)
			d.Nack(false, true)
			d.Ack(multiple)
		}()
	}
	n := 0
	for d := range msgs {
		n++
		if n%10 == 0 {
			d.Ack(true) // batch ack in the consuming goroutine: fine
		}
	}
	go func() {
		for d := range msgs {
			d.Ack(true)
		}
	}()
}
