#!/usr/bin/env bash
# clients/python as a pip project: installed with no network (--no-index, --no-build-isolation)
# into a fresh venv that does not see the system's packages, then the client test suite runs
# from that venv against the installed modules (not the source tree), without and with a flamed.
set -euo pipefail
: "${FLAME_BUILD_DIR:?}" "${FLAME_SOURCE_DIR:?}"
source "$FLAME_SOURCE_DIR/tests/integration/lib/client_env.sh"
tmp=$(mktemp -d)
trap 'flamed_stop; rm -rf "$tmp"' EXIT
export PYTHONDONTWRITEBYTECODE=1 PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1

python3 -m venv "$tmp/venv" || {
  echo "python3 -m venv failed (Debian: apt install python3-venv)" >&2
  exit 1
}
py="$tmp/venv/bin/python"
# A copy, so that nothing the build leaves behind lands in the checkout.
cp -r "$FLAME_SOURCE_DIR/clients/python" "$tmp/src"
"$py" -m pip install --no-build-isolation --no-index "$tmp/src" >"$tmp/pip.txt" 2>&1 || {
  cat "$tmp/pip.txt" >&2
  exit 1
}
tail -1 "$tmp/pip.txt"

# The installed version is the project's.
want=$(sed -n 's/^project(flame VERSION \([0-9.]*\).*/\1/p' "$FLAME_SOURCE_DIR/CMakeLists.txt")
got=$("$py" -c 'from importlib.metadata import version; print(version("flame-client"))')
[[ $got == "$want" ]] || { echo "flame-client $got installed, the project is $want" >&2; exit 1; }

# The tests run beside nothing but themselves: the modules must come from the venv.
mkdir "$tmp/t"
cp "$FLAME_SOURCE_DIR"/clients/python/test_flame_*.py "$tmp/t/"
cd "$tmp/t"
for m in flame_client flame_profile; do  # flame_profile imports torch: locate, do not import
  where=$("$py" -c "import importlib.util; print(importlib.util.find_spec('$m').origin)")
  [[ $where == "$tmp/venv/"* ]] || { echo "$m imported from $where, not the venv" >&2; exit 1; }
done

env -u FLAME_TEST_SOCKET "$py" -m unittest -v test_flame_client test_flame_profile 2>"$tmp/py0.txt" || {
  cat "$tmp/py0.txt" >&2
  exit 1
}
tail -3 "$tmp/py0.txt"

flamed_setup "$tmp/d"
flamed_start "$tmp/d"
FLAME_TEST_SOCKET="$FLAMED_SOCK" FLAME_TEST_MODEL=resnet50 "$py" -m unittest -v test_flame_client 2>"$tmp/py1.txt" || {
  cat "$tmp/py1.txt" >&2
  tail -30 "$tmp/d/flamed.log" >&2
  exit 1
}
tail -3 "$tmp/py1.txt"
if grep -E "WithDaemon.*skipped" "$tmp/py1.txt"; then
  echo "live tests were skipped" >&2
  exit 1
fi
echo "ok"
