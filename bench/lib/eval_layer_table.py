#!/usr/bin/env python3
"""Tables of bench/eval_layer_sweep.sh: one row per run and the means per board, configuration and
deadline class, against the targets of docs/evaluation.md ("Live layer boards").

Usage: eval_layer_table.py OUT_DIR   (reads OUT_DIR/<board>.<config>.<class>.<seed>.json and .json.err)
perf/W is inferences per joule. zTT "from scratch" is the first episode of its training in the same
run (its learning counted); "converged" is zTT after training.
"""
import glob
import json
import os
import re
import statistics
import sys

out = sys.argv[1]
rows = []
for f in sorted(glob.glob(os.path.join(out, "*.json"))):
    board, config, klass, seed = os.path.basename(f)[:-5].rsplit(".", 3)
    e = json.load(open(f))
    g = e["governors"]
    ppw = {k: v["requests"] / v["energy_total_j"] for k, v in g.items()}
    energy = {k: v["energy_total_j"] for k, v in g.items()}
    scratch = e["ztt_training"]["curve"][0]
    ppw_scratch = 1.0 / scratch["energy_j"]
    margin = ppw["oracle-nc"] / ppw["ztt"] - 1
    err = open(f + ".err").read() if os.path.exists(f + ".err") else ""
    lat = re.search(r"held-back combinations \(leave-one-out\) mean ([\d.]+) %", err)
    pw = re.search(r"power model from the rail samples; error on held-back combinations mean ([\d.]+) %", err)
    rows.append({
        "board": board, "config": config, "class": klass, "seed": int(seed),
        "met": g["flamed"]["met_pct"],
        "e_nc": energy["flamed"] / energy["oracle-nc"],
        "e_or": energy["flamed"] / energy["oracle"],
        "grid": ppw["flamed"] / ppw["flamed-grid"],
        "grid_e_nc": energy["flamed-grid"] / energy["oracle-nc"],
        "ztt": ppw["flamed"] / ppw["ztt"] - 1,
        "margin": margin,
        "capture": (ppw["flamed"] - ppw["ztt"]) / (ppw["oracle-nc"] - ppw["ztt"]) if margin > 0.01 else None,
        "scratch": ppw["flamed"] / ppw_scratch - 1,
        "scratch_met": scratch["met_pct"],
        "oracle_scratch": ppw["oracle-nc"] / ppw_scratch - 1,
        "max_e_nc": energy["max"] / energy["oracle-nc"],
        "lat_err": float(lat[1]) if lat else None,
        "pw_err": float(pw[1]) if pw else None,
    })


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def table(rs, key_cols):
    head = key_cols + ["flamed met %", "J / oracle-nc", "J / oracle", "perf/W vs flamed-grid",
                       "flamed-grid J / oracle-nc", "perf/W vs zTT converged (oracle-nc's)",
                       "share of oracle-nc's margin", "perf/W vs zTT from scratch (its met %; oracle-nc's)",
                       "MAX J / oracle-nc", "held-back error: latency / power %"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rs:
        print("| " + " | ".join([str(r[k]) for k in key_cols] + [
            fmt(r["met"], ".1f"), fmt(r["e_nc"], ".3f"), fmt(r["e_or"], ".3f"), fmt(r["grid"], ".3f"),
            fmt(r["grid_e_nc"], ".3f"), f'{r["ztt"]:+.1%} ({r["margin"]:+.1%})',
            fmt(r["capture"], ".0%") if r["capture"] is not None else f'n/a (margin {r["margin"]:+.1%})',
            f'{r["scratch"]:+.1%} ({r["scratch_met"]:.0f}; {r["oracle_scratch"]:+.1%})', fmt(r["max_e_nc"], ".3f"),
            f'{fmt(r["lat_err"], ".2f")} / {fmt(r["pw_err"], ".2f")}']) + " |")


print(f"## Per run ({len(rows)} runs)\n")
table(rows, ["board", "config", "class", "seed"])
groups = {}
for r in rows:
    groups.setdefault((r["board"], r["config"], r["class"]), []).append(r)
means = []
for (b, c, k), rs in sorted(groups.items()):
    m = {"board": b, "config": c, "class": k, "seeds": len(rs)}
    for key in ["met", "e_nc", "e_or", "grid", "grid_e_nc", "ztt", "margin", "scratch", "scratch_met", "oracle_scratch", "max_e_nc",
                "lat_err", "pw_err"]:
        vals = [r[key] for r in rs if r[key] is not None]
        m[key] = statistics.mean(vals) if vals else None
    caps = [r["capture"] for r in rs if r["capture"] is not None]
    m["capture"] = statistics.mean(caps) if caps else None
    means.append(m)
print("\n## Means over seeds\n")
table(means, ["board", "config", "class", "seeds"])
n = len(means)
print("\n## Targets over the means\n")
print(f'- met >= 99 %: {sum(m["met"] >= 99 for m in means)} of {n}')
print(f'- energy <= 1.05 x oracle-nc: {sum(m["e_nc"] <= 1.05 for m in means)} of {n}')
print(f'- energy <= 1.10 x oracle: {sum(m["e_or"] <= 1.10 for m in means)} of {n}')
print(f'- perf/W >= flamed-grid: {sum(m["grid"] >= 1.0 - 1e-9 for m in means)} of {n} '
      f'(lowest {min(m["grid"] for m in means):.4f})')
cap = [m for m in means if m["capture"] is not None]
print(f'- >= 60 % of oracle-nc margin over converged zTT: {sum(m["capture"] >= 0.6 for m in cap)} of {len(cap)} '
      f'where the margin exists (> 1 %)')
reach = [m for m in means if m["oracle_scratch"] >= 0.2]
print(f'- >= +20 % perf/W over zTT from scratch: {sum(m["scratch"] >= 0.2 for m in means)} of {n}; '
      f'{sum(m["scratch"] >= 0.2 for m in reach)} of the {len(reach)} where oracle-nc itself reaches +20 %')
