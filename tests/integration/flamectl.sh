#!/usr/bin/env bash
# flamectl end to end against flamed on a fake Jetson tree (the protocol double when the daemon
# binary is absent): every subcommand in human and --json form, `run` (holds the request for the
# child's lifetime beyond the daemon's expiry, reports no latency unless --report-latency, returns
# its exit status),
# begin/end through the holder, and the messages for a daemon that is not running, refuses a
# model or denies access.
set -euo pipefail
: "${FLAME_BUILD_DIR:?}" "${FLAME_SOURCE_DIR:?}"
CTL="$FLAME_BUILD_DIR/tools/flamectl/flamectl"
source "$FLAME_SOURCE_DIR/tests/integration/lib/client_env.sh"
tmp=$(mktemp -d)
export XDG_RUNTIME_DIR="$tmp/xdg"
mkdir -m 700 "$XDG_RUNTIME_DIR"
trap 'flamed_stop; rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  [[ -f "$tmp/d/flamed.log" ]] && tail -20 "$tmp/d/flamed.log" >&2
  exit 1
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

flamed_setup "$tmp/d"
flamed_start "$tmp/d"
export FLAME_SOCKET="$FLAMED_SOCK"

# status / models / clocks
"$CTL" status >"$tmp/out" || fail "status exit $?"
grep -q "^active requests: 0" "$tmp/out" || fail "status: $(cat "$tmp/out")"
[[ $("$CTL" --json status | json 'd["ok"] and "applied" in d and "counters" in d') == True ]] || fail "status --json"
"$CTL" models | grep -q "^resnet50 " || fail "models"
[[ $("$CTL" --json models | json '"resnet50" in d["models"]') == True ]] || fail "models --json"
"$CTL" clocks | grep -q "^applied: CPU" || fail "clocks"
[[ $("$CTL" -j clocks | json 'sorted(d["applied"])') == "['cpu_cores', 'cpu_khz', 'emc_hz', 'gpu_hz']" ]] ||
  fail "clocks --json"
echo "status/models/clocks: ok"

counters() { "$CTL" --json status | json "d['counters']['$1']"; }

# run: the request is active while the child runs, longer than request_expiry_ms (1.5 s).
ends0=$(counters ends)
"$CTL" run --model resnet50 --deadline-ms 1000 -- sh -c "sleep 3.5; \"$CTL\" --json status --requests >'$tmp/inside.json'" ||
  fail "run exit $?"
[[ $(json 'len([a for a in d["requests"] if a["model"] == "resnet50"])' <"$tmp/inside.json") == 1 ]] ||
  fail "no active request during the child: $(cat "$tmp/inside.json")"
[[ $(counters ends) == $((ends0 + 1)) ]] || fail "run did not end its request"
[[ $("$CTL" --json status | json 'd["active_requests"]') == 0 ]] || fail "request left active after run"
echo "run holds the request for the child's lifetime: ok"

# A command's wall time is not an inference's latency (start-up, many inferences): by default run
# reports none, so flamed counts no deadline and leaves calibration alone.
calibration() { "$CTL" --json status | json 'json.dumps(d["calibration"], sort_keys=True)'; }
judged() { echo $(($(counters deadline_met) + $(counters deadline_missed))); }
judged0=$(judged) cal0=$(calibration) ends0=$(counters ends)
"$CTL" --json run -m resnet50 -d 1000 -- sleep 0.3 2>"$tmp/summary" || fail "run -- sleep 0.3"
[[ $(json 'd["latency_ms"] >= 300 and not d["latency_reported"] and d["end"]["ok"] and "calibration" not in d["end"]' \
  <"$tmp/summary") == True ]] || fail "run reported a latency: $(cat "$tmp/summary")"
[[ $(counters ends) == $((ends0 + 1)) ]] || fail "run -- sleep 0.3 did not end its request"
[[ $(judged) == "$judged0" ]] || fail "run without --report-latency counted a deadline met or missed"
[[ $(calibration) == "$cal0" ]] || fail "run without --report-latency changed calibration: $cal0 -> $(calibration)"
# --report-latency: the wall time is the latency flamed receives (its calibration bucket's last
# measured/predicted ratio times the uncorrected prediction, the begin's predicted_ms / factor).
"$CTL" --json run --report-latency -m resnet50 -d 1000 -- sleep 0.3 2>"$tmp/summary" || fail "run --report-latency"
[[ $(json 'd["latency_reported"] and "calibration" in d["end"]' <"$tmp/summary") == True ]] ||
  fail "run --report-latency: $(cat "$tmp/summary")"
[[ $(judged) == $((judged0 + 1)) ]] || fail "run --report-latency counted no deadline"
python3 - "$tmp/summary" "$(calibration)" <<'PY' || fail "flamed did not receive the wall time"
import json, sys
run = json.load(open(sys.argv[1]))
# flamed keys the bucket by the model file's digest: resnet50@<digest>.
bucket = next(v for k, v in json.loads(sys.argv[2]).items() if k.split("@")[0] == "resnet50")
received = bucket["last_ratio"] * run["begin"]["predicted_ms"] / run["begin"]["calibration"]
assert received >= 300 and abs(received - run["latency_ms"]) < 1e-6 * received, (received, run["latency_ms"])
PY
judged0=$(judged)
echo "run reports a latency only with --report-latency: ok"

