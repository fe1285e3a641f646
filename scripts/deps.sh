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
  chromium                                        # tests/browser: sora-js-sdk in a real browser
)
# Node.js and npm drive the browser test (playwright-core) and bench/peers;
# a machine that has them (NodeSource's, say) keeps its own.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
npm_deps() { # tests/browser's pinned npm packages (package-lock.json), once
  local dir
  dir="$(dirname "$0")/../tests/browser"
  [ -d "$dir/node_modules/sora-js-sdk" ] && [ -d "$dir/node_modules/playwright-core" ] && return 0
  echo "deps: npm ci in tests/browser" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}
if [ ${#missing[@]} -eq 0 ]; then npm_deps; exit 0; fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
npm_deps
