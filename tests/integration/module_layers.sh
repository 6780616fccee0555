#!/usr/bin/env bash
# The library's structure as docs/architecture.md states it ("Modules and layers"). Fails when
#   - the modules of lib/flame include each other in a cycle (the cycle is printed);
#   - lib/ includes anything of daemon/, tools/, clients/ or tests/;
#   - a header under lib/flame/<module>/detail/ is included from outside its module (tests may);
#   - a module's code is not in its own namespace flame::<module> (or one nested in it). The one
#     exception is clocks/, whose Clocks and ClockGrid are the vocabulary every module speaks, in
#     namespace flame.
set -euo pipefail
: "${FLAME_SOURCE_DIR:?}"
cd "$FLAME_SOURCE_DIR"
python3 - <<'PY'
import os, re, sys

root = "lib/flame"
vocabulary = {"clocks"}
modules = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
include = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
opening = re.compile(r"^namespace ([A-Za-z_][\w:]*) \{")
closing = re.compile(r"^\}  // namespace [A-Za-z_][\w:]*$")
foreign = {"YAML", "nlohmann", "fmt", "std"}
problems, edges = [], {m: set() for m in modules}

def sources(top):
    for d, _, files in os.walk(top):
        for f in files:
            if f.endswith((".hpp", ".cpp")):
                yield os.path.join(d, f)

for m in modules:
    for path in sources(os.path.join(root, m)):
        text = open(path, encoding="utf-8").read()
        for inc in include.findall(text):
            parts = inc.split("/")
            if parts[0] != "flame":
                problems.append(f"{path}: includes \"{inc}\", which is not part of lib/")
                continue
            if len(parts) > 2 and parts[1] != m:
                edges[m].add(parts[1])
                if parts[2] == "detail":
                    problems.append(f"{path}: includes {inc}, internal to module {parts[1]}")
        # Outermost namespaces only (clang-format closes each with "}  // namespace NAME"); a
        # library's own namespace (YAML, nlohmann, fmt, std) is where its specialisations must go.
        open_ns = []
        for line in text.splitlines():
            o, c = opening.match(line), closing.match(line)
            if o:
                ns = o.group(1)
                want = "flame" if m in vocabulary else f"flame::{m}"
                if not open_ns and ns not in foreign and ns != want and not ns.startswith(want + "::"):
                    problems.append(f"{path}: namespace {ns}, expected {want}")
                open_ns.append(ns)
            elif c and open_ns:
                open_ns.pop()

for top in ("daemon", "tools", "clients", "bench"):
    for path in sources(top):
        for inc in include.findall(open(path, encoding="utf-8").read()):
            if "/detail/" in inc and inc.startswith("flame/"):
                problems.append(f"{path}: includes {inc}, internal to lib/")

# Cycles among modules: depth-first search, printing each back edge's cycle once.
state, stack = {}, []
def visit(m):
    state[m] = 1
    stack.append(m)
    for n in sorted(edges.get(m, ())):
        if state.get(n) == 1:
            problems.append("include cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
        elif n in edges and not state.get(n):
            visit(n)
    stack.pop()
    state[m] = 2
for m in modules:
    if not state.get(m):
        visit(m)

for p in problems:
    print("module_layers:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"module_layers: {len(modules)} modules, {sum(map(len, edges.values()))} dependencies, no cycle")
PY
