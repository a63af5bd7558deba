/*
Package amqpvet defines analyzers that report misuse of the RabbitMQ Go
clients, github.com/rabbitmq/amqp091-go and github.com/streadway/amqp
(vendored copies included), that makes a program leak goroutines or hang
at run time. Each diagnostic names the amqpleaks runtime rule whose stuck
state it prevents (the rule IDs of docs/rules.md and of stackscan -explain)
and links its documentation.

Run all of them with the command in cmd/amqpvet:

	go install github.com/amqpleaks/amqpleaks/amqpvet/cmd/amqpvet@latest
	amqpvet ./...                          # standalone
	go vet -vettool=$(which amqpvet) ./... # as a vet tool
	amqpvet -fix ./...                     # apply the suggested fixes

Library types are matched by import path suffix, so that
example.com/app/vendor/github.com/streadway/amqp counts. The libraries'
own packages are not analyzed. Calls made through the program's own
interfaces or wrapper functions in other packages are not seen.

# Analyzer notifybuffer

notifybuffer: report unbuffered Notify* listeners and overrun NotifyPublish buffers

The libraries deliver notifications with plain blocking sends from their
own goroutines: the connection's reader, or the shutdown of a connection or
channel (amqp091-go up to v1.11 for every listener, streadway/amqp always;
NotifyConfirm's relay goroutine and NotifyStateChange's delivery goroutines
in every version). An unbuffered channel passed to NotifyClose,
NotifyPublish, NotifyReturn, NotifyCancel, NotifyFlow, NotifyBlocked,
NotifyConfirm or NotifyStateChange blocks that goroutine whenever nobody is
receiving at that instant. The suggested fix adds the buffer of the rule's
documented example (1 for close errors, 100 for confirmations, 16 for
returns, 8 for state changes). The channel is followed to its make call
when it is a local variable assigned once. Not reported: a NotifyClose
result received directly (<-conn.NotifyClose(make(chan *amqp.Error))),
where the receiver is waiting already and one error is all that is sent.

A NotifyPublish listener made with a constant buffer is also reported when
the function that registers it publishes more messages on the same channel
before it mentions the listener again (a receive, or handing it to a
goroutine). Publishes are counted as a lower bound: straight-line calls,
and loops with constant bounds (for i := 0; i < 10; i++, for range 10,
ranges over arrays) that do not end early; branches count as zero.

# Analyzer notifyunread

notifyunread: report Notify* listeners that are never received from, or too few times

Each listener is followed through the package: the variables and struct
fields it is assigned to and the parameters of the package's functions it
is passed to. It is reported when nothing receives from it (registered and
dropped), when a listener that carries many values (returns, cancels,
flow, blocked, confirmations, state changes) is received from only at
places outside any loop, or when an unbuffered NotifyClose listener is
received from only as one case of a select that is not in a loop: when
another case wins, the library's shutdown blocks on it (the reconnect loop
of background.md's second failure). A receive counts as draining when it is
inside a loop that does not also register a new listener, or inside
another function or method than the registering one (it may be called once
per event). Listeners handed to code the analyzer cannot see (another
package's function, a return value, a map, an exported field) are not
reported.

# Analyzer multiack

multiack: report Ack(true) and Nack(true, ...) in goroutines started per delivery

A goroutine started inside a loop over deliveries (a range over, or a
receive from, a <-chan Delivery), or one handed a Delivery, that
acknowledges with multiple=true also acknowledges every earlier delivery,
which other goroutines still hold and acknowledge again. The broker closes
the channel with 406 PRECONDITION_FAILED, and a consumer that watches only
its connection stops silently. Delivery.Ack, Delivery.Nack, Channel.Ack,
Channel.Nack and Acknowledger.Ack/Nack are checked, in the goroutine's
function and in the package's functions it calls (three levels). The
suggested fix passes false. Worker pools (a fixed number of goroutines
each ranging over the same deliveries) are not reported.

# Analyzer connonly

connonly: report consumers that watch only Connection.NotifyClose

A Channel.Consume (or ConsumeWithContext) call is reported when the code
around it watches Connection.NotifyClose but nothing in the package
registers NotifyClose on the consuming channel. The code around it is the
enclosing function, the methods of its receiver's type and of the type
whose field holds the channel, and the package functions these call. The
channel is identified by the variable or field that holds it, joined
through simple assignments, struct literals and parameters of the
package's functions. A channel that arrives as a parameter from outside
the package is reported only when the package watches no channel at all.

# Analyzer heartbeat

heartbeat: report heartbeats turned off in a Config or an AMQP URI

Config.Heartbeat set (in a literal or by assignment) to a constant of -1s
or less turns heartbeats off: the libraries negotiate whole seconds,
pick(Heartbeat/time.Second, broker's), which keeps a non-zero client value
under the broker's, and the heartbeater neither ticks nor sets read
deadlines for an interval of zero or less. Values in (-1s, 0) truncate to
0, the broker's interval, and are not reported. In packages that import
amqp091-go, which reads heartbeat from the URI and lets it override
Config.Heartbeat (v1.10 to v1.16 checked), string literals that are AMQP
URIs or query fragments with heartbeat=0 or a negative value are
reported: heartbeat=0 is the library's documented way to disable
heartbeats, and it does disable them when the broker's heartbeat is 0
too, otherwise it silently takes the broker's interval; negative values
disable them up to v1.15 (v1.16 rejects them). streadway/amqp ignores
the parameter, so it is not reported there.
*/
package amqpvet
