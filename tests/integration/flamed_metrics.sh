#!/usr/bin/env bash
# The real flamed's metrics.textfile after requests over its socket: `promtool check metrics`
# (parse and lint) passes, and the values match what the clients did: deadlines met and missed per
# model, the latency/deadline histogram (count = ends with a latency, le="1" = met), active
# requests and the build version. docs/config.md, "Metrics".
set -euo pipefail
command -v promtool >/dev/null || {
  echo "flamed_metrics: FAIL: promtool is missing (Debian package prometheus; tools/setup.sh installs it)" >&2
  exit 1
}
source "$(dirname "$0")/lib/flamed_env.sh"
fail() { echo "flamed_metrics: FAIL: $*" >&2; [[ -f "$T/metrics.prom" ]] && cat "$T/metrics.prom" >&2; exit 1; }

write_config "idle_delay_ms: 0" "metrics: {textfile: $T/metrics.prom, interval_s: 1}"
start_flamed

# resnet50, deadline 30 ms: latencies 6, 30 (on the deadline: met), 33 and 60 ms (missed); one
# end without a latency and one under a microsecond (neither is an outcome); mobilenet one met;
# one request left active.
python3 - "$SOCK" "$T" <<'PY'
import json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rwb")

def ask(msg):
    f.write((json.dumps(msg) + "\n").encode()); f.flush()
    r = json.loads(f.readline())
    assert r.get("ok"), (msg, r)
    return r

def request(i, model, latency):
    ask({"op": "begin", "id": i, "model": model, "deadline_ms": 30})
    end = {"op": "end", "id": i}
    if latency is not None:
        end["latency_ms"] = latency
    ask(end)

for i, lat in enumerate([6, 30, 33, 60, None, 1e-4]):
    request(i, "resnet50", lat)
request(10, "mobilenet_v3_small", 12)
ask({"op": "begin", "id": 20, "model": "resnet50", "deadline_ms": 30})
# Keep the connection (and so the active request) until the metrics file shows it.
for _ in range(100):
    try:
        text = open(sys.argv[2] + "/metrics.prom").read()
    except FileNotFoundError:
        text = ""
    if "flamed_requests_ended_total 7\n" in text and "flamed_active_requests 1\n" in text:
        break
    time.sleep(0.1)
open(sys.argv[2] + "/metrics.snapshot", "w").write(text)
PY
[[ -s "$T/metrics.snapshot" ]] || fail "no metrics file"
promtool check metrics <"$T/metrics.snapshot" || fail "promtool check metrics (exit $?)"

version=$("$FLAMED" --version | awk '{print $NF}')
python3 - "$T/metrics.snapshot" "$version" <<'PY' || fail "values"
import re, sys
text, version = open(sys.argv[1]).read(), sys.argv[2]
samples = {}
for line in text.splitlines():
    if line.startswith("#"):
        continue
    name, value = line.rsplit(" ", 1)
    samples[name] = float(value)

def get(name):
    assert name in samples, f"missing sample {name}"
    return samples[name]

def check(name, want):
    got = get(name)
    assert got == want, f"{name} = {got}, want {want}"

check("flamed_requests_total", 8)
check("flamed_requests_ended_total", 7)
check("flamed_active_requests", 1)
check(f'flamed_build_info{{version="{version}"}}', 1)
check('flamed_deadlines_total{model="resnet50",result="met"}', 2)
check('flamed_deadlines_total{model="resnet50",result="missed"}', 2)
check('flamed_deadlines_total{model="mobilenet_v3_small",result="met"}', 1)
check('flamed_deadlines_total{model="mobilenet_v3_small",result="missed"}', 0)
h = "flamed_latency_deadline_ratio"
check(f'{h}_count{{model="resnet50"}}', 4)          # the ends with a latency of a microsecond or more
check(f'{h}_bucket{{model="resnet50",le="+Inf"}}', 4)
check(f'{h}_bucket{{model="resnet50",le="1"}}', 2)  # = met
check(f'{h}_bucket{{model="resnet50",le="1.1"}}', 3)
check(f'{h}_bucket{{model="resnet50",le="0.25"}}', 1)
assert abs(get(f'{h}_sum{{model="resnet50"}}') - (6 + 30 + 33 + 60) / 30) < 1e-9
check(f'flamed_prediction_error_ratio_count{{model="resnet50"}}', 4)
# Met + missed over every model = the histogram counts = every end with a latency.
deadlines = sum(v for k, v in samples.items() if k.startswith("flamed_deadlines_total{"))
counts = sum(v for k, v in samples.items() if k.startswith(f"{h}_count{{"))
assert deadlines == counts == 5, (deadlines, counts)
assert not re.search(r"_pct\b", text), "a percent metric is left"
PY
stop_flamed TERM || fail "flamed exited with an error"
echo "flamed metrics: ok"
