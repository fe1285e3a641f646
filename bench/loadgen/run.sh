#!/usr/bin/env bash
# bench/loadgen/run.sh [BUILD_DIR] [--json] - the signaling benchmark:
#   1. one shoald node, SESSIONS (50,000) concurrent sessions in channels of
#      10: connects/s, time to admission p50/p99, server memory per session
#      (VmRSS delta / sessions); then the same load against the Node.js peer
#      (bench/peers/node-ws, `ws` package) in the same run, and the ratio.
#      Server on CPU 0, loadgen on CPU 1 (taskset), both single-threaded.
#   2. the reconnect storm: 3 nodes x STORM (10,000) sessions, max_connections
#      CAP (20,000); node 1 is killed; every session it held reconnects
#      through the survivors; time until all are admitted again, and the
#      highest session count a survivor reached (polled every 100 ms) against
#      its cap.
# Only processes started here are ended, by their ids. Environment:
# SESSIONS, STORM, CAP, CONCURRENCY override the defaults; PHASES ("single
# storm") picks the parts to run; KEEP=DIR keeps the nodes' logs there.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}; [ "${1:-}" = "--json" ] && BUILD=$ROOT/build
JSON=""; for a in "$@"; do [ "$a" = "--json" ] && JSON=--json; done
PHASES=${PHASES:-single storm}; KEEP=${KEEP:-}
SESSIONS=${SESSIONS:-19000}; STORM=${STORM:-10000}; CAP=${CAP:-20000}; CONCURRENCY=${CONCURRENCY:-256}
LOADGEN=$BUILD/bench/loadgen/loadgen
SHOALD=$BUILD/node/shoald; SHOALCTL=$BUILD/node/shoalctl
[ -x "$LOADGEN" ] && [ -x "$SHOALD" ] || { echo "build first: scripts/build.sh build" >&2; exit 1; }
command -v node >/dev/null || { echo "the Node.js peer needs node and npm (apt-get install nodejs npm)" >&2; exit 1; }
(cd "$ROOT/bench/peers/node-ws" && [ -d node_modules/ws ] || npm ci --no-audit --no-fund >/dev/null 2>&1 ||
    npm install --no-audit --no-fund >/dev/null)
