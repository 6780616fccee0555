#!/usr/bin/env bash
# org.flame.Flamed1 end to end (docs/dbus.md): the real flamed on a fake Orin Nano tree, its system
# bus a private dbus-daemon ($DBUS_SYSTEM_BUS_ADDRESS). Every property read with busctl, the live
# introspection equal to docs/org.flame.Flamed1.xml, ActiveRequests and PropertiesChanged following
# socket requests, the <= 10 Hz signal rate under a request burst, SetEnabled/RestoreBaseline
# restoring the files byte for byte, Reload (good and bad), AccessDenied for an unprivileged
# caller, and D-Bus never being fatal: a second daemon that cannot own the name, a bus that does
# not exist and dbus: false all keep serving the socket. SIGTERM: exit 0 with the files restored.
set -euo pipefail
: "${FLAMED:?flamed is not built}" "${FLAME:?}" "${FLAME_BUILD_DIR:?}" "${FLAME_SOURCE_DIR:?}"
for tool in dbus-daemon dbus-send busctl python3; do
  command -v "$tool" >/dev/null || { echo "dbus_api: $tool is missing (tools/setup.sh installs it)" >&2; exit 1; }
done

tmp=$(mktemp -d)
chmod 755 "$tmp"  # the unprivileged caller must reach the bus socket
bus_pid="" flamed_pid="" monitor_pid="" client_pid=""
cleanup() {
  local p
  for p in "$client_pid" "$monitor_pid" "$flamed_pid" "$bus_pid"; do
    [[ -n "$p" ]] && kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "dbus_api: FAIL: $*" >&2
  for f in "$tmp"/*.log; do
    [[ -f "$f" ]] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
  done
  exit 1
}

# --- A private bus (tests/integration/lib/private_bus.sh).
source "$(dirname "$0")/lib/private_bus.sh"
start_private_bus "$tmp" || fail "dbus-daemon did not start"
echo "private bus: $DBUS_SYSTEM_BUS_ADDRESS (pid $bus_pid)"

# --- A fake Jetson, one small layer-wise model, a configuration.
"$FLAME_BUILD_DIR/tests/flame_fake_sysfs" orin-nano-jp6 "$tmp/root" >/dev/null
cp -a "$tmp/root" "$tmp/root.orig"
mkdir -p "$tmp/models" "$tmp/state" "$tmp/run"
# The served model comes from the CLI (a layer-wise fit on the synthetic Orin Nano from real ResNet-50
# segments); the one Reload picks up later is a shipped example.
"$FLAME" model synth --config resnet50_b1_float32 --name resnet50 --out "$tmp/models/resnet50.yaml" >/dev/null \
  || fail "flame model synth"
config() {  # config DIR NAME DBUS: a configuration whose paths live in DIR (the board file lists EMC rates)
  cat <<YAML
sysfs_root: $1/root
socket_path: $1/$2.sock
socket_group: ""
models_dir: $1/models
state_dir: $1/state
runtime_dir: $1/run
board_file: $FLAME_SOURCE_DIR/config/boards/orin-nano-8gb-super.yaml
dbus: $3
log_level: debug
request_expiry_ms: 60000
limits: {rate_per_s: 100000, rate_burst: 100000}  # the burst below must not be throttled
YAML
}
config "$tmp" flamed true >"$tmp/flamed.yaml"
sock="$tmp/flamed.sock"

wait_for_socket() {  # wait_for_socket PATH PID
  local i
  for i in $(seq 300); do
    [[ -S "$1" ]] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
ask() {  # ask SOCKET JSON: one request on a fresh connection, prints the reply
  python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.write(sys.argv[2] + "\n"); f.flush()
print(f.readline().strip())
PY
}
json_get() {  # json_get EXPR: evaluate EXPR on the JSON document `d` read from stdin
  python3 -c 'import json, sys; d = json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))' "$1"
}
B=(busctl --system)
CTL="$FLAME_BUILD_DIR/tools/flamectl/flamectl"
OBJ=(org.flame.Flamed1 /org/flame/Flamed1)
prop() {  # prop NAME: the property's value as JSON
  "${B[@]}" --json=short get-property "${OBJ[@]}" org.flame.Flamed1 "$1" | json_get 'd["data"]'
}
wait_prop() {  # wait_prop NAME JSON: poll until the property equals JSON
  local i v
  for i in $(seq 100); do
    v=$(prop "$1") && [[ "$v" == "$2" ]] && return 0
    sleep 0.05
  done
  fail "$1 is $v, expected $2"
}
tree_same() { diff -r --no-dereference "$tmp/root.orig" "$tmp/root" >/dev/null; }

# --- Start flamed and wait for its name.
"$FLAMED" --config "$tmp/flamed.yaml" >"$tmp/flamed.log" 2>&1 &
flamed_pid=$!
wait_for_socket "$sock" "$flamed_pid" || fail "flamed did not start"
for i in $(seq 100); do
  "${B[@]}" status org.flame.Flamed1 >/dev/null 2>&1 && break
  sleep 0.05
done
"${B[@]}" status org.flame.Flamed1 >/dev/null 2>&1 || fail "org.flame.Flamed1 did not appear on the bus"
grep -q "D-Bus: serving org.flame.Flamed1" "$tmp/flamed.log" || fail "no 'serving' log line"
echo "flamed $flamed_pid owns org.flame.Flamed1"

# --- Every property, with its signature.
declare -A SIG=([Version]=s [Board]=s [Domains]='a(ssssbat)' [CurrentClocks]='a{sd}' [ActiveRequests]=u
  [Models]=as [Degraded]=s [Calibration]='a{sd}' [Enabled]=b)
for p in "${!SIG[@]}"; do
  out=$("${B[@]}" --json=short get-property "${OBJ[@]}" org.flame.Flamed1 "$p") || fail "get-property $p"
  [[ $(json_get 'd["type"]' <<<"$out") == "\"${SIG[$p]}\"" ]] || fail "$p has type $(json_get 'd["type"]' <<<"$out")"
  echo "  $p = $(json_get 'd["data"]' <<<"$out")"
done
version=$("$FLAMED" --version | awk '{print $NF}')
[[ $(prop Version) == "\"$version\"" ]] || fail "Version $(prop Version) != $version"
prop Board | grep -q "tegra234" || fail "Board does not name the SoC"
[[ $(prop ActiveRequests) == 0 ]] || fail "ActiveRequests not 0 at start"
[[ $(prop Models) == '["resnet50"]' ]] || fail "Models: $(prop Models)"
[[ $(prop Enabled) == true ]] || fail "Enabled: $(prop Enabled)"
[[ $(prop Degraded) == '""' ]] || fail "Degraded at start: $(prop Degraded)"
[[ $(prop Calibration) == '{}' ]] || fail "Calibration at start: $(prop Calibration)"
prop Domains | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [x[0] for x in d] == ["cpu", "gpu", "emc"], d
assert [x[1] for x in d] == ["kHz", "Hz", "Hz"], d
for name, unit, status, reason, controlled, freqs in d:
    assert status == "active" and reason == "" and controlled, (name, status, reason)
    assert len(freqs) >= 2 and freqs == sorted(freqs), (name, freqs)
' || fail "Domains: $(prop Domains)"
prop CurrentClocks | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert set(c) == {"cpu_khz", "cpu_cores", "gpu_hz", "emc_hz"}, c
assert c["cpu_khz"] > 0 and c["gpu_hz"] > 0 and c["emc_hz"] > 0, c
' || fail "CurrentClocks: $(prop CurrentClocks)"
baseline_clocks=$(prop CurrentClocks)
# GetAll answers too (what most clients use).
"${B[@]}" call "${OBJ[@]}" org.freedesktop.DBus.Properties GetAll s org.flame.Flamed1 | grep -q ActiveRequests \
  || fail "GetAll"

# --- Introspection: the table, and the interface equal to the shipped XML.
"${B[@]}" introspect "${OBJ[@]}" org.flame.Flamed1 >"$tmp/introspect.txt" || fail "introspect"
for m in .Reload .RestoreBaseline .SetEnabled; do grep -q "^$m " "$tmp/introspect.txt" || fail "no method $m"; done
grep -Eq '^\.SetEnabled +method +b +- ' "$tmp/introspect.txt" || fail "SetEnabled signature"
for p in "${!SIG[@]}"; do
  grep -Eq "^\\.$p +property +[^ ]+ " "$tmp/introspect.txt" || fail "introspect lacks $p"
done
"${B[@]}" --xml-interface introspect "${OBJ[@]}" >"$tmp/introspect.xml" || fail "introspect --xml-interface"
python3 - "$tmp/introspect.xml" "$FLAME_SOURCE_DIR/docs/org.flame.Flamed1.xml" <<'PY' || fail "live introspection differs from docs/org.flame.Flamed1.xml"
import sys, xml.etree.ElementTree as ET
def members(path):
    root = ET.parse(path).getroot()
    iface = [i for i in root.iter("interface") if i.get("name") == "org.flame.Flamed1"]
    assert len(iface) == 1, path
    out = set()
    for m in iface[0]:
        args = tuple((a.get("name"), a.get("type"), a.get("direction", "in")) for a in m.findall("arg"))
        notes = tuple(sorted((a.get("name"), a.get("value")) for a in m.findall("annotation")))
        out.add((m.tag, m.get("name"), m.get("type"), m.get("access"), args, notes))
    return out
live, doc = members(sys.argv[1]), members(sys.argv[2])
if live != doc:
    print("only live:", sorted(live - doc, key=str), "\nonly in docs:", sorted(doc - live, key=str))
    sys.exit(1)
PY
echo "introspection matches docs/org.flame.Flamed1.xml"

# --- A monitor on the bus; marker calls order its output against our actions.
stdbuf -oL busctl --system --json=short monitor >"$tmp/monitor.jsonl" 2>"$tmp/monitor.log" &
monitor_pid=$!
marker() {  # marker NAME: a method call the monitor records; returns once it has
  local i
  "${B[@]}" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s "marker-$1" \
    >/dev/null
  for i in $(seq 100); do
    grep -q "\"marker-$1\"" "$tmp/monitor.jsonl" 2>/dev/null && return 0
    sleep 0.05
    "${B[@]}" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s "marker-$1" \
      >/dev/null
  done
  fail "the monitor did not see marker $1"
}
signals_between() {  # signals_between A B: PropertiesChanged payloads (JSON lines) between markers
  python3 - "$tmp/monitor.jsonl" "marker-$1" "marker-$2" <<'PY'
import json, sys
path, a, b = sys.argv[1:]
state = 0
for line in open(path):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    data = (m.get("payload") or {}).get("data") or []
    if m.get("member") == "NameHasOwner" and data[:1] == [a] and state == 0:
        state = 1
    elif m.get("member") == "NameHasOwner" and data[:1] == [b] and state == 1:
        break
    elif state == 1 and m.get("member") == "PropertiesChanged" and m.get("path") == "/org/flame/Flamed1":
        print(json.dumps(data))
PY
}
marker start

# --- A begin on a held connection: ActiveRequests 1, clocks written, PropertiesChanged sent.
coproc CLIENT { python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
for line in sys.stdin:
    f.write(line); f.flush(); print(f.readline().strip(), flush=True)
' "$sock"; }
client_pid=$CLIENT_PID
echo '{"op":"begin","id":1,"model":"resnet50","deadline_ms":30}' >&"${CLIENT[1]}"
read -r -t 10 reply <&"${CLIENT[0]}" || fail "no reply to begin"
[[ $(json_get 'd["ok"]' <<<"$reply") == true ]] || fail "begin: $reply"
wait_prop ActiveRequests 1
tree_same && fail "begin changed no file in the fake tree"
[[ $(prop CurrentClocks) != "$baseline_clocks" ]] || fail "CurrentClocks did not follow the begin"
sleep 0.3
marker begun
signals_between start begun >"$tmp/begin.signals"
python3 - "$tmp/begin.signals" <<'PY' || fail "no PropertiesChanged with ActiveRequests=1: $(cat "$tmp/begin.signals")"
import json, sys
seen = [json.loads(l) for l in open(sys.argv[1])]
assert any(s[0] == "org.flame.Flamed1" and s[1].get("ActiveRequests", {}).get("data") == 1 and
           "CurrentClocks" in s[1] for s in seen), seen
PY
echo "begin: ActiveRequests 1, clocks written, PropertiesChanged received"

# --- 1.5 s of back-to-back begin/end pairs (each one changes ActiveRequests): PropertiesChanged
# keeps coming during the burst, at <= 10 Hz.
marker burst
burst=$(python3 - "$sock" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
t = time.monotonic()
i = 0
while time.monotonic() - t < 1.5:
    f.write('{"op":"begin","id":%d,"model":"resnet50","deadline_ms":%d}\n' % (100 + i, 20 + i % 40)); f.flush()
    r = f.readline(); assert '"ok":true' in r, r
    f.write('{"op":"end","id":%d,"latency_ms":%d}\n' % (100 + i, 15 + i % 7)); f.flush()
    r = f.readline(); assert '"ok":true' in r, r
    i += 1
print(2 * i, time.monotonic() - t)
PY
) || fail "burst"
read -r requests elapsed <<<"$burst"
sleep 0.3
marker burst-end
n=$(signals_between burst burst-end | wc -l)
limit=$(python3 -c "import math; print(math.ceil(($elapsed + 0.3) * 10) + 2)")
echo "burst: $requests requests in ${elapsed}s -> $n PropertiesChanged (at least 5, at most $limit)"
((n >= 5 && n <= limit)) || fail "$n PropertiesChanged for the burst (expected 5..$limit)"
wait_prop ActiveRequests 1  # the held request is still there
prop Calibration | grep -q resnet50 || fail "Calibration has no resnet50 bucket after ends with latencies"

# --- Privileged methods: an unprivileged caller is refused and changes nothing.
if command -v setpriv >/dev/null && [[ $(id -u) == 0 ]]; then
  nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  "${nobody[@]}" busctl --system get-property "${OBJ[@]}" org.flame.Flamed1 ActiveRequests >/dev/null \
    || fail "an unprivileged caller cannot read properties"
  for call in "SetEnabled boolean:false" "RestoreBaseline" "Reload"; do
    read -r method args <<<"$call"
    # shellcheck disable=SC2086
    if "${nobody[@]}" dbus-send --system --print-reply --dest=org.flame.Flamed1 /org/flame/Flamed1 \
      "org.flame.Flamed1.$method" $args >"$tmp/denied.out" 2>&1; then
      fail "nobody could call $call"
    fi
    grep -q "org.freedesktop.DBus.Error.AccessDenied" "$tmp/denied.out" || fail "$call as nobody: $(cat "$tmp/denied.out")"
  done
  # flamectl says why, with its documented exit code (3) and reason.
  set +e
  "${nobody[@]}" "$CTL" --json reload >"$tmp/denied.json" 2>"$tmp/denied.err"
  rc=$?
  set -e
  [[ $rc == 3 ]] || fail "flamectl reload as nobody: exit $rc"
  grep -q "Reload() is privileged: run flamectl as root" "$tmp/denied.err" || fail "denied: $(cat "$tmp/denied.err")"
  [[ $(json_get 'd["reason"]' <"$tmp/denied.json") == '"access-denied"' ]] || fail "denied --json: $(cat "$tmp/denied.json")"
  grep -q "called by" "$tmp/flamed.log" && fail "a refused call reached its handler"
  wait_prop ActiveRequests 1
  [[ $(prop Enabled) == true ]] || fail "a refused SetEnabled changed Enabled"
  echo "unprivileged caller: properties readable, SetEnabled/RestoreBaseline/Reload AccessDenied"
else
  echo "unprivileged caller: not tested (needs root and setpriv)"
fi

# --- SetEnabled(false): holds released, files restored byte for byte, begin refused.
marker disable
"${B[@]}" call "${OBJ[@]}" org.flame.Flamed1 SetEnabled b false || fail "SetEnabled false"
wait_prop ActiveRequests 0
wait_prop Enabled false
tree_same || { diff -r "$tmp/root.orig" "$tmp/root" >&2 || true; fail "SetEnabled(false) did not restore the files"; }
prop Degraded | grep -q disabled || fail "Degraded does not say disabled: $(prop Degraded)"
[[ $(prop CurrentClocks) == "$baseline_clocks" ]] || fail "CurrentClocks $(prop CurrentClocks) != $baseline_clocks"
r=$(ask "$sock" '{"op":"begin","id":2,"model":"resnet50","deadline_ms":30}')
[[ $(json_get 'd["ok"], d["error"]' <<<"$r") == '[false, "disabled"]' ]] || fail "begin while disabled: $r"
tree_same || fail "a refused begin touched the files"
sleep 0.3
marker disabled
signals_between disable disabled | grep -q '"Enabled"' || fail "no PropertiesChanged for Enabled"
echo "SetEnabled(false): holds released, files restored, begin refused"

# --- SetEnabled(true) (through flamectl), then RestoreBaseline drops holds and restores.
"$CTL" enable | grep -q "flamed enabled" || fail "flamectl enable"
wait_prop Enabled true
[[ $(prop Degraded) == '""' ]] || fail "Degraded after re-enabling: $(prop Degraded)"
echo '{"op":"begin","id":3,"model":"resnet50","deadline_ms":30}' >&"${CLIENT[1]}"
read -r -t 10 reply <&"${CLIENT[0]}" || fail "no reply to begin after enabling"
[[ $(json_get 'd["ok"]' <<<"$reply") == true ]] || fail "begin after enabling: $reply"
wait_prop ActiveRequests 1
tree_same && fail "begin after enabling changed no file"
[[ $("$CTL" --json restore) == '{"method":"RestoreBaseline","ok":true}' ]] || fail "flamectl restore"
wait_prop ActiveRequests 0
tree_same || fail "RestoreBaseline did not restore the files"
wait_prop Enabled true
echo "RestoreBaseline: holds released, files restored, still enabled"

# --- Reload: a new model appears; a broken configuration is refused with the reason.
cp "$FLAME_SOURCE_DIR/config/models/mobilenet_v3_small.yaml" "$tmp/models/"
"$CTL" reload >/dev/null || fail "flamectl reload"
wait_prop Models '["mobilenet_v3_small", "resnet50"]'
cp "$tmp/flamed.yaml" "$tmp/flamed.yaml.good"
echo "safety_margin_pct: lots" >>"$tmp/flamed.yaml"
if "${B[@]}" call "${OBJ[@]}" org.flame.Flamed1 Reload >"$tmp/reload.out" 2>&1; then
  fail "Reload of a broken configuration succeeded"
fi
grep -q "safety_margin_pct" "$tmp/reload.out" || fail "Reload error does not name the key: $(cat "$tmp/reload.out")"
set +e
"$CTL" reload 2>"$tmp/reload.err"
rc=$?
set -e
[[ $rc == 1 ]] && grep -q "flamed: Reload() failed: .*safety_margin_pct" "$tmp/reload.err" \
  || fail "flamectl reload of a broken file: exit $rc, $(cat "$tmp/reload.err")"
cp "$tmp/flamed.yaml.good" "$tmp/flamed.yaml"
wait_prop Models '["mobilenet_v3_small", "resnet50"]'
echo "Reload: models reloaded; a broken file refused with its reason"

# --- D-Bus is never fatal: a second flamed cannot own the name and serves its socket anyway.
mkdir -p "$tmp/b/models" "$tmp/b/state" "$tmp/b/run"
"$FLAME_BUILD_DIR/tests/flame_fake_sysfs" orin-nano-jp6 "$tmp/b/root" >/dev/null
cp "$tmp/models/resnet50.yaml" "$tmp/b/models/"
config "$tmp/b" second true >"$tmp/b/flamed.yaml"
"$FLAMED" --config "$tmp/b/flamed.yaml" >"$tmp/second.log" 2>&1 &
second=$!
wait_for_socket "$tmp/b/second.sock" "$second" || fail "second flamed did not start"
for i in $(seq 100); do
  grep -q "continuing without D-Bus" "$tmp/second.log" && break
  sleep 0.05
done
grep -q "already owned" "$tmp/second.log" || fail "second flamed did not report the name as taken"
[[ $(ask "$tmp/b/second.sock" '{"op":"status"}' | json_get 'd["ok"]') == true ]] || fail "second flamed status"
kill -TERM "$second"
wait "$second" || fail "second flamed exited $?"
[[ $(prop Enabled) == true ]] || fail "the first flamed lost its name"

# ... nor is a bus that does not exist, nor dbus: false.
for variant in nobus off; do
  rm -rf "$tmp/c" && mkdir -p "$tmp/c/models" "$tmp/c/state" "$tmp/c/run"
  "$FLAME_BUILD_DIR/tests/flame_fake_sysfs" orin-nano-jp6 "$tmp/c/root" >/dev/null
  if [[ $variant == nobus ]]; then
    config "$tmp/c" third true >"$tmp/c/flamed.yaml"
    DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/no-such-bus" "$FLAMED" --config "$tmp/c/flamed.yaml" \
      >"$tmp/third.log" 2>&1 &
  else
    config "$tmp/c" third false >"$tmp/c/flamed.yaml"
    "$FLAMED" --config "$tmp/c/flamed.yaml" >"$tmp/third.log" 2>&1 &
  fi
  third=$!
  wait_for_socket "$tmp/c/third.sock" "$third" || fail "flamed ($variant) did not start"
  [[ $(ask "$tmp/c/third.sock" '{"op":"status"}' | json_get 'd["ok"]') == true ]] || fail "$variant: status"
  if [[ $variant == nobus ]]; then
    grep -q "cannot connect to the system bus.*continuing without D-Bus" "$tmp/third.log" || fail "nobus: no log"
  else
    grep -q "D-Bus: off" "$tmp/third.log" || fail "dbus: false: no log"
  fi
  kill -TERM "$third"
  wait "$third" || fail "flamed ($variant) exited $?"
done
echo "D-Bus failures are not fatal (name taken, no bus, dbus: false)"

# --- SIGTERM with a request held: exit 0, files restored, the name released.
echo '{"op":"begin","id":4,"model":"resnet50","deadline_ms":30}' >&"${CLIENT[1]}"
read -r -t 10 reply <&"${CLIENT[0]}" || fail "no reply to the last begin"
wait_prop ActiveRequests 1
tree_same && fail "the last begin changed no file"
kill -TERM "$flamed_pid"
rc=0
wait "$flamed_pid" || rc=$?
flamed_pid=""
((rc == 0)) || fail "flamed exited $rc on SIGTERM"
tree_same || fail "files not restored at SIGTERM"
if "${B[@]}" status org.flame.Flamed1 >/dev/null 2>&1; then fail "org.flame.Flamed1 still owned after exit"; fi
set +e
"$CTL" restore 2>"$tmp/gone.err"
rc=$?
set -e
[[ $rc == 3 ]] && grep -q "flamed is not on the system bus" "$tmp/gone.err" || fail "flamectl restore, no flamed: $rc"
echo "SIGTERM: exit 0, files restored, name released"
echo "dbus_api: OK"
