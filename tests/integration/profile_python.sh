#!/usr/bin/env bash
# The PyTorch trace helper (clients/python/flame_profile.py) on CPU PyTorch: its unit tests; its
# torchvision resnet18 trace has the segment structure of the H200 trace of the same model as
# `flame trace summarize` reads them; decoder traces keep one structure across contexts; and
# `flame profile` drives it on a fake Orin tree into a model file. Skipped (exit 77, shown by ctest)
# when no python3 with torch is installed (Debian: python3-torch python3-torchvision).
# skip-if-missing: python3-torch
# skip-if-missing: python3-torchvision
set -euo pipefail
: "${FLAME:?}" "${FLAME_SOURCE_DIR:?}" "${FLAME_BUILD_DIR:?}"
PY=
for p in ${FLAME_TORCH_PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import torch, torchvision' 2>/dev/null; then PY=$p; break; fi
done
if [[ -z "$PY" ]]; then
  echo "SKIP: no python3 with torch and torchvision (apt install python3-torch python3-torchvision)"
  exit 77
fi
T=$(mktemp -d /tmp/flame-py.XXXXXX)
GOV_PID=
cleanup() {
  if [[ -n "$GOV_PID" ]]; then touch "$T/gov.stop"; wait "$GOV_PID" || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
export PYTHONPATH="$FLAME_SOURCE_DIR/clients/python" PYTHONDONTWRITEBYTECODE=1
LIBDIR="$FLAME_SOURCE_DIR/tests/integration/lib"

(cd "$FLAME_SOURCE_DIR/clients/python" && "$PY" -m unittest -v test_flame_profile 2>"$T/ut.txt") ||
  { cat "$T/ut.txt" >&2; exit 1; }
tail -3 "$T/ut.txt"
if grep -q skipped "$T/ut.txt"; then echo "helper unit tests were skipped although torch imports" >&2; exit 1; fi

# The same model as a shared H200 trace: the same segments (kinds and module names) for flame.
"$PY" -m flame_profile --torchvision resnet18 --batch 1 --image-size 64 --iterations 2 --warmup 1 \
  --out "$T/r18.json.gz" 2>/dev/null
"$FLAME" trace summarize --json "$T/r18.json.gz" >"$T/ours.json"
"$FLAME" trace summarize --json "$FLAME_SOURCE_DIR/tests/data/h200-coupling/traces/resnet18_b1_float32.json.gz" \
  >"$T/h200.json"
"$PY" "$LIBDIR/same_segments.py" "$T/ours.json" "$T/h200.json"

# Decoder: one trace per context, all with the same structure.
"$PY" -m flame_profile --decoder --phase decode --ctx 16,64 --layers 2 --hidden 64 --iterations 2 --warmup 1 \
  --out "$T/dec-ctx{ctx}.json.gz" 2>/dev/null
"$FLAME" trace summarize --json "$T/dec-ctx16.json.gz" >"$T/d16.json"
"$FLAME" trace summarize --json "$T/dec-ctx64.json.gz" >"$T/d64.json"
"$PY" "$LIBDIR/same_segments.py" "$T/d16.json" "$T/d64.json"

# flame profile with the helper as the command, on a fake Orin Nano tree (budget 4: one run per EMC
# level at the top clocks and one at the bottom).
"$FLAME_BUILD_DIR/tests/flame_fake_sysfs" orin-nano-jp6 "$T/root"
cp -a "$T/root" "$T/root.orig"
"$PY" "$LIBDIR/fake_governor.py" "$T/root" "$T/gov.ready" "$T/gov.stop" &
GOV_PID=$!
for _ in $(seq 200); do [[ -e "$T/gov.ready" ]] && break; sleep 0.05; done
"$FLAME" profile --model-name r18 --budget 4 --sysfs-root "$T/root" --runtime-dir "$T/run" --config /nonexistent \
  --board "$FLAME_SOURCE_DIR/config/boards/orin-nano-8gb-super.yaml" --work-dir "$T/work" --out "$T/r18.yaml" -- \
  "$PY" -m flame_profile --torchvision resnet18 --image-size 32 --iterations 2 --warmup 1 >"$T/out" 2>"$T/err" ||
  { cat "$T/err" >&2; exit 1; }
cat "$T/out"
grep -q "r18: 121 segments; error on held-back combinations" "$T/out"
"$FLAME" model show "$T/r18.yaml" >"$T/show"
grep -q "model 'r18' (kind layerwise" "$T/show"
diff -r --no-dereference -x scaling_cur_freq -x cur_freq -x '*.gov' "$T/root.orig" "$T/root"
echo "profile python: ok"
