#!/usr/bin/env python3
"""Checks a `flame profile` journal against what the simulated application saw (profile_pipeline.sh).

Usage: check_profile_journal.py JOURNAL APP_LOG SUMMARY_OUTPUT
(APP_LOG: lines of lib/app_faults.sh --log, each with `flame sim app --json`'s line under "app".)
"""
import json
import re
import sys

journal, log, summary = sys.argv[1:4]
lines = [json.loads(l) for l in open(journal)]
head, steps = lines[0], lines[1:]
runs = [json.loads(l) for l in open(log)]
assert head["format"] == "flame-profile-journal" and head["budget"] == 6, head
assert len(steps) == len(head["plan"]) == 6, (len(steps), len(head["plan"]))
assert sorted(s["step"] for s in steps) == list(range(6))
combos = {(s["observed"]["cpu_khz"], s["observed"]["gpu_hz"], s["observed"]["emc_hz"]) for s in steps}
assert len(combos) == 6, "every step ran at another combination"
assert {c[2] for c in combos} == {665600000.0, 2133000000.0, 3199000000.0}, "every EMC level profiled"
by_step = {r["step"]: r for r in runs}
for r in runs:
    c = r["app"]["clocks"]
    r["tree"] = (c["cpu_khz"], c["gpu_hz"], c["emc_hz"])
    r["power_mw"] = r["app"]["power_w"] * 1000
previous = {runs[i]["step"]: runs[i - 1]["power_mw"] for i in range(1, len(runs))}
for s in steps:
    plan = head["plan"][s["step"]]
    want = (plan["cpu_khz"], plan["gpu_hz"], plan["emc_hz"])
    assert (s["applied"]["cpu_khz"], s["applied"]["gpu_hz"], s["applied"]["emc_hz"]) == want, s
    assert (s["observed"]["cpu_khz"], s["observed"]["gpu_hz"], s["observed"]["emc_hz"]) == want, s
    assert s["settle_s"] >= 0 and s["command_s"] > 0.25, s
    w = s["workloads"][0]
    assert w["iterations"] == 3 and len(w["segments"]) == 2 * 60 + 1, (w["iterations"], len(w["segments"]))
    assert w["e2e_ns"] >= sum(x["cpu_ns"] for x in w["segments"]) * 0.99, w["e2e_ns"]
    if s["step"] in by_step:  # run in the resumed invocation: the application read the step's clocks
        r = by_step[s["step"]]
        assert tuple(r["tree"]) == tuple(int(x) for x in want), (r, want)
        assert tuple(r["env"]) == tuple(int(x) for x in want), (r, want)
        # The trace carries the wall-clock anchor, so only the VDD_IN samples taken while the recorded
        # iterations ran count (not start-up, warm-up or the previous step's reading): their mean is the
        # iterations' power, which host noise moves by a few percent around the last one's.
        assert s["power_window"] == "iterations", s
        assert s["power_samples"] >= 1, s
        assert abs(s["power_mw"] / r["power_mw"] - 1) < 0.05, (s["power_mw"], r["power_mw"])
        if s["step"] in previous and abs(previous[s["step"]] / r["power_mw"] - 1) > 0.2:
            # the previous step's reading, still on VDD_IN at start-up, was left out
            assert abs(s["power_mw"] / previous[s["step"]] - 1) > 0.1, (s["power_mw"], previous[s["step"]])
assert len({round(s["power_mw"]) for s in steps}) >= 4, "power follows the clocks"
# cur_freq lags the pinned limits (the fake governor follows every 20 ms): flame waited for it.
assert max(s["settle_s"] for s in steps) > 0.005, [s["settle_s"] for s in steps]
# Latency follows the clocks: the lowest-CPU combination is the slowest one.
slowest = max(steps, key=lambda s: s["workloads"][0]["e2e_ns"])
assert slowest["observed"]["cpu_khz"] == min(c[0] for c in combos), slowest["observed"]
m = re.search(r"r18: (\d+) segments; error on held-back combinations \(leave-one-out\) mean ([\d.]+) %, "
              r"max ([\d.]+) %; in-sample mean ([\d.]+) %", open(summary).read())
assert m, open(summary).read()
segments, cv_mean, cv_max, ins = int(m[1]), float(m[2]), float(m[3]), float(m[4])
assert segments == 121 and 0 < cv_mean <= cv_max and ins < 25, m.groups()
print(f"journal ok: 6 combinations, leave-one-out mean {cv_mean} % (max {cv_max} %), in-sample {ins} %")
