#!/usr/bin/env python3
"""Asserts two `flame trace summarize --json` outputs have the same segments (kind and module name,
in order) and iteration marker. Usage: same_segments.py A.json B.json"""
import json
import sys

a, b = (json.load(open(p)) for p in sys.argv[1:3])
sa = [(s["kind"], s["name"]) for s in a["segments"]]
sb = [(s["kind"], s["name"]) for s in b["segments"]]
assert a["iteration_marker"] == b["iteration_marker"] == "iter", (a["iteration_marker"], b["iteration_marker"])
if sa != sb:
    diff = next(i for i in range(min(len(sa), len(sb)) + 1) if i >= len(sa) or i >= len(sb) or sa[i] != sb[i])
    raise SystemExit(f"segments differ: {len(sa)} vs {len(sb)}; first difference at {diff}: "
                     f"{sa[diff] if diff < len(sa) else None} vs {sb[diff] if diff < len(sb) else None}")
calls = sum(1 for k, _ in sa if k == "call")
assert calls > 0 and all(s["gpu_ns"] >= 0 for s in a["segments"])
print(f"same segment structure: {len(sa)} segments, {calls} leaf-module calls")
