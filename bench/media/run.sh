#!/usr/bin/env bash
# bench/media/run.sh [BUILD_DIR] [--json] - the media plane's benchmark:
# one shoald node on CPU 0, bench/media's load client (mediabench) on CPU 1;
# SENDERS channels, each with one sender and RECEIVERS receivers, all over
# ICE-lite/DTLS-SRTP. Two phases: the client sends as fast as it can
# ("full"), then at half the forwarding load reached ("half", where the
# latency target is read: paced in HALF_SLICES slices against the limit
# read before each; the steady p99 is over the slices whose limit held).
# libsrtp2's own protect rate is measured in the same run, on the server's
# core (CPU 0) between slices of the full phase while the server idles,
# and every row prints the ratio. Only processes
# and namespaces made here are removed, processes by their ids.
#
# Both run on 127.0.0.1, no root. On loopback the receivers' kernel receive
# path runs on the sending CPU, so the server's CPU figure includes work
# that on a network is the receivers' machines' (a conservative figure;
# receivers read with UDP_GRO, so at least GSO messages are not cut apart
# again on the server's CPU). Two network namespaces with receive steering
# (RPS) to each side's CPU were tried: on this VM the inter-processor
# interrupts cost the sender more than the receive work they moved.
# Environment: SENDERS (4), RECEIVERS (8), SECONDS_PER_PHASE (5), PAYLOAD
# (1000), RATE (packets/s per sender: one fixed-rate phase instead), GRO
# (1: receivers read with UDP_GRO; 0: without), RX_WAKE (0: paced, the
# client reads its receivers when it wakes to send; 1: their datagrams wake
# it, which on loopback the server's CPU pays for), SLICES (20: slices of the
# full phase, SECONDS_PER_PHASE in all), HALF_SLICES (5: of the half phase).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}; [ "${1:-}" = "--json" ] && BUILD=$ROOT/build
JSON=""; for a in "$@"; do [ "$a" = "--json" ] && JSON=--json; done
BENCH=$BUILD/bench/media/mediabench
SHOALD=$BUILD/node/shoald; SHOALCTL=$BUILD/node/shoalctl
[ -x "$BENCH" ] && [ -x "$SHOALD" ] || { echo "build first: scripts/build.sh build" >&2; exit 1; }
WORK=$(mktemp -d /tmp/shoal-mediabench.XXXXXX)
PORT_BASE=47510; SIGPORT=$((PORT_BASE + 5)); APIPORT=$((PORT_BASE + 2))
SERVER=""
cleanup() {
    set +e
    [ -n "$SERVER" ] && kill -9 "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

HOST_S=127.0.0.1

url="ws://$HOST_S:$SIGPORT/signaling"
mkdir -p "$WORK/n1"
cat > "$WORK/n1/shoal.conf" <<EOF
cluster_name = mediabench
node_name = node1@$HOST_S
contact_node_name_list = node1@$HOST_S
cluster_port = $PORT_BASE
api_port = $APIPORT
media_port = $((PORT_BASE + 8))
signaling_port = $SIGPORT
public_signaling_url = $url
data_dir = $WORK/n1/data
log_dir = $WORK/n1/log
EOF
taskset -c 0 "$SHOALD" -c "$WORK/n1/shoal.conf" >> "$WORK/n1/stderr.log" 2>&1 &
SERVER=$!
ok() { "$SHOALCTL" --api "http://$HOST_S:$APIPORT" ok >/dev/null 2>&1; }
for _ in $(seq 1 100); do ok && break; sleep 0.2; done
ok || { echo "the node does not serve" >&2; cat "$WORK/n1/stderr.log" >&2; exit 1; }
[ -n "$JSON" ] || echo "# $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%dT%H:%MZ)"
taskset -c 1 "$BENCH" --url "$url" --server-pid "$SERVER" --senders "${SENDERS:-4}" \
    --receivers "${RECEIVERS:-8}" --seconds "${SECONDS_PER_PHASE:-5}" --payload "${PAYLOAD:-1000}" \
    --gro "${GRO:-1}" --rx-wake "${RX_WAKE:-0}" --slices "${SLICES:-20}" --half-slices "${HALF_SLICES:-5}" --limit-cpu 0 ${RATE:+--rate "$RATE"} $JSON
# how many datagrams each of the server's sendmmsg messages carried (UDP GSO)
metrics=$(curl -s "http://$HOST_S:$APIPORT/metrics" || true)
out=$(echo "$metrics" | awk '/^shoal_media_packets_out_total/ {s += $2} END {print s + 0}')
msgs=$(echo "$metrics" | awk '/^shoal_media_send_messages_total/ {print $2}')
if [ -z "$JSON" ] && [ -n "$msgs" ] && [ "$msgs" -gt 0 ]; then
    echo "# server: $out datagrams out in $msgs messages ($(awk -v a="$out" -v b="$msgs" 'BEGIN {printf "%.1f", a / b}') per message)"
fi
