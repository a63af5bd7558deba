package stackparse

// prefixMatcher returns a function that measures, on each line, the prefix a
// log collector added, given the text found before the first goroutine
// header. The prefix's text changes from line to line (timestamps, line
// numbers), so lines are matched on its shape: a run of digits matches any
// run of digits, a run of letters any run of letters, and every other byte
// itself. That covers, among others:
//
//	2026-11-22T03:10:00.123456789Z stderr F    (CRI: containerd, CRI-O)
//	2026-11-22T03:10:00.1234Z                  (docker --timestamps, GitHub Actions)
//	Nov 22 03:10:00 host app[1234]:            (syslog, journalctl)
//	 618283 2021-09-15T07:40:15.1455272Z       (a log viewer's line numbers)
//	[pod/api-7d9f/app]                         (kubectl --prefix)
//
// A line that does not have the prefix is read as it is.
func prefixMatcher(prefix []byte) func([]byte) int {
	shape := append([]byte(nil), prefix...)
	return func(line []byte) int { return matchShape(shape, line) }
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// matchShape returns the length of the prefix of line that has the shape of
// the prefix shape, or 0.
func matchShape(shape, line []byte) int {
	i, j := 0, 0
	for i < len(shape) {
		c := shape[i]
		switch {
		case isDigit(c) || isLetter(c):
			class := isDigit
			if isLetter(c) {
				class = isLetter
			}
			for i < len(shape) && class(shape[i]) {
				i++
			}
			if j >= len(line) || !class(line[j]) {
				return 0
			}
			for j < len(line) && class(line[j]) {
				j++
			}
		default:
			if j >= len(line) || line[j] != c {
				return 0
			}
			i++
			j++
		}
	}
	return j
}
