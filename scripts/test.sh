#!/usr/bin/env bash
# test.sh - installs what is missing, builds, and runs every test with CTest:
# unit tests, real shoald processes on loopback, and (as root) the
# network-namespace suite. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
scripts/reserve_test_ports.sh # the tests' fixed ports are never ephemeral ones
cd build
ctest --output-on-failure "$@"
