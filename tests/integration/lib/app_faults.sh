#!/usr/bin/env bash
# Faults around a command run by `flame profile` (profile_pipeline.sh): the command itself is the
# simulated application (`flame sim app`), this only adds what the failure paths need and logs what
# each run saw. Usage: app_faults.sh [--log FILE] [--fail-at STEP] [--no-trace-at STEP]
#                                    [--hang-at STEP --marker FILE] -- COMMAND...
# --log appends {"step": S, "env": [cpu_khz, gpu_hz, emc_hz], "app": <the command's JSON line>}.
# --hang-at hangs once (until --marker exists): a resumed run gets past the step.
set -euo pipefail
log= fail_at=-1 no_trace_at=-1 hang_at=-1 marker=
while [[ $1 != -- ]]; do
  case $1 in
    --log) log=$2 ;;
    --fail-at) fail_at=$2 ;;
    --no-trace-at) no_trace_at=$2 ;;
    --hang-at) hang_at=$2 ;;
    --marker) marker=$2 ;;
    *) echo "app_faults.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
shift
step=$FLAME_PROFILE_STEP
if [[ $step == "$hang_at" && ! -e ${marker:-/nonexistent} ]]; then
  [[ -n $marker ]] && : >"$marker"
  while :; do sleep 0.05; done
fi
if [[ $step == "$fail_at" ]]; then
  echo "app_faults.sh: failing on purpose" >&2
  exit 3
fi
if [[ $step == "$no_trace_at" ]]; then
  # Runs, but the trace goes elsewhere (a command that forgot to write it).
  elsewhere=$(mktemp -d)
  "$@" --out "$elsewhere/trace.json" >/dev/null
  rm -rf "$elsewhere"
  exit 0
fi
out=$("$@")
echo "$out"
if [[ -n $log ]]; then
  while IFS= read -r line; do
    printf '{"step": %s, "env": [%s, %s, %s], "app": %s}\n' "$step" "$FLAME_PROFILE_CPU_KHZ" "$FLAME_PROFILE_GPU_HZ" \
      "$FLAME_PROFILE_EMC_HZ" "$line" >>"$log"
  done <<<"$out"
fi
