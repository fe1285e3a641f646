#!/usr/bin/env bash
# TLS and a load balancer: three shoald processes with tls_cert_file and
# tls_key_file (a self-signed P-256 certificate made here) serve wss:// and
# HTTPS; HAProxy (conf/haproxy.cfg with test addresses) passes TLS through
# in TCP mode. Clients connecting to the load balancer are admitted, by the
# node they reached or, after a redirect, by the channel's node directly;
# plain ws:// is refused on a TLS node; a node that stops serving is taken
# out by HAProxy's /.ok check.
set -euo pipefail
SHOALD=${SHOALD:?}; SHOALCTL=${SHOALCTL:?}
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
WORK=$(mktemp -d /tmp/shoal-tlstest.XXXXXX)
PORT_BASE=47310
SIGPORT=$((PORT_BASE + 5)); APIPORT=$((PORT_BASE + 2)); LBPORT=$((PORT_BASE + 7))
WS="/usr/bin/python3 $(dirname "$0")/wsclient.py --insecure"
CONF="$(dirname "$0")/../../conf/haproxy.cfg"
source "$(dirname "$0")/lib.sh"
LB=""
cleanup() {
    set +e
    if [ -n "$LB" ]; then kill "$LB" 2>/dev/null; wait "$LB" 2>/dev/null; fi
    cleanup_all
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=shoal-test \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null || fail "openssl could not make a certificate"
SCHEME=wss
url() { sig_url "$1"; }
start_three "tls_cert_file = $WORK/cert.pem" "tls_key_file = $WORK/key.pem"
ok_https() { for n in 1 2 3; do curl -ksf "https://127.0.0.$n:$APIPORT/.ok" >/dev/null || return 1; done; }
wait_for 20 "the 3 nodes serve, /.ok over HTTPS" ok_https
curl -sf "http://127.0.0.1:$APIPORT/.ok" >/dev/null 2>&1 && fail "a TLS node's API answers plain HTTP"

# conf/haproxy.cfg, with this test's addresses and ports
sed -e "s/bind 0.0.0.0:443/bind 127.0.0.1:$LBPORT/" -e "s/check port 3000/check port $APIPORT/" \
    -e "s/\(127\.0\.0\.[0-9]\):5000/\1:$SIGPORT/" -e "s/maxconn 100000/maxconn 1000/" \
    -e "s/inter 2s fall 2 rise 2/inter 500ms fall 2 rise 1/" "$CONF" > "$WORK/haproxy.cfg"
grep -q "127.0.0.3:$SIGPORT" "$WORK/haproxy.cfg" || fail "conf/haproxy.cfg no longer has the demo's servers"
"$HAPROXY" -c -q -f "$WORK/haproxy.cfg" || fail "haproxy rejects conf/haproxy.cfg"
"$HAPROXY" -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy.log" 2>&1 &
LB=$!
lb_up() { $WS --raw x "wss://127.0.0.1:$LBPORT/signaling" x | grep -q '"code": 1007'; }
wait_for 10 "HAProxy passes TLS through to a node (wss:// on the load balancer)" lb_up

via_lb=0; redirected=0
for i in $(seq 0 8); do
    out=$($WS --hold 0.3 --disconnect "wss://127.0.0.1:$LBPORT/signaling" "tls-$i")
    grep -q '"admitted"' <<< "$out" || fail "tls-$i through the load balancer was not admitted: $out"
    at=$(echo "$out" | jq -r 'select(.event == "admitted") | .url')
    if [ "$at" = "wss://127.0.0.1:$LBPORT/signaling" ]; then via_lb=$((via_lb + 1))
    else
        redirected=$((redirected + 1))
        case "$at" in wss://127.0.0.[123]:$SIGPORT/signaling) ;; *) fail "tls-$i admitted at $at" ;; esac
    fi
done
[ "$redirected" -ge 1 ] || fail "9 channels through the load balancer and none redirected to its node"
echo "ok: 9 channels through HAProxy (TLS passthrough): $via_lb admitted by the node reached, $redirected redirected to their node's wss:// URL and admitted there"

out=$(/usr/bin/python3 "$(dirname "$0")/wsclient.py" --raw x "ws://127.0.0.1:$SIGPORT/signaling" x)
grep -q '"admitted"' <<< "$out" && fail "plain ws:// admitted on a TLS node"
echo "ok: plain ws:// is not served by a TLS node"

# A node that stops serving leaves HAProxy's rotation (its /.ok is 503).
signal_node 2 KILL
signal_node 3 KILL
down() { grep -q "node1 is DOWN" "$WORK/haproxy.log"; }
wait_for 20 "HAProxy takes node 1 out once it is alone of 3 (its /.ok is 503)" down
check_sanitizer_reports
echo "PASS"
