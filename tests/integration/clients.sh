#!/usr/bin/env bash
# The client libraries against a running flamed: clients/python/test_flame_client.py (python3 -m
# unittest) without a daemon and then with one, and the C++ client's live Catch2 case
# ("client: a separately started flamed") against the same daemon. The daemon is the real binary
# on a fake tree, or the protocol double when the binary is absent.
set -euo pipefail
: "${FLAME_BUILD_DIR:?}" "${FLAME_SOURCE_DIR:?}"
source "$FLAME_SOURCE_DIR/tests/integration/lib/client_env.sh"
tmp=$(mktemp -d)
trap 'flamed_stop; rm -rf "$tmp"' EXIT
cd "$FLAME_SOURCE_DIR/clients/python"
export PYTHONDONTWRITEBYTECODE=1

# No daemon: the no-op paths (absent, refused, silent daemon).
env -u FLAME_TEST_SOCKET python3 -m unittest -v test_flame_client 2>"$tmp/py0.txt" || {
  cat "$tmp/py0.txt" >&2
  exit 1
}
tail -3 "$tmp/py0.txt"

flamed_setup "$tmp/d"
flamed_start "$tmp/d"
FLAME_TEST_SOCKET="$FLAMED_SOCK" FLAME_TEST_MODEL=resnet50 python3 -m unittest -v test_flame_client 2>"$tmp/py1.txt" || {
  cat "$tmp/py1.txt" >&2
  tail -30 "$tmp/d/flamed.log" >&2
  exit 1
}
tail -3 "$tmp/py1.txt"
# Every live test ran (only the root-dependent one may skip).
if grep -E "WithDaemon.*skipped" "$tmp/py1.txt"; then
  echo "live tests were skipped" >&2
  exit 1
fi

unit="$FLAME_BUILD_DIR/tests/flame_unit_tests"
FLAME_TEST_SOCKET="$FLAMED_SOCK" FLAME_TEST_MODEL=resnet50 "$unit" "client: a separately started flamed (FLAME_TEST_SOCKET)" \
  >"$tmp/cpp.txt" 2>&1 || {
  cat "$tmp/cpp.txt" >&2
  exit 1
}
grep -q "All tests passed" "$tmp/cpp.txt" || { cat "$tmp/cpp.txt" >&2; exit 1; }
grep "All tests passed" "$tmp/cpp.txt"

# The real flamed closing idle connections after 300 ms (limits.idle_timeout_ms): both clients
# reconnect once, transparently, and are not marked down.
if [[ $FLAMED_KIND == real ]]; then
  flamed_stop
  echo "limits: {idle_timeout_ms: 300}" >>"$tmp/d/flamed.yaml"
  flamed_start "$tmp/d"
  FLAME_TEST_SOCKET="$FLAMED_SOCK" FLAME_TEST_IDLE_MS=300 FLAME_TEST_MODEL=resnet50 \
    python3 -m unittest -v test_flame_client.WithIdleTimeout 2>"$tmp/py2.txt" || {
    cat "$tmp/py2.txt" >&2
    tail -30 "$tmp/d/flamed.log" >&2
    exit 1
  }
  grep -q "skipped" "$tmp/py2.txt" && { cat "$tmp/py2.txt" >&2; echo "idle tests were skipped" >&2; exit 1; }
  tail -1 "$tmp/py2.txt"
  FLAME_TEST_SOCKET="$FLAMED_SOCK" FLAME_TEST_IDLE_MS=300 "$unit" \
    "client: a separately started flamed with a short idle timeout (FLAME_TEST_IDLE_MS)" >"$tmp/cpp2.txt" 2>&1 || {
    cat "$tmp/cpp2.txt" >&2
    exit 1
  }
  grep -q "All tests passed" "$tmp/cpp2.txt" || { cat "$tmp/cpp2.txt" >&2; exit 1; }
  grep -q "no request for 300 ms" "$tmp/d/flamed.log" || { echo "flamed closed no idle connection" >&2; exit 1; }
  echo "idle timeout: both clients reconnected transparently"
fi
echo "ok ($FLAMED_KIND daemon)"
