// Package rulesdoc renders the detect catalog as Markdown: docs/rules.md is
// its output, and a test keeps the file in step with the catalog.
//
// Regenerate after changing a rule:
//
//	go test ./internal/rulesdoc -update
package rulesdoc

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/amqpleaks/amqpleaks/detect"
)

// Render returns the Markdown page of the rules, in catalog order, then the
// rules of tracked objects.
func Render(rules, live []*detect.Rule) []byte {
	var b bytes.Buffer
	b.WriteString("# amqpleaks rules\n\n")
	b.WriteString("<!-- Generated from the catalog in detect/catalog.go by `go test ./internal/rulesdoc -update`. Do not edit. -->\n\n")
	b.WriteString("Each rule names one way a Go program using github.com/rabbitmq/amqp091-go or github.com/streadway/amqp gets stuck, ")
	b.WriteString("as it shows in a goroutine dump. `stackscan -explain ID` prints the same text.\n\n")
	b.WriteString("| ID | Severity | Title |\n| --- | --- | --- |\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", r.ID, r.ID, r.Severity, r.Title)
	}
	if len(live) > 0 {
		b.WriteString("\nRules of tracked objects, reported by `/debug/amqpleaks` (httpdebug) from what\n")
		b.WriteString("`httpdebug/amqptrack` records — what no goroutine dump can show:\n\n")
		b.WriteString("| ID | Severity | Title |\n| --- | --- | --- |\n")
		for _, r := range live {
			fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", r.ID, r.ID, r.Severity, r.Title)
		}
	}
	for _, r := range append(append([]*detect.Rule(nil), rules...), live...) {
		fmt.Fprintf(&b, "\n## %s\n\n**%s** — severity %s\n\n", r.ID, r.Title, r.Severity)
		section(&b, "Library versions", r.Versions)
		section(&b, "What the goroutines show", r.Shows)
		section(&b, "Why it is a bug", r.Why)
		section(&b, "Fix", r.Fix)
		if r.Example != "" {
			fmt.Fprintf(&b, "```go\n%s\n```\n\n", strings.TrimSpace(r.Example))
		}
		section(&b, "What a dump cannot tell", r.Limits)
		if len(r.References) > 0 {
			b.WriteString("References: " + strings.Join(r.References, "; ") + "\n")
		}
	}
	return b.Bytes()
}

func section(b *bytes.Buffer, title, text string) {
	if text == "" {
		return
	}
	fmt.Fprintf(b, "%s: %s\n\n", title, text)
}
