#!/usr/bin/env bash
# Socket activation as flamed.socket does it, without systemd as PID 1: systemd-socket-activate
# listens, then starts flamed with LISTEN_FDS=1 on the first connection; flamed must adopt that
# socket (its configured socket_path is never created), serve flamectl over it, and exit 0 on
# SIGTERM.
set -euo pipefail
: "${FLAME_BUILD_DIR:?}" "${FLAME_SOURCE_DIR:?}"
if [[ -z "${FLAMED:-}" ]]; then
  echo "flamed is not built" >&2
  exit 1
fi
command -v systemd-socket-activate >/dev/null || { echo "systemd-socket-activate missing (package systemd)" >&2; exit 1; }
CTL="$FLAME_BUILD_DIR/tools/flamectl/flamectl"
source "$FLAME_SOURCE_DIR/tests/integration/lib/client_env.sh"
tmp=$(mktemp -d)
act=""
trap '[[ -n "$act" ]] && kill "$act" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

flamed_setup "$tmp/d"
sock="$tmp/activated.sock"
# -E: systemd-socket-activate passes on only the variables it is told to (the board lock's directory).
systemd-socket-activate -l "$sock" -E FLAME_LOCK_DIR -- "$FLAMED" --config "$tmp/d/flamed.yaml" >"$tmp/act.log" 2>&1 &
act=$!
for _ in $(seq 100); do
  [[ -S "$sock" ]] && break
  sleep 0.05
done
[[ -S "$sock" ]] || { cat "$tmp/act.log" >&2; exit 1; }

"$CTL" -s "$sock" --timeout 20 status >"$tmp/status.txt" || { cat "$tmp/act.log" >&2; exit 1; }
grep -q "^active requests: 0" "$tmp/status.txt"
"$CTL" -s "$sock" run -m resnet50 -d 1000 --strict -- true || { cat "$tmp/act.log" >&2; exit 1; }
[[ ! -e "$tmp/d/flamed.sock" ]] || { echo "flamed bound its own socket instead of adopting" >&2; exit 1; }
grep -qi "socket passed by systemd\|LISTEN_FDS\|activat" "$tmp/act.log" || {
  echo "note: flamed did not log the adoption" >&2
}
echo "activated: ok"

# SIGTERM: the daemon exits cleanly and restores the fake board.
kill -TERM "$act"
wait "$act" || { echo "flamed exited with $?" >&2; cat "$tmp/act.log" >&2; exit 1; }
act=""
echo "ok"
