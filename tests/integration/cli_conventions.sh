#!/usr/bin/env bash
# The command-line conventions of flame, flamed and flamectl: usage errors exit 2 and name the
# offender, --help exits 0, clock options take units, off-table clocks round with a warning (or are
# refused with --exact), and reports print parseable JSON with --json.
set -euo pipefail
: "${FLAME:?}" "${FLAMED:?}" "${FLAME_BUILD_DIR:?}" "${FLAME_SOURCE_DIR:?}"
FLAMECTL="$FLAME_BUILD_DIR/tools/flamectl/flamectl"
FAKE="$FLAME_BUILD_DIR/tests/flame_fake_sysfs"
tmp=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "cli_conventions: $*" >&2; exit 1; }

usage_error() {  # usage_error WORD CMD...: exits 2 and names WORD on stderr
  local word=$1 rc=0
  shift
  "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [[ $rc == 2 ]] || fail "$* exited $rc, not 2: $(cat "$tmp/err")"
  grep -qF -- "$word" "$tmp/err" || fail "$*: the message does not name $word: $(cat "$tmp/err")"
}
usage_error nosuch "$FLAME" nosuch
usage_error nosuch "$FLAME" board nosuch
usage_error --bogus "$FLAME" board show --bogus
usage_error fast "$FLAME" board set --gpu-hz fast
usage_error nosuch "$FLAMECTL" nosuch
usage_error --bogus "$FLAMECTL" status --bogus
usage_error --bogus "$FLAMED" --bogus
usage_error abc "$FLAMED" --reload abc
for p in "$FLAME" "$FLAMED" "$FLAMECTL"; do
  "$p" --help >/dev/null || fail "$p --help exited $?"
  "$p" --version >/dev/null || fail "$p --version exited $?"
done
"$FLAME" board set --help >/dev/null

# Clock units on a simulated Orin Nano: 612M is 612 MHz, a plain 612 is Hz.
root="$tmp/orin" run="$tmp/run"
"$FAKE" orin-nano-jp6 "$root"
cp -a "$root" "$tmp/orin.orig"
gpu="$root/sys/devices/platform/bus@0/17000000.gpu/devfreq/17000000.gpu"
set_gpu() { "$FLAME" board set --sysfs-root "$root" --runtime-dir "$run" "$@"; }
set_gpu --gpu-hz 612M >"$tmp/out" 2>"$tmp/err" || fail "--gpu-hz 612M: $(cat "$tmp/err")"
[[ $(<"$gpu/max_freq") == 612000000 && $(<"$gpu/min_freq") == 612000000 ]] ||
  fail "--gpu-hz 612M left max_freq $(<"$gpu/max_freq")"
grep -q warning "$tmp/err" && fail "an exact clock warned: $(cat "$tmp/err")"
set_gpu --gpu-hz 612 >"$tmp/out" 2>"$tmp/err" || fail "--gpu-hz 612: $(cat "$tmp/err")"
lowest=$(<"$gpu/max_freq")
grep -q "warning: --gpu-hz 612 (612 Hz) is below the lowest clock" "$tmp/err" &&
  grep -q "using $((lowest / 1000000)) MHz" "$tmp/err" && grep -q "write 612M" "$tmp/err" ||
  fail "--gpu-hz 612 did not warn naming the value used ($lowest): $(cat "$tmp/err")"
rc=0
set_gpu --gpu-hz 612 --exact >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc == 2 ]] && grep -q "exact" "$tmp/err" && grep -q "nothing was changed" "$tmp/err" ||
  fail "--exact 612: exit $rc: $(cat "$tmp/err")"
[[ $(<"$gpu/max_freq") == "$lowest" ]] || fail "--exact changed the clock"
rc=0
set_gpu --cpu-khz 1.2G --exact --dry-run >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc == 2 ]] && grep -q "is not a clock of cpu:policy0: the nearest are" "$tmp/err" ||
  fail "--cpu-khz 1.2G --exact: exit $rc: $(cat "$tmp/err")"
"$FLAME" board restore --runtime-dir "$run" >/dev/null
diff -r --no-dereference "$tmp/orin.orig" "$root" || fail "the tree was not restored"

# Unit-aware clocks in flame predict too; reports as JSON.
model="$FLAME_SOURCE_DIR/config/models/resnet50.yaml"
json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" || fail "$1 is not JSON: $(cat "$1")"; }
"$FLAME" predict "$model" --cpu-khz 1.5G --gpu-hz 612M --emc-hz 2.133G --json >"$tmp/predict.json"
json_ok "$tmp/predict.json"
"$FLAME" model show "$model" --json >"$tmp/show.json"
json_ok "$tmp/show.json"
python3 - "$tmp/show.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["name"] == "resnet50" and j["kind"] == "layerwise" and j["segments"] > 0, j
PY
grid="$FLAME_SOURCE_DIR/data/jetson-public/flexibo-tx2/tx2_sampled_output_inceptionv3_200x200.csv"
"$FLAME" fit "$grid" --budget 64 --name inceptionv3-200 --out "$tmp/fit.yaml" --json >"$tmp/fit.json"
json_ok "$tmp/fit.json"
python3 - "$tmp/fit.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["name"] == "inceptionv3-200" and j["profiled"] == 64 and j["out"].endswith("fit.yaml"), j
PY
[[ -s "$tmp/fit.yaml" ]] || fail "flame fit --json --out wrote no model"
echo "cli_conventions: OK"
