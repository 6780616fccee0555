#!/usr/bin/env bash
# Fair sharing of flamed's socket against hostile clients (docs/reliability.md, "Fair sharing of the
# socket"), on the real daemon and a fake Orin Nano tree:
#   1. an idle connection is closed after limits.idle_timeout_ms while a normal client keeps being
#      answered; a slow-loris connection (one byte at a time) is closed after limits.line_timeout_ms;
#      a connection that holds a request is not closed while the request is held;
#   2. limits.max_connections_per_uid (5): as uid nobody, the connection over the cap gets one JSON error
#      line naming the reason and is closed; root still connects; the refusal is counted;
#   3. status with 2000 held requests: the default reply is a summary of at most 4 KiB; the request
#      list comes in pages of at most 1000, each request once; nobody sees only its own requests,
#      root all of them, and so does a member of admin_group.
# The parts that need a second uid run only as root with setpriv (CI runs as root).
set -euo pipefail
source "$(dirname "$0")/lib/flamed_env.sh"
fail() {
  echo "flamed_fair_socket: $*" >&2
  tail -20 "$LOG" >&2
  exit 1
}
as_nobody=()
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null && getent group nogroup >/dev/null; then
  # The system python: a python under root's home (pyenv) is not nobody's to run.
  as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups -- /usr/bin/python3)
  chmod 755 "$T"  # nobody must reach the socket; the socket itself is mode 0660, group nogroup
