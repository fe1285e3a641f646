#!/usr/bin/env bash
# bench/media/run.sh [BUILD_DIR] [--json] - the media plane's benchmark:
# one shoald node on CPU 0, bench/media's load client (mediabench) on CPU 1;
# SENDERS channels, each with one sender and RECEIVERS receivers, all over
# ICE-lite/DTLS-SRTP on loopback. Two phases: the client sends as fast as it
# can ("full"), then at half the forwarding rate reached ("half", where the
# latency target is read). libsrtp2's own protect rate is measured in the
# same run and every row prints the ratio. Only processes started here are
# ended, by their ids. Environment: SENDERS (4), RECEIVERS (8), SECONDS (5),
# PAYLOAD (1000).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}; [ "${1:-}" = "--json" ] && BUILD=$ROOT/build
JSON=""; for a in "$@"; do [ "$a" = "--json" ] && JSON=--json; done
BENCH=$BUILD/bench/media/mediabench
SHOALD=$BUILD/node/shoald; SHOALCTL=$BUILD/node/shoalctl
[ -x "$BENCH" ] && [ -x "$SHOALD" ] || { echo "build first: scripts/build.sh build" >&2; exit 1; }
WORK=$(mktemp -d /tmp/shoal-mediabench.XXXXXX)
PORT_BASE=47510; SIGPORT=$((PORT_BASE + 5))
source "$ROOT/tests/integration/lib.sh"
cleanup() { set +e; cleanup_nodes; rm -rf "$WORK"; }
trap cleanup EXIT
url="ws://127.0.0.1:$SIGPORT/signaling"
write_conf 1 "node1@127.0.0.1" "signaling_port = $SIGPORT" "public_signaling_url = $url"
"$SHOALD" -c "$WORK/n1/shoal.conf" >> "$WORK/n1/stderr.log" 2>&1 &
PIDS[1]=$!
taskset -pc 0 "${PIDS[1]}" >/dev/null
for _ in $(seq 1 100); do api 1 ok >/dev/null && break; sleep 0.2; done
api 1 ok >/dev/null || { echo "the node does not serve" >&2; exit 1; }
[ -n "$JSON" ] || echo "# $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%dT%H:%MZ)"
taskset -c 1 "$BENCH" --url "$url" --server-pid "${PIDS[1]}" --senders "${SENDERS:-4}" \
    --receivers "${RECEIVERS:-8}" --seconds "${SECONDS_PER_PHASE:-5}" --payload "${PAYLOAD:-1000}" ${RATE:+--rate "$RATE"} $JSON
