#!/usr/bin/env bash
# Five real shoald processes on 127.0.0.1-5: they find each other from the
# contact list; kill -9 of one is seen as dead by all others; restarted, it
# is alive again everywhere; SIGTERM makes it leave (listed as left); a
# datagram of garbage does not disturb anyone. The placement ring
# (/debug/ring) is the same on every node and follows the deaths; gossip
# settles (no node has an update left to send). The replicated channel
# table follows the members too: every node holds every live member's list
# (empty: no client connects here), drops a dead member's and gets it again
# when it is back, answers ListChannels, and ignores table datagrams from a
# non-member.
set -euo pipefail
SHOALD=${SHOALD:?}; SHOALCTL=${SHOALCTL:?}
WORK=$(mktemp -d /tmp/shoal-itest.XXXXXX)
PORT_BASE=47010
source "$(dirname "$0")/lib.sh"
trap 'cleanup_nodes; rm -rf "$WORK"' EXIT
# On a failure, what each node sees: its ring and its member list.
dump_views() {
    local n
    for n in 1 2 3 4 5; do
        echo "node $n ring: $(api $n ring --json | jq -c '[.checksum, [.nodes[] | [.node_name, .serving, .mode]]]')"
        echo "node $n members: $(api $n ListClusterNodes | jq -c '[.[] | [.node_name, .state, .incarnation]]')"
    done
}
ON_FAIL=dump_views

contacts="node1@127.0.0.1,node2@127.0.0.2,node3@127.0.0.3"
for n in 1 2 3 4 5; do write_conf $n "$contacts"; start_node $n; done

everyone_alive() { for m in 1 2 3 4 5; do all_list alive $m 1 2 3 4 5 || return 1; done; }
wait_for 10 "all 5 nodes list all 5 alive" everyone_alive
ok_everywhere() { for n in 1 2 3 4 5; do api $n ok >/dev/null || return 1; done; }
wait_for 15 "the roster formed: /.ok is 200 on all 5" ok_everywhere
# ring_agrees "NODES" COUNT: every node shows the same ring checksum, with COUNT serving nodes
ring_agrees() {
    local first="" n doc sum cnt
    for n in $1; do
        doc=$(api "$n" ring --json) || return 1
        sum=$(echo "$doc" | jq -r .checksum)
        cnt=$(echo "$doc" | jq '[.nodes[] | select(.serving)] | length')
        [ "$cnt" = "$2" ] || return 1
        [ -z "$first" ] && first=$sum
        [ "$sum" = "$first" ] || return 1
    done
}
wait_for 10 "all 5 nodes show the same placement ring of 5 serving nodes" ring_agrees "1 2 3 4 5" 5
# gossip_settled "NODES": no node has an update left to gossip (an idle cluster is quiet)
gossip_settled() {
    local n
    for n in $1; do
        [ "$(api "$n" metrics | awk '/^shoal_gossip_queued_updates / {print $2}')" = 0 ] || return 1
    done
}
wait_for 10 "gossip settled: no node has an update left to send" gossip_settled "1 2 3 4 5"
# table_holders "NODES" COUNT: each node has the channel lists of COUNT holders
table_holders() {
    local n got
    for n in $1; do
        got=$(api "$n" metrics | awk '/^shoal_channel_table_holders / {print $2}')
        [ "$got" = "$2" ] || return 1
    done
}
wait_for 10 "every node has the channel lists of all 5 members" table_holders "1 2 3 4 5" 5
list=$(api 3 ListChannels) || fail "ListChannels failed: $list"
[ "$(echo "$list" | jq -c '[.total, .channels]')" = '[0,[]]' ] || fail "ListChannels on an idle cluster: $list"
[ "$(api 3 ring --json | jq .channel_table_size)" = 0 ] || fail "/debug/ring channel_table_size is not 0"
# A well-formed table update naming room-x, from a node that is not a member.
printf '\x98\x05\xa5itest\xae%s\x01\xae%s\x07\x01\x91\x93\xa6room-x\x01\x00' evil@127.0.0.9 evil@127.0.0.9 \
    > /dev/udp/127.0.0.3/$PORT_BASE
