#!/usr/bin/env bash
# Regenerates the whole stackparse goroutine-dump corpus (../corpus) by
# really running gendump under several Go toolchains. Takes about
# WAIT + 30 s (all runs happen in parallel). Usage:
#
#   stackparse/testdata/gendump/regen.sh          # WAIT=65s (headers show ", 1 minutes")
#   WAIT=3s stackparse/testdata/gendump/regen.sh  # quick smoke run (no minutes)
#
# Needs the toolchains below to be downloadable through GOTOOLCHAIN.
set -euo pipefail
cd "$(dirname "$0")"
WAIT=${WAIT:-65s}
WAIT_S=${WAIT%s}
CORPUS=$(cd .. && pwd)/corpus
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
unset GODEBUG GOTRACEBACK GOEXPERIMENT GOFLAGS GOMAXPROCS
export GOTOOLCHAIN

VERSIONS="go1.21.13 go1.22.12 go1.26.8 go1.27.0"
for v in $VERSIONS; do
  GOTOOLCHAIN=$v go vet .
  GOTOOLCHAIN=$v go build -o "$BIN/gendump-$v" .
done
# Go 1.26: the goroutine leak profile is an experiment.
GOTOOLCHAIN=go1.26.8 GOEXPERIMENT=goroutineleakprofile go build -o "$BIN/gendump-go1.26.8-leak" .
# Go 1.27 prints pprof labels in tracebacks by default only for main
# modules that say "go 1.27" (GODEBUG tracebacklabels changed in 1.27).
GOTOOLCHAIN=go1.27.0 go build -modfile=go127.mod -o "$BIN/gendump-go1.27.0-go127mod" .

rm -rf "$CORPUS"
mkdir -p "$CORPUS"
pids=()
run() { # run <version> <variant> <binary-suffix> [ENV=VAL...]
  local v=$1 variant=$2 suffix=$3; shift 3
  local out="$CORPUS/$v/$variant"
  mkdir -p "$out"
  env "$@" "$BIN/gendump-$v$suffix" -out "$out" -variant "$variant" -wait "$WAIT" 2>>"$BIN/selfcheck.log" &
  pids+=($!)
}
run go1.21.13 default   ""
run go1.21.13 ancestors ""          GODEBUG=tracebackancestors=5
run go1.22.12 default   ""
run go1.22.12 system    ""          GOTRACEBACK=system
run go1.26.8  default   ""
run go1.26.8  labels    ""          GODEBUG=tracebacklabels=1
run go1.26.8  ancestors ""          GODEBUG=tracebackancestors=5
run go1.26.8  system    ""          GOTRACEBACK=system
run go1.26.8  leak      "-leak"     GOEXPERIMENT=goroutineleakprofile
run go1.27.0  default   ""
run go1.27.0  labels    "-go127mod" GENDUMP_DEFAULT_LABELS=1
run go1.27.0  system    ""          GOTRACEBACK=system

# go test -timeout panic (Go 1.26).
mkdir -p "$CORPUS/go1.26.8/testtimeout"
( GOTOOLCHAIN=go1.26.8 GENDUMP_TIMEOUT_OUT="$CORPUS/go1.26.8/testtimeout" GENDUMP_WAIT="$WAIT" \
    go test -count=1 -run '^TestTimeoutDump$' -timeout "$((WAIT_S + 5))s" . \
    >"$CORPUS/go1.26.8/testtimeout/testtimeout.txt" 2>&1 || true ) &
pids+=($!)

# Real interleaving: a panicking child and a logger process share one pipe.
mkdir -p "$CORPUS/embedded"
"$BIN/gendump-go1.26.8" -mode twoproc -wait 2s -out "$CORPUS/embedded" &
pids+=($!)

# synctest bubbles (Go 1.25+).
for v in go1.26.8 go1.27.0; do
  GOTOOLCHAIN=$v GENDUMP_SYNCTEST_OUT="$CORPUS/$v/synctest" go test -count=1 -run '^TestSynctestDump$' . >/dev/null
done

for p in "${pids[@]}"; do wait "$p"; done

"$BIN/gendump-go1.26.8" -mode checkfile -in "$CORPUS/go1.26.8/testtimeout/testtimeout.txt" 2>>"$BIN/selfcheck.log"

# Log-embedded variants of one real Go 1.26 dump (see README.md).
"$BIN/gendump-go1.26.8" -mode logger -dur 20ms 2>"$CORPUS/embedded/applog.txt"
"$BIN/gendump-go1.26.8" -mode embed -in "$CORPUS/go1.26.8/default/panic.txt" \
  -log "$CORPUS/embedded/applog.txt" -out "$CORPUS/embedded"

if [ -s "$BIN/selfcheck.log" ]; then
  echo "self-check mismatches (also recorded in the manifests):" >&2
  cat "$BIN/selfcheck.log" >&2
fi
du -sh "$CORPUS"
