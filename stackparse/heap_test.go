package stackparse_test

import (
	"io"
	"runtime/pprof"
)

func writeHeap(w io.Writer) error { return pprof.Lookup("heap").WriteTo(w, 0) }
