// Package examples holds no code: each example is a module of its own.
// This test keeps the READMEs of the examples in step with their code.
package examples

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// examples are the example directories, in the index's order.
var examples = []string{"leakyconsumer", "reconnect", "testing", "service"}

// TestIndex checks that every example module is listed in README.md and
// has a README of its own.
func TestIndex(t *testing.T) {
	index := read(t, "README.md")
	mods, err := filepath.Glob("*/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != len(examples) {
		t.Errorf("example modules %v, want one per example %v", mods, examples)
	}
	for _, ex := range examples {
		if _, err := os.Stat(filepath.Join(ex, "go.mod")); err != nil {
			t.Errorf("%s: %v", ex, err)
		}
		if _, err := os.Stat(filepath.Join(ex, "README.md")); err != nil {
			t.Errorf("%s: %v", ex, err)
		}
		if !strings.Contains(index, "["+ex+"]("+ex+")") {
			t.Errorf("README.md does not list %s", ex)
		}
	}
}

// TestVersions checks that each README states the amqp091-go version its
// go.mod requires, and so does the index's row.
func TestVersions(t *testing.T) {
	index := read(t, "README.md")
	re := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/rabbitmq/amqp091-go (v\S+)`)
	for _, ex := range examples {
		m := re.FindStringSubmatch(read(t, filepath.Join(ex, "go.mod")))
		if m == nil {
			t.Errorf("%s/go.mod requires no amqp091-go", ex)
			continue
		}
		if !strings.Contains(read(t, filepath.Join(ex, "README.md")), m[1]) {
			t.Errorf("%s/README.md does not mention %s, the amqp091-go version of its go.mod", ex, m[1])
		}
		for _, line := range strings.Split(index, "\n") {
			if strings.Contains(line, "["+ex+"]("+ex+")") && strings.HasPrefix(line, "|") && !strings.Contains(line, m[1]) {
				t.Errorf("README.md's row for %s does not say %s", ex, m[1])
			}
		}
	}
}

// TestCommands checks the shell commands of every README: the flags given
// to `go run .` exist, the paths given to go run and go test exist, the
// tests named by -run exist, and the environment variables set are read.
func TestCommands(t *testing.T) {
	checked := 0
	for _, readme := range readmes() {
		for _, b := range fenced(t, readme) {
			if b.lang != "sh" {
				continue
			}
			for i, line := range strings.Split(b.text, "\n") {
				dir := filepath.Dir(readme)
				if m := regexp.MustCompile(`\bcd (\w+)`).FindStringSubmatch(line); m != nil {
					dir = m[1]
				}
				where := readme + ":" + itoa(b.line+i+1)
				for _, cmd := range regexp.MustCompile(`&&|;|\|`).Split(line, -1) {
					checked += checkCommand(t, where, dir, strings.Fields(strings.Trim(strings.TrimSpace(cmd), "()")))
				}
			}
		}
	}
	if checked == 0 {
		t.Error("no go run or go test command found in the READMEs")
	}
}

// TestFlagsInProse checks that `-flag` and `-flag=value` spans in an
// example's README name flags of that example.
func TestFlagsInProse(t *testing.T) {
	span := regexp.MustCompile("`(-[^`]+)`")
	for _, ex := range examples {
		readme := filepath.Join(ex, "README.md")
		flags := flagsOf(t, ex)
		if len(flags) == 0 {
			continue // testing: no program, no flags
		}
		for _, m := range span.FindAllStringSubmatch(read(t, readme), -1) {
			for _, tok := range strings.Fields(m[1]) {
				if !strings.HasPrefix(tok, "-") {
					continue
				}
				if name := flagName(tok); !flags[name] {
					t.Errorf("%s mentions `%s`: %s has no flag -%s", readme, m[1], ex, name)
				}
			}
		}
	}
}

// TestGoSnippets checks that every Go block of an example's README appears
// in that example's sources, line for line (indentation and runs of
// spaces aside): snippets are excerpts, never paraphrases.
func TestGoSnippets(t *testing.T) {
	for _, ex := range examples {
		src := normalize(sources(t, ex))
		for _, b := range fenced(t, filepath.Join(ex, "README.md")) {
			if b.lang == "go" && !strings.Contains(src, normalize(b.text)) {
				t.Errorf("%s/README.md:%d: this Go block is not in the sources of %s:\n%s", ex, b.line, ex, b.text)
			}
		}
	}
}

// checkCommand checks one command and reports whether it was a go command.
func checkCommand(t *testing.T, where, dir string, f []string) int {
	t.Helper()
	for len(f) > 0 && regexp.MustCompile(`^[A-Z_]+=`).MatchString(f[0]) {
		env, _, _ := strings.Cut(f[0], "=")
		if env != "AMQP_URL" && env != "CI" && !strings.Contains(sources(t, dir), `"`+env+`"`) {
			t.Errorf("%s: sets %s, which %s never reads", where, env, dir)
		}
		f = f[1:]
	}
	if len(f) < 3 || f[0] != "go" || (f[1] != "run" && f[1] != "test") {
		return 0
	}
	args := f[2:]
	switch f[1] {
	case "run":
		target := args[0]
		switch {
		case target == ".":
			flags := flagsOf(t, dir)
			for _, a := range args[1:] {
				if strings.HasPrefix(a, "-") && !flags[flagName(a)] {
					t.Errorf("%s: go run . %s: %s has no flag -%s", where, a, dir, flagName(a))
				}
			}
		case strings.HasPrefix(target, "github.com/amqpleaks/amqpleaks/"):
			exists(t, where, filepath.Join("..", strings.TrimPrefix(target, "github.com/amqpleaks/amqpleaks/")))
		default:
			exists(t, where, filepath.Join(dir, target))
		}
	case "test":
		for i := 0; i < len(args); i++ {
			a := args[i]
			switch {
			case a == "-run" && i+1 < len(args):
				i++
				for _, name := range strings.Split(strings.Trim(args[i], `'"^$`), "|") {
					if !strings.Contains(sources(t, dir), "func "+name+"(") {
						t.Errorf("%s: -run %s: no test %s in %s", where, args[i], name, dir)
					}
				}
			case strings.HasPrefix(a, "./") && a != "./...":
				exists(t, where, filepath.Join(dir, a))
			}
		}
	}
	return 1
}

type block struct {
	lang, text string
	line       int // of the opening fence
}

// fenced returns the fenced code blocks of a Markdown file.
func fenced(t *testing.T, file string) []block {
	var (
		out []block
		cur *block
		buf []string
	)
	sc := bufio.NewScanner(strings.NewReader(read(t, file)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			if cur == nil {
				cur = &block{lang: strings.TrimPrefix(line, "```"), line: n}
				buf = buf[:0]
			} else {
				cur.text = strings.Join(buf, "\n")
				out = append(out, *cur)
				cur = nil
			}
			continue
		}
		if cur != nil {
			buf = append(buf, line)
		}
	}
	return out
}

// flagsOf returns the flags the Go files of dir define.
func flagsOf(t *testing.T, dir string) map[string]bool {
	re := regexp.MustCompile(`\.(?:String|Bool|Duration|Int|Int64|Uint|Float64)(?:Var)?\((?:&[\w.]+,\s*)?"([\w-]+)"`)
	flags := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(sources(t, dir), -1) {
		flags[m[1]] = true
	}
	return flags
}

func flagName(arg string) string {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return name
}

var srcCache = map[string]string{}

// sources returns the Go files under dir, concatenated.
func sources(t *testing.T, dir string) string {
	if s, ok := srcCache[dir]; ok {
		return s
	}
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") {
			b.WriteString(read(t, path))
			b.WriteString("\n")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srcCache[dir] = b.String()
	return b.String()
}

// normalize trims every line, collapses runs of blanks and drops empty
// lines.
func normalize(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func readmes() []string {
	out := []string{"README.md"}
	for _, ex := range examples {
		out = append(out, filepath.Join(ex, "README.md"))
	}
	return out
}

func exists(t *testing.T, where, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("%s: %v", where, err)
	}
}

func read(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }
