#!/usr/bin/env bash
# The systemd side of flamed without systemd as PID 1: `systemd-analyze verify` on test copies of
# the units (ExecStart pointing at the build tree), the sandbox exposure score that
# docs/systemd.md records, the directives the daemon depends on, sysusers.d/tmpfiles.d applied to
# a scratch root, and the D-Bus policy accepted by xmllint and by a real dbus-daemon.
set -euo pipefail
: "${FLAME_SOURCE_DIR:?}"
src="$FLAME_SOURCE_DIR/systemd"
tmp=$(mktemp -d)
bus_pid=""
trap '[[ -n "$bus_pid" ]] && kill "$bus_pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# Test copies: the daemon from the build tree (a stand-in until the lead's flamed binary exists).
flamed_bin=${FLAMED:-}
if [[ -z "$flamed_bin" ]]; then
  flamed_bin=$(type -P true)
  echo "note: flamed is not built yet; the test units run $flamed_bin"
fi
mkdir -p "$tmp/units"
for u in flamed.service flamed.socket; do
  sed -e "s|@FLAMED@|$flamed_bin|g" -e "s|@FLAME_CONFIG_FILE@|/etc/flame/flamed.yaml|g" \
    -e "s|@FLAME_SOCKET@|/run/flame/flamed.sock|g" "$src/$u.in" >"$tmp/units/$u"
done
if grep -n '@[A-Z_]*@' "$tmp/units/"*; then
  echo "unsubstituted placeholder in a unit" >&2
  exit 1
fi

(cd "$tmp/units" && systemd-analyze verify --man=no ./flamed.service ./flamed.socket) 2>"$tmp/verify.err" || {
  cat "$tmp/verify.err" >&2
  echo "systemd-analyze verify failed" >&2
  exit 1
}
# verify exits 0 on some warnings (unknown keys, bad values): none may mention our units.
if grep -i "flamed" "$tmp/verify.err"; then
  echo "systemd-analyze verify warned about the units" >&2
  exit 1
fi
echo "verify: ok"

# The exposure score, and that docs/systemd.md records exactly this one.
(cd "$tmp/units" && systemd-analyze security --offline=yes ./flamed.service) >"$tmp/security.txt" 2>&1 || true
line=$(grep "Overall exposure level for flamed.service" "$tmp/security.txt")
score=$(sed -E 's/.*: ([0-9.]+) ([A-Z]+).*/\1/' <<<"$line")
level=$(sed -E 's/.*: ([0-9.]+) ([A-Z]+).*/\2/' <<<"$line")
echo "security: $score $level"
case "$level" in
  PERFECT | SAFE | OK) ;;
  *) echo "exposure level $level is worse than OK" >&2; exit 1 ;;
esac
grep -q "exposure level $score $level" "$FLAME_SOURCE_DIR/docs/systemd.md" || {
  echo "docs/systemd.md does not record the current score ($score $level)" >&2
  exit 1
}

# What the daemon relies on.
svc="$tmp/units/flamed.service"
for want in '^Type=notify$' '^WatchdogSec=' '^Restart=on-failure$' '^ExecStopPost=.* --restore' \
  '^ExecReload=.* --reload \$MAINPID$' '^ConditionPathExists=\|/etc/nv_tegra_release$' \
  '^ConditionFirmware=\|device-tree-compatible\(nvidia,tegra234\)$' '^RuntimeDirectory=flame$' \
  '^RuntimeDirectoryPreserve=yes$' '^StateDirectory=flame$' '^ConfigurationDirectory=flame$' \
  '^ProtectSystem=strict$' '^RestrictAddressFamilies=AF_UNIX$' '^PrivateNetwork=yes$' '^NoNewPrivileges=yes$' \
  '^SystemCallFilter=@system-service$' '^Requires=flamed.socket$' '^LimitNOFILE=4096$'; do
  grep -qE "$want" "$svc" || { echo "flamed.service lacks $want" >&2; exit 1; }
done
# These would make /sys or /sys/kernel/debug (EMC clocks) read-only, or hide /proc/device-tree.
for never in '^ProtectKernelTunables=yes' '^ProcSubset=pid' '^ReadOnlyPaths=.*/sys' '^InaccessiblePaths=.*/sys' \
  '^PrivateUsers=yes' '^DynamicUser=yes'; do
  if grep -qE "$never" "$svc"; then echo "flamed.service must not set $never" >&2; exit 1; fi
