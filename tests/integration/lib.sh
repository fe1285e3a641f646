# lib.sh - helpers for tests that run real shoald processes on loopback
# addresses 127.0.0.N. Sourced; needs SHOALD, SHOALCTL and WORK set.
# Only processes started here are ever signalled, by their recorded pid.

declare -A PIDS=()

fail() {
    echo "FAIL: $*" >&2
    [ -n "${ON_FAIL:-}" ] && eval "$ON_FAIL" >&2
    dump_nodes >&2
    exit 1
}

# dump_nodes: each node this test started, whether it still runs, and the
# end of its stderr and JSON Lines log, so that a failure in CI (whose
# folders are gone afterwards) says what the nodes saw.
dump_nodes() {
    local n f
    for n in $(printf '%s\n' "${!PIDS[@]}" | sort -n); do
        if kill -0 "${PIDS[$n]}" 2>/dev/null; then echo "--- node $n (pid ${PIDS[$n]}, running)"
        else echo "--- node $n (pid ${PIDS[$n]}, gone)"; fi
        tail -n 5 "$WORK/n$n/stderr.log" 2>/dev/null
        for f in "$WORK/n$n/log/"*.jsonl; do [ -f "$f" ] && tail -n 8 "$f" | cut -c1-300; done
    done
}

write_conf() { # write_conf N CONTACTS [extra lines...]
    local n=$1 contacts=$2; shift 2
    mkdir -p "$WORK/n$n"
    {
        echo "cluster_name = ${CLUSTER:-itest}"
        echo "node_name = node$n@127.0.0.$n"
        echo "contact_node_name_list = $contacts"
        echo "cluster_port = ${PORT_BASE:-47010}"
        echo "api_port = $(( ${PORT_BASE:-47010} + 2 ))"
        echo "media_port = $(( ${PORT_BASE:-47010} + 8 ))"
        echo "data_dir = $WORK/n$n/data"
        echo "log_dir = $WORK/n$n/log"
        for l in "$@"; do echo "$l"; done
    } > "$WORK/n$n/shoal.conf"
}

start_node() { # start_node N
    "$SHOALD" -c "$WORK/n$1/shoal.conf" >> "$WORK/n$1/stderr.log" 2>&1 &
    PIDS[$1]=$!
}

signal_node() { # signal_node N SIGNAL
    local pid=${PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    kill -s "$2" "$pid" 2>/dev/null || true
    if [ "$2" = KILL ] || [ "$2" = TERM ]; then
        wait "$pid" 2>/dev/null || true
        unset "PIDS[$1]"
    fi
}

cleanup_nodes() {
    for n in "${!PIDS[@]}"; do kill -9 "${PIDS[$n]}" 2>/dev/null || true; done
    for n in "${!PIDS[@]}"; do wait "${PIDS[$n]}" 2>/dev/null || true; done
}

api() { # api N ACTION [JSON]
    "$SHOALCTL" --api "http://127.0.0.$1:$(( ${PORT_BASE:-47010} + 2 ))" "$2" "${3:-{\}}" 2>/dev/null
}

# state_of VIEWER MEMBER_N: the state VIEWER lists for node MEMBER_N
state_of() {
    api "$1" ListClusterNodes | jq -r --arg n "node$2@127.0.0.$2" \
        '.[] | select(.node_name == $n) | .state' 2>/dev/null
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls every 100 ms
wait_for() {
    local limit=$1 what=$2; shift 2
    local start=$SECONDS
    while ! "$@"; do
        (( SECONDS - start >= limit )) && fail "$what: not true after ${limit}s"
        sleep 0.1
    done
    echo "ok: $what ($(( SECONDS - start ))s)"
}

# all_list STATE MEMBER_N VIEWERS...: every viewer lists the member in STATE
all_list() {
    local want=$1 m=$2; shift 2
    for v in "$@"; do [ "$(state_of "$v" "$m")" = "$want" ] || return 1; done
}

# sanitizer_reports: fails if any node's stderr holds an ASan/UBSan report.
check_sanitizer_reports() {
    if grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK"/n*/stderr.log 2>/dev/null; then
        grep -h -A20 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK"/n*/stderr.log | head -60 >&2
        fail "sanitizer report in a node's stderr (above)"
    fi
}

# ---- signaling tests: three nodes on 127.0.0.1-3 and their WebSocket clients ----
# Needs SIGPORT; SCHEME=wss for TLS. Clients started by a test go in CLIENTS
# and are ended (by id) with the nodes by cleanup_all.
CLIENTS=()
sig_url() { echo "${SCHEME:-ws}://127.0.0.$1:$SIGPORT/signaling"; }
cleanup_all() {
    set +e # every step runs
    for p in "${CLIENTS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    cleanup_nodes
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
start_three() { # start_three [CONFIG LINE...]: nodes 1-3 with signaling on SIGPORT
    local n
    for n in 1 2 3; do
        write_conf $n "node1@127.0.0.1,node2@127.0.0.2,node3@127.0.0.3" "signaling_port = $SIGPORT" \
            "public_signaling_url = $(sig_url $n)" "$@"
        start_node $n
    done
}
ok_on() { local n; for n in "$@"; do api "$n" ok >/dev/null || return 1; done; }
ring_full() { # every node's ring holds the 3 nodes
    local n
    for n in 1 2 3; do [ "$(api $n ring --json | jq '[.nodes[] | select(.serving)] | length')" = 3 ] || return 1; done
}
