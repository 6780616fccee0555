#!/usr/bin/env python3
"""A stand-in for a model run under `flame profile` on a simulated Jetson (no torch, no GPU).

It takes a real PyTorch profiler trace of the shared H200 data and writes the trace the same model
would give on a board at the clocks in $FLAME_PROFILE_{CPU_KHZ,GPU_HZ,EMC_HZ}: host ranges stretched
by the CPU clock, each GPU op re-timed by the GPU and EMC clocks and re-queued behind its launch.
The board's truth is the recovery test's (docs/layerwise-model.md), deliberately not the estimator's
form: host x2 x (0.15 + 0.85 f_max/f); device x15, split into compute (~1/f_gpu) and memory
(~(emc_max/emc)^0.6) and combined roofline-style, max + 0.3 min. 1 % noise per iteration and per op.

Also, for the tests: checks that the clocks pinned in the fake sysfs tree are the ones in its
environment (--tree), writes the board power for those clocks to the tree's VDD_IN rail, logs each
run (--log), and fails, writes no trace or hangs at a chosen step (--fail-at, --no-trace-at,
--hang-at: once, until --marker exists). --truth prints the noise-free end-to-end time of every combination of a
grid (for measuring the fitted model's error; docs/profiling.md).
"""
import argparse
import gzip
import json
import os
import random
import re
import sys
import time

HOST_FACTOR, DEVICE_FACTOR = 2.0, 15.0
GPU_CATS = ("kernel", "gpu_memcpy", "gpu_memset")
LAUNCH_CATS = ("cuda_runtime", "cuda_driver")
HOST_CATS = ("user_annotation", "cpu_op", "python_function") + LAUNCH_CATS


def load(path):
    with gzip.open(path, "rt") as f:
        doc = json.load(f)
    return doc


def compute_share(e):
    if e.get("cat") != "kernel":
        return 0.0  # copies and sets only move memory
    n = str(e.get("name", "")).lower()
    return 0.6 if any(k in n for k in ("gemm", "conv", "cutlass", "sm90", "sm80", "xmma")) else 0.25


def retime(doc, clocks, maxima, noise, rng):
    """Returns (events, per-iteration end-to-end ns) of the trace at `clocks`."""
    cpu, gpu, emc = clocks
    cmax, gmax, emax = maxima
    host_scale = HOST_FACTOR * (0.15 + 0.85 * cmax / cpu)
    ev = doc["traceEvents"]
    iters = sorted((e for e in ev if e.get("ph") == "X" and e.get("cat") == "user_annotation"
                    and re.fullmatch(r"iter\d+", str(e.get("name", "")))), key=lambda e: e["ts"])
    launches = {}
    for e in ev:
        if e.get("ph") == "X" and e.get("cat") in LAUNCH_CATS and "correlation" in e.get("args", {}):
            launches[e["args"]["correlation"]] = e
    out = [e for e in ev if e.get("ph") == "M"]
    e2e = []
    t = 1_000_000.0  # us: where the next iteration starts
    for it in iters:
        s, end = it["ts"], it["ts"] + it["dur"]
        k = host_scale * (1 + noise * rng.gauss(0, 1))
        new_ts = {}
        for e in ev:
            if e.get("ph") != "X" or e.get("cat") not in HOST_CATS or not (s <= e["ts"] <= end):
                continue
            if e.get("cat") == "user_annotation" and str(e.get("name", "")).startswith("iter") and e is not it:
                continue
            c = dict(e)
            c["ts"] = round(t + (e["ts"] - s) * k, 3)
            c["dur"] = round(e["dur"] * k, 3)
            new_ts[id(e)] = c["ts"]
            out.append(c)
        host_end = t + it["dur"] * k
        ops = []
        for e in ev:
            if e.get("ph") != "X" or e.get("cat") not in GPU_CATS:
                continue
            la = launches.get(e.get("args", {}).get("correlation"))
            if la is None or not (s <= la["ts"] <= end) or id(la) not in new_ts:
                continue
            ops.append((new_ts[id(la)], e))
        ops.sort(key=lambda p: p[0])
        free = t
        for launch_ts, e in ops:
            phi = compute_share(e)
            base = e["dur"] * DEVICE_FACTOR
            comp = base * phi * gmax / gpu
            mem = base * (1 - phi) * (emax / emc) ** 0.6
            d = (max(comp, mem) + 0.3 * min(comp, mem)) * (1 + noise * rng.gauss(0, 1))
            c = dict(e)
            c["ts"] = round(max(free, launch_ts + 5.0), 3)  # a launch reaches the GPU after ~5 us
            c["dur"] = round(max(0.001, d), 3)
            free = c["ts"] + c["dur"]
            out.append(c)
        e2e.append((max(host_end, free) - t) * 1000.0)
        t = max(host_end, free) + 50.0
    return out, e2e


