#!/usr/bin/env bash
# `flame validate grid` end to end on the FlexiBO grids (data/jetson-public) and on synthetic files
# in the Energyinfra formats (tests/data/energyinfra-synthetic): JSON shape and the accuracy the model
# achieves (docs/validation-grid.md has the measured numbers; thresholds here leave a little room).
set -euo pipefail
: "${FLAME:?}" "${FLAME_SOURCE_DIR:?}"
dir="$FLAME_SOURCE_DIR/data/jetson-public"
synth="$FLAME_SOURCE_DIR/tests/data/energyinfra-synthetic"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
deadlines=1.1,1.2,1.3,1.4,1.5,1.6,1.7,1.8,1.9,2.0,2.1,2.2,2.3,2.4,2.5,2.6,2.7,2.8,2.9,3.0

check() {  # check JSON LAT_MAX POWER_MAX MET_MIN ENERGY_MAX CURVE(0|1)
  python3 - "$@" <<'PY'
import json, sys
path, lat_max, pw_max, met_min, en_max, curve = sys.argv[1], *map(float, sys.argv[2:6]), sys.argv[6] == "1"
j = json.load(open(path))
for k in ("latency", "profiled", "rows", "baselines", "deadlines"):
    assert k in j, f"{path}: missing key {k}"
for k in ("mean_ape_pct", "p95_ape_pct", "max_ape_pct"):
    assert k in j["latency"], f"{path}: latency.{k} missing"
for b in ("fixed_max", "scaling_1f", "sum", "max"):
    assert "mean_ape_pct" in j["baselines"][b]["latency"], f"{path}: baseline {b}"
lat = j["latency"]["mean_ape_pct"]
assert 0 < lat <= lat_max, f"{path}: latency mean {lat:.2f} % above {lat_max}"
for b in ("fixed_max", "scaling_1f"):
    assert j["baselines"][b]["latency"]["mean_ape_pct"] > lat, f"{path}: baseline {b} beats the model"
if pw_max > 0:
    pw = j["power"]["mean_ape_pct"]
    assert 0 < pw <= pw_max, f"{path}: power mean {pw:.2f} % above {pw_max}"
    assert j["baselines"]["fixed_max"]["power"]["mean_ape_pct"] > pw
else:
    assert "power" not in j, f"{path}: power reported for a file without power"
if met_min > 0:
    d = j["deadlines"]
    for k in ("decisions", "met_pct", "energy_vs_oracle", "energy_vs_max"):
        assert k in d, f"{path}: deadlines.{k} missing"
    assert d["decisions"] > 0
    assert d["met_pct"] >= met_min, f"{path}: deadlines met {d['met_pct']:.1f} % below {met_min}"
    assert d["energy_vs_oracle"] <= en_max, f"{path}: energy {d['energy_vs_oracle']:.3f} x oracle above {en_max}"
    assert d["energy_vs_max"] < 1.1  # LLM decode: the maximum clocks can be nearly optimal
if curve:
    budgets = [c["budget"] for c in j["budget_curve"]]
    assert budgets == [16, 32, 64, 96, 128], budgets
    assert j["floor"]["latency"]["mean_ape_pct"] <= lat + 1e-9
    assert 0 < j["profiling_cost"]["fraction"] < 0.1
print(f"{path}: latency {lat:.2f} % ok")
PY
}

# FlexiBO TX2 grids, 32 profiled rows. The first file also runs the budget curve and the floor.
first=1
for f in inceptionv3_200x200 inceptionv3_600x600 xception_200x200 xception_600x600; do
  extra=(--no-curve)
  [[ $first == 1 ]] && extra=()
  "$FLAME" validate grid "$dir/flexibo-tx2/tx2_sampled_output_$f.csv" --budget 32 --deadlines "$deadlines" \
    "${extra[@]}" --json >"$tmp/$f.json"
  check "$tmp/$f.json" 6 8 95 1.2 "$first"
  first=0
done

# Energyinfra sweep format: decode TPOT of 4 workloads from 5 of 22 GPU x EMC combinations.
"$FLAME" validate grid "$synth/sweep.csv" --budget 5 --deadlines 1.1,1.5,2 --no-curve --json >"$tmp/sweep.json"
check "$tmp/sweep.json" 5 5 95 1.1 0
# The same format with clock changes that did not act at 4 combinations: found and reported.
"$FLAME" validate grid "$synth/glitched.csv" --budget 5 --no-curve --json >"$tmp/glitched.json"
python3 -c "
import json; j = json.load(open('$tmp/glitched.json'))
assert len(j['excluded']) >= 12 and all('contradicts' in e['reason'] or 'clock response' in e['reason'] for e in j['excluded']), j['excluded']
assert j['avoided_combinations'] >= 3, j['avoided_combinations']
print('glitched: %d glitches excluded, latency %.2f %%' % (len(j['excluded']), j['latency']['mean_ape_pct']))"
# A latency-only file (CPU x GPU format): no power in the report.
"$FLAME" validate grid "$synth/cpu_gpu.csv" --budget 5 --no-curve --json >"$tmp/cpu_gpu.json"
check "$tmp/cpu_gpu.json" 5 0 0 0 0

# Refusals are clear.
if "$FLAME" validate grid "$dir/flexibo-tx2/tx2_sampled_output_inceptionv3_200x200.csv" --budget 4 2>"$tmp/err"; then
  echo "budget 4 should be refused" >&2
  exit 1
fi
grep -q "too small for a well-posed fit" "$tmp/err"
printf 'a,b\n1,2\n' >"$tmp/bad.csv"
if "$FLAME" validate grid "$tmp/bad.csv" 2>"$tmp/err"; then exit 1; fi
grep -q "bad.csv:1: unrecognised header" "$tmp/err"

# fit -> model file -> predict agrees with the fit's own prediction at a profiled point.
"$FLAME" fit "$dir/flexibo-tx2/tx2_sampled_output_inceptionv3_200x200.csv" --budget 32 --name incv3 -o "$tmp/m.yaml"
"$FLAME" predict "$tmp/m.yaml" --cpu-khz 2035200 --gpu-hz 1300500000 --emc-hz 1866000000 --cores 4 --json >"$tmp/p.json"
python3 -c "
import json; p = json.load(open('$tmp/p.json'))
assert p['kind'] == 'grid' and p['model'] == 'incv3'
assert 100 < p['latency_ms'] < 180 and p['power_w'] > 0, p  # measured: 137 ms
print('predict ok', p)"
echo "validate_grid: ok"
