#!/usr/bin/env bash
# Socket load of two flamed builds, interleaved on the same machine: before/after a change.
# Usage: bench/socket_ab.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [RUNS]
# Each run starts that build's flamed on a fake Orin Nano tree with the 10 models of
# bench/socket_load.sh and runs `flame bench socket` (the AFTER build's client for both, so only the
# daemon differs) with 64 closed-loop clients of 2000 requests each, 20 % invalid. The runs alternate
# before, after, before, ... RUNS times each (default 5); it prints every run and the medians.
# FLAME_CLIENT overrides the client binary (e.g. a Release `flame` when the daemons are test builds).
# AFTER_EXTRA (YAML lines) is appended to the after daemon's config only: keys the before build may
# not know, e.g. "limits: {max_connections_per_uid: 128, ...}".
set -euo pipefail
cd "$(dirname "$0")/.."
before=$(cd "$1" && pwd) after=$(cd "$2" && pwd) runs=${3:-5}
export FLAMED=$after/daemon/flamed FLAME=${FLAME_CLIENT:-$after/tools/flame} FLAME_BUILD_DIR=$after FLAME_SOURCE_DIR=$PWD
source tests/integration/lib/flamed_env.sh
for i in $(seq 1 8); do sed "s/^name: resnet50/name: resnet50_$i/" config/models/resnet50.yaml >"$T/models/r$i.yaml"; done
results=$T/results.txt
: >"$results"
run() {  # run LABEL BUILD [extra yaml]
  local label=$1 build=$2
  FLAMED=$build/daemon/flamed
  FLAMED_LOG_LEVEL=warn write_config "${@:3}"
  start_flamed
  "$FLAME" bench socket --socket "$SOCK" --clients 64 --requests 2000 --deadline-ms 30 --invalid-pct 20 \
    --seed 1 --json >"$T/run.json"
  stop_flamed TERM
  python3 - "$label" "$T/run.json" >>"$results" <<'PY'
import json, sys
d = json.load(open(sys.argv[2]))
assert d["failures"] == 0, d
print(sys.argv[1], d["requests_per_s"], d["p50_us"], d["p99_us"])
PY
  tail -1 "$results"
}
limits="limits: {rate_per_s: 1000000, rate_burst: 1000000, max_connections: 128"
for _ in $(seq 1 "$runs"); do
  run before "$before" "$limits}"
  run after "$after" "$limits, max_connections_per_uid: 128}" ${AFTER_EXTRA:+"$AFTER_EXTRA"}
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for label in ("before", "after"):
    r = [list(map(float, x[1:])) for x in rows if x[0] == label]
    med[label] = [statistics.median(c) for c in zip(*r)]
    print(f"{label}: median of {len(r)}: {med[label][0]:.0f} requests/s, p50 {med[label][1]:.0f} us, "
          f"p99 {med[label][2]:.0f} us")
print(f"after/before: throughput {med['after'][0] / med['before'][0]:.3f}, p99 {med['after'][2] / med['before'][2]:.3f}")
PY
