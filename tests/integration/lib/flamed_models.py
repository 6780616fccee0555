#!/usr/bin/env python3
"""Asserts that the flamed at SOCKET serves the given models. Usage: flamed_models.py SOCKET NAME..."""
import json
import socket
import sys

s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"op":"status"}\n')
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
models = json.loads(buf)["models"]
missing = [m for m in sys.argv[2:] if m not in models]
assert not missing, (missing, models)
print("flamed serves", ", ".join(sys.argv[2:]))
