package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// writeReadme generates root/README.md from every root/**/meta.json, so the
// list of fixtures can never drift from the fixtures themselves.
func writeReadme(root string) error {
	type fixture struct {
		dir  string
		meta Meta
	}
	var fx []fixture
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "meta.json" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var m Meta
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		fx = append(fx, fixture{filepath.ToSlash(rel), m})
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(fx, func(i, j int) bool { return fx[i].dir < fx[j].dir })

	var b strings.Builder
	b.WriteString(`# Scenario fixtures: real goroutine dumps

Every directory below holds the goroutine profile of a real program, written at
the moment the goroutines were parked, in three formats of the same moment:
` + "`debug2.txt`" + ` (pprof goroutine profile, debug=2: full stacks with arguments;
` + "`debug2.txt.gz`" + ` when larger than 5 MB), ` + "`debug1.txt`" + ` (debug=1: stacks aggregated
by PC) and ` + "`profile.pb.gz`" + ` (debug=0, protobuf), plus ` + "`meta.json`" + `.

**Never edit these files by hand.** They are produced by the scenario programs in
` + "`internal/scenarios`" + ` (one source tree built against three client libraries)
running against a real RabbitMQ broker; faults are injected with
` + "`internal/faultproxy`" + ` (connection reset, black hole), by the broker itself (a
double ack makes it close the channel with 406), or with a broker resource alarm
(` + "`rabbitmqctl set_vm_memory_high_watermark`" + `, restored before the program exits).
Regenerate everything with:

    internal/scenarios/regen.sh            # or: regen.sh SCENARIO...

Layout: ` + "`<library>-<version>/go<major.minor>/<scenario>/`" + `. Run one by hand with
` + "`cd internal/scenarios && go run . -scenario NAME -out DIR`" + ` (add
` + "`-modfile=go.v1.10.0.mod -tags amqp091old`" + ` for amqp091-go v1.10.0, ` + "`-tags streadway`" + `
for streadway/amqp v1.1.0; ` + "`go run . -list`" + ` lists the scenarios).

## meta.json

- ` + "`rule`" + `: the rule the fixture proves; ` + "`rules`" + `: every rule the dump should trigger
  (empty: the detector must report **zero findings**, e.g. ` + "`healthy`" + `, or a pattern
  that this library version no longer blocks on — see ` + "`notes`" + `).
- ` + "`expected`" + `: goroutines the program waited for before dumping (state, a function
  that must be on the stack, minimum count, ` + "`stuck`" + ` = blocked forever, ` + "`absent`" + ` =
  must not exist). ` + "`observed`" + `: the goroutines of the dump that matched, with the
  matched frame's file:line.
- ` + "`steps`" + `: what the program did, in order. ` + "`notes`" + `: version behaviour and
  observations made after the dump.
- ` + "`reproduced: false`" + ` (only ` + "`flow-unread`" + `): no dump could be produced; the notes say why.

The fault proxy runs in the same process, so its goroutines
(` + "`github.com/amqpleaks/amqpleaks/internal/faultproxy.(*link).pump`" + `, ` + "`acceptLoop`" + `)
appear in the dumps of the proxied scenarios, as do the scenario's own
` + "`main.*`" + ` goroutines and, when a broker alarm was used, an ` + "`os/signal`" + ` handler.

## Fixtures

| fixture | library | Go | rules expected | what was done (exact steps: meta.json) | stuck / expected goroutines (×N = observed count) |
|---|---|---|---|---|---|
`)
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, f := range fx {
		m := f.meta
		rules := strings.Join(m.Rules, ", ")
		if !m.Reproduced {
			rules = "(not reproduced)"
		} else if rules == "" {
			rules = "none (zero findings)"
		}
		var exp []string
		for _, e := range m.Expected {
			kind := "context"
			switch {
			case e.Absent:
				kind = "absent"
			case e.Stuck:
				kind = "STUCK"
			}
			st := e.State
			if st == "" {
				st = "any"
			}
			n := ""
			if !e.Absent {
				n = fmt.Sprintf(" ×%d", countObserved(m, e))
			}
			exp = append(exp, fmt.Sprintf("%s%s [%s] `%s` — %s", kind, n, st, strings.TrimPrefix(strings.TrimPrefix(e.Function, libModulePrefix(m)), ""), e.Role))
		}
		done := m.Description // the exact steps are in meta.json
		fmt.Fprintf(&b, "| [%s](%s/) | %s %s | %s | %s | %s | %s |\n", f.dir, f.dir, m.Library["module"], m.Library["version"], m.GoVersion,
			esc(rules), esc(done), esc(strings.Join(exp, "<br>")))
	}
	b.WriteString("\nLibrary frames in the table are shown with the package prefix of the fixture's library (`github.com/rabbitmq/amqp091-go.` or `github.com/streadway/amqp.`).\n")
	return os.WriteFile(filepath.Join(root, "README.md"), []byte(b.String()), 0o644)
}

func libModulePrefix(m Meta) string { return m.Library["module"] + "." }

func countObserved(m Meta, e Expect) int {
	n := 0
	for i, x := range m.Expected {
		if x == e {
			for _, o := range m.Observed {
				if o.Expect == i {
					n++
				}
			}
			break
		}
	}
	return n
}
