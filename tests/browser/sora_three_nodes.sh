#!/usr/bin/env bash
# sora_three_nodes.sh - the media plane with real browsers: three Chromium
# pages running the published sora-js-sdk join one channel through the three
# nodes of a local cluster (127.0.0.1-3), are redirected to the channel's
# node, connect (ICE-lite, DTLS-SRTP), and decode each other's video and
# audio; then one leaves and the others see its tracks go (three_pages.mjs).
# Once with VP8 and once with H.264 as the channel's video codec.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../integration/lib.sh"
WORK=$(mktemp -d /tmp/shoal-browser.XXXXXX)
PORT_BASE=47410
SIGPORT=47415
CLUSTER=browser
ON_FAIL='tail -n 20 "$WORK"/n*/stderr.log; grep -h media_ "$WORK"/n*/log/*.jsonl | tail -n 20'
trap cleanup_all EXIT

[ -d "$HERE/node_modules/sora-js-sdk" ] || fail "tests/browser: npm packages missing (scripts/deps.sh installs them)"
start_three
wait_for 30 "the 3 nodes serve" ok_on 1 2 3
wait_for 10 "every ring holds 3 serving nodes" ring_full
# A channel of each video codec, each on whichever node the ring picks; the
# last run then cuts the channel's node off from the majority.
for run in "--codec VP8" "--codec H264 --majority-loss"; do
    PAGE_PORT=$(( PORT_BASE + 9 )) NODE_PIDS="${PIDS[1]},${PIDS[2]},${PIDS[3]}" API_PORT=$(( PORT_BASE + 2 )) \
        timeout 120 node "$HERE/three_pages.mjs" $run "$(sig_url 1)" "$(sig_url 2)" "$(sig_url 3)" ||
        fail "three_pages.mjs $run"
done
wait_for 30 "the 3 nodes serve again" ok_on 1 2 3
# The channels' nodes counted what they forwarded (GET /metrics).
media_out() {
    local n sum=0 v
    for n in 1 2 3; do
        v=$(curl -s "http://127.0.0.$n:$(( PORT_BASE + 2 ))/metrics" |
            awk '/^shoal_media_packets_out_total\{kind="rtp"\}/ {print $2}')
        sum=$(( sum + ${v:-0} ))
    done
    echo "$sum"
}
out=$(media_out)
[ "$out" -gt 1000 ] || fail "shoal_media_packets_out_total{kind=\"rtp\"} summed over the nodes is $out"
echo "ok: the nodes forwarded $out RTP packets (shoal_media_packets_out_total)"
check_sanitizer_reports
echo "ok: browser test passed"
