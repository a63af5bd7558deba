package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinary builds the command with go build and runs it as a user would:
// bad inputs, stdin, -version.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "stackscan")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	exe := func(stdin []byte, args ...string) (stdout, stderr string, status int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "NO_COLOR=")
		cmd.Stdin = bytes.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
	}

	t.Run("bad inputs", func(t *testing.T) {
		write := func(name string, b []byte) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		dump, err := os.ReadFile(dumps + "chan-notifyclose-unread.debug2.txt")
		if err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(dump)
		zw.Close()
		binary := make([]byte, 4096)
		for i := range binary {
			binary[i] = byte(i*7 + i/13)
		}
		// A 100 MB line: streamed to the file, not held in memory.
		long := filepath.Join(dir, "one-line.txt")
		f, err := os.Create(long)
		if err != nil {
			t.Fatal(err)
		}
		chunk := bytes.Repeat([]byte("0x"), 1<<19)
		for i := 0; i < 100; i++ {
			f.Write(chunk)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(dir, "a-directory"), 0o755); err != nil {
			t.Fatal(err)
		}
		inputs := map[string]string{
			"empty file":     write("empty.txt", nil),
			"binary file":    write("binary.dat", binary),
			"truncated gzip": write("cut.txt.gz", gz.Bytes()[:gz.Len()/2]),
			"100 MB line":    long,
			"directory":      filepath.Join(dir, "a-directory"),
			"missing file":   filepath.Join(dir, "no-such-file.txt"),
		}
		for what, path := range inputs {
			_, errOut, status := exe(nil, path)
			if status != 2 {
				t.Errorf("%s: status %d, want 2", what, status)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "stackscan: "+path) {
				t.Errorf("%s: stderr %q, want one line naming %s", what, errOut, path)
			}
			if strings.Contains(errOut, "goroutine ") && strings.Contains(errOut, ".go:") {
				t.Errorf("%s: a Go stack trace on stderr", what)
			}
		}
	})

	t.Run("stdin", func(t *testing.T) {
		dump, err := os.ReadFile(dumps + "chan-notifyclose-unread.debug2.txt")
		if err != nil {
			t.Fatal(err)
		}
		out, errOut, status := exe(dump, "-")
		want, _, _ := stackscan(t, nil, dumps+"chan-notifyclose-unread.debug2.txt")
		want = strings.Replace(want, dumps+"chan-notifyclose-unread.debug2.txt", "stdin", 1)
		if status != 1 || errOut != "" || out != want {
			t.Errorf("status %d, stderr %q, output differs from the file's: %v", status, errOut, out != want)
		}
		if strings.Contains(out, "\x1b[") {
			t.Error("colour escapes written to a pipe")
		}
	})

	t.Run("version", func(t *testing.T) {
		out, _, status := exe(nil, "-version")
		if status != 0 || !strings.HasPrefix(out, "stackscan ") ||
			!strings.Contains(out, "module github.com/amqpleaks/amqpleaks") || !strings.Contains(out, "\ngo go1.") {
			t.Errorf("status %d, output:\n%s", status, out)
		}
	})

	t.Run("usage", func(t *testing.T) {
		_, errOut, status := exe(nil)
		if status != 2 || !strings.Contains(errOut, "no input") {
			t.Errorf("status %d, stderr %q", status, errOut)
		}
	})
}
