#!/usr/bin/env bash
# The repository is self-contained: a clone in any folder builds and passes its tests. This guard
# fails when
#   - any tracked file but this one names the development folder beside the checkout, the CMake
#     variable that once pointed at it, or documents that are not in the repository (a citation must
#     name the repository's docs/ or an upstream source);
#   - any tracked file but this one carries an issue number or a numbered development session
#     ("issue 7", "issue #7", "(#7)", "session-3"): history belongs in commit messages;
#   - a test skips for missing data: a shell test may skip (exit 77) only for a missing Debian
#     package that it names in a `# skip-if-missing: PACKAGE` line and that tools/setup.sh
#     installs, or for a package (`# skip-if-missing: artefact dist/...`) that `tools/setup.sh
#     package` builds; a unit test may not WARN and return, or
#     SKIP; a shell test may not test for a data file and carry on when it is absent;
#   - a repository path that a test or benchmark names (data/..., tests/data/...) does not exist.
set -euo pipefail
: "${FLAME_SOURCE_DIR:?}"
cd "$FLAME_SOURCE_DIR"
python3 - "$@" <<'PY'
import glob, os, re, subprocess, sys

me = "tests/integration/self_contained.sh"
# Spelled in pieces so that this file does not match itself when the rule is applied by hand.
forbidden = ["../" + "shared", "FLAME_" + "SHARED_DIR",
             "jetson-" + "sysfs.md", "daemon-" + "conventions", "toolchain" + ".md"]
history = re.compile(r"\bissues?\s*#?\s*\d+|\(#\d+\)|\bsession[- ]\d+", re.I)
try:
    files = subprocess.run(["git", "ls-files", "-z"], check=True, capture_output=True).stdout.decode().split("\0")
    files = [f for f in files if f and os.path.isfile(f)]
except (OSError, subprocess.CalledProcessError):  # an unpacked tarball: every file
    files = [os.path.relpath(os.path.join(d, f)) for d, _, fs in os.walk(".") if "/." not in d + "/"
             and not d.startswith("./build") for f in fs]
problems = []

def text(path):
    with open(path, "rb") as f:
        data = f.read()
    return None if b"\0" in data[:8192] else data.decode("utf-8", "replace")

for f in files:
    if f == me or f.endswith(".gz"):
        continue
    t = text(f)
    if t is None:
        continue
    for n, line in enumerate(t.splitlines(), 1):
        for word in forbidden:
            if word in line:
                problems.append(f"{f}:{n}: names '{word}': copy what is needed into the repository, "
                                "or cite docs/ or the upstream source")
        m = history.search(line)
        if m:
            problems.append(f"{f}:{n}: '{m.group(0)}': no issue numbers or development history "
                            "in code, docs or output (commit messages carry it)")

setup = open("tools/setup.sh").read()
for f in sorted(glob.glob("tests/integration/*.sh")) + sorted(glob.glob("tests/integration/lib/*.sh")):
    if f == me:
        continue
    t = open(f).read()
    lines = t.splitlines()
    if re.search(r"\bexit 77\b", t):
        pkgs = re.findall(r"^# skip-if-missing: (\S+)", t, re.M)
        if not pkgs:
            problems.append(f"{f}: exits 77 (skip) without a '# skip-if-missing: PACKAGE' line")
        for p in pkgs:
            if p == "artefact":
                if not re.search(r"^# skip-if-missing: artefact dist/", t, re.M) or not re.search(r"^\s*package\)", setup, re.M):
                    problems.append(f"{f}: skips for an artefact that 'tools/setup.sh package' does not build")
                continue
            if not re.search(rf"(^|[\s(]){re.escape(p)}([\s)]|$)", setup):
                problems.append(f"{f}: skips for {p}, which tools/setup.sh does not install")
    for n, line in enumerate(lines, 1):
        # a test for a data file whose failure does not fail the test
        if re.search(r"\[\[[^]]*-[fed] [^]]*\bdata\b[^]]*\]\]", line) and not re.search(r"\|\|.*(exit [1-9]|fail|return 1)", line):
            problems.append(f"{f}:{n}: tests for a data file and carries on when it is missing")

for f in sorted(glob.glob("tests/unit/*.cpp")):
    lines = open(f).read().splitlines()
    for n, line in enumerate(lines, 1):
        if re.search(r"\bSKIP\(", line):
            problems.append(f"{f}:{n}: SKIP: a unit test must not skip")
        if "WARN(" in line and any(re.search(r"\breturn\b", l) for l in lines[n:n + 3]):
            problems.append(f"{f}:{n}: WARN then return: a unit test must not skip quietly")

# Every repository path a test or benchmark names exists.
path_re = re.compile(r"(?<![\w$}/.-])((?:tests/)?data/[\w.+-]+(?:/[\w.+-]+)*)")
for f in [f for f in files if f.startswith(("tests/", "bench/")) and f.endswith((".sh", ".cpp", ".hpp", ".py"))]:
    if f == me:
        continue
    for n, line in enumerate(open(f, errors="replace").read().splitlines(), 1):
        for m in path_re.finditer(line):
            p = m.group(1).rstrip(".")
            if "{" in p or "*" in p or not re.search(r"\.(csv|json|gz|yaml|md|py)$|/$", p + ("/" if os.path.isdir(p) else "")):
                continue
            if not os.path.exists(p):
                problems.append(f"{f}:{n}: names {p}, which is not in the repository")

if problems:
    print("the repository is not self-contained:", *problems, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"self-contained: {len(files)} files checked")
PY
