#!/usr/bin/env python3
"""The board's truth and its measured grid on the clock grid `flame profile` profiled (its journal's
"grid": the board description's tables), all cores online: what a profiled model and `flame fit` of
the same board are compared on (tests/integration/profile_e2e.sh, bench/profile_e2e.sh).
Usage: on_profiled_grid.py JOURNAL TRUTH_ALL.csv TRUTH.csv GRID_ALL.csv GRID.csv
  TRUTH_ALL: `flame sim layer --truth`; GRID_ALL: a grid of `flame sim layer --out` (FlexiBO format)."""
import csv
import json
import sys

journal, truth_all, truth, grid_all, grid = sys.argv[1:]
g = json.loads(open(journal).readline())["grid"]
keep = {k: {round(v) for v in g[k]} for k in ("cpu_khz", "gpu_hz", "emc_hz")}


def write(path, rows, fields):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


rows = list(csv.DictReader(open(truth_all)))
write(truth, [r for r in rows if all(int(r[k]) in keep[k] for k in keep)], rows[0].keys())
# Core counts are the file's outermost loop, and its four status columns cannot tell 4, 5 and 6 cores
# on the Orin apart: all cores online is the last block of one row per clock combination.
rows = list(csv.DictReader(open(grid_all)))
per_block = len({(r["core_freq"], r["gpu_freq"], r["emc_freq"]) for r in rows})
rows = rows[-per_block:]
columns = (("core_freq", "cpu_khz"), ("gpu_freq", "gpu_hz"), ("emc_freq", "emc_hz"))
write(grid, [r for r in rows if all(int(float(r[c])) in keep[k] for c, k in columns)], rows[0].keys())
