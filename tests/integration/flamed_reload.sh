#!/usr/bin/env bash
# SIGHUP applies every key that is not restart-only (docs/config.md, "Reload"): the real flamed on
# the simulated TX2, its system bus a private dbus-daemon, one request held while the configuration
# changes under it. Domains and caps, dry_run, recalibration.* (learned calibration survives),
# limits.*, metrics.*, models_dir, state_dir, socket_mode/socket_group, safety_margin_pct,
# request_expiry_ms: the tree's clock files, the D-Bus properties and `status` follow. Every
# restart-only key is reported as needing a restart and keeps its running value.
set -euo pipefail
source "$(dirname "$0")/lib/sim_env.sh"
for tool in dbus-daemon busctl python3; do
  command -v "$tool" >/dev/null || { echo "flamed_reload: $tool is missing (tools/setup.sh installs it)" >&2; exit 1; }
done
bus_pid=""
trap 'cleanup; [[ -n "$bus_pid" ]] && kill "$bus_pid" 2>/dev/null || true' EXIT
fail() {
  echo "flamed_reload: FAIL: $*" >&2
  tail -n 40 "$tmp/flamed.log" >&2 || true
  exit 1
}

source "$(dirname "$0")/lib/private_bus.sh"
start_private_bus "$tmp" || fail "dbus-daemon did not start"

"$FLAME" sim tree --profile tx2-jp4 --out "$tmp/tree" >/dev/null
cp -a "$tmp/tree" "$tmp/tree.orig"
mkdir -p "$tmp/models" "$tmp/models2" "$tmp/state" "$tmp/state2" "$tmp/run"
grids="$FLAME_SOURCE_DIR/data/jetson-public/flexibo-tx2"
"$FLAME" fit "$grids/tx2_sampled_output_inceptionv3_200x200.csv" --budget 64 --seed 1 --name inceptionv3-200 \
  --board tx2-flexibo --out "$tmp/models/inceptionv3-200.yaml" >/dev/null
cp "$tmp/models/inceptionv3-200.yaml" "$tmp/models2/"
"$FLAME" fit "$grids/tx2_sampled_output_xception_200x200.csv" --budget 64 --seed 1 --name xception-200 \
  --board tx2-flexibo --out "$tmp/models2/xception-200.yaml" >/dev/null

# The configuration: the base keys plus KEY=VALUE overrides (YAML values).
declare -A base=(
  [sysfs_root]="$tmp/tree" [socket_path]="$tmp/flamed.sock" [socket_group]='""' [socket_mode]='"0660"'
  [models_dir]="$tmp/models" [state_dir]="$tmp/state" [runtime_dir]="$tmp/run"
  [board_file]="$FLAME_SOURCE_DIR/config/boards/tx2-flexibo.yaml" [dbus]=true [log_level]=info
  [request_expiry_ms]=600000 [idle_delay_ms]=0
)
write_config() {
  local -A c
  local k
  for k in "${!base[@]}"; do c[$k]=${base[$k]}; done
  for kv in "$@"; do c[${kv%%=*}]=${kv#*=}; done
  python3 - "$tmp/flamed.yaml" "$(for k in "${!c[@]}"; do printf '%s=%s\n' "$k" "${c[$k]}"; done)" <<'PY'
import sys
out = {}
for line in sys.argv[2].splitlines():
    k, v = line.split("=", 1)
    d = out
    *parents, leaf = k.split(".")
    for p in parents: d = d.setdefault(p, {})
    d[leaf] = v
def emit(d, ind=0):
    s = ""
    for k in sorted(d):
        if isinstance(d[k], dict): s += " " * ind + k + ":\n" + emit(d[k], ind + 2)
        else: s += " " * ind + f"{k}: {d[k]}\n"
    return s
open(sys.argv[1], "w").write(emit(out))
PY
}

S="$tmp/flamed.sock"
# One connection kept open (it holds request 1), driven through a FIFO pair by a python helper.
mkfifo "$tmp/req" "$tmp/rep"
cat >"$tmp/client.py" <<'PY'
import socket, sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); f = c.makefile("rw")
for line in sys.stdin:
    f.write(line); f.flush(); print(f.readline().strip(), flush=True)
PY
client() {
  python3 -u "$tmp/client.py" "$S" <"$tmp/req" >"$tmp/rep" &
  exec 7>"$tmp/req" 8<"$tmp/rep"
}
call() { echo "$1" >&7; local r; read -r r <&8; echo "$r"; }
ask() {  # ask JSON: one request on a fresh connection
  python3 - "$S" "$1" <<'PY'
import socket, sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); f = c.makefile("rw")
f.write(sys.argv[2] + "\n"); f.flush(); print(f.readline().strip())
PY
}
jget() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(json.dumps(eval(sys.argv[1])))' "$1"; }
B=(busctl --system)
prop() { "${B[@]}" --json=short get-property org.flame.Flamed1 /org/flame/Flamed1 org.flame.Flamed1 "$1" | jget 'd["data"]'; }
hup() {  # hup: SIGHUP and wait for the reload to be logged
  local n
  n=$(grep -c "reloaded:" "$tmp/flamed.log" || true)
  kill -HUP "$pid"
  for _ in $(seq 100); do
    (($(grep -c "reloaded:\|reload failed" "$tmp/flamed.log" || true) > n)) && return 0
    sleep 0.05
  done
  fail "no reload logged"
}

