#!/usr/bin/env bash
# The bring-up kit (docs/board-io.md, "Bring-up kit") on every simulated board:
# - `flame board snapshot` of each `flame sim tree` profile, to which a serial number, a MAC address and
#   symlink cycles were added, loads back as a tree on which `flame board show` (text and JSON) reports
#   the same board; the serial number and the MAC address are left out and listed in the manifest, the
#   cycles are kept as links; a second snapshot into the same directory is refused, nothing changed;
# - `flame board selftest` passes on each tree and on a snapshot with nothing else running (the trees'
#   current clocks are links to their limits, docs/simulator.md "Current clocks"), fails on a tree whose
#   current clocks are plain files that nothing moves, and always puts every clock back byte for byte;
# - as an unprivileged user, on a tree whose GPU limits only root may write, it fails with a report
#   naming the GPU node, the other domains pass, and everything is restored.
set -euo pipefail
: "${FLAME:?}" "${FLAME_SOURCE_DIR:?}"
source "$FLAME_SOURCE_DIR/tests/integration/lib/governor.sh"
tmp=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'stop_governor; rm -rf "$tmp"' EXIT
fail() {
  echo "board bringup: $*" >&2
  exit 1
}

check_json() {  # check_json FILE PYTHON-EXPRESSIONS... (the file's JSON is j)
  local file=$1
  shift
  python3 - "$file" "$@" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for expr in sys.argv[2:]:
    if not eval(expr):
        sys.exit(f"check failed on {sys.argv[1]}: {expr}")
PY
}

show() {  # show ROOT OUT: `flame board show`, text and JSON, without the root's own path
  "$FLAME" board show --sysfs-root "$1" | grep -v '^Root ' >"$2.txt"
  "$FLAME" board show --sysfs-root "$1" --json |
    python3 -c 'import json, sys; j = json.load(sys.stdin); j.pop("sysfs_root"); print(json.dumps(j, indent=1, sort_keys=True))' >"$2.json"
}

cur_files=(-x scaling_cur_freq -x cur_freq -x '*.gov')  # what the governor moves

