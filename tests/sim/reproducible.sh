#!/bin/bash
# The same seed gives the same trace, byte for byte; another seed does not.
set -u
SB=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
for s in random flapping; do
    "$SB" --nodes 5 --scenario $s --seed 7 --trace > "$T/a" 2>&1
    "$SB" --nodes 5 --scenario $s --seed 7 --trace > "$T/b" 2>&1
    "$SB" --nodes 5 --scenario $s --seed 8 --trace > "$T/c" 2>&1
    lines=$(wc -l < "$T/a")
    if [ "$lines" -lt 1000 ]; then
        echo "FAIL: $s: the trace has only $lines lines"
        fail=1
    elif ! cmp -s "$T/a" "$T/b"; then
        echo "FAIL: $s: two runs of seed 7 differ:"
        diff "$T/a" "$T/b" | head -5
        fail=1
    elif cmp -s "$T/a" "$T/c"; then
        echo "FAIL: $s: seeds 7 and 8 gave the same trace"
        fail=1
    else
        echo "$s: seed 7 twice: identical traces of $lines lines ($(md5sum < "$T/a" | cut -c1-16)); seed 8 differs"
    fi
done
exit $fail
