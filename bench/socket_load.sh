#!/usr/bin/env bash
# Socket round trip and throughput of the real flamed on a fake Orin Nano tree, with 10 models
# loaded; prints the load result and the daemon's peak RSS. Usage: bench/socket_load.sh [BUILD_DIR]
# FULL=1 adds the 64 clients x 10,000 requests run with a 20 % invalid mix.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
export FLAMED=$PWD/$B/daemon/flamed FLAME=$PWD/$B/tools/flame FLAME_BUILD_DIR=$PWD/$B FLAME_SOURCE_DIR=$PWD
source tests/integration/lib/flamed_env.sh
for i in $(seq 1 8); do sed "s/^name: resnet50/name: resnet50_$i/" config/models/resnet50.yaml >"$T/models/r$i.yaml"; done
FLAMED_LOG_LEVEL=warn write_config "limits: {rate_per_s: 1000000, rate_burst: 1000000, max_connections: 128, max_connections_per_uid: 128}"
start_flamed
echo "closed loop (saturating):"
"$FLAME" bench socket --socket "$SOCK" --clients 16 --requests 4000 --deadline-ms 30
echo "paced at 10,000 requests/s in total:"
"$FLAME" bench socket --socket "$SOCK" --clients 16 --requests 4000 --deadline-ms 30 --rate 10000
"$FLAME" bench socket --socket "$SOCK" --clients 1 --requests 4000 --deadline-ms 30
if [[ "${FULL:-}" == 1 ]]; then
  rss0=$(awk '/^VmRSS/ {print $2}' /proc/$FLAMED_PID/status)
  "$FLAME" bench socket --socket "$SOCK" --clients 64 --requests 10000 --deadline-ms 30 --invalid-pct 20
  echo "flamed RSS before/after the 64 x 10,000 run: $rss0 kB -> $(awk '/^VmRSS/ {print $2}' /proc/$FLAMED_PID/status) kB"
fi
echo "status counters: $(python3 -c 'import json,socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f=s.makefile("rwb")
f.write(b"{\"op\":\"status\"}\n"); f.flush(); print(json.loads(f.readline())["counters"])' "$SOCK")"
echo "flamed peak RSS: $(grep VmHWM /proc/$FLAMED_PID/status | awk '{print $2, $3}') with $(ls "$T/models" | wc -l) models"
stop_flamed TERM
same_tree "$ROOT" "$T/root.orig" && echo "clocks restored"
