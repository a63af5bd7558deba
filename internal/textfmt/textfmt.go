// Package textfmt holds the small text helpers the front ends (stackscan,
// httpdebug) share to write a detect.Report for people, so a finding reads
// the same in a terminal and in curl.
package textfmt

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/amqpleaks/amqpleaks/detect"
)

// Plural writes a count and a noun: "1 goroutine", "3 goroutines".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Wrap fills text into lines of at most width columns, each starting with
// indent; it ends with a newline (nothing for empty text).
func Wrap(text string, width int, indent string) string {
	var b strings.Builder
	col := 0
	for _, word := range strings.Fields(text) {
		n := utf8.RuneCountInString(word)
		if col > 0 && col+1+n > width {
			b.WriteByte('\n')
			col = 0
		}
		if col == 0 {
			b.WriteString(indent)
			col = utf8.RuneCountInString(indent)
		} else {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
	if col > 0 {
		b.WriteByte('\n')
	}
	return b.String()
}

// Where names the connection and channel of a finding ("connection 0x…,
// channel 0x…"), or says none is shown (none: "in this dump", "in this
// mode"), followed by the library and its version.
func Where(f *detect.Finding, none string) string {
	var where []string
	if f.Connection != "" {
		where = append(where, "connection "+f.Connection)
	}
	if f.Channel != "" {
		where = append(where, "channel "+f.Channel)
	}
	if len(where) == 0 {
		where = append(where, "connection not shown "+none)
	}
	lib := f.Library
	if f.Version != "" {
		lib += " " + f.Version
	}
	return strings.Join(where, ", ") + "; " + lib
}