gpu_rel=sys/devices/17000000.gp10b/devfreq/17000000.gp10b  # the simulated TX2's GPU (flame sim tree)
[[ -f "$tmp/tree/$gpu_rel/min_freq" ]] || fail "no GPU devfreq at $gpu_rel"
cpu_rel=sys/devices/system/cpu/cpufreq/policy0
same() { [[ -f "$tmp/tree/$1" ]] || fail "no $1"; cmp -s "$tmp/tree.orig/$1" "$tmp/tree/$1"; }

write_config
sim_start_flamed "$tmp" "$tmp/flamed.log"
for _ in $(seq 100); do "${B[@]}" status org.flame.Flamed1 >/dev/null 2>&1 && break; sleep 0.05; done
client

# A learned calibration bucket; then a held request with a tight deadline pins every domain.
for i in 10 11 12; do
  p=$(call "{\"op\":\"begin\",\"id\":$i,\"model\":\"inceptionv3-200\",\"deadline_ms\":200}" | jget 'd["predicted_ms"]')
  call "{\"op\":\"end\",\"id\":$i,\"latency_ms\":$(python3 -c "print($p*1.2)")}" >/dev/null
done
r=$(call '{"op":"begin","id":1,"model":"inceptionv3-200","deadline_ms":60}')
[[ $(jget 'd["ok"]' <<<"$r") == true ]] || fail "begin: $r"
same "$gpu_rel/min_freq" && fail "the GPU is not pinned"
same "$cpu_rel/scaling_max_freq" && same "$cpu_rel/scaling_min_freq" && fail "the CPU is not pinned"
factor=$(ask '{"op":"status"}' | jget '[v for k, v in d["calibration"].items() if k.startswith("inceptionv3-200@")][0]["factor"]')
python3 -c "assert $factor > 1.0, $factor"
echo "held request pins CPU and GPU; calibration factor $factor"

# domains.gpu.enabled: false -> GPU back to its baseline, not controlled on D-Bus, never written again.
write_config domains.gpu.enabled=false
hup
same "$gpu_rel/min_freq" && same "$gpu_rel/max_freq" || fail "the disabled GPU stays pinned"
[[ $(prop Domains | jget '[x[4] for x in d if x[0]=="gpu"][0]') == false ]] || fail "D-Bus: GPU still controlled"
call '{"op":"begin","id":2,"model":"inceptionv3-200","deadline_ms":45}' >/dev/null
same "$gpu_rel/min_freq" || fail "a begin wrote the disabled GPU"
same "$cpu_rel/scaling_min_freq" && fail "the CPU is no longer pinned"
call '{"op":"end","id":2}' >/dev/null
echo "domains.gpu.enabled: false: GPU restored and left alone"

# domains.cpu.max_khz: the held request is re-applied under the new cap; D-Bus lists the capped table.
cap=$(tr ' ' '\n' <"$tmp/tree/$cpu_rel/scaling_available_frequencies" | grep . | sort -n | sed -n 3p)
write_config domains.gpu.enabled=false domains.cpu.max_khz="$cap"
hup
(($(cat "$tmp/tree/$cpu_rel/scaling_max_freq") <= cap)) || fail "CPU above the new cap: $(cat "$tmp/tree/$cpu_rel/scaling_max_freq") > $cap"
[[ $(prop Domains | jget "max([x[5] for x in d if x[0]=='cpu'][0]) == $cap") == true ]] || fail "D-Bus: CPU table not capped"
python3 -c "assert $(ask '{"op":"status"}' | jget 'd["applied"]["cpu_khz"]') <= $cap"
echo "domains.cpu.max_khz: $cap applied to the tree, D-Bus and status"

# dry_run: true -> baseline back, Degraded says so, a begin writes nothing; false -> writes again.
write_config dry_run=true
hup
diff -r --no-dereference -x scaling_cur_freq -x cpuinfo_cur_freq -x cur_freq -x target_freq -x in_power0_input \
  -x in_current0_input -x ui_input_0 -x temp "$tmp/tree.orig" "$tmp/tree" >/dev/null || fail "dry_run: the tree is not back to its baseline"
