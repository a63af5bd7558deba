package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
)

// openInput opens a file, the standard input ("-") or a URL, and caps what
// may be read from it at cfg.maxBytes. Its errors name the input.
func openInput(cfg *config, name string, stdin io.Reader) (io.ReadCloser, error) {
	switch {
	case name == "-":
		return &capReader{r: stdin, left: cfg.maxBytes, limit: cfg.maxBytes}, nil
	case strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://"):
		return openURL(cfg, name)
	}
	fi, err := os.Stat(name)
	if err != nil {
		return nil, fileError(name, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, not a goroutine dump", name)
	}
	if fi.Mode().IsRegular() && fi.Size() > cfg.maxBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than -max-bytes %d", name, fi.Size(), cfg.maxBytes)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fileError(name, err)
	}
	return &capReader{r: f, c: f, left: cfg.maxBytes, limit: cfg.maxBytes}, nil
}

// fileError says what is wrong with a file without repeating the operation.
func fileError(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", name, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// openURL fetches a URL, within cfg.timeout for the whole transfer.
func openURL(cfg *config, url string) (io.ReadCloser, error) {
	client := &http.Client{Timeout: cfg.timeout}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	req.Header.Set("User-Agent", "stackscan")
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error already names the URL: Get "http://…": ….
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: HTTP %s", url, resp.Status)
	}
	if resp.ContentLength > cfg.maxBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %d bytes, more than -max-bytes %d", url, resp.ContentLength, cfg.maxBytes)
	}
	return &capReader{r: resp.Body, c: resp.Body, left: cfg.maxBytes, limit: cfg.maxBytes}, nil
}

// capReader fails when its source holds more than limit bytes.
type capReader struct {
	r           io.Reader
	c           io.Closer // nil for the standard input, which is not closed
	left, limit int64
}

// Read reads from the source, and fails once it has given limit bytes and
// the source has more.
func (c *capReader) Read(p []byte) (int, error) {
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		n = int(c.left)
		c.left = 0
		return n, fmt.Errorf("input is larger than -max-bytes %d", c.limit)
	}
	c.left -= int64(n)
	return n, err
}

// Close closes the source.
func (c *capReader) Close() error {
	if c.c == nil {
		return nil
	}
	return c.c.Close()
}
