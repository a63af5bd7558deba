package main

// -mode embed: mechanical transformations of one real dump (-in) and real
// log output (-log) into the log-embedded fixtures of corpus/embedded/.
// Every output file is a pure function of the two inputs; README.md lists
// which transformation produced which file.

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"log"
	"os"
	"strings"
	"time"
)

func runEmbed() {
	dump, err := os.ReadFile(*flagIn)
	if err != nil {
		log.Fatal(err)
	}
	logb, err := os.ReadFile(*flagLog)
	if err != nil {
		log.Fatal(err)
	}
	out := *flagOut
	if err := os.MkdirAll(out, 0o755); err != nil {
		log.Fatal(err)
	}
	write := writer(out)
	logLines := strings.Split(strings.TrimRight(string(logb), "\n"), "\n")
	dumpLines := strings.Split(strings.TrimRight(string(dump), "\n"), "\n")

	// 1. logs_around.txt: 5 log lines, the dump with log lines inserted at
	// goroutine boundaries, 5 log lines.
	next := 0
	take := func() string {
		l := logLines[next%len(logLines)]
		next++
		return l
	}
	var lines []string
	for i := 0; i < 5; i++ {
		lines = append(lines, take())
	}
	boundary := 0
	for i, l := range dumpLines {
		isBoundary := l == "" && i+1 < len(dumpLines) && strings.HasPrefix(dumpLines[i+1], "goroutine ")
		if isBoundary {
			switch boundary % 3 {
			case 0: // before the blank line
				lines = append(lines, take(), l)
			case 1: // after the blank line, just before the header
				lines = append(lines, l, take(), take())
			default:
				lines = append(lines, l)
			}
			boundary++
			continue
		}
		lines = append(lines, l)
	}
	for i := 0; i < 5; i++ {
		lines = append(lines, take())
	}
	around := strings.Join(lines, "\n") + "\n"
	write("logs_around.txt", []byte(around))

	// 2. Per-line prefixes.
	t0 := time.Date(2026, 11, 22, 3, 10, 0, 123456789, time.UTC)
	prefixed := func(f func(i int, t time.Time) string) []byte {
		var b strings.Builder
		for i, l := range lines {
			t := t0.Add(time.Duration(i) * 37 * time.Microsecond)
			b.WriteString(f(i, t))
			b.WriteString(l)
			b.WriteString("\n")
		}
		return []byte(b.String())
	}
	cri := prefixed(func(i int, t time.Time) string {
		return t.Format("2006-01-02T15:04:05.000000000Z07:00") + " stderr F "
	})
	write("cri.txt", cri)
	write("docker_timestamps.txt", prefixed(func(i int, t time.Time) string {
		return t.Format(time.RFC3339Nano) + " "
	}))
	write("journald.txt", prefixed(func(i int, t time.Time) string {
		return t.Format("Jan 02 15:04:05") + " host app[1234]: "
	}))

	// 3. CRLF line ends.
	write("crlf.txt", []byte(strings.ReplaceAll(around, "\n", "\r\n")))

	// 4. ANSI colours: every stderr line wrapped in red, log timestamps dimmed.
	var ab strings.Builder
	for _, l := range lines {
		if len(l) > 26 && l[4] == '/' && l[7] == '/' {
			fmt.Fprintf(&ab, "\x1b[2m%s\x1b[0m\x1b[31m%s\x1b[0m\n", l[:26], l[26:])
		} else {
			fmt.Fprintf(&ab, "\x1b[31m%s\x1b[0m\n", l)
		}
	}
	write("ansi.txt", []byte(ab.String()))

	// 5. gzip copies.
	gz := func(name string, data []byte) {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Name = name
		zw.ModTime = t0
		zw.Write(data)
		zw.Close()
		write(name+".gz", b.Bytes())
	}
	gz("logs_around.txt", []byte(around))
	gz("cri.txt", cri)
	gz("dump_plain.txt", dump)
}
