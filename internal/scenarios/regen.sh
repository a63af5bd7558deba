#!/usr/bin/env bash
# regen.sh — regenerate every goroutine-dump fixture under
# detect/testdata/scenarios/ by running the scenario programs of this directory
# against a real RabbitMQ broker.
#
#   internal/scenarios/regen.sh                 # everything (about 5 minutes)
#   internal/scenarios/regen.sh healthy haystack  # only these scenarios
#
# Environment:
#   AMQP_URL    broker URL (default amqp://guest:guest@127.0.0.1:5672/)
#   TOOLCHAINS  Go toolchains to build with, GOTOOLCHAIN values
#               (default "go1.26.8 go1.27.0"; "local" = the installed go)
#   LIBS        library builds (default "amqp091-v1.10.0 amqp091-latest streadway-v1.1.0")
#   HOLD        how long io-wait-no-heartbeat, rpc-dead-conn and consumer-unread keep the parked
#               state before dumping, so the runtime prints "N minutes" (default 65s;
#               0 to skip)
#   OUT         fixture root (default <repo>/detect/testdata/scenarios)
#
# Requirements: RabbitMQ reachable at AMQP_URL and `rabbitmqctl` on PATH (the
# memory-alarm scenarios set vm_memory_high_watermark and restore the previous
# value before exiting, also on error or SIGINT/SIGTERM). Start the broker with
# `rabbitmq-server -detached` if needed. Only loopback traffic is used.
#
# Fixtures land in $OUT/<library>-<version>/go<major.minor>/<scenario>/ with
# debug2.txt, debug1.txt, profile.pb.gz (debug2.txt.gz when > 5 MB) and
# meta.json. Each scenario directory is removed before its scenario runs.
# Scenarios run one at a time (the broker memory alarm is broker-wide), except
# the HOLD scenarios, which are started first in the background and only
# black-hole their own proxied connection.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$REPO/detect/testdata/scenarios}
AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
TOOLCHAINS=${TOOLCHAINS:-"go1.26.8 go1.27.0"}
LIBS=${LIBS:-"amqp091-v1.10.0 amqp091-latest streadway-v1.1.0"}
HOLD=${HOLD:-65s}
HOLD_SCENARIOS="io-wait-no-heartbeat rpc-dead-conn consumer-unread"
ONLY=("$@")
BIN=$(mktemp -d)
LOGS=$BIN/logs
mkdir -p "$LOGS"
trap 'rm -rf "$BIN"' EXIT

build_flags() {
	case $1 in
	amqp091-v1.10.0) echo "-modfile=go.v1.10.0.mod -tags amqp091old" ;;
	amqp091-latest) echo "" ;;
	streadway-v1.1.0) echo "-tags streadway" ;;
	*) echo "unknown library build $1" >&2; exit 2 ;;
	esac
}

wanted() {
	[ ${#ONLY[@]} -eq 0 ] && return 0
	local s
	for s in "${ONLY[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}

is_hold() { case " $HOLD_SCENARIOS " in *" $1 "*) [ "$HOLD" != 0 ] ;; *) return 1 ;; esac; }

rabbitmqctl --quiet eval 'ok.' >/dev/null || { echo "RabbitMQ is not running (rabbitmq-server -detached)" >&2; exit 1; }

# Build one binary per library x toolchain.
BUILDS=()
cd "$HERE"
for tc in $TOOLCHAINS; do
	for lib in $LIBS; do
		b="$BIN/$lib-$tc"
		# shellcheck disable=SC2046
		GOTOOLCHAIN=$tc go build -o "$b" $(build_flags "$lib") .
		BUILDS+=("$b")
		echo "built $("$b" -layout) ($lib, $tc)"
	done
done

FAILED=()
run() { # binary scenario [extra flags...]
	local b=$1 sc=$2; shift 2
	local dir="$OUT/$("$b" -layout)/$sc"
	rm -rf "$dir"
	if timeout 300 "$b" -scenario "$sc" -out "$dir" -url "$AMQP_URL" "$@" >"$LOGS/$(basename "$b")-$sc.log" 2>&1; then
		tail -n 1 "$LOGS/$(basename "$b")-$sc.log"
	else
		echo "FAILED: $(basename "$b") $sc (log follows)"
		tail -n 30 "$LOGS/$(basename "$b")-$sc.log"
		FAILED+=("$(basename "$b") $sc")
		return 1
	fi
}

# 1. Hold scenarios in the background: wait until each has black-holed its
#    connection before starting anything that raises the memory alarm.
PIDS=()
for b in "${BUILDS[@]}"; do
	for sc in $HOLD_SCENARIOS; do
		if wanted "$sc" && is_hold "$sc"; then
			( run "$b" "$sc" -hold "$HOLD" ) &
			PIDS+=($!)
			for _ in $(seq 1 300); do
				grep -q "BlackHole()" "$LOGS/$(basename "$b")-$sc.log" 2>/dev/null && break
				sleep 0.1
			done
		fi
	done
done

# 2. Everything else, one at a time.
for b in "${BUILDS[@]}"; do
	for sc in $("$b" -list | awk '{print $1}'); do
		wanted "$sc" || continue
		is_hold "$sc" && continue
		run "$b" "$sc" || true
	done
done

for p in "${PIDS[@]}"; do wait "$p" || FAILED+=("a hold scenario (see FAILED above)"); done

# 3. publish-blocked once more, held past a minute so the publishers show wait
#    minutes (the rule's critical case): first build only, and last, because
#    the memory alarm it raises is broker-wide.
if wanted publish-blocked-held && [ "$HOLD" != 0 ]; then
	b="${BUILDS[0]}"
	dir="$OUT/$("$b" -layout)/publish-blocked-held"
	log="$LOGS/$(basename "$b")-publish-blocked-held.log"
	rm -rf "$dir"
	if timeout 300 "$b" -scenario publish-blocked -out "$dir" -url "$AMQP_URL" -hold "$HOLD" >"$log" 2>&1; then
		tail -n 1 "$log"
	else
		echo "FAILED: $(basename "$b") publish-blocked-held"; tail -n 30 "$log"
		FAILED+=("$(basename "$b") publish-blocked-held")
	fi
fi

"${BUILDS[0]}" -readme "$OUT"
echo "watermark now: $(rabbitmqctl --quiet eval 'vm_memory_monitor:get_vm_memory_high_watermark().')"
if [ ${#FAILED[@]} -ne 0 ]; then
	printf 'failed: %s\n' "${FAILED[@]}"
	exit 1
fi
echo "fixtures in $OUT"
