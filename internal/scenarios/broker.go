package main

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/amqpleaks/amqpleaks/internal/faultproxy"
)

// heartbeatOff disables heartbeats. The libraries negotiate the interval with
// pick(client, server): 0 means "use the server's" (60 s on RabbitMQ), so the
// only client-side way to turn heartbeats off is a negative interval of at
// least one second: pick(-1, 60) = -1, the heartbeater gets a negative
// interval (no ticker, no read deadline) and tune-ok carries uint16(-1)=65535.
const heartbeatOff = -1 * time.Second

// dial opens a connection with a connection_name the broker shows.
func (s *S) dial(url string, heartbeat time.Duration) (*Connection, error) {
	s.seq++
	return DialConfig(url, Config{
		Heartbeat:  heartbeat,
		Locale:     "en_US",
		Properties: Table{"connection_name": fmt.Sprintf("amqpleaks-%s-%d", s.Meta.Scenario, s.seq)},
	})
}

func (s *S) mustDial(url string, heartbeat time.Duration) *Connection {
	c, err := s.dial(url, heartbeat)
	if err != nil {
		panic(fmt.Sprintf("dial %s: %v", url, err))
	}
	return c
}

func mustChannel(c *Connection) *Channel {
	ch, err := c.Channel()
	if err != nil {
		panic(fmt.Sprintf("channel: %v", err))
	}
	return ch
}

// queue declares a queue that the broker deletes 2 minutes after its last use,
// so killed scenarios leave nothing behind.
func (s *S) queue(ch *Channel) string {
	name := s.name("q")
	if _, err := ch.QueueDeclare(name, false, false, false, false, Table{"x-expires": int32(120000)}); err != nil {
		panic(fmt.Sprintf("queue.declare: %v", err))
	}
	return name
}

// proxy starts a fault proxy in front of the broker and returns it with the
// URL to dial through it.
func (s *S) proxy() (*faultproxy.Proxy, string) {
	p, err := faultproxy.Start(brokerHostPort(s.URL))
	if err != nil {
		panic(fmt.Sprintf("faultproxy: %v", err))
	}
	u, err := p.URL(s.URL)
	if err != nil {
		panic(fmt.Sprintf("faultproxy url: %v", err))
	}
	return p, u
}

func brokerHostPort(url string) string {
	u := url
	if i := strings.Index(u, "@"); i >= 0 {
		u = u[i+1:]
	} else {
		u = strings.TrimPrefix(u, "amqp://")
	}
	if i := strings.Index(u, "/"); i >= 0 {
		u = u[:i]
	}
	if !strings.Contains(u, ":") {
		u += ":5672"
	}
	return u
}

func rabbitmqctl(args ...string) (string, error) {
	out, err := exec.Command("rabbitmqctl", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func brokerVersion() string {
	out, err := rabbitmqctl("--quiet", "eval", `rabbit_misc:version().`)
	if err != nil {
		return "unknown"
	}
	return "RabbitMQ " + strings.Trim(out, `"`)
}

// memoryAlarm raises the broker's memory alarm by setting a tiny relative
// watermark and registers the restore of the previous value (read first) to
// run when the scenario ends, errs, or is interrupted.
func (s *S) memoryAlarm() error {
	prev, err := rabbitmqctl("--quiet", "eval", `vm_memory_monitor:get_vm_memory_high_watermark().`)
	if err != nil {
		return fmt.Errorf("read watermark: %v: %s", err, prev)
	}
	// 0.4 or {absolute,N}
	restoreArgs := []string{"set_vm_memory_high_watermark"}
	if strings.HasPrefix(prev, "{absolute,") {
		restoreArgs = append(restoreArgs, "absolute", strings.TrimSuffix(strings.TrimPrefix(prev, "{absolute,"), "}"))
	} else {
		restoreArgs = append(restoreArgs, prev)
	}
	restored := false
	restore := func() {
		if restored {
			return
		}
		restored = true
		out, err := rabbitmqctl(restoreArgs...)
		if err != nil {
			fmt.Printf("RESTORE FAILED: rabbitmqctl %v: %v %s\n", restoreArgs, err, out)
			return
		}
		for i := 0; i < 100 && alarmActive(); i++ {
			time.Sleep(100 * time.Millisecond)
		}
	}
	s.onExit(restore)
	s.restoreWatermark = restore
	if out, err := rabbitmqctl("set_vm_memory_high_watermark", "0.0000001"); err != nil {
		return fmt.Errorf("set watermark: %v: %s", err, out)
	}
	s.step("raised the broker memory alarm: rabbitmqctl set_vm_memory_high_watermark 0.0000001 (previous value %s, restored before exit)", prev)
	for i := 0; i < 100; i++ {
		if alarmActive() {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("memory alarm did not go off")
}

func alarmActive() bool {
	out, _ := rabbitmqctl("--quiet", "eval", `rabbit_alarm:get_alarms().`)
	return strings.Contains(out, "memory")
}