prop Degraded | grep -q "dry run" || fail "D-Bus Degraded does not say dry run"
call '{"op":"begin","id":3,"model":"inceptionv3-200","deadline_ms":45}' >/dev/null
same "$gpu_rel/min_freq" && same "$cpu_rel/scaling_min_freq" || fail "dry_run: a begin wrote the tree"
write_config dry_run=false
hup
same "$gpu_rel/min_freq" && fail "dry_run: false: the held requests are not applied again"
[[ $(prop Degraded) == '""' ]] || fail "Degraded: $(prop Degraded)"
call '{"op":"end","id":3}' >/dev/null
echo "dry_run: true writes nothing and restores; false applies again"

# recalibration.*: new options, the learned bucket kept (max_factor below it clamps it). Request 1
# ends first: a request run faster by another's hold does not recalibrate.
call '{"op":"end","id":1}' >/dev/null
write_config recalibration.max_factor=1.05 recalibration.alpha=1
hup
f2=$(ask '{"op":"status"}' | jget '[v for k, v in d["calibration"].items() if k.startswith("inceptionv3-200@")][0]["factor"]')
python3 -c "assert abs($f2 - min($factor, 1.05)) < 1e-12, $f2"
[[ $(prop Calibration | jget 'round([v for k, v in d.items() if k.startswith("inceptionv3-200@")][0], 12)') == $(python3 -c "print(round($f2, 12))") ]] || fail "D-Bus calibration"
p=$(call '{"op":"begin","id":4,"model":"inceptionv3-200","deadline_ms":200}' | jget 'd["predicted_ms"]')
r=$(call "{\"op\":\"end\",\"id\":4,\"latency_ms\":$(python3 -c "print($p/$f2*0.9)")}")
[[ $(jget 'd["calibration"]["updated"]' <<<"$r") == true ]] || fail "end: $r"
python3 -c "assert abs($(jget 'd["calibration"]["factor"]' <<<"$r") - 0.9) < 1e-9"  # alpha 1: the last ratio
echo "recalibration.*: applied, learned factor $factor kept (clamped to $f2)"

# limits.*, safety_margin_pct, request_expiry_ms: the next requests follow.
write_config limits.max_requests_per_client=1 safety_margin_pct=20 request_expiry_ms=5000
hup
call '{"op":"begin","id":5,"model":"inceptionv3-200","deadline_ms":200}' >/dev/null
r=$(call '{"op":"begin","id":51,"model":"inceptionv3-200","deadline_ms":200}')
[[ $(jget 'd.get("error")' <<<"$r") == '"too many active requests on this connection"' ]] || fail "limits: $r"
r=$(ask '{"op":"begin","id":6,"model":"inceptionv3-200","deadline_ms":200}')
python3 -c "assert $(jget 'd["margin_pct"]' <<<"$r") > 19.999"
echo "limits.max_requests_per_client, safety_margin_pct: applied"

# metrics.*: the text file appears; models_dir: the new set; state_dir: calibration written there.
write_config limits.max_requests_per_client=1 metrics.textfile="$tmp/metrics.prom" metrics.interval_s=1 \
  models_dir="$tmp/models2" state_dir="$tmp/state2" socket_mode='"0600"' socket_group=root
hup
for _ in $(seq 60); do [[ -s "$tmp/metrics.prom" ]] && break; sleep 0.1; done
grep -q "flamed_requests_total" "$tmp/metrics.prom" || fail "metrics.textfile not written"
[[ $(prop Models) == '["inceptionv3-200", "xception-200"]' ]] || fail "D-Bus Models: $(prop Models)"
[[ $(ask '{"op":"status"}' | jget 'sorted(d["models"])') == '["inceptionv3-200", "xception-200"]' ]] || fail "status models"
[[ $(stat -c %a "$S") == 600 && $(stat -c %G "$S") == root ]] || fail "socket access: $(stat -c '%a %G' "$S")"
echo "metrics.*, models_dir, socket_mode, socket_group: applied"

# Restart-only keys: each reported, none applied.
write_config limits.max_requests_per_client=1 models_dir="$tmp/models2" state_dir="$tmp/state2" \
  sysfs_root=/nonexistent socket_path="$tmp/other.sock" runtime_dir="$tmp/run2" board_file=/dev/null \
  dbus=false simulation_clock=true
hup
for k in sysfs_root socket_path runtime_dir board_file dbus simulation_clock; do
  grep -q "reload: $k changed but needs a restart" "$tmp/flamed.log" || fail "$k not reported as needing a restart"
done
[[ -S "$S" && ! -e "$tmp/other.sock" ]] || fail "socket_path changed without a restart"
"${B[@]}" status org.flame.Flamed1 >/dev/null || fail "dbus: false applied without a restart"
r=$(ask '{"op":"begin","id":7,"model":"xception-200","deadline_ms":200}')
[[ $(jget 'd["ok"]' <<<"$r") == true ]] || fail "simulation_clock applied without a restart: $r"
echo "restart-only keys reported and kept"

exec 7>&- 8<&-
kill -TERM "$pid"
wait "$pid"
pid=""
[[ -s "$tmp/state2/calibration.json" ]] || fail "calibration not persisted to the new state_dir"
echo "state_dir: calibration persisted to the new directory"