# Every profile `flame sim tree` offers, so that a new one is tested here without editing this script.
mapfile -t profiles < <("$FLAME" sim tree --list)
((${#profiles[@]} >= 4)) || fail "too few profiles from 'flame sim tree --list': ${profiles[*]}"

for p in "${profiles[@]}"; do
  d="$tmp/$p"
  t="$d/tree"
  "$FLAME" sim tree --profile "$p" --out "$t" >/dev/null
  printf '1421623033141\0' >"$t/proc/device-tree/serial-number"
  printf '48:b0:2d:12:34:56\0' >"$t/proc/device-tree/nvidia,ether-mac"
  mkdir -p "$t/sys/class/net/eth0"
  echo 48:b0:2d:12:34:57 >"$t/sys/class/net/eth0/address"
  ln -s thermal_zone99 "$t/sys/class/thermal/thermal_zone98"
  ln -s thermal_zone98 "$t/sys/class/thermal/thermal_zone99"
  ln -s ../../.. "$t/sys/devices/system/cpu/cpufreq/policy0/up"

  timeout 60 "$FLAME" board snapshot --sysfs-root "$t" --out "$d/snap" >"$d/snap.out" || fail "$p: snapshot failed"
  grep -q "left out (serial number): /sys/firmware/devicetree/base/serial-number" "$d/snap.out" || fail "$p: $(cat "$d/snap.out")"
  show "$t" "$d/show.tree"
  show "$d/snap" "$d/show.snap"
  diff "$d/show.tree.txt" "$d/show.snap.txt" || fail "$p: board show differs on the snapshot"
  diff "$d/show.tree.json" "$d/show.snap.json" || fail "$p: board show --json differs on the snapshot"
  grep -q '"active"' "$d/show.snap.json" || fail "$p: nothing active in the snapshot"

  [[ ! -e "$d/snap/proc/device-tree/serial-number" && ! -e "$d/snap/proc/device-tree/nvidia,ether-mac" ]] ||
    fail "$p: identifying data copied"
  [[ ! -e "$d/snap/sys/class/net" ]] || fail "$p: network interfaces copied"
  ! grep -rqi '48:b0:2d' "$d/snap" || fail "$p: a MAC address in the snapshot"
  ! grep -rq 1421623033141 "$d/snap" || fail "$p: the serial number in the snapshot"
  [[ -L "$d/snap/sys/class/thermal/thermal_zone98" && -L "$d/snap/sys/devices/system/cpu/cpufreq/policy0/up" ]] ||
    fail "$p: the cycles were not kept as links"
  check_json "$d/snap/SNAPSHOT.json" \
    'j["format"] == "flame-board-snapshot" and j["complete"]' \
    'j["date"].endswith("Z") and j["flame_version"]' \
    '{i["path"] for i in j["left_out"]} == {"/sys/firmware/devicetree/base/serial-number", "/sys/firmware/devicetree/base/nvidia,ether-mac"}' \
    'j["links"]["/proc/device-tree"] == "../sys/firmware/devicetree/base"' \
    '"/sys/class/thermal/thermal_zone98" in [i["path"] for i in j["skipped"]]' \
    'all(not t.startswith("/") for t in j["links"].values())' \
    'j["copied"]["files"] == len(j["files"]) > 50'

  # Not into a directory that holds something: refused, nothing changed.
  (cd "$d/snap" && find . -printf '%p %s %l\n' | sort) >"$d/snap.list"
  if "$FLAME" board snapshot --sysfs-root "$t" --out "$d/snap" >/dev/null 2>"$d/again.err"; then
    fail "$p: a second snapshot into $d/snap was accepted"
  fi
  grep -q "exists and is not empty" "$d/again.err" || fail "$p: $(cat "$d/again.err")"
  diff "$d/snap.list" <(cd "$d/snap" && find . -printf '%p %s %l\n' | sort) || fail "$p: the refused snapshot changed DIR"
  ! ls -a "$d" | grep -q partial || fail "$p: a partial snapshot was left behind"

  # Self-test, no stand-in running: the current clocks follow by themselves; every clock comes back.
  [[ -L "$t/sys/devices/system/cpu/cpufreq/policy0/scaling_cur_freq" ]] || fail "$p: scaling_cur_freq is no link"
  cp -a "$t" "$d/orig"
  "$FLAME" board selftest --sysfs-root "$t" --runtime-dir "$d/run" >"$d/selftest.txt" ||
    fail "$p: selftest failed: $(cat "$d/selftest.txt")"
  grep -q "^selftest: PASS" "$d/selftest.txt" || fail "$p: $(cat "$d/selftest.txt")"
  "$FLAME" board selftest --sysfs-root "$t" --runtime-dir "$d/run" --json >"$d/selftest.json" ||
    fail "$p: selftest --json failed"
  check_json "$d/selftest.json" 'j["passed"] and j["restored"]' \
    'all(x["result"] == "pass" or (x["result"] == "skipped" and "offline" in x["reason"]) for x in j["domains"])' \
    '{x["kind"] for x in j["domains"] if x["result"] == "pass"} == {"cpu", "gpu", "emc"}' \
    'all(x["settled"] and x["current"] == x["read_back"] and x["restored"] for x in j["domains"] if x["result"] == "pass")'
  diff -r --no-dereference "${cur_files[@]}" "$d/orig" "$t" || fail "$p: selftest did not restore the tree"
  [[ ! -e "$d/run/baseline.json" ]] || fail "$p: a baseline was left behind"
done

# The snapshot is a board flame can drive: the self-test passes on it too.
s="$tmp/orin-nano-jp6/snap"
cp -a "$s" "$tmp/snap.orig"
"$FLAME" board selftest --sysfs-root "$s" --runtime-dir "$tmp/snaprun" >"$tmp/snap.selftest" ||
  fail "selftest on a snapshot: $(cat "$tmp/snap.selftest")"
diff -r --no-dereference "${cur_files[@]}" "$tmp/snap.orig" "$s" || fail "selftest on a snapshot did not restore it"

# Current clocks that nothing moves (the links made plain files): nothing settles: exit 1, a reason
# per domain, everything restored.
t="$tmp/static/tree"
"$FLAME" sim tree --profile xavier-nx-jp5 --out "$t" >/dev/null
find "$t/sys/devices" \( -name '*cur_freq' -o -name target_freq \) -type l | while read -r l; do
  cp --remove-destination "$(readlink -f "$l")" "$l"
done
cp -a "$t" "$tmp/static/orig"
rc=0
"$FLAME" board selftest --sysfs-root "$t" --runtime-dir "$tmp/norun" --settle-timeout 0.2 >"$tmp/nogov.txt" || rc=$?
[[ $rc == 1 ]] || fail "selftest without a governor: exit $rc: $(cat "$tmp/nogov.txt")"
grep -q "^gpu:17000000.gv11b *fail .*did not settle within 0.2 s" "$tmp/nogov.txt" || fail "$(cat "$tmp/nogov.txt")"
grep -q "^selftest: FAIL" "$tmp/nogov.txt" || fail "$(cat "$tmp/nogov.txt")"
diff -r --no-dereference "${cur_files[@]}" "$tmp/static/orig" "$t" || fail "a failed selftest did not restore"

# A GPU node only root may write, tested as an unprivileged user (tests run as root here).
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  u="$tmp/unprivileged"
  "$FLAME" sim tree --profile orin-nano-jp6 --out "$u/tree" >/dev/null
  mkdir -p "$u/run" "$u/locks"
  chmod 755 "$tmp"
  chown -R 65534:65534 "$u"
  gpu="$u/tree/sys/devices/platform/bus@0/17000000.gpu/devfreq/17000000.gpu"
  chown 0:0 "$gpu/min_freq" "$gpu/max_freq"
  chmod 444 "$gpu/min_freq" "$gpu/max_freq"
  cp -a "$u/tree" "$u/orig"
  start_governor "$u/tree"
  # The board lock in a directory of its own: the shared FLAME_LOCK_DIR belongs to root.
  nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups -- env FLAME_LOCK_DIR="$u/locks")
  rc=0
  "${nobody[@]}" "$FLAME" board selftest --sysfs-root "$u/tree" --runtime-dir "$u/run" --json >"$u/ro.json" ||
    rc=$?
  [[ $rc == 1 ]] || fail "read-only GPU: exit $rc: $(cat "$u/ro.json")"
  check_json "$u/ro.json" 'not j["passed"] and j["restored"]' \
    '[x["result"] for x in j["domains"]] == ["pass", "pass", "fail", "pass"]' \
    '"min_freq not writable: EACCES" in j["domains"][2]["reason"]' \
    'j["domains"][2]["id"] == "gpu:17000000.gpu" and j["domains"][2]["outcome"] == ""'
  rc=0
  "${nobody[@]}" "$FLAME" board selftest --sysfs-root "$u/tree" --runtime-dir "$u/run" >"$u/ro.txt" || rc=$?
  [[ $rc == 1 ]] || fail "read-only GPU (text): exit $rc"
  grep -q "^gpu:17000000.gpu *fail *observe-only: .*devfreq/17000000.gpu/min_freq not writable: EACCES" "$u/ro.txt" ||
    fail "read-only GPU: $(cat "$u/ro.txt")"
  grep -q "^selftest: FAIL (3 passed, 1 failed, 0 skipped; every clock restored)" "$u/ro.txt" ||
    fail "read-only GPU: $(cat "$u/ro.txt")"
  stop_governor
  diff -r --no-dereference "${cur_files[@]}" "$u/orig" "$u/tree" || fail "read-only GPU: not restored"
else
  echo "unprivileged read-only GPU: not tested (needs root and setpriv)"
fi
echo "board bringup: ok"
