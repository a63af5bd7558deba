package detect

import (
	"fmt"
	"strings"
)

// Severity ranks findings.
type Severity int

const (
	// Info is worth knowing but may be fine.
	Info Severity = iota + 1
	// Warning is very likely a bug that will hurt later (a leak that grows,
	// a failure that will go unnoticed).
	Warning
	// Critical is a goroutine stuck for ever now, holding resources
	// (sockets, locks) or freezing a connection.
	Critical
)

var severityNames = map[Severity]string{Info: "info", Warning: "warning", Critical: "critical"}

// String returns "info", "warning" or "critical".
func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// MarshalText encodes the severity by name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// ParseSeverity maps "info", "warning" or "critical" to a Severity.
func ParseSeverity(name string) (Severity, error) {
	for s, n := range severityNames {
		if strings.EqualFold(n, name) {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or critical)", name)
}

// Rule is one known way an AMQP client program gets stuck. Its text is what
// a finding shows; docs/rules.md is generated from the catalog.
type Rule struct {
	// ID is stable across releases: tests, suppressions and links use it.
	ID string
	// Title says in one line what is wrong.
	Title    string
	Severity Severity
	// Versions says which library versions behave this way.
	Versions string
	// Shows is what the goroutines look like in a dump.
	Shows string
	// Why explains why it is a bug.
	Why string
	// Fix says what to change, and Example shows it in code.
	Fix, Example string
	// Limits says what a dump cannot prove for this rule, if anything.
	Limits string
	// References are upstream issues and documents.
	References []string

	// match reports the findings of this rule, claiming the goroutines it
	// reports. It reads only the snapshot.
	match func(s *snapshot, r *Rule) []*Finding
}

// Rules returns the catalog, in the order rules are matched (root causes
// before what they cause).
func Rules() []*Rule { return append([]*Rule(nil), catalog...) }

// Lookup returns the rule with the given ID, from the catalog or the
// rules of tracked objects (LiveRules).
func Lookup(id string) (*Rule, bool) {
	for _, rs := range [][]*Rule{catalog, liveRules} {
		for _, r := range rs {
			if strings.EqualFold(r.ID, id) {
				return r, true
			}
		}
	}
	return nil, false
}
