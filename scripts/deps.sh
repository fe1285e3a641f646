#!/usr/bin/env bash
# deps.sh - installs the Debian 12 packages shoal needs, only those missing.
# Idempotent: a second run installs nothing and does not touch apt's lists.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang          # compilers; clang for libFuzzer
  libev-dev libmsgpack-dev libwebsockets-dev      # event loop, gossip wire, HTTP/WebSocket
  libjansson-dev libinih-dev libcurl4-openssl-dev # JSON, config files, shoalctl
  libxxhash-dev                                   # placement ring (XXH3)
  libssl-dev libsrtp2-dev                         # media plane: DTLS, SRTP
  libcmocka-dev                                   # unit tests
  curl jq iproute2 nftables procps openssl haproxy # tests (TLS, the load balancer), lab and benchmarks
  python3 python3-msgpack python3-websockets      # bench/lab, tests/netns (serf RPC), signaling test clients
  serf                                            # bench/swim's peer (HashiCorp memberlist)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
