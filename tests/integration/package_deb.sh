#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` from the build tree, then its control data (dpkg-deb -I),
# its contents (dpkg-deb -c), paths baked into the units matching the packaged binaries, man
# pages, the pandoc/roff man-page sync, the maintainer scripts' behaviour without systemd as
# PID 1 (stubbed helpers), and lintian with only the documented overrides.
set -euo pipefail
: "${FLAME_BUILD_DIR:?}" "${FLAME_SOURCE_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$FLAME_BUILD_DIR/CMakeCache.txt")
[[ $prefix == /usr ]] || fail "the build tree installs to '$prefix'; a Debian package needs -DCMAKE_INSTALL_PREFIX=/usr (the default of a fresh build directory)"

(cd "$tmp" && cpack -G DEB --config "$FLAME_BUILD_DIR/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1) || {
  cat "$tmp/cpack.log" >&2
  fail "cpack"
}
deb=$(ls "$tmp"/out/flame_*.deb)
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

# Control data.
dpkg-deb -I "$deb" >"$tmp/info"
grep -q "^ Package: flame$" "$tmp/info" || fail "package name"
grep -q "^ Section: admin$" "$tmp/info" || fail "section"
grep -qE "^ Depends: .*libc6" "$tmp/info" || fail "no shlibs Depends: $(grep Depends "$tmp/info")"
grep -qE "^ Depends: .*init-system-helpers" "$tmp/info" || fail "no init-system-helpers in Depends"
for f in conffiles postinst prerm postrm; do
  grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +(\*)? *$f" "$tmp/info" || fail "control member $f missing"
done
for f in postinst prerm postrm; do
  grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$f" "$tmp/info" || fail "$f is not executable"
done
mkdir "$tmp/control"
dpkg-deb -e "$deb" "$tmp/control"
[[ $(cat "$tmp/control/conffiles") == "/etc/flame/flamed.yaml" ]] || fail "conffiles: $(cat "$tmp/control/conffiles")"
for f in postinst prerm postrm; do sh -n "$tmp/control/$f" || fail "$f syntax"; done
echo "control: ok"

# Contents.
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/files"
for want in /usr/bin/flame /usr/bin/flamectl /usr/sbin/flamed \
  /lib/systemd/system/flamed.service /lib/systemd/system/flamed.socket \
  /usr/lib/sysusers.d/flame.conf /usr/lib/tmpfiles.d/flame.conf /usr/share/dbus-1/system.d/org.flame.Flamed1.conf \
  /etc/flame/flamed.yaml /usr/share/man/man8/flamed.8.gz /usr/share/man/man1/flamectl.1.gz \
  /usr/share/man/man5/flamed.yaml.5.gz /usr/share/man/man1/flame.1.gz /usr/share/doc/flame/copyright /usr/share/doc/flame/changelog.gz \
  /usr/share/doc/flame/examples/flamed.yaml /usr/share/flame/data/h200-coupling/coupling.json \
  /usr/share/flame/config/boards/orin-nano-8gb-super.yaml /usr/share/flame/config/models/resnet50.yaml \
  /usr/include/flame/client.hpp \
  /usr/lib/python3/dist-packages/flame_client.py /usr/share/lintian/overrides/flame; do
  grep -qxF "$want" "$tmp/files" || fail "$want is not in the package"
done
if grep -E "^/usr/local|^/home|^/work|^/tmp" "$tmp/files"; then fail "files outside the FHS places"; fi
echo "contents: $(grep -vc '/$' "$tmp/files") files: ok"

# The units run binaries the package ships; no build-tree path leaked into any text file.
dpkg-deb -x "$deb" "$tmp/root"
for unit in "$tmp/root/lib/systemd/system/flamed.service"; do
  grep -E '^Exec[A-Za-z]*=' "$unit" | sed -E 's/^[^=]+=[-@:+!]*//; s/ .*//' | while read -r bin; do
    [[ $bin == /bin/kill ]] && continue
    [[ -x "$tmp/root$bin" ]] || fail "$(basename "$unit") runs $bin, which the package does not ship"
  done
done
if grep -rlF "$FLAME_BUILD_DIR" "$tmp/root/lib" "$tmp/root/etc" "$tmp/root/usr/share" 2>/dev/null; then
  fail "build-tree paths in packaged files"
fi
cmp "$tmp/root/etc/flame/flamed.yaml" "$tmp/root/usr/share/doc/flame/examples/flamed.yaml"
"$tmp/root/usr/sbin/flamed" --check-config "$tmp/root/etc/flame/flamed.yaml" >/dev/null ||
  fail "the packaged config does not pass flamed --check-config"
