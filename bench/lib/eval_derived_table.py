#!/usr/bin/env python3
"""Tables of DERIVED=1 bench/eval_layer_sweep.sh: one row per run and the means per board, configuration and
deadline class, against the targets of docs/evaluation.md ("Derived models": >= 99 % of deadlines
met, energy <= 1.10 x the non-clairvoyant oracle).

Usage: eval_derived_table.py OUT_DIR   (reads OUT_DIR/<board>.<config>.<class>.<seed>.json)
"""
import glob
import json
import os
import statistics
import sys

out = sys.argv[1]
rows = []
for f in sorted(glob.glob(os.path.join(out, "*.json"))):
    board, config, klass, seed = os.path.basename(f)[:-5].rsplit(".", 3)
    g = json.load(open(f))["governors"]
    e = {k: v["energy_total_j"] for k, v in g.items()}
    rows.append({"board": board, "config": config, "class": klass, "seed": seed,
                 "met": g["flamed"]["met_pct"], "nc": e["flamed"] / e["oracle-nc"],
                 "oracle": e["flamed"] / e["oracle"], "max": e["flamed"] / e["max"]})
print("| board | config | class | seed | flamed met % | J / oracle-nc | J / oracle | J / MAX |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| {board} | {config} | {class} | {seed} | {met:.1f} | {nc:.3f} | {oracle:.3f} | {max:.3f} |".format(**r))
print()
print("| board | config | class | seeds | flamed met % (min) | J / oracle-nc (max) | J / MAX | targets |")
print("|---|---|---|---|---|---|---|---|")
groups = {}
for r in rows:
    groups.setdefault((r["board"], r["config"], r["class"]), []).append(r)
for (board, config, klass), rs in sorted(groups.items()):
    met = statistics.mean(r["met"] for r in rs)
    nc = statistics.mean(r["nc"] for r in rs)
    ok = all(r["met"] >= 99 and r["nc"] <= 1.10 for r in rs)
    print("| {} | {} | {} | {} | {:.1f} ({:.1f}) | {:.3f} ({:.3f}) | {:.3f} | {} |".format(
        board, config, klass, len(rs), met, min(r["met"] for r in rs), nc, max(r["nc"] for r in rs),
        statistics.mean(r["max"] for r in rs), "met" if ok else "missed"))
