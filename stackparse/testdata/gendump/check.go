package main

// A deliberately naive checker that compares a freshly written dump with
// the expectations recorded in manifest.json, so that the manifest is known
// to describe the dump it sits next to. It is not a parser to learn from.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var minutesRE = regexp.MustCompile(`, (\d+) minutes`)

type block struct {
	header string
	body   string
}

func splitBlocks(s string) []block {
	var bs []block
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "goroutine ") && strings.Contains(lines[i], " [") {
			j := i + 1
			for j < len(lines) && lines[j] != "" && !strings.HasPrefix(lines[j], "goroutine ") {
				j++
			}
			bs = append(bs, block{header: lines[i], body: strings.Join(lines[i+1:j], "\n")})
			i = j - 1
		}
	}
	return bs
}

func hasFrame(body, fn string) bool {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, fn+"(") {
			return true
		}
	}
	return false
}

// check verifies the traceback-format dump s against kinds.
func check(s string, kinds []Kind, labels, ancestors, leakProfile bool) []string {
	var errs []string
	blocks := splitBlocks(s)
	for _, k := range kinds {
		n := 0
		for _, b := range blocks {
			own := b.body
			if i := strings.Index(own, "[originating from goroutine "); i >= 0 {
				own = own[:i]
			}
			if !hasFrame(own, k.Func) {
				continue
			}
			n++
			h := b.header
			st := h[strings.Index(h, " [")+2:]
			if !strings.HasPrefix(st, k.WaitReason) {
				errs = append(errs, fmt.Sprintf("%s: header %q: want wait reason %q", k.Name, h, k.WaitReason))
			} else if rest := st[len(k.WaitReason):]; !(strings.HasPrefix(rest, "]") || strings.HasPrefix(rest, ",") || strings.HasPrefix(rest, " (") || strings.HasPrefix(rest, " labels:")) {
				errs = append(errs, fmt.Sprintf("%s: header %q: wait reason followed by %q", k.Name, h, rest))
			}
			mm := 0
			if m := minutesRE.FindStringSubmatch(h); m != nil {
				mm, _ = strconv.Atoi(m[1])
			}
			wantMin := k.MinWaitMinutes
			if leakProfile && k.Leaked {
				// goroutineheader computes minutes only for _Gwaiting and
				// _Gsyscall, not for _Gleaked.
				wantMin = 0
			}
			if mm < wantMin || (wantMin == 0 && mm != 0) {
				errs = append(errs, fmt.Sprintf("%s: header %q: want %d minutes", k.Name, h, wantMin))
			}
			if strings.Contains(h, ", locked to thread") != k.LockedToThread {
				errs = append(errs, fmt.Sprintf("%s: header %q: locked to thread want %v", k.Name, h, k.LockedToThread))
			}
			if leakProfile && strings.Contains(h, " (leaked)") != k.Leaked {
				errs = append(errs, fmt.Sprintf("%s: header %q: leaked want %v", k.Name, h, k.Leaked))
			}
			if !leakProfile && strings.Contains(h, " (leaked)") {
				errs = append(errs, fmt.Sprintf("%s: header %q: unexpected (leaked)", k.Name, h))
			}
			if strings.Contains(h, " (durable)") != k.Durable {
				errs = append(errs, fmt.Sprintf("%s: header %q: durable want %v", k.Name, h, k.Durable))
			}
			if strings.Contains(h, ", synctest bubble ") != k.Bubble {
				errs = append(errs, fmt.Sprintf("%s: header %q: bubble want %v", k.Name, h, k.Bubble))
			}
			if labels && len(k.Labels) > 0 && !strings.Contains(h, "amqp.queue") {
				errs = append(errs, fmt.Sprintf("%s: header %q: labels missing", k.Name, h))
			}
			if (!labels || len(k.Labels) == 0) && (strings.Contains(h, "amqp.queue")) {
				errs = append(errs, fmt.Sprintf("%s: header %q: unexpected labels", k.Name, h))
			}
			want := "created by " + k.CreatedBy + " in goroutine "
			if k.CreatedByGoroutine > 0 {
				want += strconv.Itoa(k.CreatedByGoroutine) + "\n"
			}
			if !strings.Contains(own+"\n", want) {
				errs = append(errs, fmt.Sprintf("%s: missing %q", k.Name, want))
			}
			if strings.Contains(own, "frames elided...") != k.Elided {
				errs = append(errs, fmt.Sprintf("%s: elided want %v", k.Name, k.Elided))
			}
			na := strings.Count(b.body, "[originating from goroutine ")
			wa := 0
			if ancestors {
				wa = k.Ancestors
			}
			if na != wa {
				errs = append(errs, fmt.Sprintf("%s: %d ancestor blocks, want %d", k.Name, na, wa))
			}
		}
		if n != k.Count {
			errs = append(errs, fmt.Sprintf("%s: found %d goroutines with frame %s, want %d", k.Name, n, k.Func, k.Count))
		}
	}
	return errs
}

// checkDebug1 verifies the goroutine counts in a debug=1 dump.
func checkDebug1(s string, kinds []Kind) []string {
	var errs []string
	recs := strings.Split(s, "\n\n")
	for _, k := range kinds {
		n := 0
		fn := k.Func
		if k.FuncDebug1 != "" {
			fn = k.FuncDebug1
		}
		for _, r := range recs {
			if !strings.Contains(r, "\t"+fn+"+0x") {
				continue
			}
			for _, l := range strings.Split(r, "\n") {
				if f := strings.Fields(l); len(f) > 2 && f[1] == "@" {
					c, _ := strconv.Atoi(f[0])
					n += c
				}
			}
			if len(k.Labels) > 0 && !strings.Contains(r, "# labels: {") {
				errs = append(errs, fmt.Sprintf("%s: debug1 record without labels", k.Name))
			}
		}
		if n != k.Count {
			errs = append(errs, fmt.Sprintf("%s: debug1 count %d, want %d", k.Name, n, k.Count))
		}
	}
	return errs
}
