#!/usr/bin/env bash
# reserve_test_ports.sh - the loopback tests bind fixed ports 47000-47599
# (tests/integration, tests/browser; the benches too). Keeps the kernel from
# handing those out as ephemeral client ports (Chromium, curl, gossip's
# TCP connections and the load generators open thousands), which could make
# a node's bind fail now and then. Added to what is reserved already; root
# only (otherwise nothing is changed). Idempotent.
set -euo pipefail
[ "$(id -u)" = 0 ] || exit 0
reserved=$(cat /proc/sys/net/ipv4/ip_local_reserved_ports 2>/dev/null || true)
case ",$reserved," in
    *,47000-47599,*) ;;
    *) sysctl -qw net.ipv4.ip_local_reserved_ports="${reserved:+$reserved,}47000-47599" || true ;;
esac
