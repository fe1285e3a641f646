#!/usr/bin/env bash
# demo.sh - installs what is missing, builds, and runs a 3-node cluster on
# 127.0.0.1, 127.0.0.2 and 127.0.0.3 with conf/node{1,2,3}.conf. Prints the
# cluster as node 1 sees it, then keeps running until Ctrl-C, when every node
# leaves gracefully. Data and logs go to /tmp/shoal-demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "demo: stopping (each node leaves the cluster)"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop INT TERM EXIT
mkdir -p /tmp/shoal-demo
for n in 1 2 3; do
  build/node/shoald -c conf/node$n.conf 2>>/tmp/shoal-demo/node$n.stderr &
  pids+=($!)
done
for i in $(seq 1 50); do
  n=$(build/node/shoalctl --api http://127.0.0.1:3000 ListClusterNodes 2>/dev/null \
      | jq '[.[] | select(.state == "alive")] | length' 2>/dev/null || echo 0)
  [ "$n" = 3 ] && break
  sleep 0.2
done
for i in $(seq 1 50); do  # the roster forms (Raft) and the majority lease is held
  build/node/shoalctl --api http://127.0.0.1:3000 ok >/dev/null 2>&1 && break
  sleep 0.2
done
build/node/shoalctl --api http://127.0.0.1:3000 GetClusterStatus \
  | jq -r '"demo: roster \(.roster | join(", ")); leader \(.leader); serving: \(.serving)"'
echo "demo: 3 nodes up. Cluster as node1 sees it:"
build/node/shoalctl --api http://127.0.0.1:3000 ListClusterNodes \
  | jq -r '.[] | "  \(.node_name)\t\(.state)\tincarnation \(.incarnation)"'
echo "demo: the placement ring (every node holds the same one):"
build/node/shoalctl --api http://127.0.0.1:3000 ring | sed 's/^/  /'
cat <<MSG
demo: try
  build/node/shoalctl --api http://127.0.0.2:3000 ListClusterNodes | jq
  curl -s http://127.0.0.3:3000/.ok
  build/node/shoalctl --api http://127.0.0.2:3000 ring
  /usr/bin/python3 tests/integration/wsclient.py --hold 30 ws://127.0.0.1:5000/signaling room-1
                                        # a signaling client: redirected to room-1's node, admitted
  build/node/shoalctl --api http://127.0.0.2:3000 ListChannels   # room-1 and its node, while held
  node tests/browser/three_pages.mjs ws://127.0.0.{1,2,3}:5000/signaling
                                        # three headless Chromium pages with sora-js-sdk: video and audio
  curl -s http://127.0.0.1:3000/metrics | grep shoal_media
  tail -f /tmp/shoal-demo/node1/log/cluster.jsonl
demo: Ctrl-C stops the cluster.
MSG
wait