def write(path, doc, events):
    body = {k: v for k, v in doc.items() if k != "traceEvents"}
    body["traceEvents"] = events
    tmp = path + ".part"
    with gzip.open(tmp, "wt") as f:
        json.dump(body, f)
    os.replace(tmp, path)


def nearest_trace(base_dir, pattern, ctx):
    if "{ctx}" not in pattern:
        return os.path.join(base_dir, pattern)
    rx = re.compile(re.escape(pattern).replace(re.escape("{ctx}"), r"(\d+)"))
    have = sorted(int(m.group(1)) for f in os.listdir(base_dir) if (m := rx.fullmatch(f)))
    best = min(have, key=lambda c: abs(c - ctx))
    return os.path.join(base_dir, pattern.replace("{ctx}", str(best)))


def tree_clocks(root):
    """What the controller pinned in a fake Orin tree: policy0 max, GPU devfreq max, EMC rate."""
    def rd(p):
        with open(os.path.join(root, p.lstrip("/"))) as f:
            return int(f.read().split()[0])
    return (rd("/sys/devices/system/cpu/cpufreq/policy0/scaling_max_freq"),
            rd("/sys/class/devfreq/17000000.gpu/max_freq"),
            rd("/sys/kernel/debug/bpmp/debug/clk/emc/rate"))


def board_power_mw(clocks, maxima):
    c, g, e = (x / m for x, m in zip(clocks, maxima))
    return 2000 + 3000 * c ** 2 + 4000 * g ** 2 + 1000 * e


