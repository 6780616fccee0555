#!/usr/bin/env bash
# Socket round trip and throughput of the real flamed on a fake Orin Nano tree, with 10 models
# loaded; prints the load result and the daemon's peak RSS. Usage: bench/socket_load.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
export FLAMED=$PWD/$B/daemon/flamed FLAME=$PWD/$B/tools/flame FLAME_BUILD_DIR=$PWD/$B FLAME_SOURCE_DIR=$PWD
source tests/integration/lib/flamed_env.sh
for i in $(seq 1 8); do sed "s/^name: resnet50/name: resnet50_$i/" config/models/resnet50.yaml >"$T/models/r$i.yaml"; done
FLAMED_LOG_LEVEL=warn write_config "limits: {rate_per_s: 1000000, rate_burst: 1000000}"
start_flamed
"$FLAME" bench socket --socket "$SOCK" --clients 16 --requests 4000 --deadline-ms 30
"$FLAME" bench socket --socket "$SOCK" --clients 1 --requests 4000 --deadline-ms 30
echo "flamed peak RSS: $(grep VmHWM /proc/$FLAMED_PID/status | awk '{print $2, $3}') with $(ls "$T/models" | wc -l) models"
stop_flamed TERM
same_tree "$ROOT" "$T/root.orig" && echo "clocks restored"
