#!/usr/bin/env python3
"""A protocol double of flamed (docs/protocol.md v1), for testing clients and flamectl where the
real daemon cannot run (no binary yet, or tests that need a misbehaving peer).

It answers hello/begin/end/status like the daemon does, with fixed clocks per model, request
expiry and connection leases, but sets no clocks. Modes for failure tests: --mute (accepts and
never answers), --close (accepts and hangs up). Listens on --socket, or adopts a socket passed
by systemd-socket-activate (LISTEN_FDS)."""
import argparse
import json
import os
import selectors
import socket
import sys
import time

MODELS = {
    "resnet50": {"kind": "layerwise", "needs_workload": False, "ms_at_max": 20.0},
    "tinyllama": {"kind": "slm", "needs_workload": True, "ms_at_max": 8.0},
}
MAX_CLOCKS = {"cpu_khz": 2201600, "cpu_cores": 8, "gpu_hz": 1300500000, "emc_hz": 3199000000}


def error(rid, msg):
    return {"id": rid, "ok": False, "error": msg}


class Daemon:
    def __init__(self, expiry_ms):
        self.expiry_ms = expiry_ms
        self.holds = {}  # (client, id) -> dict
        self.counters = dict(begins=0, ends=0, errors=0, expired=0, infeasible=0, deadline_met=0,
                             deadline_missed=0, clock_changes=0)
        self.connections = 0
        # Per model, as flamed shows it; last_ratio (measured / predicted) is kept, so a client
        # test can read back the latency it reported. The factor stays 1.02.
        self.calibration = {"resnet50": {"factor": 1.02, "samples": 3, "rejected": 0, "last_ratio": 1.01}}

    def applied(self):
        if not self.holds:
            return {k: 0 for k in MAX_CLOCKS}
        return {k: max(h["clocks"][k] for h in self.holds.values()) for k in MAX_CLOCKS}

    def expire(self):
        now = time.monotonic()
        for key in [k for k, h in self.holds.items() if h["expires"] <= now]:
            del self.holds[key]
            self.counters["expired"] += 1

    def handle(self, client, line):
        try:
            r = json.loads(line)
        except ValueError:
            return error(None, "malformed JSON")
        if not isinstance(r, dict):
            return error(None, "not an object")
        rid = r.get("id") if isinstance(r.get("id"), int) and not isinstance(r.get("id"), bool) else None
        op = r.get("op")
        self.expire()
        if op == "hello":
            if r.get("proto") != 1:
                return error(rid, "unsupported protocol version")
            return {"ok": True, "proto": 1, "daemon": "flamed", "client": client}
        if op == "begin":
            if rid is None or rid < 0:
                return error(rid, "missing or mistyped field 'id'")
            model = r.get("model")
            d = r.get("deadline_ms")
            if not isinstance(model, str):
                return error(rid, "missing or mistyped field 'model'")
            if not isinstance(d, (int, float)) or isinstance(d, bool) or d <= 0:
                return error(rid, "'deadline_ms' must be a positive number")
            if model not in MODELS:
                self.counters["errors"] += 1
                return error(rid, 'unknown model "%s"' % model)
            m = MODELS[model]
            if m["needs_workload"] and ("ctx" not in r or "phase" not in r):
                return error(rid, 'model "%s" needs "ctx" and "phase"' % model)
            feasible = d >= m["ms_at_max"]
            scale = min(1.0, m["ms_at_max"] / d) if feasible else 1.0
            clocks = {k: int(v * scale) if k != "cpu_cores" else v for k, v in MAX_CLOCKS.items()}
            self.holds[(client, rid)] = dict(client=client, id=rid, model=model, deadline_ms=d, clocks=clocks,
                                             predicted_ms=min(d, m["ms_at_max"] / scale), feasible=feasible,
                                             expires=time.monotonic() + self.expiry_ms / 1000)
            self.counters["begins"] += 1
            self.counters["infeasible"] += 0 if feasible else 1
            return {"id": rid, "ok": True, "clocks": clocks, "applied": self.applied(),
                    "predicted_ms": self.holds[(client, rid)]["predicted_ms"], "feasible": feasible,
                    "calibration": 1.0}
        if op == "end":
            h = self.holds.pop((client, rid), None)
            if h is None:
                self.counters["errors"] += 1
                return error(rid, "no active request with id %s" % rid)
            self.counters["ends"] += 1
            out = {"id": rid, "ok": True, "applied": self.applied()}
            lat = r.get("latency_ms")
            if lat is not None:
                if not isinstance(lat, (int, float)) or lat <= 0:
                    return error(rid, "'latency_ms' must be a positive number")
                self.counters["deadline_met" if lat <= h["deadline_ms"] else "deadline_missed"] += 1
                bucket = self.calibration.setdefault(h["model"], {"factor": 1.02, "samples": 0, "rejected": 0})
                bucket["last_ratio"] = lat / h["predicted_ms"]
                out["calibration"] = {"factor": 1.0, "updated": True}
            return out
        if op == "status":
            now = time.monotonic()
            if r.get("detail") == "requests":  # one page holds everything here; the caller is admin
                active = [dict(client=h["client"], id=h["id"], model=h["model"], deadline_ms=h["deadline_ms"],
                               predicted_ms=h["predicted_ms"], feasible=h["feasible"], clocks=h["clocks"],
                               expires_in_ms=(h["expires"] - now) * 1000)
                          for _, h in sorted(self.holds.items())]
                return {"ok": True, "requests": active, "total": len(active), "next": None, "scope": "all"}
            return {"ok": True, "active_requests": len(self.holds), "own_requests": len(self.holds),
                    "requests_scope": "all", "applied": self.applied(), "holding": bool(self.holds),
                    "models": {k: {"kind": v["kind"], "needs_workload": v["needs_workload"]} for k, v in MODELS.items()},
                    "calibration": self.calibration,
                    "counters": self.counters, "connections": self.connections}
        return error(rid, "unknown op")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket")
    ap.add_argument("--mode", default="0660")
    ap.add_argument("--expiry-ms", type=float, default=10000)
    ap.add_argument("--mute", action="store_true")
    ap.add_argument("--close", action="store_true")
    a = ap.parse_args()
    if os.environ.get("LISTEN_FDS") == "1" and os.environ.get("LISTEN_PID") == str(os.getpid()):
        srv = socket.socket(fileno=3)
    else:
        if os.path.exists(a.socket):
            os.unlink(a.socket)
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(a.socket)
        os.chmod(a.socket, int(a.mode, 8))
        srv.listen(64)
    d = Daemon(a.expiry_ms)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ)
    bufs, ids, next_client = {}, {}, [1]
    print("fake flamed ready", flush=True)
    while True:
        for key, _ in sel.select(timeout=0.5):
            if key.fileobj is srv:
                c, _ = srv.accept()
                if a.close:
                    c.close()
                    continue
                sel.register(c, selectors.EVENT_READ)
                bufs[c], ids[c] = b"", next_client[0]
                next_client[0] += 1
                d.connections += 1
                continue
            c = key.fileobj
            data = c.recv(65536)
            if not data:
                sel.unregister(c)
                for k in [k for k in d.holds if k[0] == ids[c]]:
                    del d.holds[k]
                d.connections -= 1
                del bufs[c], ids[c]
                c.close()
                continue
            bufs[c] += data
            while b"\n" in bufs[c]:
                line, bufs[c] = bufs[c].split(b"\n", 1)
                if not line.strip() or a.mute:
                    continue
                c.sendall((json.dumps(d.handle(ids[c], line.decode())) + "\n").encode())


if __name__ == "__main__":
    sys.exit(main())