sleep 0.5
dropped=$(api 3 metrics | awk '/^shoal_channel_table_dropped_total/ {print $2}')
[ "${dropped:-0}" -ge 1 ] || fail "a non-member's table datagram was not dropped (got '$dropped')"
[ "$(api 3 ListChannels | jq .total)" = 0 ] || fail "a non-member planted a channel: $(api 3 ListChannels)"
echo "ok: channel table: 5 holders known everywhere, ListChannels empty, a non-member's update dropped"

# Garbage on the gossip port: dropped and counted, nobody crashes.
for i in $(seq 1 50); do head -c $((RANDOM % 1400 + 1)) /dev/urandom > /dev/udp/127.0.0.2/$PORT_BASE; done
printf '\xdd\xff\xff\xff\xff' > /dev/udp/127.0.0.2/$PORT_BASE
sleep 0.5
bad=$(api 2 metrics | awk '/^shoal_gossip_bad_packets_total/ {print $2}')
[ "${bad:-0}" -ge 1 ] || fail "garbage datagrams were not counted as bad (got '$bad')"
# Garbage on the TCP side: an oversized length prefix, random bytes, and a
# connection that sends half a frame and stalls (closed by the node's timeout).
printf '\xff\xff\xff\xff' > /dev/tcp/127.0.0.2/$PORT_BASE || true
head -c 3000 /dev/urandom > /dev/tcp/127.0.0.2/$PORT_BASE || true
exec 9<>/dev/tcp/127.0.0.2/$PORT_BASE; printf '\x00\x00\x10\x00abc' >&9
sleep 0.5
frames=$(api 2 metrics | awk '/^shoal_gossip_bad_frames_total/ {print $2}')
[ "${frames:-0}" -ge 1 ] || fail "an oversized TCP frame was not counted (got '$frames')"
kill -0 "${PIDS[2]}" || fail "node 2 died on garbage input"
all_list alive 2 1 3 4 5 || fail "garbage input disturbed node 2's membership"
exec 9>&-

signal_node 4 KILL
wait_for 15 "after kill -9 of node 4 all others list it dead" all_list dead 4 1 2 3 5
wait_for 5 "the ring of every survivor drops node 4" ring_agrees "1 2 3 5" 4
wait_for 5 "every survivor drops node 4's channel list" table_holders "1 2 3 5" 4

start_node 4
wait_for 10 "restarted node 4 is alive again everywhere" all_list alive 4 1 2 3 4 5
wait_for 10 "node 4 is back on every ring" ring_agrees "1 2 3 4 5" 5
wait_for 10 "every node has node 4's new channel list, and node 4 everyone's" table_holders "1 2 3 4 5" 5

signal_node 5 TERM
wait_for 5 "after SIGTERM node 5 is listed as left by all others" all_list left 5 1 2 3 4
grep -q '"event":"node_stop"' "$WORK/n5/log/cluster.jsonl" || fail "node 5 did not log node_stop"

# A corrupt roster file is reported and the node refuses to start; it is
# never silently replaced.
state="$WORK/n5/data/raft.state"
[ -s "$state" ] || fail "node 5 has no roster file"
cp "$state" "$WORK/state.orig"
printf 'X' | dd of="$state" bs=1 seek=20 conv=notrunc 2>/dev/null
rc=0; "$SHOALD" -c "$WORK/n5/shoal.conf" > "$WORK/corrupt.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "node 5 started with a corrupt roster file"
grep -q "corrupt" "$WORK/corrupt.out" || fail "no clear error for the corrupt file: $(cat "$WORK/corrupt.out")"
cmp -s "$state" "$WORK/state.orig" && fail "the corrupt file was replaced"
echo "ok: corrupt roster file refused: $(head -c 160 "$WORK/corrupt.out")"
grep -q '"event":"member_dead","member":"node4@127.0.0.4"' "$WORK/n1/log/cluster.jsonl" \
    || fail "node 1's cluster.jsonl has no member_dead line for node 4"
signal_node 1 TERM
signal_node 2 TERM
check_sanitizer_reports
echo "PASS"
