#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root; idempotent):
#   tools/setup.sh demo   install what is needed, build, run the main job on the embedded default
#   tools/setup.sh test   install what is needed, build with ASan+UBSan, run the whole test suite
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build pkg-config git ccache
  libboost-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libsystemd-dev catch2
  libeigen3-dev nlohmann-json3-dev libcli11-dev libbenchmark-dev libsimdjson-dev zlib1g-dev
  dbus systemd python3
  # system integration tests: bus policy (xmllint, dbus-test-tool), .deb build and checks
  libxml2-utils dbus-tests dpkg-dev lintian man-db
  # fuzzing the protocol and config parsers (tests/integration/fuzz.sh): clang with libFuzzer
  clang libclang-rt-14-dev)

# D-Bus API test (tests/integration/dbus_api.sh): dbus-daemon, dbus-send; busctl comes with systemd.
PACKAGES+=(dbus-daemon dbus-bin)

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

case "${1:-}" in
  demo)
    install_packages
    build build -DCMAKE_BUILD_TYPE=Release -DFLAME_BUILD_TESTS=OFF -DFLAME_BUILD_BENCH=OFF
    ./tools/demo.sh build
    ;;
  test)
    install_packages
    # -g1: line tables are all the sanitizers' stack traces need, and full debug info makes the
    # 2-core CI build markedly slower (the assembler alone ran at 100 % on it).
    build build-test -DCMAKE_BUILD_TYPE=Debug -DFLAME_SANITIZE=ON -DFLAME_WERROR=ON \
      -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1"
    cd build-test
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --output-on-failure -j"$(nproc)"
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
