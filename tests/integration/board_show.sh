#!/usr/bin/env bash
# flame board show on generated fake trees (docs/board-io.md, Tests), with decoys: a non-GPU devfreq
# device, offline CPUs, an unreadable sensorless thermal zone, unreadable and unmounted debugfs.
set -euo pipefail
FAKE="$FLAME_BUILD_DIR/tests/flame_fake_sysfs"
tmp=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check_json() {  # check_json FILE PYTHON-EXPRESSIONS...
  local file=$1
  shift
  python3 - "$file" "$@" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
for expr in sys.argv[2:]:
    if not eval(expr):
        sys.exit(f"check failed: {expr}")
PY
}

for p in orin-nano-jp6 xavier-nx-jp4 xavier-nx-jp5; do
  "$FAKE" "$p" "$tmp/$p"
  "$FLAME" board show --sysfs-root "$tmp/$p" >"$tmp/$p.txt"
  grep -q "^GPU .*active" "$tmp/$p.txt"
  grep -q "ignored devfreq: 15340000.vic" "$tmp/$p.txt"
  "$FLAME" board show --sysfs-root "$tmp/$p" --json >"$tmp/$p.json"
  check_json "$tmp/$p.json" \
    'b["gpu"]["health"]["status"] == "active"' \
    'b["gpu"]["name"].startswith("17000000.")' \
    'b["emc"]["health"]["status"] == "active"' \
    'all(c["health"]["status"] == "active" for c in b["cpu"])' \
    'b["current"]["cpu_cores"] == 6' \
    'b["total_rail"] == "VDD_IN"' \
    'len(b["thermal"]) >= 6'
done
check_json "$tmp/orin-nano-jp6.json" 'b["identity"]["soc"] == "tegra234"' 'b["identity"]["l4t"] == "R36.4.3"' \
  'len(b["cpu"]) == 2' '[z["note"] for z in b["thermal"] if z["type"] == "cv0-thermal"] == ["no sensor"]'
check_json "$tmp/xavier-nx-jp4.json" 'b["identity"]["kernel_rules"].startswith("strict")' \
  'b["rails"][0]["kind"] == "iio"' 'b["gpu"]["devfreq_dir"] == "/sys/devices/17000000.gv11b/devfreq/17000000.gv11b"'

# Decoys and faults: reported and disabled, never fatal.
"$FAKE" orin-nano-jp6 "$tmp/decoy" --unreadable-debugfs --offline 4,5 --sensorless-unreadable --nc-rail
"$FLAME" board show --sysfs-root "$tmp/decoy" --json >"$tmp/decoy.json"
check_json "$tmp/decoy.json" \
  'b["emc"]["health"]["status"] == "unavailable"' \
  '"EISDIR" in b["emc"]["health"]["reason"]' \
  '[c["health"]["status"] for c in b["cpu"]] == ["active", "offline"]' \
  'b["current"]["cpu_cores"] == 4' \
  'len(b["rails"]) == 2' \
  '"unreadable" in [z for z in b["thermal"] if z["type"] == "cv1-thermal"][0]["note"]' \
  'any("emc:" in n for n in b["notes"])'
"$FLAME" board show --sysfs-root "$tmp/decoy" | grep -q "offline"

"$FAKE" xavier-nx-jp4 "$tmp/nodebugfs" --no-debugfs --gpu-unregistered
"$FLAME" board show --sysfs-root "$tmp/nodebugfs" --json >"$tmp/nodebugfs.json"
check_json "$tmp/nodebugfs.json" 'b["emc"]["health"]["status"] == "unavailable"' \
  'b["gpu"]["health"]["status"] == "deferred"' 'b["cpu"][0]["health"]["status"] == "active"'

# Not a Jetson at all: still a description, exit 0.
mkdir "$tmp/empty"
"$FLAME" board show --sysfs-root "$tmp/empty" | grep -q "no cpufreq policies"
echo "board show: ok"
