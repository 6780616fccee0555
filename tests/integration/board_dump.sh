#!/usr/bin/env bash
# flame board dump / check: descriptions written from fake trees load back; shipped descriptions
# validate; malformed files fail with file:line:column.
set -euo pipefail
FAKE="$FLAME_BUILD_DIR/tests/flame_fake_sysfs"
tmp=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for p in orin-nano-jp6 xavier-nx-jp4 xavier-nx-jp5; do
  "$FAKE" "$p" "$tmp/$p"
  "$FLAME" board dump --sysfs-root "$tmp/$p" --out "$tmp/$p.yaml" --name "fake-$p" 2>/dev/null
  "$FLAME" board check "$tmp/$p.yaml" | grep -q "fake-$p"
  "$FLAME" board dump --sysfs-root "$tmp/$p" | grep -q "^name: nvidia-jetson-"  # named after the DT model
  grep -q "^format: flame-board" "$tmp/$p.yaml"
done
grep -q "frequencies_khz: \[115200, 192000" "$tmp/orin-nano-jp6.yaml"
grep -q "frequencies_hz: \[306000000, 408000000" "$tmp/orin-nano-jp6.yaml"
# The device-tree compatible strings without the SoC's, so the dump identifies its board.
grep -q '^compatible: \["nvidia,p3768-0000+p3767-0005-super", "nvidia,p3767-0005"\]$' "$tmp/orin-nano-jp6.yaml"

for f in "$FLAME_SOURCE_DIR"/config/boards/*.yaml; do
  "$FLAME" board check "$f" >/dev/null
done
"$FLAME" board check "$FLAME_SOURCE_DIR/config/boards/orin-nx-16gb.yaml" |
  grep -q "EMC up to 3199000000 Hz (rates unknown), compatible nvidia,p3768-0000+p3767-0000 nvidia,p3767-0000"

printf 'format: flame-board\nversion: 1\nname: bad\ncpu:\n  cores: 2\n  frequencies_khz: [200, 100]\n' >"$tmp/bad.yaml"
set +e
"$FLAME" board check "$tmp/bad.yaml" 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 1 ]] && grep -q "$tmp/bad.yaml:6:26: cpu.frequencies_khz must be strictly ascending" "$tmp/err"
printf 'format: flame-board\nname: [oops\n' >"$tmp/syntax.yaml"
set +e
"$FLAME" board check "$tmp/syntax.yaml" 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 1 ]] && grep -q "$tmp/syntax.yaml:[0-9]*:[0-9]*:" "$tmp/err"

mkdir "$tmp/empty"
set +e
"$FLAME" board dump --sysfs-root "$tmp/empty" 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 1 ]] && grep -q "no CPU frequency table" "$tmp/err"
# A failed write changes nothing: a directory in the way of --out stays as it was, the error names
# the step, and no temporary file is left (docs/architecture.md, atomic writes).
mkdir -p "$tmp/out/in-the-way.yaml/inside"
set +e
"$FLAME" board dump --sysfs-root "$tmp/orin-nano-jp6" --out "$tmp/out/in-the-way.yaml" 2>"$tmp/err"; rc=$?
set -e
[[ $rc != 0 ]] && grep -q "in-the-way.yaml: cannot replace the file: renaming the temporary file" "$tmp/err" ||
  { cat "$tmp/err" >&2; echo "board dump over a directory: rc $rc" >&2; exit 1; }
[[ -d "$tmp/out/in-the-way.yaml/inside" && $(ls -A "$tmp/out") == in-the-way.yaml ]] ||
  { ls -A "$tmp/out" >&2; echo "board dump left something behind" >&2; exit 1; }
echo "board dump/check: ok"
