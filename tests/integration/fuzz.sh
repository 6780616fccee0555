#!/usr/bin/env bash
# libFuzzer on the two parsers that take untrusted text: a client's protocol line and the
# configuration file. Built here with clang (-fsanitize=fuzzer,address,undefined) from the same
# sources flamed uses, seeded from tests/fuzz/corpus/, run for a bounded time each
# (FLAME_FUZZ_SECONDS, default 20). Any crash, sanitizer report, leak, uncaught exception or hang
# (> 5 s per input) fails the test and prints the input that did it.
set -euo pipefail
: "${FLAME_SOURCE_DIR:?}" "${FLAME_BUILD_DIR:?}"
seconds=${FLAME_FUZZ_SECONDS:-20}
CXX_FUZZ=$(command -v clang++-14 || command -v clang++ || true)
[[ -n "$CXX_FUZZ" ]] || { echo "fuzz: clang++ is missing (tools/setup.sh installs clang)" >&2; exit 1; }
out="$FLAME_BUILD_DIR/fuzz"
mkdir -p "$out"
work=$(mktemp -d /tmp/flame-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

build() {  # build NAME SOURCES... LIBS...: rebuilt only when a source is newer than the binary
  local name=$1; shift
  local bin="$out/$name" srcs=() libs=() a
  for a in "$@"; do [[ $a == -l* ]] && libs+=("$a") || srcs+=("$a"); done
  local stale=0
  [[ -x "$bin" ]] || stale=1
  for a in "${srcs[@]}" "$FLAME_SOURCE_DIR"/daemon/*/*.hpp "$FLAME_SOURCE_DIR"/lib/flame/policy/*.hpp "$FLAME_SOURCE_DIR"/lib/flame/policy/detail/*.hpp; do
    [[ $a -nt "$bin" ]] && stale=1
  done
  if ((stale)); then
    echo "fuzz: building $name with $CXX_FUZZ"
    "$CXX_FUZZ" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -I"$FLAME_SOURCE_DIR/daemon" -I"$FLAME_SOURCE_DIR/lib" -I"$FLAME_BUILD_DIR/generated" "${srcs[@]}" "${libs[@]}" \
      -o "$bin.tmp"
    mv "$bin.tmp" "$bin"
  fi
}

run() {  # run NAME CORPUS
  local name=$1 seeds="$FLAME_SOURCE_DIR/tests/fuzz/corpus/$2"
  mkdir -p "$work/$name"
  cp "$seeds"/* "$work/$name/"
  echo "fuzz: $name for ${seconds}s"
  if ! (cd "$work" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$out/$name" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 "$work/$name" >"$work/$name.log" 2>&1); then
    tail -n 60 "$work/$name.log" >&2
    for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
      [[ -f "$f" ]] && { echo "--- input $f (base64):" >&2; base64 "$f" >&2; }
    done
    echo "fuzz: $name FAILED" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb" "$work/$name.log" | sed "s/^/fuzz: $name /"
}

src="$FLAME_SOURCE_DIR"
# The daemon's parsers and the library code they call (the policy's types and names).
build fuzz_protocol "$src/tests/fuzz/fuzz_protocol.cpp" "$src/daemon/transport/protocol.cpp" \
  "$src/lib/flame/calibrate/calibrator.cpp" -lfmt
build fuzz_config "$src/tests/fuzz/fuzz_config.cpp" "$src"/daemon/config/*.cpp "$src/lib/flame/io/yaml_reader.cpp" \
  "$src"/lib/flame/policy/policy.cpp "$src"/lib/flame/policy/detail/*.cpp \
  "$src/lib/flame/calibrate/calibrator.cpp" "$src"/lib/flame/search/*.cpp "$src/lib/flame/clocks/clocks.cpp" \
  "$src/lib/flame/clocks/clock_grid.cpp" -lyaml-cpp -lfmt -lspdlog
run fuzz_protocol protocol
run fuzz_config config
echo "fuzz: OK"
