package amqptrack

import (
	"bytes"
	"context"
	"html"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromium returns the path of Debian's chromium. Without it the test is
// skipped, except under CI=true, where .ci/run installs it and its absence
// fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "chromium not found (/usr/bin/chromium; install Debian's chromium package) — the browser check of /debug/amqpleaks does not run"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " [CI=true: a missing browser fails the test]")
	}
	t.Skip(msg)
	return ""
}

// runChromium runs headless chromium with args and returns its standard
// output. It runs in a process group of its own, killed on timeout, so
// no browser process outlives the test.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers left behind, if any
	}
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

var (
	tagRE   = regexp.MustCompile(`(?s)<style.*?</style>|<title.*?</title>|<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// visibleText is the text of a DOM without markup, as one line.
func visibleText(dom string) string {
	return strings.TrimSpace(spaceRE.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(dom, " ")), " "))
}

// checkInChromium loads the leaky service's page in headless chromium, as
// a person opening /debug/amqpleaks would, and checks what they see: the
// finding, its severity, the tracked connection's name, the link to the
// rule's explanation and, following it, the explanation; then a phone-sized
// screenshot with the red critical badge in the first screen.
func checkInChromium(t *testing.T, s *service) {
	bin := chromium(t)
	url := s.srv.URL + "/debug/amqpleaks"
	dom := string(runChromium(t, bin, "--dump-dom", url))
	text := visibleText(dom)
	for _, want := range []string{
		"amqpleaks — live AMQP leak check",
		"critical Channel shutdown blocked on an unread Channel.NotifyClose channel",
		"chan-notifyclose-unread: why it is a bug and how to fix it",
		`tracked as connection "main", channel "consume"`,
		"Fix: Read every Channel.NotifyClose channel until it is closed",
		"critical A tracked connection or channel began to shut down and never finished",
		"main/consume",
		"What this page costs",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page in chromium does not show %q; it shows:\n%.4000s", want, text)
		}
	}
	m := regexp.MustCompile(`<a class="rule" href="([^"]+)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no rule link in the DOM")
	}
	ruleURL := s.srv.URL + html.UnescapeString(m[1])
	ruleText := visibleText(string(runChromium(t, bin, "--dump-dom", ruleURL)))
	for _, want := range []string{"Why it is a bug", "The library sends the close error", "Fix", "← back to the findings"} {
		if !strings.Contains(ruleText, want) {
			t.Errorf("the rule page %s does not show %q; it shows:\n%.3000s", ruleURL, want, ruleText)
		}
	}

	// A phone: 390 CSS pixels wide. The first screen must show the red
	// badge of the critical finding.
	dir := t.TempDir()
	shot := filepath.Join(dir, "phone.png")
	runChromium(t, bin, "--window-size=390,844", "--hide-scrollbars", "--screenshot="+shot, url)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 390 {
		t.Errorf("screenshot is %v, want 390 px wide", b)
	}
	red := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, 0xc6) && near(g, 0x28) && near(bl, 0x28) {
				red++
			}
		}
	}
	if red < 100 {
		t.Errorf("the phone screenshot shows %d pixels of the critical badge's red; want the badge in the first screen", red)
	}
	if out := os.Getenv("AMQPLEAKS_SCREENSHOT"); out != "" {
		data, _ := os.ReadFile(shot)
		_ = os.WriteFile(out, data, 0o644)
	}
}

func near(c uint32, want uint32) bool {
	v := c >> 8
	return v+12 >= want && v <= want+12
}
