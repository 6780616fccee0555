#!/usr/bin/env bash
# flame board set / restore on real files in fake trees: clamped values land in the files, the
# baseline is kept across runs, restore puts every file back byte for byte and is idempotent.
set -euo pipefail
FAKE="$FLAME_BUILD_DIR/tests/flame_fake_sysfs"
tmp=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT
val() { tr -d '\n' <"$1"; }
expect() {  # expect FILE VALUE
  [[ "$(val "$1")" == "$2" ]] || { echo "expected $2 in $1, got $(val "$1")" >&2; exit 1; }
}

declare -A GPU=([orin-nano-jp6]=/sys/devices/platform/bus@0/17000000.gpu/devfreq/17000000.gpu
  [xavier-nx-jp4]=/sys/devices/17000000.gv11b/devfreq/17000000.gv11b
  [xavier-nx-jp5]=/sys/devices/platform/17000000.gv11b/devfreq/17000000.gv11b)
EMC=/sys/kernel/debug/bpmp/debug/clk/emc

for p in orin-nano-jp6 xavier-nx-jp4 xavier-nx-jp5; do
  root="$tmp/$p" run="$tmp/run-$p"
  "$FAKE" "$p" "$root"
  cp -a "$root" "$tmp/$p.orig"

  # Dry run: plans, writes nothing, creates no baseline.
  "$FLAME" board set --sysfs-root "$root" --runtime-dir "$run" --cpu-khz 345600 --dry-run | grep -q "would write"
  diff -r --no-dereference "$tmp/$p.orig" "$root"
  [[ ! -e "$run/baseline.json" ]]

  # Off-table CPU request rounds up (400000 -> 422400); GPU/EMC pinned.
  "$FLAME" board set --sysfs-root "$root" --runtime-dir "$run" --cpu-khz 400000 --gpu-hz 510000000 \
    --emc-hz 1600000000 >"$tmp/set.txt"
  grep -q "cpu:policy0 .*applied .*target 422400 (requested 400000)" "$tmp/set.txt"
  expect "$root/sys/devices/system/cpu/cpufreq/policy0/scaling_min_freq" 422400
  expect "$root/sys/devices/system/cpu/cpufreq/policy0/scaling_max_freq" 422400
  expect "$root${GPU[$p]}/min_freq" 510000000
  expect "$root${GPU[$p]}/max_freq" 510000000
  expect "$root$EMC/mrq_rate_locked" 1
  expect "$root$EMC/rate" 1600000000
  [[ -s "$run/baseline.json" ]]
  cp "$run/baseline.json" "$tmp/baseline-first.json"

  # A second set keeps the first baseline (the original values), and --max goes back to the ceilings.
  "$FLAME" board set --sysfs-root "$root" --runtime-dir "$run" --max --json >"$tmp/max.json"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"], r' "$tmp/max.json"
  python3 - "$tmp/baseline-first.json" "$run/baseline.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a["domains"] == b["domains"], "baseline was overwritten"
PY
  # The same request again writes nothing.
  "$FLAME" board set --sysfs-root "$root" --runtime-dir "$run" --max --json >"$tmp/again.json"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["writes"] == 0, r' "$tmp/again.json"

  # Restore: byte for byte, baseline removed; a second restore has nothing to do.
  "$FLAME" board restore --runtime-dir "$run" | grep -q "^restored"
  diff -r --no-dereference "$tmp/$p.orig" "$root"
  [[ ! -e "$run/baseline.json" ]]
  "$FLAME" board restore --runtime-dir "$run" | grep -q "nothing to restore"
done

# Usage errors and refusals.
root="$tmp/orin-nano-jp6" run="$tmp/run-x"
set +e
"$FLAME" board set --sysfs-root "$root" --runtime-dir "$run" 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 2 ]] && grep -q "nothing to set" "$tmp/err"

# A requested domain that cannot be set is an error (exit 1), the others are still set and restorable.
"$FAKE" orin-nano-jp6 "$tmp/nodebug" --unreadable-debugfs
cp -a "$tmp/nodebug" "$tmp/nodebug.orig"
set +e
"$FLAME" board set --sysfs-root "$tmp/nodebug" --runtime-dir "$run" --cpu-khz 806400 --emc-hz 665600000 \
  >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 1 ]] && grep -q "no emc domain could be set" "$tmp/err" && grep -q "emc .*skipped" "$tmp/out"
expect "$tmp/nodebug/sys/devices/system/cpu/cpufreq/policy4/scaling_max_freq" 806400
# Restoring under a different root than the baseline's is refused.
set +e
"$FLAME" board restore --sysfs-root "$tmp/orin-nano-jp6" --runtime-dir "$run" 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 1 ]] && grep -q "was taken under sysfs root" "$tmp/err"
"$FLAME" board restore --sysfs-root "$tmp/nodebug" --runtime-dir "$run" >/dev/null
diff -r --no-dereference "$tmp/nodebug.orig" "$tmp/nodebug"
echo "board set/restore: ok"
