# The part of the kernel a fake tree lacks, for shell tests: lib/fake_governor.py makes every current
# clock (scaling_cur_freq, devfreq cur_freq) follow its max while it runs. Source it; call
# stop_governor from the EXIT trap.
GOV_PID=""
GOV_DIR=""
start_governor() {  # start_governor ROOT: returns once the governor runs
  stop_governor
  GOV_DIR=$(mktemp -d)
  python3 "$FLAME_SOURCE_DIR/tests/integration/lib/fake_governor.py" "$1" "$GOV_DIR/ready" "$GOV_DIR/stop" &
  GOV_PID=$!
  for _ in $(seq 200); do [[ -e "$GOV_DIR/ready" ]] && return 0; sleep 0.05; done
  echo "fake governor did not start" >&2
  return 1
}
stop_governor() {
  if [[ -n "$GOV_PID" ]]; then
    touch "$GOV_DIR/stop"
    wait "$GOV_PID" 2>/dev/null || true
    rm -rf "$GOV_DIR"
  fi
  GOV_PID=""
  GOV_DIR=""
}
