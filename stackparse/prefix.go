package stackparse

import "bytes"

// prefixMatcher returns a function that measures, on each line, the prefix a
// log collector added, given the text found before the first goroutine
// header. Recognised shapes, whose text changes from line to line:
//
//	2026-11-22T03:10:00.123456789Z stderr F    (CRI: containerd, CRI-O)
//	2026-11-22T03:10:00.123456789Z             (docker logs --timestamps)
//	Nov 22 03:10:00 host app[1234]:            (syslog / journalctl short)
//
// Any other prefix must repeat literally (kubectl --prefix, docker compose).
// A line without the prefix is read as it is.
func prefixMatcher(prefix []byte) func([]byte) int {
	if n := timestampPrefix(prefix); n == len(prefix) {
		return timestampPrefix
	}
	if n := syslogPrefix(prefix); n == len(prefix) {
		return syslogPrefix
	}
	return func(line []byte) int {
		if bytes.HasPrefix(line, prefix) {
			return len(prefix)
		}
		return 0
	}
}

func digits(b []byte, i, n int) bool {
	if i+n > len(b) {
		return false
	}
	for _, c := range b[i : i+n] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// timestampPrefix measures "YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh:mm] " and an
// optional CRI "stdout F " / "stderr P " after it.
func timestampPrefix(b []byte) int {
	if !digits(b, 0, 4) || len(b) < 20 || b[4] != '-' || !digits(b, 5, 2) || b[7] != '-' || !digits(b, 8, 2) ||
		(b[10] != 'T' && b[10] != ' ') || !digits(b, 11, 2) || b[13] != ':' {
		return 0
	}
	i := 14
	for i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == ':' || b[i] == '.' || b[i] == ',') {
		i++
	}
	if i < len(b) && b[i] == 'Z' {
		i++
	} else if i < len(b) && (b[i] == '+' || b[i] == '-') {
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == ':') {
			j++
		}
		i = j
	}
	if i >= len(b) || b[i] != ' ' {
		return 0
	}
	i++
	rest := b[i:]
	if (bytes.HasPrefix(rest, []byte("stdout ")) || bytes.HasPrefix(rest, []byte("stderr "))) && len(rest) >= 9 &&
		(rest[7] == 'F' || rest[7] == 'P') && rest[8] == ' ' {
		i += 9
	}
	return i
}

// syslogPrefix measures "Mmm dd hh:mm:ss host ident[pid]: ".
func syslogPrefix(b []byte) int {
	if len(b) < 16 || !(b[0] >= 'A' && b[0] <= 'Z') || b[3] != ' ' ||
		!(b[4] == ' ' || b[4] >= '0' && b[4] <= '9') || !digits(b, 5, 1) || b[6] != ' ' ||
		!digits(b, 7, 2) || b[9] != ':' || !digits(b, 10, 2) || b[12] != ':' || !digits(b, 13, 2) || b[15] != ' ' {
		return 0
	}
	i := 16
	sp := bytes.IndexByte(b[i:], ' ') // host
	if sp <= 0 {
		return 0
	}
	i += sp + 1
	colon := bytes.Index(b[i:], []byte(": "))
	if colon <= 0 || bytes.IndexByte(b[i:i+colon], ' ') >= 0 {
		return 0
	}
	return i + colon + 2
}
