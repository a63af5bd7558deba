//go:build nostackparse

package parsers

import (
	"errors"
	"io"
)

// StackparseAvailable reports whether this build includes stackparse.
const StackparseAvailable = false

func parseStackparse(io.Reader, string) (Result, error) {
	return Result{}, errors.New("built with -tags nostackparse: stackparse left out")
}

func parseDetect(io.Reader, string) (Result, error) {
	return Result{}, errors.New("built with -tags nostackparse: detect left out")
}
