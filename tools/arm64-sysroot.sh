#!/usr/bin/env bash
# tools/arm64-sysroot.sh DIR: the arm64 headers and libraries flame builds against, unpacked from
# Debian's :arm64 packages (apt-get download + dpkg-deb -x) into DIR, never installed. Installing
# :arm64 -dev packages would make apt remove the native libyaml-cpp-dev and libsimdjson-dev (they are
# not Multi-Arch: same). The runtime libraries are also installed for real (Multi-Arch: same, so
# beside the native ones): dpkg-shlibdeps reads their symbols files, qemu-aarch64 loads them.
# Idempotent; needs root for the installs. Details: docs/platforms.md.
set -euo pipefail
dir=${1:?usage: $0 DIR}
# Header-only and arch:all packages are unpacked too, so the build sees one consistent tree.
DEV=(libboost1.74-dev libeigen3-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libyaml-cpp-dev libsystemd-dev zlib1g-dev)
# The libraries the -dev packages' .so links point at; libc and libstdc++ come with the cross compiler.
LIBS=(libyaml-cpp0.7 libsystemd0 zlib1g)
RUNTIME=(libc6 libstdc++6 libgcc-s1 "${LIBS[@]}")
# fmt's and spdlog's CMake files check that their shared libraries exist; flame uses both
# header-only, so these are unpacked but neither installed nor linked.
LIBS+=(libfmt9 libspdlog1.10)

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo dpkg --add-architecture arm64
  $sudo apt-get update -qq
fi
missing=()
for p in "${RUNTIME[@]}"; do
  dpkg-query -W -f='${Status}' "$p:arm64" 2>/dev/null | grep -q "install ok installed" || missing+=("$p:arm64")
done
if ((${#missing[@]})); then
  echo "arm64-sysroot: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp="$dir/.packages"
want="${DEV[*]} ${LIBS[*]}"
[[ -f $stamp && "$(cat "$stamp")" == "$want" ]] && exit 0
# The .debs are kept: a changed list downloads only what is new.
mkdir -p "$dir"
find "$dir" -mindepth 1 -maxdepth 1 ! -name debs -exec rm -rf {} +
mkdir -p "$dir/debs"
fetch=()
for p in "${DEV[@]}" "${LIBS[@]}"; do
  compgen -G "$dir/debs/${p}_*.deb" >/dev/null && continue
  # arch:all packages have no :arm64 name; ask apt which one it is.
  if [[ $(apt-cache show --no-all-versions "$p" | sed -n 's/^Architecture: //p' | head -1) == all ]]; then
    fetch+=("$p")
  else
    fetch+=("$p:arm64")
  fi
done
if ((${#fetch[@]})); then
  (cd "$dir/debs" && apt-get download -qq "${fetch[@]}" 2>&1 | grep -v "unsandboxed" || true)
fi
for p in "${DEV[@]}" "${LIBS[@]}"; do
  debs=("$dir"/debs/"${p}"_*.deb)
  [[ -f ${debs[0]} ]] || { echo "arm64-sysroot: $p was not downloaded" >&2; exit 1; }
  dpkg-deb -x "${debs[0]}" "$dir"
done
echo "$want" >"$stamp"
echo "arm64-sysroot: $(ls "$dir"/debs | wc -l) packages unpacked into $dir"
