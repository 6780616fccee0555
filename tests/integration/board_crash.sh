#!/usr/bin/env bash
# Crash recovery: a `flame board set` that holds the controller lock with changed clocks is killed
# with SIGKILL; `flame board restore` in a new process restores every file byte for byte. Then kill -9
# at arbitrary moments of a set: whatever the moment, restore leaves the tree as it was.
set -euo pipefail
FAKE="$FLAME_BUILD_DIR/tests/flame_fake_sysfs"
tmp=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
holder=""
cleanup() {
  [[ -n "$holder" ]] && kill -9 "$holder" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

root="$tmp/root" run="$tmp/run"
"$FAKE" xavier-nx-jp5 "$root" --offline 4,5
cp -a "$root" "$tmp/orig"

"$FLAME" board set --sysfs-root "$root" --runtime-dir "$run" --cpu-khz 345600 --gpu-hz 306000000 \
  --emc-hz 1600000000 --hold-seconds 120 >"$tmp/holder.out" 2>&1 &
holder=$!
for _ in $(seq 200); do
  grep -q "^holding clocks" "$tmp/holder.out" && break
  sleep 0.05
done
grep -q "^holding clocks" "$tmp/holder.out" || { cat "$tmp/holder.out"; exit 1; }

# While it lives, nobody else may set or restore: exit 3 naming the holder.
set +e
"$FLAME" board set --sysfs-root "$root" --runtime-dir "$run" --cpu-khz 1907200 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 3 ]] && grep -q "already controlled by pid $holder (flame board set)" "$tmp/err"
set +e
"$FLAME" board restore --runtime-dir "$run" 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 3 ]]

kill -9 "$holder"
wait "$holder" 2>/dev/null || true
holder=""
if diff -r --no-dereference -q "$tmp/orig" "$root" >/dev/null; then
  echo "the killed process changed nothing?" >&2
  exit 1
fi
[[ -s "$run/baseline.json" ]]

"$FLAME" board restore --runtime-dir "$run" >"$tmp/restore.out"
grep -q "^restored" "$tmp/restore.out"
diff -r --no-dereference "$tmp/orig" "$root"
[[ ! -e "$run/baseline.json" ]]

# kill -9 at arbitrary points of a set (before the baseline, between writes, after), and of the restore
# that follows: always recoverable.
for delay in 0 0.001 0.002 0.004 0.008 0.016 0.03 0.06; do
  "$FLAME" board set --sysfs-root "$root" --runtime-dir "$run" --cpu-khz 652800 --gpu-hz 510000000 \
    --emc-hz 665600000 >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # A restore killed half way is simply run again.
  "$FLAME" board restore --runtime-dir "$run" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  "$FLAME" board restore --runtime-dir "$run" >/dev/null
  diff -r --no-dereference "$tmp/orig" "$root" || { echo "not restored after kill at ${delay}s" >&2; exit 1; }
  [[ ! -e "$run/baseline.json" ]]
done
echo "board crash recovery: ok"
