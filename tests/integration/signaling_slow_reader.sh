#!/usr/bin/env bash
# A client that stops reading (a hung tab, or an attack holding sockets)
# must not keep its socket and queue on the server forever. A session on a
# socket with a small receive window stops reading; other clients join and
# leave its channel until the server's socket buffer for it is full and 64
# messages wait: the session is closed (1008) and, since its close frame
# cannot be delivered either, the socket is cut within seconds — the
# node's open sockets fall back to zero while the client still holds its
# end. Until then the node serves others as usual.
set -euo pipefail
SHOALD=${SHOALD:?}; SHOALCTL=${SHOALCTL:?}
WORK=$(mktemp -d /tmp/shoal-slowtest.XXXXXX)
PORT_BASE=47280
SIGPORT=$((PORT_BASE + 5))
source "$(dirname "$0")/lib.sh"
trap cleanup_all EXIT

start_three
wait_for 20 "the 3 nodes serve" ok_on 1 2 3
wait_for 10 "every ring holds the 3 nodes" ring_full

/usr/bin/python3 "$(dirname "$0")/stalled_reader.py" "$(sig_url 1)" room-stalled 40000 60 \
    "http://127.0.0.1:$((PORT_BASE + 2))" > "$WORK/stalled.log" 2>&1 &
CLIENTS+=($!)
stalled() { grep -q '"stalled"' "$WORK/stalled.log"; }
wait_for 20 "a client joined room-stalled and stopped reading" stalled
O=$(jq -r 'select(.event == "stalled") | .url' "$WORK/stalled.log" | sed -E 's#ws://127\.0\.0\.([0-9]+):.*#\1#')
metric() { api "$1" metrics | awk -v m="$2" '$1 == m {print $2}'; }
churned() { grep -q '"churned"' "$WORK/stalled.log"; }
wait_for 150 "clients joined and left room-stalled on node $O until its session was closed" churned
jq -c 'select(.event == "churned")' "$WORK/stalled.log"
# each cycle sends the stalled client ~1 KB of notify: once the kernel's send
# buffer (tcp_wmem's maximum at most) is full, 64 more close the session at
# once, not at its next ping 30 s later (thousands of cycles more)
cycles=$(jq -r 'select(.event == "churned") | .cycles' "$WORK/stalled.log")
most=$(( 3 * $(awk '{print $3}' /proc/sys/net/ipv4/tcp_wmem) / 1000 ))
[ "$cycles" -le "$most" ] || fail "the session closed only after $cycles cycles (at most $most expected)"
echo "ok: the stalled session was closed after $cycles join/leave cycles (bound $most)"
kill -0 "${CLIENTS[0]}" 2>/dev/null || fail "the stalled client ended early: $(cat "$WORK/stalled.log")"
ON_FAIL='api "$O" metrics | grep -E "^shoal_signaling_(connections|sessions|closed|rejected)"; tail -3 "$WORK/n$O/log/"*.jsonl'
no_sockets() { [ "$(metric "$O" shoal_signaling_connections)" = 0 ]; }
wait_for 15 "node $O cut the stalled client's socket (open sockets 0) while the client still holds it" no_sockets
kill -0 "${CLIENTS[0]}" 2>/dev/null || fail "the stalled client ended before the check"
[ "$(metric "$O" shoal_signaling_sessions)" = 0 ] || fail "node $O still counts a session"
out=$(/usr/bin/python3 "$(dirname "$0")/wsclient.py" --hold 0.5 "$(sig_url "$O")" room-after-stall)
grep -q '"admitted"' <<< "$out" || fail "node $O does not admit after the stall: $out"
echo "ok: node $O admits new clients"
check_sanitizer_reports
echo "PASS"