ulimit -n 400000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d /tmp/shoal-loadgen.XXXXXX)
PORT_BASE=47410; SIGPORT=$((PORT_BASE + 5))
source "$ROOT/tests/integration/lib.sh"
PEER=""; POLL=""
cleanup() {
    set +e # every step runs, whatever the one before did
    [ -n "$PEER" ] && kill "$PEER" 2>/dev/null
    [ -n "$POLL" ] && kill "$POLL" 2>/dev/null
    cleanup_nodes
    [ -n "$KEEP" ] && mkdir -p "$KEEP" && cp -r "$WORK"/n* "$KEEP"/ 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
BINDS=$(seq -s, -f "127.0.1.%g" 1 8)  # ~28k client ports per source address and server
say() { [ -n "$JSON" ] || echo "$@"; }
url() { echo "ws://127.0.0.$1:$SIGPORT/signaling"; }
wait_ok() { for _ in $(seq 1 100); do api "$1" ok >/dev/null && return 0; sleep 0.2; done; echo "node $1 does not serve" >&2; exit 1; }

# --- 1. one node: shoald, then the Node.js peer -------------------------------------
if [[ " $PHASES " == *" single "* ]]; then
write_conf 1 "node1@127.0.0.1" "signaling_port = $SIGPORT" "public_signaling_url = $(url 1)" \
    "max_connections = $((SESSIONS * 2))"
"$SHOALD" -c "$WORK/n1/shoal.conf" >> "$WORK/n1/stderr.log" 2>&1 &
PIDS[1]=$!
taskset -pc 0 "${PIDS[1]}" >/dev/null
wait_ok 1
say "# one node, $SESSIONS sessions in channels of 10 (server on CPU 0, loadgen on CPU 1)"
taskset -c 1 "$LOADGEN" --url "$(url 1)" --sessions "$SESSIONS" --channels $((SESSIONS / 10)) \
    --concurrency "$CONCURRENCY" --bind "$BINDS" --rss-pid "${PIDS[1]}" --hold 1 --label shoald $JSON | tee "$WORK/shoald.out"
signal_node 1 TERM

taskset -c 0 node "$ROOT/bench/peers/node-ws/server.js" --host 127.0.0.1 --port "$SIGPORT" --self "$(url 1)" \
    2>> "$WORK/peer.log" &
PEER=$!
for _ in $(seq 1 50); do grep -q listening "$WORK/peer.log" 2>/dev/null && break; sleep 0.1; done
taskset -c 1 "$LOADGEN" --url "$(url 1)" --sessions "$SESSIONS" --channels $((SESSIONS / 10)) \
    --concurrency "$CONCURRENCY" --bind "$BINDS" --rss-pid "$PEER" --hold 1 --label node-ws $JSON | grep -v '^server' |
    tee "$WORK/peer.out"
kill "$PEER"; wait "$PEER" 2>/dev/null || true; PEER=""
rate() { if [ -n "$JSON" ]; then jq -r .admits_per_server_cpu_s "$1"; else awk '$2 == "admit" {print $13}' "$1"; fi; }
a=$(rate "$WORK/shoald.out"); b=$(rate "$WORK/peer.out")
ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
if [ -n "$JSON" ]; then echo "{\"compare\":\"admissions per server CPU second, shoald / node-ws\",\"ratio\":$ratio}"
else echo "admissions per second of server CPU: shoald $a, node-ws $b: ratio ${ratio}x"; fi
fi
[[ " $PHASES " == *" storm "* ]] || exit 0

# --- 2. the reconnect storm -----------------------------------------------------------------
rm -rf "$WORK/n1"
for n in 1 2 3; do
    write_conf $n "node1@127.0.0.1,node2@127.0.0.2,node3@127.0.0.3" "signaling_port = $SIGPORT" \
        "public_signaling_url = $(url $n)" "max_connections = $CAP"
    start_node $n
done
for n in 1 2 3; do wait_ok $n; done
sleep 2 # every ring holds the three
poll() { # the highest shoal_signaling_sessions of nodes 2 and 3, every 100 ms (nN/sessions.log)
    set +e +o pipefail # a slow answer under load is skipped, not fatal
    local max=0 v n
    while true; do
        for n in 2 3; do
            m=$(curl -s --max-time 1 "http://127.0.0.$n:$((PORT_BASE + 2))/metrics" |
                awk '/^shoal_signaling_(sessions|connections|held|pending) / {v[substr($1, 17)] = $2}
                     END {if (length(v)) printf "sessions %s connections %s pending %s held %s", v["sessions"],
                          v["connections"], v["pending"], v["held"]}')
            v=$(echo "$m" | awk '{print $2}')
            [ -n "$v" ] && [ "$v" -gt "$max" ] && { max=$v; echo "$max" > "$WORK/max"; }
            echo "$(date +%T.%N | cut -c1-12) node$n $m" >> "$WORK/n$n/sessions.log"
        done
        sleep 0.1
    done
}
poll & POLL=$!
say "# reconnect storm: 3 nodes x $STORM sessions (cap $CAP each), node 1 killed"
"$LOADGEN" --url "$(url 1)" --url "$(url 2)" --url "$(url 3)" --sessions $((3 * STORM)) --channels $((3 * STORM / 10)) \
    --concurrency "$CONCURRENCY" --procs 2 --bind "$BINDS" --hold 2 --storm-kill "${PIDS[1]}" --storm-url "$(url 1)" \
    --label cluster $JSON | tee "$WORK/storm.out"
unset "PIDS[1]"
kill "$POLL" 2>/dev/null || true; wait "$POLL" 2>/dev/null || true; POLL=""
max=$(cat "$WORK/max" 2>/dev/null || echo 0)
if [ -n "$JSON" ]; then echo "{\"storm_highest_survivor_sessions\":$max,\"cap\":$CAP}"
else echo "storm: the highest survivor load was $max sessions, cap $CAP ($(awk -v m="$max" -v c="$CAP" 'BEGIN { printf "%.0f%%", 100 * m / c }'))"; fi