done
# The board lock (docs/board-io.md, "Controller lock"): the unit names its directory, and that
# directory is one the sandbox leaves writable (ProtectSystem=strict makes everything else read-only).
lock_dir=$(sed -n 's/^Environment=FLAME_LOCK_DIR=//p' "$svc")
[[ -n "$lock_dir" ]] || { echo "flamed.service does not name FLAME_LOCK_DIR" >&2; exit 1; }
writable=()
for d in $(sed -n 's/^RuntimeDirectory=//p' "$svc"); do writable+=("/run/$d"); done
for d in $(sed -n 's/^StateDirectory=//p' "$svc"); do writable+=("/var/lib/$d"); done
for d in $(sed -n 's/^ReadWritePaths=//p' "$svc"); do writable+=("${d#-}"); done
lock_ok=0
for d in "${writable[@]}"; do [[ "$lock_dir" == "$d" || "$lock_dir" == "$d"/* ]] && lock_ok=1; done
((lock_ok)) || { echo "the lock directory $lock_dir is not writable under the unit's sandbox (${writable[*]})" >&2; exit 1; }
# (The compiled-in default is the same /run/flame, so a `flame board set` from a shell and the service
# contend for one lock per board: tests/unit/test_board_safe_restore.cpp, "[board][lock]".)
echo "lock directory: $lock_dir (writable by the unit)"
sock="$tmp/units/flamed.socket"
for want in '^ListenStream=/run/flame/flamed.sock$' '^SocketMode=0660$' '^SocketGroup=flame$' \
  '^ConditionPathExists=\|/etc/nv_tegra_release$' '^ConditionFirmware=\|device-tree-compatible\(nvidia,tegra234\)$'; do
  grep -qE "$want" "$sock" || { echo "flamed.socket lacks $want" >&2; exit 1; }
done
echo "directives: ok"

# The units' conditions, evaluated on this machine: they hold on a Jetson and fail elsewhere.
for u in "$svc" "$sock"; do
  mapfile -t conds < <(grep -E '^Condition' "$u")
  if [[ -e /etc/nv_tegra_release ]] || grep -qs 'nvidia,tegra' /proc/device-tree/compatible; then
    systemd-analyze condition "${conds[@]}" >/dev/null || { echo "$(basename "$u") would not start on this Jetson" >&2; exit 1; }
  elif systemd-analyze condition "${conds[@]}" >/dev/null 2>&1; then
    echo "$(basename "$u") would start on this machine, which is not a Jetson" >&2
    exit 1
  fi
done
echo "conditions: ok"

# sysusers.d and tmpfiles.d, applied to a scratch root.
root="$tmp/root"
mkdir -p "$root/etc"
systemd-sysusers --root="$root" "$src/sysusers.d/flame.conf"
grep -q '^flame:x:[0-9]*:' "$root/etc/group" || { echo "sysusers did not create group flame" >&2; exit 1; }
gid=$(awk -F: '$1 == "flame" { print $3 }' "$root/etc/group")
((gid < 1000)) || { echo "group flame got a non-system gid $gid" >&2; exit 1; }
systemd-tmpfiles --root="$root" --create "$src/tmpfiles.d/flame.conf"
for d in run/flame var/lib/flame var/lib/flame/models; do
  [[ -d "$root/$d" ]] || { echo "tmpfiles did not create /$d" >&2; exit 1; }
  [[ $(stat -c %a "$root/$d") == 755 ]] || { echo "/$d has mode $(stat -c %a "$root/$d")" >&2; exit 1; }
done
echo "sysusers/tmpfiles: ok (group flame gid $gid)"

# The bus policy: well-formed, and accepted by dbus-daemon as part of a system-bus-like config.
policy="$src/dbus/org.flame.Flamed1.conf"
if command -v xmllint >/dev/null; then
  xmllint --noout "$policy"
  echo "xmllint: ok"
else
  echo "note: xmllint not installed (package libxml2-utils); skipped"
fi
if command -v dbus-daemon >/dev/null; then
  # A private bus with the default policy of Debian's system bus plus ours.
  chmod 755 "$tmp"
  mkdir -p "$tmp/policy.d"
  cp "$policy" "$tmp/policy.d/"
  cat >"$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$tmp/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <includedir>$tmp/policy.d</includedir>
</busconfig>
CONF
  dbus-daemon --config-file="$tmp/bus.conf" --print-pid=1 --fork --nopidfile >"$tmp/bus.pid" 2>"$tmp/bus.err" || {
    cat "$tmp/bus.err" >&2
    echo "dbus-daemon rejected a configuration that includes the policy" >&2
    exit 1
  }
  bus_pid=$(head -1 "$tmp/bus.pid")
  export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/bus.sock"
  busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId >/dev/null
  echo "dbus-daemon: policy accepted"

  # What the policy means, with dbus-test-tool (package dbus-tests) standing in for flamed.
  if command -v dbus-test-tool >/dev/null && [[ $(id -u) == 0 ]]; then
    nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    if "${nobody[@]}" timeout 5 dbus-test-tool echo --system --name=org.flame.Flamed1 2>/dev/null; then
      echo "an unprivileged user could own org.flame.Flamed1" >&2
      exit 1
    fi
    dbus-test-tool echo --system --name=org.flame.Flamed1 &
    echo_pid=$!
    for _ in $(seq 50); do
      busctl --system list 2>/dev/null | grep -q '^org.flame.Flamed1 ' && break
      sleep 0.1
    done
    busctl --system list | grep -q '^org.flame.Flamed1 ' || { echo "root could not own the name" >&2; exit 1; }
    for call in "org.flame.Flamed1 Reload" "org.freedesktop.DBus.Properties GetAll" \
      "org.freedesktop.DBus.Introspectable Introspect" "org.freedesktop.DBus.Peer Ping"; do
      read -r iface method <<<"$call"
      "${nobody[@]}" busctl --system call org.flame.Flamed1 /org/flame/Flamed1 "$iface" "$method" >/dev/null || {
        kill "$echo_pid"
        echo "an unprivileged user may not call $iface" >&2
        exit 1
      }
    done
    if "${nobody[@]}" busctl --system call org.flame.Flamed1 /org/flame/Flamed1 org.example.Other Anything \
      2>"$tmp/denied.err"; then
      kill "$echo_pid"
      echo "the policy lets anyone call any interface" >&2
      exit 1
    fi
    kill "$echo_pid"
    grep -qi "denied\|access" "$tmp/denied.err" || { cat "$tmp/denied.err" >&2; exit 1; }
    echo "dbus policy: root owns the name; anyone may call Flamed1, Properties, Introspectable, Peer; nothing else"
  else
    echo "note: dbus-test-tool (package dbus-tests) missing or not root; policy semantics not checked"
  fi
fi
echo "ok"