fi
group=""
((${#as_nobody[@]})) && group=nogroup
FLAMED_LOG_LEVEL=info write_config "request_expiry_ms: 60000" "metrics: {textfile: $T/metrics.prom, interval_s: 1}" \
  "limits: {idle_timeout_ms: 300, line_timeout_ms: 300, max_connections_per_uid: 5, max_requests_per_client: 1000,
    rate_per_s: 1000000, rate_burst: 1000000}"
sed -i "s/^socket_group: .*/socket_group: \"$group\"/" "$CFG"
start_flamed

# 1. Timeouts. The helper prints what happened to each connection.
python3 - "$SOCK" <<'PY' || fail "timeouts"
import json, socket, sys, time
path = sys.argv[1]
from wire import call, connect
conn = lambda: connect(path, 5)
def closed(s):
    try:
        return s.recv(1) == b""
    except OSError:
        return True
idle, loris, holder, normal = conn(), conn(), conn(), conn()
assert call(holder, {"op": "begin", "id": 1, "model": "resnet50", "deadline_ms": 1000})["ok"]
loris.sendall(b'{"op":')
t0 = time.monotonic(); answered = 0
# The normal client sends a request every 50 ms for 1.2 s: each is answered; the loris adds a byte
# every 100 ms (it never completes its line), the idle connection sends nothing.
while time.monotonic() - t0 < 1.2:
    assert call(normal, {"op": "status"})["ok"]; answered += 1
    if answered % 2 == 0:
        try: loris.sendall(b" ")
        except OSError: pass
    time.sleep(0.05)
assert answered >= 10, answered
idle.settimeout(0.1); loris.settimeout(0.1)
assert closed(idle), "the idle connection is still open after 4 x limits.idle_timeout_ms"
assert closed(loris), "the slow-loris connection is still open after 4 x limits.line_timeout_ms"
# The holder sent nothing for 1.2 s, but its request is held: the connection and the request stay.
r = call(holder, {"op": "end", "id": 1})
assert r["ok"], r
# Once it holds nothing, it is an idle connection like any other.
time.sleep(1.0); holder.settimeout(0.1)
assert closed(holder), "the holder's connection was not closed once idle"
print(f"timeouts: idle and slow-loris connections closed; {answered} requests of a normal client answered; "
      "a held request kept its connection")
PY
grep -q "no request for 300 ms (limits.idle_timeout_ms)" "$LOG" || fail "no idle-timeout line in the log"
grep -q "a request line not through within 300 ms (limits.line_timeout_ms)" "$LOG" || fail "no line-timeout line"

# 2. Per-uid cap (3) and 3. status scope, as nobody next to root.
cat >"$T/client.py" <<'PY'
import json, socket, sys, time
path, what = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(5); return s
def call(s, m):
    s.sendall((json.dumps(m) + "\n").encode()); buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk: raise ConnectionError("closed")
        buf += chunk
    return json.loads(buf)
if what == "cap":
    # Five connections (the cap) work; the sixth gets one error line, then end of file.
    held = [conn() for _ in range(5)]
    for s in held: assert call(s, {"op": "hello", "proto": 1})["ok"]
    extra = conn(); f = extra.makefile("rb")
    line = f.readline(); r = json.loads(line)
    assert r["ok"] is False and "too many connections from uid" in r["error"], r
    assert "limits.max_connections_per_uid 5" in r["error"], r
    assert f.readline() == b"", "the refused connection stayed open"
    print("refused:", r["error"])
    sys.stdout.flush()
    input()  # hold the five until told
elif what == "hold":
    # Five requests held by nobody; the status view of an unprivileged user.
    s = conn()
    for i in range(5): assert call(s, {"op": "begin", "id": i, "model": "resnet50", "deadline_ms": 1000})["ok"]
    summary = call(s, {"op": "status"})
    page = call(s, {"op": "status", "detail": "requests", "limit": 1000})
    print(json.dumps({"summary": summary, "page": page})); sys.stdout.flush()
    input()
PY
if ((${#as_nobody[@]})); then
  coproc CAP { "${as_nobody[@]}" "$T/client.py" "$SOCK" cap; }
  read -r -t 10 refused <&"${CAP[0]}" || fail "nobody's cap check did not report"
  [[ $refused == refused:* ]] || fail "cap: $refused"
  # nobody holds its 5; root (another uid) still connects and is answered.
  python3 -c 'import json,socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f=s.makefile("rwb")
f.write(b"{\"op\":\"status\"}\n"); f.flush(); d=json.loads(f.readline()); assert d["ok"], d' "$SOCK" ||
    fail "root could not connect while nobody was at its cap"
  echo "" >&"${CAP[1]}"
  wait "$CAP_PID" || fail "nobody's cap check failed"
  sleep 1.2
  grep -q 'flamed_connections_refused_total{reason="max_connections_per_uid"} 1' "$T/metrics.prom" ||
    fail "refusal not counted: $(grep refused "$T/metrics.prom")"
  echo "per-uid cap: nobody's 6th connection refused ($refused); root connected; counted"
fi

python3 - "$SOCK" "$T" "${as_nobody[*]:-}" <<'PY' || fail "status"
import json, socket, subprocess, sys
path, tmp, nobody = sys.argv[1], sys.argv[2], sys.argv[3].split()
from functools import partial
from wire import call as wire_call, connect
conn = lambda: connect(path, 10)
call = partial(wire_call, raw=True)  # the reply's bytes: their size is what is checked
root = []
for c in range(2):  # 2000 requests, pipelined: 1000 on each of two connections
    s = conn(); root.append(s)
    s.sendall("".join(json.dumps({"op": "begin", "id": i, "model": "resnet50", "deadline_ms": 1000}) + "\n"
                      for i in range(1000)).encode())
    f = s.makefile("rb")
    for _ in range(1000): assert json.loads(f.readline())["ok"]
other = None
if nobody:
    other = subprocess.Popen(nobody + [tmp + "/client.py", path, "hold"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    seen = json.loads(other.stdout.readline())
held = 2000 + (5 if nobody else 0)
raw = call(root[0], {"op": "status"})
summary = json.loads(raw)
assert len(raw) <= 4096, f"default status reply of {len(raw)} bytes with {held} requests held"
assert summary["active_requests"] == held and summary["requests_scope"] == "all", summary
assert "active" not in summary, "the summary lists requests"
# Pages: at most 1000 each, in (client, id) order, every request exactly once.
bad = json.loads(call(root[0], {"op": "status", "detail": "requests", "limit": 1001}))
assert not bad["ok"] and "limit" in bad["error"], bad
keys, after, pages = [], None, 0
while True:
    m = {"op": "status", "detail": "requests", "limit": 700}
    if after: m["after"] = after
    page = json.loads(call(root[0], m)); pages += 1
    assert page["ok"] and page["scope"] == "all" and page["total"] == held and len(page["requests"]) <= 700, page
    keys += [(r["client"], r["id"]) for r in page["requests"]]
    after = page["next"]
    if after is None: break
assert pages == 3 and keys == sorted(set(keys)) and len(keys) == held, (pages, len(keys))
if nobody:
    own = seen["page"]
    assert seen["summary"]["requests_scope"] == "own" and seen["summary"]["own_requests"] == 5, seen["summary"]
    assert seen["summary"]["active_requests"] == held, seen["summary"]
    assert own["scope"] == "own" and own["total"] == 5 and [r["id"] for r in own["requests"]] == list(range(5)), own
    assert len({r["client"] for r in own["requests"]}) == 1
    other.stdin.write("\n"); other.stdin.close(); other.wait()
print(f"status: {len(raw)}-byte summary with {held} requests held; {pages} pages of at most 700"
      + ("; nobody saw its own 5 only" if nobody else ""))
PY

# admin_group: nobody (primary group nogroup) becomes an administrator after a reload.
if ((${#as_nobody[@]})); then
  sed -i 's/^socket_group: .*/socket_group: "nogroup"\nadmin_group: "nogroup"/' "$CFG"
  kill -HUP "$FLAMED_PID"
  for _ in $(seq 100); do grep -q "reloaded:" "$LOG" && break; sleep 0.1; done
  grep -q "reloaded:" "$LOG" || fail "the reload did not happen"
  "${as_nobody[@]}" - "$SOCK" <<'PY' || fail "admin_group"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
s.sendall(b'{"op":"begin","id":1,"model":"resnet50","deadline_ms":1000}\n'); assert json.loads(f.readline())["ok"]
s.sendall(b'{"op":"status","detail":"requests","limit":5}\n'); page = json.loads(f.readline())
assert page["scope"] == "all" and page["total"] == 1 and page["next"] is None, page
print("admin_group: a member sees every client's requests")
PY
fi
stop_flamed TERM
same_tree "$ROOT" "$T/root.orig" || fail "clocks not restored"
echo "flamed_fair_socket: OK"
