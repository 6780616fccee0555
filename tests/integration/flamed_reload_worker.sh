#!/usr/bin/env bash
# A reload reads its files off the event loop. The configuration file is replaced by a FIFO, so a
# SIGHUP's (and then a D-Bus Reload()'s) read blocks until the test writes it: meanwhile the real
# flamed must keep answering on its socket (begin/end, status) and on the bus (property reads), the
# reload record must show the round as running, and Reload() must not have been answered. Once the
# file is written, both finish with the new configuration: `flamed --reload` and Reload() return
# success and the new key is in force. A round still waiting on its file at SIGTERM does not hold
# the shutdown.
set -euo pipefail
for tool in dbus-daemon busctl python3 mkfifo; do
  command -v "$tool" >/dev/null || { echo "flamed_reload_worker: $tool is missing (tools/setup.sh installs it)" >&2; exit 1; }
done
source "$FLAME_SOURCE_DIR/tests/integration/lib/flamed_env.sh"
source "$FLAME_SOURCE_DIR/tests/integration/lib/private_bus.sh"
bus_pid="" call_pid=""
trap 'kill $call_pid $bus_pid 2>/dev/null || true; cleanup' EXIT
fail() {
  echo "flamed_reload_worker: FAIL: $*" >&2
  tail -n 40 "$LOG" >&2
  exit 1
}
start_private_bus "$T" || fail "dbus-daemon did not start"

write_config "dbus: true" "limits: {rate_per_s: 100000, rate_burst: 100000}"
sed -i '/^dbus: false$/d' "$CFG"
cp "$CFG" "$T/base.yaml"
start_flamed
B=(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" --timeout=60)
OBJ=(org.flame.Flamed1 /org/flame/Flamed1)
for _ in $(seq 100); do "${B[@]}" get-property "${OBJ[@]}" org.flame.Flamed1 Version >/dev/null 2>&1 && break; sleep 0.05; done
"${B[@]}" get-property "${OBJ[@]}" org.flame.Flamed1 Version >/dev/null || fail "flamed is not on the bus"

record() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["generation"], r.get("running", False), r["ok"])' "$T/run/reload.json"; }
# serve: a begin/end pair and a status, each answered (the loop is not blocked).
serve() {
  python3 - "$SOCK" <<'PY'
import sys
from wire import Connection
req = Connection(sys.argv[1], 5).req
assert req(op="hello", proto=1, app="worker")["ok"]
r = req(op="begin", id=1, model="resnet50", deadline_ms=400); assert r["ok"], r
margin = r["margin_pct"]
r = req(op="end", id=1, latency_ms=20); assert r["ok"], r
r = req(op="status"); assert r["ok"], r
print(round(margin, 3))
PY
}
# hold_config: the next read of the configuration blocks until release_config writes it.
hold_config() { rm -f "$CFG" && mkfifo "$CFG"; }
feed_config() {  # feed_config FILE: write FILE into the FIFO (returns once flamed has opened it)
  timeout 30 sh -c 'cat "$1" >"$2"' _ "$1" "$CFG" || fail "flamed never read the configuration"
}
release_config() {  # release_config FILE: feed it, then leave it as a regular file
  feed_config "$1"
  rm -f "$CFG" && cp "$1" "$CFG"
}
wait_record() {  # wait_record GENERATION RUNNING
  for _ in $(seq 200); do [[ "$(record)" == "$1 $2 "* ]] && return 0; sleep 0.05; done
  fail "reload record: want generation $1 running $2, have $(record)"
}
[[ "$(record)" == "0 False True" ]] || fail "record at start: $(record)"

# --- SIGHUP: the loop serves while the worker waits on the file.
hold_config
kill -HUP "$FLAMED_PID"
wait_record 1 True
m=$(serve) || fail "the socket was not served while the configuration was being read"
[[ $m != 23.0 ]] || fail "the margin is already the new one"
"${B[@]}" get-property "${OBJ[@]}" org.flame.Flamed1 ActiveRequests >/dev/null \
  || fail "the bus was not served while the configuration was being read"
cp "$T/base.yaml" "$T/next.yaml"
echo "safety_margin_pct: 23" >>"$T/next.yaml"
release_config "$T/next.yaml"
wait_record 1 False
[[ "$(record)" == "1 False True" ]] || fail "the SIGHUP reload failed: $(record)"
[[ $(serve) == 23.0 ]] || fail "the reloaded safety_margin_pct is not in force"
echo "SIGHUP: socket and bus served while the worker read; the new configuration swapped in"

# --- D-Bus Reload() is answered when its round is done, not before.
hold_config
"${B[@]}" call "${OBJ[@]}" org.flame.Flamed1 Reload >"$T/call.out" 2>&1 &
call_pid=$!
wait_record 2 True
serve >/dev/null || fail "the socket was not served during Reload()"
kill -0 "$call_pid" 2>/dev/null || fail "Reload() was answered before its files were read: $(cat "$T/call.out")"
# A broken configuration: the reply is the error, and the old configuration stays.
printf 'safety_margin_pct: -3\n' >"$T/broken.yaml"
cat "$T/base.yaml" >>"$T/broken.yaml"
release_config "$T/broken.yaml"
rc=0
wait "$call_pid" || rc=$?
call_pid=""
((rc != 0)) || fail "Reload() of a broken configuration succeeded"
grep -q "safety_margin_pct" "$T/call.out" || fail "Reload() error does not name the key: $(cat "$T/call.out")"
wait_record 2 False
[[ $(serve) == 23.0 ]] || fail "the refused reload changed the margin"
echo "Reload(): answered after its round, with the reason it failed"

# --- Requests during a round are served by the next one, which reads the file again.
hold_config
kill -HUP "$FLAMED_PID"
wait_record 3 True
kill -HUP "$FLAMED_PID"
sleep 0.2
feed_config "$T/next.yaml"  # round 3 reads it ...
wait_record 4 True          # ... and round 4 starts for the second signal and reads the FIFO again
release_config "$T/base.yaml"
wait_record 4 False
[[ "$(record)" == "4 False True" ]] || fail "the coalesced reload: $(record)"
echo "a signal during a round: one more round, which reads the files again"

# --- SIGTERM while a round waits on the file: the shutdown does not wait for it.
hold_config
kill -HUP "$FLAMED_PID"
wait_record 5 True
serve >/dev/null || fail "not serving during the last round"
kill -TERM "$FLAMED_PID"
for _ in $(seq 200); do kill -0 "$FLAMED_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$FLAMED_PID" 2>/dev/null && fail "flamed did not stop while a reload waited on its file"
wait "$FLAMED_PID" || fail "flamed exited non-zero on SIGTERM during a reload"
FLAMED_PID=
same_tree "$T/root.orig" "$ROOT" || fail "the clocks were not restored"
echo "SIGTERM during a reload: exit 0 at once, every file restored"