for page in man1/flame.1 man8/flamed.8 man1/flamectl.1 man5/flamed.yaml.5; do
  zcat "$tmp/root/usr/share/man/$page.gz" | grep -q '^\.TH "[A-Z.]*" "[158]" "" "flame [0-9]' ||
    fail "$page has no proper .TH line"
  if command -v man >/dev/null; then
    MANWIDTH=80 man -l "$tmp/root/usr/share/man/$page.gz" 2>&1 >/dev/null | grep -v "^$" && fail "$page: man warns"
  fi
done
echo "units, config and man pages: ok"

# The pre-rendered roff (used when pandoc is missing) must match the Markdown sources.
if command -v pandoc >/dev/null; then
  for md in "$FLAME_SOURCE_DIR"/docs/man/*.md; do
    page=$(basename "$md" .md)
    pandoc -s -f markdown -t man "$md" | cmp -s - "$FLAME_SOURCE_DIR/packaging/man/$page" ||
      fail "packaging/man/$page is stale: pandoc -s -f markdown -t man -o packaging/man/$page docs/man/$page.md"
  done
  echo "man sources in sync: ok"
fi

# Maintainer scripts without systemd as PID 1: helpers are stubs that log their arguments.
mkdir "$tmp/stubs"
for cmd in deb-systemd-helper deb-systemd-invoke systemctl systemd-sysusers systemd-tmpfiles groupadd getent; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\n%s\n' "$cmd" "$tmp/calls" \
    "$([[ $cmd == getent ]] && echo 'exit 0' || echo 'exit 0')" >"$tmp/stubs/$cmd"
  chmod +x "$tmp/stubs/$cmd"
done
if [[ ! -d /run/systemd/system ]]; then
  DPKG_ROOT="$tmp/root" PATH="$tmp/stubs:$PATH" sh -e "$tmp/control/postinst" configure "" || fail "postinst configure"
  [[ -f "$tmp/root/var/lib/flame/models/resnet50.yaml" ]] || fail "a first install did not install the example models"
  grep -q "^systemd-sysusers flame.conf$" "$tmp/calls" || fail "postinst did not run systemd-sysusers"
  grep -q "^deb-systemd-helper enable flamed.socket$" "$tmp/calls" || fail "flamed.socket not enabled"
  grep -q "^deb-systemd-helper enable flamed.service$" "$tmp/calls" || fail "flamed.service not enabled"
  if grep -q "^deb-systemd-invoke\|^systemctl" "$tmp/calls"; then fail "postinst started units without systemd"; fi
  rm "$tmp/root/var/lib/flame/models/"*.yaml
  DPKG_ROOT="$tmp/root" PATH="$tmp/stubs:$PATH" sh -e "$tmp/control/postinst" configure 0.1.0 || fail "postinst upgrade"
  if ls "$tmp/root/var/lib/flame/models/"*.yaml 2>/dev/null; then fail "an upgrade put example models back"; fi
  : >"$tmp/calls"
  DPKG_ROOT="$tmp/root" PATH="$tmp/stubs:$PATH" sh -e "$tmp/control/postrm" purge || fail "postrm purge"
  [[ ! -e "$tmp/root/var/lib/flame" ]] || fail "purge left /var/lib/flame"
  : >"$tmp/calls"
  PATH="$tmp/stubs:$PATH" sh -e "$tmp/control/prerm" remove || fail "prerm remove"
  PATH="$tmp/stubs:$PATH" sh -e "$tmp/control/postrm" remove || fail "postrm remove"
  if grep -q "^deb-systemd-invoke\|^systemctl" "$tmp/calls"; then fail "prerm/postrm used systemctl without systemd"; fi
  echo "maintainer scripts without systemd as PID 1: ok"
fi

# lintian: no error or warning beyond packaging/debian/lintian-overrides (each override explained there).
if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 --fail-on error,warning --display-info "$deb" >"$tmp/lintian.txt" 2>&1 || {
    cat "$tmp/lintian.txt" >&2
    fail "lintian"
  }
  echo "lintian: $(grep -c '^[EW]:' "$tmp/lintian.txt" || true) errors/warnings, $(grep -c '^I:' "$tmp/lintian.txt" || true) info"
  cat "$tmp/lintian.txt"
else
  echo "note: lintian is not installed; skipped"
fi
echo "ok"