# Exit statuses pass through; a failed child's wall time is not reported, even when asked.
set +e
"$CTL" run --report-latency -m resnet50 -d 1000 -- sh -c 'exit 3'
rc=$?
[[ $rc == 3 ]] || fail "exit status 3 became $rc"
"$CTL" run -m resnet50 -d 1000 -- sh -c 'kill -TERM $$'
rc=$?
[[ $rc == 143 ]] || fail "death by SIGTERM became $rc"
"$CTL" run -m resnet50 -d 1000 -- /nonexistent/command 2>"$tmp/err"
rc=$?
[[ $rc == 127 ]] && grep -q "cannot run /nonexistent/command" "$tmp/err" || fail "missing command: $rc"
set -e
[[ $(judged) == "$judged0" ]] || fail "failed runs reported latencies"
"$CTL" --json run -m resnet50 -d 1000 -- true 2>"$tmp/summary" || fail "run --json"
[[ $(json 'd["exit_code"] == 0 and d["held"] and d["end"]["ok"] and d["latency_ms"] > 0' <"$tmp/summary") == True ]] ||
  fail "run --json summary: $(cat "$tmp/summary")"
"$CTL" run -m resnet50 -d 1000 -v -- true 2>"$tmp/verbose"
grep -q "^request 1: CPU" "$tmp/verbose" && grep -q "exited with 0 .*no latency reported" "$tmp/verbose" ||
  fail "run -v: $(cat "$tmp/verbose")"
echo "run exit statuses and summaries: ok"

# begin / end through the holder, renewed past the expiry.
"$CTL" begin -m resnet50 -d 500 --id 9 >"$tmp/begin.out" || fail "begin"
grep -q "^request 9: " "$tmp/begin.out" && grep -q "flamectl end --id 9" "$tmp/begin.out" || fail "$(cat "$tmp/begin.out")"
sleep 3.5
[[ $("$CTL" --json status --requests | json '[a["id"] for a in d["requests"]]') == "[9]" ]] || fail "begin's request did not stay"
set +e
"$CTL" begin -m resnet50 -d 500 --id 9 2>"$tmp/err"
rc=$?
set -e
[[ $rc == 2 ]] && grep -q "already held" "$tmp/err" || fail "second begin --id 9: $rc"
"$CTL" end --id 9 --latency-ms 12.5 >"$tmp/end.out" || fail "end"
grep -q "^request 9 ended" "$tmp/end.out" || fail "$(cat "$tmp/end.out")"
[[ $("$CTL" --json status | json 'd["active_requests"]') == 0 ]] || fail "end left the request active"
set +e
"$CTL" end --id 9 2>"$tmp/err"
rc=$?
set -e
[[ $rc == 1 ]] && grep -q "no request 9 is held" "$tmp/err" || fail "end of an ended request: $rc"
[[ $("$CTL" --json begin -m resnet50 -d 500 --id 10 | json 'd["ok"] and d["id"] == 10') == True ]] || fail "begin --json"
[[ $("$CTL" --json end --id 10 | json 'd["ok"]') == True ]] || fail "end --json"
echo "begin/end: ok"

# The daemon refuses a model: run goes on without it unless --strict.
"$CTL" run -m no-such-model -d 30 -- true 2>"$tmp/err" || fail "run with an unknown model failed"
grep -q 'flamed refused the request: unknown model' "$tmp/err" || fail "$(cat "$tmp/err")"
set +e
"$CTL" run -m no-such-model -d 30 --strict -- true 2>/dev/null
rc=$?
"$CTL" begin -m no-such-model -d 30 2>/dev/null
rc2=$?
set -e
[[ $rc == 1 && $rc2 == 1 ]] || fail "--strict/begin with an unknown model: $rc $rc2"
echo "refusals: ok"

# D-Bus-only commands and usage errors.
set +e
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/no-such-bus" "$CTL" reload 2>"$tmp/err"
rc=$?
set -e
[[ $rc == 4 ]] && grep -q "cannot connect to the system bus" "$tmp/err" || fail "reload without a bus: $rc"
set +e
"$CTL" run -m resnet50 2>/dev/null
rc=$?
set -e
[[ $rc == 2 ]] || fail "usage error exit $rc"

# Not running.
absent="$tmp/absent.sock"
set +e
"$CTL" -s "$absent" status 2>"$tmp/err"
rc=$?
set -e
[[ $rc == 3 ]] && grep -qF "flamed is not running (no socket at $absent)" "$tmp/err" || fail "absent: $rc"
[[ $("$CTL" -s "$absent" --json status 2>/dev/null | json 'd["reason"]' || true) == not-running ]] || fail "absent --json"
"$CTL" -s "$absent" run -m resnet50 -d 30 -- true 2>"$tmp/err" || fail "run without a daemon must still run"
grep -q "running true without a deadline hint" "$tmp/err" || fail "$(cat "$tmp/err")"
set +e
"$CTL" -s "$absent" run -m resnet50 -d 30 --strict -- true 2>/dev/null
rc=$?
set -e
[[ $rc == 3 ]] || fail "run --strict without a daemon: $rc"
echo "not running: ok"

# Access denied: the socket is root's, mode 0660, and nobody is not in its group.
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  chmod 755 "$tmp" "$tmp/d"
  [[ $(stat -c %a "$FLAMED_SOCK") == 660 ]] || fail "socket mode $(stat -c %a "$FLAMED_SOCK")"
  set +e
  setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_RUNTIME_DIR= "$CTL" status 2>"$tmp/err"
  rc=$?
  set -e
  [[ $rc == 3 ]] && grep -qF "permission denied on $FLAMED_SOCK (join group 'flame'" "$tmp/err" ||
    fail "denied: $rc $(cat "$tmp/err")"
  echo "access denied: ok"
fi
flamed_stop
echo "ok ($FLAMED_KIND daemon)"
