#!/usr/bin/env bash
# The Debian packages in dist/ (tools/setup.sh package amd64|arm64; tools/setup.sh test builds the
# arm64 one first): control data, contents, units and config, man pages, every Depends relation
# against the Ubuntu 22.04 table of docs/platforms.md (dpkg --compare-versions), symbol versions
# (objdump -T: at most GLIBC_2.35 and GLIBCXX_3.4.30), hardening-check on every binary, lintian
# (--display-info, no hardening-no-* tag), and the maintainer scripts without systemd as PID 1.
set -euo pipefail
: "${FLAME_SOURCE_DIR:?}"
shopt -s nullglob
debs=("$FLAME_SOURCE_DIR"/dist/flame_*.deb)
# skip-if-missing: artefact dist/flame_*.deb
pydebs=("$FLAME_SOURCE_DIR"/dist/python3-flame_*_all.deb)
if ((${#debs[@]} == 0)); then
  echo "skipped: no dist/flame_*.deb (tools/setup.sh package amd64|arm64)"
  exit 77
fi
((${#pydebs[@]} == 1)) || { echo "FAIL: want one dist/python3-flame_*_all.deb, have ${#pydebs[@]}" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
version=$(sed -n 's/^project(flame VERSION \([0-9.]*\).*/\1/p' "$FLAME_SOURCE_DIR/CMakeLists.txt")

# The jammy table: "| package | version | [page](https://packages.ubuntu.com/...) |".
declare -A JAMMY
while IFS='|' read -r _ pkg ver src _; do
  pkg=$(echo "$pkg" | xargs) ver=$(echo "$ver" | xargs)
  [[ $src == *"https://packages.ubuntu.com/"* || $src == *"https://launchpad.net/"* ]] || continue
  JAMMY[$pkg]=$ver
done < <(sed -n '/^## Ubuntu 22.04 runtime packages/,/^## /p' "$FLAME_SOURCE_DIR/docs/platforms.md" | grep '^| ')
((${#JAMMY[@]} >= 5)) || fail "docs/platforms.md: the Ubuntu 22.04 runtime table has ${#JAMMY[@]} rows"

# check_depends DEB: every relation names a package of the table and asks for at most its version.
check_depends() {
  local deb=$1 depends rel name op ver alt ok
  depends=$(dpkg-deb -f "$deb" Depends)
  echo "$(basename "$deb"): Depends: $depends"
  IFS=',' read -ra rels <<<"$depends"
  for rel in "${rels[@]}"; do
    ok=0
    IFS='|' read -ra alts <<<"$rel"
    for alt in "${alts[@]}"; do  # an alternative is met when one of its packages is
      alt=$(echo "$alt" | xargs)
      name=${alt%% *} name=${name%%:*}
      [[ -n ${JAMMY[$name]:-} ]] || continue
      if [[ $alt =~ \((\>=|\>\>|=|\<=|\<\<)\ *([^\)]+)\) ]]; then
        op=${BASH_REMATCH[1]} ver=${BASH_REMATCH[2]}
        case $op in '>=') op=ge ;; '>>') op=gt ;; '=') op=eq ;; '<=') op=le ;; '<<') op=lt ;; esac
        dpkg --compare-versions "${JAMMY[$name]}" "$op" "$ver" && ok=1
      else
        ok=1
      fi
    done
    ((ok)) || fail "$(basename "$deb"): '$(echo "$rel" | xargs)' is not met by Ubuntu 22.04 (docs/platforms.md: ${JAMMY[$name]:-no row for $name})"
  done
}

# The check itself must be able to fail: Debian 12's libsimdjson14 and a too-new libc.
printf 'Package: x\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\nDepends: %s\n' \
  "libc6 (>= 2.36), libsimdjson14 (>= 3.0)" >"$tmp/ctl"
mkdir -p "$tmp/neg/DEBIAN" && cp "$tmp/ctl" "$tmp/neg/DEBIAN/control"
dpkg-deb -b "$tmp/neg" "$tmp/neg.deb" >/dev/null
(check_depends "$tmp/neg.deb") >/dev/null 2>&1 && fail "the Depends check accepted libc6 (>= 2.36) and libsimdjson14"

for deb in "${debs[@]}" "${pydebs[@]}"; do
  name=$(basename "$deb")
  arch=$(dpkg-deb -f "$deb" Architecture)
  [[ $name == *"_${version}_${arch}.deb" ]] || fail "$name: not <package>_${version}_${arch}.deb"
  check_depends "$deb"
  dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/files"
  grep -qxF "/usr/share/doc/$(dpkg-deb -f "$deb" Package)/copyright" "$tmp/files" || fail "$name: no copyright"
  # lintian: errors and warnings fail; info tags are shown, and no hardening-no-* may be among them.
  lintian --tag-display-limit 0 --fail-on error,warning --display-info "$deb" >"$tmp/lintian.txt" 2>&1 || {
    cat "$tmp/lintian.txt" >&2
    fail "$name: lintian"
  }
  if grep "hardening-no-" "$tmp/lintian.txt"; then fail "$name: lintian hardening tags"; fi
  echo "$name: lintian: $(grep -c '^[EW]:' "$tmp/lintian.txt" || true) errors/warnings, $(grep -c '^I:' "$tmp/lintian.txt" || true) info"
  sed 's/^/  /' "$tmp/lintian.txt"
done

for deb in "${debs[@]}"; do
  name=$(basename "$deb") arch=$(dpkg-deb -f "$deb" Architecture)
  root="$tmp/root-$arch"
  dpkg-deb -x "$deb" "$root"
  mkdir -p "$tmp/control-$arch"
  dpkg-deb -e "$deb" "$tmp/control-$arch"
  ctl="$tmp/control-$arch"
  [[ $(dpkg-deb -f "$deb" Package) == flame && $(dpkg-deb -f "$deb" Section) == admin ]] || fail "$name: control"
  grep -q "Apache-2.0" "$root/usr/share/doc/flame/copyright" || fail "$name: copyright without Apache-2.0"
  grep -q "Files: data/jetson-public/flexibo-tx2/\*" "$root/usr/share/doc/flame/copyright" || fail "$name: FlexiBO data not in copyright"
  [[ $(cat "$ctl/conffiles") == "/etc/flame/flamed.yaml" ]] || fail "$name: conffiles: $(cat "$ctl/conffiles")"
  for f in postinst prerm postrm; do
    [[ -x "$ctl/$f" ]] || fail "$name: $f missing or not executable"
    sh -n "$ctl/$f" || fail "$name: $f syntax"
    # The debhelper marker substituted inside a comment runs the snippets twice (or breaks syntax).
    if grep -q '.# Automatically added by' "$ctl/$f"; then fail "$name: $f has the debhelper marker in a comment"; fi
  done
  grep -q "deb-systemd-helper" "$ctl/postinst" || fail "$name: postinst has no dh_installsystemd part"

  # Contents.
  dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/files"
  for want in /usr/bin/flame /usr/bin/flamectl /usr/sbin/flamed /usr/bin/flame-trtexec \
    /lib/systemd/system/flamed.service /lib/systemd/system/flamed.socket \
    /usr/lib/sysusers.d/flame.conf /usr/lib/tmpfiles.d/flame.conf /usr/share/dbus-1/system.d/org.flame.Flamed1.conf \
    /etc/flame/flamed.yaml /usr/share/man/man8/flamed.8.gz /usr/share/man/man1/flamectl.1.gz \
    /usr/share/man/man5/flamed.yaml.5.gz /usr/share/man/man1/flame.1.gz /usr/share/man/man1/flame-trtexec.1.gz \
    /usr/share/doc/flame/changelog.gz \
    /usr/share/doc/flame/examples/flamed.yaml /usr/share/flame/data/h200-coupling/coupling.json \
    /usr/share/flame/data/jetson-public/flexibo-tx2/README.md \
    /usr/share/flame/config/boards/orin-nano-8gb-super.yaml /usr/share/flame/config/boards/orin-nx-16gb.yaml \
    /usr/share/flame/config/boards/agx-orin-64gb.yaml /usr/share/doc/flame/examples/models/resnet50.yaml \
    /usr/include/flame/client.hpp; do
    grep -qxF "$want" "$tmp/files" || fail "$name: $want is not in the package"
  done
  if grep -E "^/usr/local|^/home|^/work|^/tmp|python3" "$tmp/files"; then fail "$name: misplaced files"; fi
  # Example models are fitted on one board: never where flamed serves from, nor copied there.
  if grep -E "^/var/lib/flame/models/.|^/usr/share/flame/config/models" "$tmp/files"; then fail "$name: example models installed to be served"; fi
  cmp "$root/etc/flame/flamed.yaml" "$root/usr/share/doc/flame/examples/flamed.yaml"
  grep -E '^Exec[A-Za-z]*=' "$root/lib/systemd/system/flamed.service" | sed -E 's/^[^=]+=[-@:+!]*//; s/ .*//' |
    while read -r bin; do
      [[ $bin == /bin/kill ]] && continue
      [[ -x "$root$bin" ]] || fail "flamed.service runs $bin, which the package does not ship"
    done
  for page in man1/flame.1 man1/flame-trtexec.1 man8/flamed.8 man1/flamectl.1 man5/flamed.yaml.5; do
    zcat "$root/usr/share/man/$page.gz" | grep -q '^\.TH "[A-Z.-]*" "[158]" "" "flame [0-9]' || fail "$page: no .TH line"
  done

  # Binaries: the architecture, symbol versions jammy provides, and Debian's hardening.
  want_machine=$([[ $arch == arm64 ]] && echo AArch64 || echo "X86-64")
  for bin in usr/bin/flame usr/bin/flamectl usr/sbin/flamed; do
    readelf -h "$root/$bin" | grep -q "Machine: *.*$want_machine" || fail "$bin is not $want_machine"
    objdump -T "$root/$bin" | grep -oE "GLIBC(XX)?_[0-9.]+" | sort -u >"$tmp/syms"
    max_glibc=$(grep "^GLIBC_" "$tmp/syms" | sed 's/GLIBC_//' | sort -V | tail -1)
    max_glibcxx=$(grep "^GLIBCXX_" "$tmp/syms" | sed 's/GLIBCXX_//' | sort -V | tail -1)
    dpkg --compare-versions "$max_glibc" le 2.35 || fail "$bin needs GLIBC_$max_glibc (Ubuntu 22.04 has 2.35)"
    dpkg --compare-versions "${max_glibcxx:-0}" le 3.4.30 || fail "$bin needs GLIBCXX_$max_glibcxx (Ubuntu 22.04: 3.4.30)"
    echo "$name $bin: GLIBC_$max_glibc GLIBCXX_${max_glibcxx:-none}"
    hardening-check --nocfprotection "$root/$bin" >"$tmp/hc.txt" 2>&1 || {
      cat "$tmp/hc.txt" >&2
      fail "$bin: hardening-check"
    }
  done
  # The symbol check can fail: a GLIBC_2.36 symbol is above the limit.
  dpkg --compare-versions 2.36 le 2.35 && fail "dpkg --compare-versions accepts 2.36 <= 2.35"
  echo "$name: binaries ok"

  # The packaged config passes flamed --check-config (native packages only: no emulation here).
  if [[ $arch == "$(dpkg --print-architecture)" ]]; then
    "$root/usr/sbin/flamed" --check-config "$root/etc/flame/flamed.yaml" >/dev/null ||
      fail "the packaged config does not pass flamed --check-config"
  fi

  # Maintainer scripts without systemd as PID 1: helpers are stubs that log their arguments.
  if [[ ! -d /run/systemd/system ]]; then
    mkdir -p "$tmp/stubs"
    for cmd in deb-systemd-helper deb-systemd-invoke systemctl systemd-sysusers systemd-tmpfiles groupadd getent; do
      printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 0\n' "$cmd" "$tmp/calls" >"$tmp/stubs/$cmd"
      chmod +x "$tmp/stubs/$cmd"
    done
    : >"$tmp/calls"
    DPKG_ROOT="$root" PATH="$tmp/stubs:$PATH" sh -e "$ctl/postinst" configure "" || fail "postinst configure"
    if compgen -G "$root/var/lib/flame/models/*.yaml" >/dev/null; then fail "a first install put example models where flamed serves them"; fi
    grep -q "^systemd-sysusers flame.conf$" "$tmp/calls" || fail "postinst did not run systemd-sysusers"
    grep -q "^deb-systemd-helper .*enable flamed.socket" "$tmp/calls" || fail "flamed.socket not enabled: $(cat "$tmp/calls")"
    grep -q "^deb-systemd-helper .*enable flamed.service" "$tmp/calls" || fail "flamed.service not enabled"
    if grep -q "^deb-systemd-invoke\|^systemctl" "$tmp/calls"; then fail "postinst started units without systemd"; fi
    DPKG_ROOT="$root" PATH="$tmp/stubs:$PATH" sh -e "$ctl/postinst" configure 0.1.0 || fail "postinst upgrade"
    DPKG_ROOT="$root" PATH="$tmp/stubs:$PATH" sh -e "$ctl/postrm" purge || fail "postrm purge"
    [[ ! -e "$root/var/lib/flame" ]] || fail "purge left /var/lib/flame"
    : >"$tmp/calls"
    PATH="$tmp/stubs:$PATH" sh -e "$ctl/prerm" remove || fail "prerm remove"
    PATH="$tmp/stubs:$PATH" sh -e "$ctl/postrm" remove || fail "postrm remove"
    if grep -q "^deb-systemd-invoke\|^systemctl" "$tmp/calls"; then fail "prerm/postrm used systemctl without systemd"; fi
    echo "$name: maintainer scripts without systemd as PID 1: ok"
  fi
done

# python3-flame: arch all, the two modules, byte-compiled by dh_python3 at install.
py=${pydebs[0]}
dpkg-deb -c "$py" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/pyfiles"
for want in /usr/lib/python3/dist-packages/flame_client.py /usr/lib/python3/dist-packages/flame_profile.py; do
  grep -qxF "$want" "$tmp/pyfiles" || fail "python3-flame: $want missing"
done
dpkg-deb -f "$py" Depends | grep -q "python3" || fail "python3-flame does not depend on python3"
echo "ok"
