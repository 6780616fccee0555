#!/usr/bin/env bash
# flamed correct on a board by default: with no board_file it names the board by the shipped
# description that matches (and so plans EMC), refuses a model fitted on another board (flamectl
# models says why), and on a root with no Jetson at all it starts degraded, says so loudly, and
# answers no request with a prediction.
set -euo pipefail
source "$(dirname "$0")/lib/flamed_env.sh"
CTL="$FLAME_BUILD_DIR/tools/flamectl/flamectl"
fail() { echo "FAIL: $*" >&2; [[ -f "$LOG" ]] && tail -30 "$LOG" >&2; exit 1; }
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
ask() {  # ask JSON: one request on a fresh connection
  python3 - "$SOCK" "$1" <<'PY'
import socket, sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); f = c.makefile("rw")
f.write(sys.argv[2] + "\n"); f.flush(); print(f.readline().strip())
f.close(); c.close()
PY
}
config_without_board_file() {
  write_config "$@"
  sed -i '/^board_file:/d' "$CFG"
}

# A model fitted on the TX2, beside the shipped Orin Nano Super models.
sed -e 's/^name: mobilenet_v3_small$/name: tx2-mobilenet/' -e 's/^board: .*/board: tx2-flexibo/' \
  "$FLAME_SOURCE_DIR/config/models/mobilenet_v3_small.yaml" >"$T/models/tx2-mobilenet.yaml"

# 1. The Orin Nano tree, no board_file: the description is found, EMC is planned.
FLAMED_LOG_LEVEL=info config_without_board_file
start_flamed
grep -q "board description: .*orin-nano-8gb-super" "$LOG" || fail "the matching description is not logged"
r=$(ask '{"op":"begin","id":1,"model":"resnet50","deadline_ms":1000}')
[[ $(json 'd["ok"]' <<<"$r") == True ]] || fail "begin: $r"
emc=$(json 'd["clocks"]["emc_hz"]' <<<"$r")
python3 -c "assert 0 < $emc < 3199000000, $emc" || fail "a loose deadline did not lower EMC: $r"
echo "no board_file: orin-nano-8gb-super found; a loose deadline runs EMC at $emc Hz"

# 2. The TX2 model is refused, with the reason, in the log, status, flamectl models and a begin.
grep -q "model tx2-mobilenet refused: tx2-mobilenet.yaml: fitted on board tx2-flexibo, not on this orin-nano-8gb-super" \
  "$LOG" || fail "no WARN line for the refused model"
"$CTL" --socket "$SOCK" models >"$T/models.txt" || fail "flamectl models"
grep -q "^tx2-mobilenet .*REFUSED: .*fitted on board tx2-flexibo" "$T/models.txt" || fail "flamectl models: $(cat "$T/models.txt")"
grep -q "^resnet50 .*orin-nano-8gb-super" "$T/models.txt" || fail "flamectl models: $(cat "$T/models.txt")"
r=$(ask '{"op":"begin","id":2,"model":"tx2-mobilenet","deadline_ms":1000}')
[[ $(json 'd["error"]' <<<"$r") == *"is not served: tx2-mobilenet.yaml: fitted on board tx2-flexibo"* ]] || fail "begin: $r"
[[ $(ask '{"op":"status"}' | json 'd["degraded"]') == False ]] || fail "degraded on a healthy board: $(ask '{"op":"status"}')"
stop_flamed
echo "a model of another board: refused, with the reason in the log, flamectl models and begin"

# 3. allow_foreign_models: true serves it.
config_without_board_file "allow_foreign_models: true"
start_flamed
r=$(ask '{"op":"begin","id":3,"model":"tx2-mobilenet","deadline_ms":1000}')
[[ $(json 'd["ok"]' <<<"$r") == True ]] || fail "allow_foreign_models: $r"
stop_flamed
same_tree "$ROOT" "$T/root.orig" || fail "the tree is not restored"

# 4. An empty sysfs root: degraded, loudly, and no prediction for clocks it cannot read.
mkdir "$T/empty"
config_without_board_file "allow_foreign_models: true"  # no board is named here: serve them to show the refusal below
sed -i "s|^sysfs_root: .*|sysfs_root: $T/empty|" "$CFG"
: >"$LOG"
start_flamed
# The WARN lines come right after the socket opens, before "ready".
for _ in $(seq 100); do grep -q "ready" "$LOG" && break; sleep 0.05; done
grep -q "\[warning\] start: degraded: no clock is controllable" "$LOG" || fail "no WARN at start"
st=$(ask '{"op":"status"}')
[[ $(json 'd["degraded"]' <<<"$st") == True ]] || fail "status: $st"
json '"\n".join(d["degraded_reasons"])' <<<"$st" >"$T/reasons"
grep -q "no clock is controllable" "$T/reasons" || fail "reasons: $(cat "$T/reasons")"
grep -q "^cpu: .*no cpufreq policy" "$T/reasons" || fail "reasons: $(cat "$T/reasons")"
grep -q "^gpu: " "$T/reasons" || fail "reasons: $(cat "$T/reasons")"
"$CTL" --socket "$SOCK" status | grep -q "^DEGRADED:" || fail "flamectl status does not say degraded"
r=$(ask '{"op":"begin","id":4,"model":"resnet50","deadline_ms":50}')
[[ $(json 'd["ok"]' <<<"$r") == False && $(json 'd["error"]' <<<"$r") == "cannot plan: the board does not tell"* ]] ||
  fail "begin on an empty root: $r"
stop_flamed
[[ -z "$(ls -A "$T/empty")" ]] || fail "flamed wrote into the empty root: $(ls -A "$T/empty")"
echo "empty root: degraded at WARN, in status and flamectl; no prediction"
