#!/usr/bin/env bash
# test.sh - installs what is missing, builds, and runs every test with CTest:
# unit tests, real shoald processes on loopback, and (as root) the
# network-namespace suite. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
# The loopback tests bind fixed ports 47000-47599 (tests/integration, tests/browser; the
# benches too). Keep the kernel from handing those out as ephemeral client ports
# (Chromium, curl and the load generators open thousands), which could make a node's
# bind fail now and then. Added to what is reserved already; root only.
if [ "$(id -u)" = 0 ]; then
    reserved=$(cat /proc/sys/net/ipv4/ip_local_reserved_ports 2>/dev/null || true)
    case ",$reserved," in
        *,47000-47599,*) ;;
        *) sysctl -qw net.ipv4.ip_local_reserved_ports="${reserved:+$reserved,}47000-47599" || true ;;
    esac
fi
cd build
ctest --output-on-failure "$@"
