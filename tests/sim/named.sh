#!/bin/bash
# Every named scenario, 5 nodes, 20 seeds each: no invariant may break.
set -u
SB=$1
fail=0
for s in partition-3-2 partition-2-2-1 flapping asymmetric kill-majority disk-loss \
         purge-during-partition rolling-update lossy-30; do
    out=$("$SB" --nodes 5 --scenario "$s" --seeds 1..20 --quiet)
    rc=$?
    echo "$out" | grep -E '^scenario|FAIL|replay' | sed "s/^/[$s] /"
    if [ $rc -ne 0 ]; then
        echo "FAIL: scenario $s (exit $rc)"
        fail=1
    fi
done
exit $fail
