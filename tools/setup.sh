#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root; idempotent):
#   tools/setup.sh demo   install what is needed, build, run the main job on the embedded default
#   tools/setup.sh test   install what is needed, build with ASan+UBSan, run the whole test suite
#   tools/setup.sh package amd64|arm64   dist/flame_<version>_<arch>.deb and python3-flame (debhelper)
#   tools/setup.sh lint [all|changed]   clang-tidy (.clang-tidy) over lib/, daemon/, tools/; `changed`:
#                       the sources the last commits touched (since the newest tag, else 5 commits)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build pkg-config git ccache
  libboost-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libsystemd-dev catch2
  libeigen3-dev nlohmann-json3-dev libcli11-dev libbenchmark-dev libsimdjson-dev zlib1g-dev
  dbus systemd python3
  # system integration tests: bus policy (xmllint, dbus-test-tool), .deb build and checks
  libxml2-utils dbus-tests dpkg-dev lintian man-db
  # fuzzing the protocol and config parsers (tests/integration/fuzz.sh): clang with libFuzzer
  clang libclang-rt-14-dev
  # static analysis (tools/setup.sh lint)
  clang-tidy
  # the man pages' roff (packaging/man/) checked against their Markdown source (tests/integration/man_pages.sh)
  pandoc)

# Debian packages (debian/, tools/setup.sh package) and their checks; the arm64 cross-build with
# GCC 11, Ubuntu 22.04's compiler, and qemu to run it (tests/integration/arm64_qemu.sh);
# the Python clients in a venv (tests/integration/python_venv.sh).
PACKAGES+=(debhelper dh-python devscripts g++-11-aarch64-linux-gnu qemu-user-static python3-venv)

# D-Bus API test (tests/integration/dbus_api.sh): dbus-daemon, dbus-send; busctl comes with systemd.
PACKAGES+=(dbus-daemon dbus-bin)

# flamed's metrics file checked with `promtool check metrics` (tests/integration/flamed_metrics.sh);
# only promtool is used, Debian ships it in the server's package.
PACKAGES+=(prometheus)

# PyTorch trace helper tests (clients/python/test_flame_profile.py, tests/integration/profile_python.sh):
# CPU PyTorch; without it those tests are skipped with a message.
PACKAGES+=(python3-torch python3-torchvision)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

build() {  # build DIR [cmake args...]
  local dir=$1; shift
  # ccache (when installed) hashes paths relative to the checkout: any clone reuses the cache.
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
}

package() {  # package ARCH: dist/flame_<version>_<ARCH>.deb and python3-flame_<version>_all.deb
  local arch=$1 stage="build-deb/$1" opts=(-b -us -uc -J"$(nproc)")
  case "$arch" in
    "$(dpkg --print-architecture)") ;;
    arm64)
      # The build dependencies are unpacked into a sysroot, not installed (-d skips their check).
      tools/arm64-sysroot.sh "$PWD/build-deb/sysroot-arm64"
      export FLAME_ARM64_SYSROOT="$PWD/build-deb/sysroot-arm64"
      opts+=(-aarm64 -d)
      ;;
    *)
      echo "setup: can package for $(dpkg --print-architecture) and arm64, not '$arch'" >&2
      exit 2
      ;;
  esac
  # dpkg-buildpackage writes its results beside the source tree: build a copy of the checkout.
  rm -rf "$stage"
  mkdir -p "$stage/src"
  git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$stage/src"
  echo "setup: building the $arch packages (log: $stage/build.log)"
  # -g1 (line tables) instead of dpkg-buildflags' -g: full debug info makes the 2-core CI build
  # markedly slower; no -dbgsym packages.
  # debhelper (compat 13) gives the build a HOME of its own inside the tree: name ccache's
  # directory, or every package build starts from an empty cache.
  local cache_dir
  cache_dir=$(ccache -k cache_dir 2>/dev/null || true)
  (cd "$stage/src" && CCACHE_DIR="${cache_dir:-$HOME/.cache/ccache}" CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1 \
    DEB_BUILD_OPTIONS="nocheck noddebs" \
    DEB_CXXFLAGS_APPEND=-g1 dpkg-buildpackage "${opts[@]}") >"$stage/build.log" 2>&1 || {
    tail -40 "$stage/build.log" >&2
    echo "setup: the $arch package build failed (log: $stage/build.log)" >&2
    exit 1
  }
  mkdir -p dist
  rm -f dist/flame_*_"$arch".deb
  cp "$stage"/flame_*_"$arch".deb "$stage"/python3-flame_*_all.deb dist/
  ls dist/flame_*_"$arch".deb
}

test_build() {  # the ASan + UBSan build the test suite and the linter use
  # -g1: line tables are all the sanitizers' stack traces need, and full debug info makes the
  # 2-core CI build markedly slower (the assembler alone ran at 100 % on it).
  build build-test -DCMAKE_BUILD_TYPE=Debug -DFLAME_SANITIZE=ON -DFLAME_WERROR=ON \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1"
}

lint() {  # lint all|changed
  local files=()
  case "$1" in
    all) mapfile -t files < <(git ls-files 'lib/*.cpp' 'daemon/*.cpp' 'tools/*.cpp') ;;
    changed)
      local base
      base=$(git describe --tags --abbrev=0 2>/dev/null || git rev-parse -q --verify HEAD~5 || true)
      if [[ -z $base ]]; then
        echo "setup: lint changed: no tag and fewer than 5 commits of history; nothing to compare" >&2
        return 0
      fi
      mapfile -t files < <(git diff --name-only --diff-filter=d "$base" -- 'lib/*.cpp' 'daemon/*.cpp' 'tools/*.cpp')
      ;;
    *)
      echo "usage: $0 lint [all|changed]" >&2
      exit 2
      ;;
  esac
  echo "setup: clang-tidy over ${#files[@]} file(s)"
  ((${#files[@]})) || return 0
  printf '%s\0' "${files[@]}" | xargs -0 -P"$(nproc)" -n4 clang-tidy -p build-test --quiet
}

case "${1:-}" in
  demo)
    install_packages
    build build -DCMAKE_BUILD_TYPE=Release -DFLAME_BUILD_TESTS=OFF -DFLAME_BUILD_BENCH=OFF
    ./tools/demo.sh build
    ;;
  test)
    install_packages
    test_build
    # The full lint is a documented command (docs/architecture.md); CI checks what recent commits changed.
    lint changed
    # The arm64 package (GCC 11 cross-build): the qemu smoke test and the package checks run it.
    package arm64
    cd build-test
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --output-on-failure -j"$(nproc)"
    ;;
  lint)
    install_packages
    test_build
    lint "${2:-all}"
    ;;
  package)
    install_packages
    package "${2:?usage: $0 package amd64|arm64}"
    ;;
  *)
    echo "usage: $0 demo|test|lint [all|changed]|package amd64|arm64" >&2
    exit 2
    ;;
esac
