"""flamed's socket for the integration tests' inline Python (docs/protocol.md: one JSON object per
line each way). flamed_env.sh puts this folder on PYTHONPATH.

    from wire import Connection, connect, call
    c = Connection(path); c.req(op="hello", proto=1, app="test")   # one request, its parsed reply
    s = connect(path); call(s, {"op": "status"})                     # on a raw socket (pipelining tests)
"""
import json
import socket


def connect(path, timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(timeout)
    return s


def call(s, message, raw=False):
    """Sends one request on socket s and returns its reply line, parsed unless raw."""
    s.sendall((json.dumps(message) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf if raw else json.loads(buf)


class Connection:
    def __init__(self, path, timeout=10):
        self.sock = connect(path, timeout)
        self.file = self.sock.makefile("rwb")

    def req(self, **kw):
        self.file.write((json.dumps(kw) + "\n").encode())
        self.file.flush()
        line = self.file.readline()
        if not line:
            raise ConnectionError("closed")
        return json.loads(line)
