#!/usr/bin/env bash
# The unit's ExecReload= command, `flamed --reload PID` (docs/systemd.md, "Reload"): it returns only
# once the new configuration is live, and non-zero for a file the daemon refuses, with the reason.
# Run twice on the simulated TX2: with D-Bus on (a private dbus-daemon) and with dbus: false and no
# system bus at all.
set -euo pipefail
source "$(dirname "$0")/lib/sim_env.sh"
source "$(dirname "$0")/lib/private_bus.sh"
bus_pid=""
trap 'cleanup; [[ -n "$bus_pid" ]] && kill "$bus_pid" 2>/dev/null || true' EXIT
fail() {
  echo "flamed_exec_reload: FAIL: $*" >&2
  tail -n 30 "$d/flamed.log" >&2 || true
  exit 1
}
status_models() {
  python3 - "$d/flamed.sock" <<'PY'
import json, socket, sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); f = c.makefile("rw")
f.write('{"op":"status"}\n'); f.flush()
print(" ".join(sorted(json.loads(f.readline())["models"])))
f.close(); c.close()
PY
}

grids="$FLAME_SOURCE_DIR/data/jetson-public/flexibo-tx2"
run_case() {  # run_case NAME DBUS
  d="$tmp/$1"
  mkdir -p "$d/models" "$d/models2" "$d/state" "$d/run"
  "$FLAME" sim tree --profile tx2-jp4 --out "$d/tree" >/dev/null
  "$FLAME" fit "$grids/tx2_sampled_output_inceptionv3_200x200.csv" --budget 64 --seed 1 --name inceptionv3-200 \
    --board tx2-flexibo --out "$d/models/inceptionv3-200.yaml" >/dev/null
  cp "$d/models/inceptionv3-200.yaml" "$d/models2/"
  "$FLAME" fit "$grids/tx2_sampled_output_xception_200x200.csv" --budget 64 --seed 1 --name xception-200 \
    --board tx2-flexibo --out "$d/models2/xception-200.yaml" >/dev/null
  sim_write_config "$d"
  sed -i "s/^dbus: .*/dbus: $2/" "$d/flamed.yaml"
  sim_start_flamed "$d" "$d/flamed.log" || fail "flamed did not start"
  [[ $(status_models) == "inceptionv3-200" ]] || fail "start: models $(status_models)"

  # A new models_dir: live the moment the command returns, no polling.
  sed -i "s|^models_dir: .*|models_dir: $d/models2|" "$d/flamed.yaml"
  "$FLAMED" --config "$d/flamed.yaml" --reload "$pid" 2>"$d/reload.err" || fail "reload: $(cat "$d/reload.err")"
  [[ $(status_models) == "inceptionv3-200 xception-200" ]] || fail "reload returned before the new models were live"

  # A value out of range, and a file that does not parse: exit 1 with the reason (the key, or
  # file:line:col), the daemon not even signalled (no reload logged) and its state kept.
  n=$(grep -c "reload" "$d/flamed.log" || true)
  cp "$d/flamed.yaml" "$d/bad.yaml"
  echo "safety_margin_pct: 500" >>"$d/bad.yaml"
  if "$FLAMED" --config "$d/bad.yaml" --reload "$pid" 2>"$d/bad.err"; then fail "a refused file reloaded with exit 0"; fi
  grep -q "safety_margin_pct" "$d/bad.err" || fail "the refusal does not name the key: $(cat "$d/bad.err")"
  printf 'models_dir: [\n' >"$d/broken.yaml"
  if "$FLAMED" --config "$d/broken.yaml" --reload "$pid" 2>"$d/broken.err"; then fail "a broken file reloaded"; fi
  grep -q "broken.yaml:" "$d/broken.err" || fail "no file:line:col for the broken file: $(cat "$d/broken.err")"
  (($(grep -c "reload" "$d/flamed.log" || true) == n)) || fail "the daemon was signalled for a file it would refuse"
  [[ $(status_models) == "inceptionv3-200 xception-200" ]] || fail "a refused reload changed the models"

  # A PID that is not flamed's: no record, exit 1, nothing signalled.
  if "$FLAMED" --config "$d/flamed.yaml" --reload 1 2>"$d/nopid.err"; then fail "--reload 1 succeeded"; fi
  grep -q "no record of flamed 1" "$d/nopid.err" || fail "--reload 1: $(cat "$d/nopid.err")"

  kill -TERM "$pid"
  wait "$pid"
  pid=""
  echo "$1: reload live on return; refused and broken files exit 1 with the reason"
}

start_private_bus "$tmp" || fail "dbus-daemon did not start"
run_case dbus true
kill "$bus_pid"
bus_pid=""
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/no-such-bus"
run_case nobus false