def write_power(root, mw):
    """VDD_IN of the fake Orin tree: 5 V and mW / 5 mA (hwmon), replaced atomically."""
    d = None
    base = os.path.join(root, "sys/class/hwmon")
    for h in sorted(os.listdir(base)):
        p = os.path.join(base, h, "in1_label")
        if os.path.exists(p) and open(p).read().strip() == "VDD_IN":
            d = os.path.join(base, h)
    if d is None:
        raise SystemExit("stand-in: no VDD_IN rail in the tree")
    for name, value in (("in1_input", 5000), ("curr1_input", int(round(mw / 5)))):
        tmp = os.path.join(d, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(f"{value}\n")
        os.replace(tmp, os.path.join(d, name))


def iteration_ops(doc):
    """Per iteration: its host duration and its GPU ops as (launch offset, H200 duration, compute share),
    in launch order: everything retime() needs, extracted once (the truth sweep re-times 528 times)."""
    ev = doc["traceEvents"]
    iters = sorted((e for e in ev if e.get("ph") == "X" and e.get("cat") == "user_annotation"
                    and re.fullmatch(r"iter\d+", str(e.get("name", "")))), key=lambda e: e["ts"])
    launches = {e["args"]["correlation"]: e for e in ev if e.get("ph") == "X" and e.get("cat") in LAUNCH_CATS
                and "correlation" in e.get("args", {})}
    out = []
    for it in iters:
        s, end = it["ts"], it["ts"] + it["dur"]
        ops = []
        for e in ev:
            if e.get("ph") == "X" and e.get("cat") in GPU_CATS:
                la = launches.get(e.get("args", {}).get("correlation"))
                if la is not None and s <= la["ts"] <= end:
                    ops.append((la["ts"] - s, e["dur"], compute_share(e)))
        ops.sort(key=lambda o: o[0])
        out.append((it["dur"], ops))
    return out


def e2e_noise_free(iterations, clocks, maxima):
    """retime() without noise and without building events: the median end-to-end time in ns."""
    cpu, gpu, emc = clocks
    cmax, gmax, emax = maxima
    k = HOST_FACTOR * (0.15 + 0.85 * cmax / cpu)
    mem_f, comp_f = (emax / emc) ** 0.6, gmax / gpu
    e2e = []
    for dur, ops in iterations:
        free = 0.0
        for off, d, phi in ops:
            base = d * DEVICE_FACTOR
            comp, mem = base * phi * comp_f, base * (1 - phi) * mem_f
            free = max(free, round(off * k, 3) + 5.0) + max(0.001, max(comp, mem) + 0.3 * min(comp, mem))
        e2e.append(max(dur * k, free) * 1000.0)
    e2e.sort()
    n = len(e2e)
    return e2e[n // 2] if n % 2 else 0.5 * (e2e[n // 2 - 1] + e2e[n // 2])


def truth(a, maxima):
    """Noise-free end-to-end latency (median over the trace's iterations) at every combination, one CSV
    per context: cpu_khz,gpu_hz,emc_hz,latency_ms (what `flame model check` reads)."""
    cpus, gpus, emcs = ([float(x) for x in s.split(",")] for s in a.truth)
    for ctx in (a.ctx or [0]):
        doc = load(nearest_trace(a.base_dir, a.trace, ctx))
        its = iteration_ops(doc)
        # The shortcut must agree with the trace the stand-in writes (spot check at two corners).
        for c in ((cpus[0], gpus[0], emcs[0]), (cpus[-1], gpus[-1], emcs[-1])):
            _, e2e = retime(doc, c, maxima, 0.0, random.Random(0))
            e2e.sort()
            ref = e2e[len(e2e) // 2] if len(e2e) % 2 else 0.5 * (e2e[len(e2e) // 2 - 1] + e2e[len(e2e) // 2])
            fast = e2e_noise_free(its, c, maxima)
            assert abs(fast - ref) <= 1e-6 * ref + 50, (c, fast, ref)
        with open(a.truth_out.replace("{ctx}", str(ctx)), "w") as f:
            f.write("cpu_khz,gpu_hz,emc_hz,latency_ms\n")
            for c in cpus:
                for g in gpus:
                    for e in emcs:
                        f.write(f"{c:.0f},{g:.0f},{e:.0f},{e2e_noise_free(its, (c, g, e), maxima) / 1e6:.6f}\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base-dir", required=True)
    p.add_argument("--trace", required=True, help="file in base-dir; {ctx} picks the nearest context")
    p.add_argument("--max", required=True, help="cpu_khz,gpu_hz,emc_hz of the grid's maxima")
    p.add_argument("--tree")
    p.add_argument("--log")
    p.add_argument("--fail-at", type=int, default=-1)
    p.add_argument("--no-trace-at", type=int, default=-1)
    p.add_argument("--hang-at", type=int, default=-1)
    p.add_argument("--marker")
    p.add_argument("--noise", type=float, default=0.01)
    p.add_argument("--run-s", type=float, default=0.3, help="how long a run at least takes (power samples)")
    p.add_argument("--truth", nargs=3, metavar=("CPUS", "GPUS", "EMCS"))
    p.add_argument("--ctx", type=lambda s: [int(x) for x in s.split(",")], help="with --truth")
    p.add_argument("--truth-out", default="truth-ctx{ctx}.csv", help="with --truth: CSV path, {ctx} replaced")
    a = p.parse_args()
    maxima = tuple(float(x) for x in a.max.split(","))
    if a.truth:
        truth(a, maxima)
        return 0
    t0 = time.time()
    env = os.environ
    step = int(env["FLAME_PROFILE_STEP"])
    clocks = (float(env["FLAME_PROFILE_CPU_KHZ"]), float(env["FLAME_PROFILE_GPU_HZ"]),
              float(env["FLAME_PROFILE_EMC_HZ"]))
    entry = {"step": step, "env": clocks, "trace": env["FLAME_PROFILE_TRACE"], "ctx": env.get("FLAME_PROFILE_CTX", "")}
    if a.tree:
        pinned = tree_clocks(a.tree)
        entry["tree"] = pinned
        if tuple(float(x) for x in pinned) != clocks:
            print(f"stand-in: the tree holds {pinned}, the environment says {clocks}", file=sys.stderr)
            return 4
        entry["power_mw"] = board_power_mw(clocks, maxima)
        write_power(a.tree, entry["power_mw"])
    if a.log:
        with open(a.log, "a") as f:
            f.write(json.dumps(entry) + "\n")
    if step == a.hang_at and not (a.marker and os.path.exists(a.marker)):
        if a.marker:
            open(a.marker, "w").close()  # hang once: a resumed run gets past this step
        while True:
            time.sleep(0.05)
    if step == a.fail_at:
        print("stand-in: failing on purpose", file=sys.stderr)
        return 3
    if step != a.no_trace_at:
        rng = random.Random(1000 + step)
        contexts = [int(c) for c in entry["ctx"].split(",") if c] or [0]
        for ctx in contexts:
            doc = load(nearest_trace(a.base_dir, a.trace, ctx))
            events, _ = retime(doc, clocks, maxima, a.noise, rng)
            write(entry["trace"].replace("{ctx}", str(ctx)), doc, events)
    time.sleep(max(0.0, a.run_s - (time.time() - t0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
