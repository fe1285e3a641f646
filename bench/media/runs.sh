#!/usr/bin/env bash
# bench/media/runs.sh [BUILD_DIR] [N] [--json] - bench/media/run.sh N times
# (default 10), each with a fresh node, then how often each target held:
# on this shared machine one run is a draw (bench/README: the forwarder's
# rate moves between two bands in spells of minutes), so the targets are
# read over runs. A table row per run and a summary row; with --json, one
# JSON object per run (both phases) and one for the summary.
# Environment: as run.sh (SENDERS, RECEIVERS, SECONDS_PER_PHASE, PAYLOAD, GRO).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build N=10 JSON=""
for a in "$@"; do
    case "$a" in
    --json) JSON=--json ;;
    [0-9]*) N=$a ;;
    *) BUILD=$a ;;
    esac
done
[ "$N" -ge 1 ] || { echo "runs.sh: N must be at least 1" >&2; exit 2; }
WORK=$(mktemp -d /tmp/shoal-mediaruns.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
for i in $(seq 1 "$N"); do
    # each run's JSON rows, tagged with the run's number
    if ! "$ROOT/bench/media/run.sh" "$BUILD" --json 2> "$WORK/err" | sed -n "s/^{/{\"run\":$i,/p" >> "$WORK/rows" ||
        [ "$(grep -c "^{\"run\":$i," "$WORK/rows")" -ne 2 ]; then
        echo "run $i failed:" >&2
        cat "$WORK/err" >&2
        exit 1
    fi
    [ -n "$JSON" ] || echo "# run $i of $N done $(date -u +%H:%M:%SZ)" >&2
done
python3 - "$WORK/rows" "$JSON" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
as_json = sys.argv[2] == "--json"
runs = {}
for r in rows:
    runs.setdefault(r["run"], {})[r["phase"]] = r
RATIO, P99 = 0.60, 1.0  # issue 8's targets
ratios, p99s, p99s_all = [], [], []
if not as_json:
    print("%4s %12s %8s %14s %10s %10s %8s %8s %8s %8s %8s" % ("run", "fwd/core-s", "ratio", "slice quartiles",
          "limit/s", "half fwd/s", "p50 ms", "p99 ms", "steady", "p99 all", "moved"))
for i in sorted(runs):
    f, h = runs[i]["full"], runs[i]["half"]
    ratios.append(f["ratio_to_srtp"])
    # the half phase's latency over its slices whose limit held (none: the
    # run says nothing of latency), and over all of them
    if h["slices_steady"] > 0:
        p99s.append(h["latency_p99_steady_ms"])
    p99s_all.append(h["latency_p99_ms"])
    # slices of the full phase across which the limit moved by over 10%
    moved = "%d/%d" % (f["slices_drifted"], f["slices"])
    if as_json:
        print(json.dumps(f))
        print(json.dumps(h))
    else:
        print("%4d %12.0f %8.3f %14s %10.0f %10.0f %8.3f %8s %8s %8.3f %8s" % (i, f["forwarded_per_core_s"],
              f["ratio_to_srtp"], "%.3f-%.3f" % (f["ratio_slice_p25"], f["ratio_slice_p75"]), f["srtp_protect_per_s"],
              h["forwarded_pps"], h["latency_p50_steady_ms"],
              "%.3f" % h["latency_p99_steady_ms"] if h["slices_steady"] else "-",
              "%d/%d" % (h["slices_steady"], h["slices"]), h["latency_p99_ms"], moved))
med = lambda v: statistics.median(v) if v else 0
summary = {"row": "summary", "runs": len(ratios), "ratio_median": statistics.median(ratios),
           "ratio_min": min(ratios), "ratio_max": max(ratios), "runs_ratio_at_least_0_60": sum(x >= RATIO for x in ratios),
           "runs_latency_readable": len(p99s), "p99_median_ms": med(p99s), "p99_min_ms": min(p99s, default=0),
           "p99_max_ms": max(p99s, default=0), "runs_p99_under_1ms": sum(x < P99 for x in p99s),
           "p99_all_slices_median_ms": statistics.median(p99s_all),
           "runs_p99_all_slices_under_1ms": sum(x < P99 for x in p99s_all)}
if as_json:
    print(json.dumps(summary))
else:
    s = summary
    print("# %d runs: full ratio median %.3f (%.3f-%.3f), >= %.2f in %d; half p99 over steady slices median %.3f ms "
          "(%.3f-%.3f), < %.0f ms in %d of %d runs with a steady slice; over all slices median %.3f ms, < %.0f ms "
          "in %d" % (s["runs"], s["ratio_median"], s["ratio_min"], s["ratio_max"], RATIO,
          s["runs_ratio_at_least_0_60"], s["p99_median_ms"], s["p99_min_ms"], s["p99_max_ms"], P99,
          s["runs_p99_under_1ms"], s["runs_latency_readable"], s["p99_all_slices_median_ms"], P99,
          s["runs_p99_all_slices_under_1ms"]))
EOF
