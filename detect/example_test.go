package detect_test

import (
	"fmt"
	"os"

	"github.com/amqpleaks/amqpleaks/detect"
	"github.com/amqpleaks/amqpleaks/stackparse"
)

// A real dump of a consumer that reconnected after a network reset but
// never read its channel's NotifyClose (internal/scenarios).
func ExampleAnalyze() {
	f, err := os.Open("testdata/scenarios/amqp091-go-v1.10.0/go1.26/chan-notifyclose-unread/debug2.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	rep, err := detect.Analyze(stackparse.NewReader(f))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Findings {
		fmt.Println(f.Severity, f.Rule, f.Library, f.Version)
		fmt.Println(f.Goroutines[0].State, "at", f.Goroutines[0].At)
	}
	// Output:
	// critical chan-notifyclose-unread github.com/rabbitmq/amqp091-go v1.10.0
	// chan send at (*Channel).shutdown.func1 channel.go:114
}
