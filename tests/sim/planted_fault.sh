#!/bin/bash
# The checker can fail: cores built with the majority check removed, with
# the lease fence removed (a member answers the lease pings of a node it
# lists as dead), or with the claim fence removed (a member records any
# node as a channel's holder), must be caught within the random seeds
# given, and the seed printed must replay to the same violation at the
# same virtual time.
#
# The claim fence gets 1000 seeds: the channel table sends clients to a
# channel's holder, so only a channel opened just before its holder is cut
# off (the others have not heard of it yet) reaches the fence at all, in
# about 1 seed of 100.
#
# The wiring variant (the node core's admission told that every claim is
# valid) must be caught within 200 seeds by invariant 6 (admission): its
# split brain is a client admitted where no claim allows it, whether or not
# another node serves the channel at that instant.
set -u
fail=0
for sb in "$@"; do
    name=$(basename "$sb")
    seeds=100
    want='invariant 1 (split brain)'
    case "$name" in
        *claim-fence*) seeds=1000 ;;
        *admit-without-claim*) seeds=200; want='invariant 6 (admission)' ;;
    esac
    out=$("$sb" --nodes 5 --scenario random --seeds 1..$seeds --jobs 2 --quiet)
    rc=$?
    line=$(echo "$out" | grep -m1 ' FAIL ')
    if [ $rc -eq 0 ] || [ -z "$line" ]; then
        echo "FAIL: $name: no violation found in $seeds seeds (exit $rc)"
        fail=1
        continue
    fi
    echo "$name: $line"
    echo "$out" | grep -m1 'replay:'
    found=$(echo "$out" | grep -c ' FAIL ')
    echo "$name: $found of $seeds seeds violate an invariant"
    if ! echo "$out" | grep -q "$want"; then
        echo "FAIL: $name: no seed shows $want"
        fail=1
    fi
    seed=$(echo "$line" | awk '{print $2}')
    replay=$("$sb" --nodes 5 --scenario random --seed "$seed" --trace)
    rc=$?
    again=$(echo "$replay" | grep -m1 ' FAIL ')
    if [ $rc -eq 0 ] || [ "$again" != "$line" ]; then
        echo "FAIL: $name: replaying seed $seed gave (exit $rc): $again"
        fail=1
    else
        echo "$name: replay of seed $seed reproduces it: $(echo "$replay" | grep -m1 VIOLATION)"
    fi
done
exit $fail
