"""flame_client: talk to flamed, the FLAME clock governor, from Python (standard library only).

    import flame_client

    with flame_client.deadline("resnet50", ms=30) as d:
        y = model(x)              # flamed has set the clocks for a 30 ms deadline
    print(d.latency_ms, d.predicted_ms)

On leaving the block the measured latency is sent back to flamed, which uses it to recalibrate.
The latency ends when the device has finished, not when the block returns: GPU runtimes queue
kernels and return early, so ``deadline`` first calls ``torch.cuda.synchronize()`` when the
application uses CUDA through torch, or the ``sync`` callable it is given (docs/clients.md).
Applications must work without the daemon: when the socket is absent, refuses, denies access or
stops answering, ``deadline`` does nothing (one warning, through ``warnings``) and the client
retries the connection at most every ``retry_interval`` seconds. ``Client`` raises instead, for
tools that want to know. The socket path comes from ``$FLAME_SOCKET`` or /run/flame/flamed.sock.

The protocol is described in docs/protocol.md (newline-delimited JSON over a Unix socket)."""

import contextlib
import itertools
import json
import os
import socket
import sys
import threading
import time
import warnings

__all__ = ["Client", "Deadline", "FlameError", "DaemonUnavailable", "deadline", "default_client",
           "DEFAULT_SOCKET"]

DEFAULT_SOCKET = "/run/flame/flamed.sock"
PROTOCOL_VERSION = 1


class FlameError(Exception):
    """flamed answered a request with ok:false; ``reply`` holds the whole answer."""

    def __init__(self, message, reply=None):
        super().__init__(message)
        self.reply = reply


class DaemonUnavailable(FlameError):
    """flamed could not be reached. ``reason`` is one of: absent, refused, denied, timeout,
    closed, other. ``fresh_connection``: the failure happened on a connection made for this
    request (flamed is down or not answering), not on one it had closed in the meantime."""

    def __init__(self, message, reason):
        super().__init__(message)
        self.reason = reason
        self.fresh_connection = True


def default_socket_path():
    return os.environ.get("FLAME_SOCKET") or DEFAULT_SOCKET


class Client:
    """A connection to flamed. Thread-safe: one request at a time on one connection, which is
    the lease of every request begun on it (closing it releases them). Reconnects lazily, also
    after ``fork()`` (the child gets a connection of its own)."""

    def __init__(self, path=None, timeout=2.0, app=None):
        self.path = path or default_socket_path()
        self.timeout = timeout
        self.app = app
        self._lock = threading.RLock()
        self._sock = None
        self._buf = b""
        self._pid = None
        self._ids = itertools.count(1)
        self.client_number = None

    # -- connection ------------------------------------------------------------------------
    def _connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.path)
        except FileNotFoundError:
            s.close()
            raise DaemonUnavailable("flamed is not running (no socket at %s)" % self.path, "absent") from None
        except ConnectionRefusedError:
            s.close()
            raise DaemonUnavailable("flamed is not running (%s refuses connections)" % self.path,
                                    "refused") from None
        except PermissionError:
            s.close()
            raise DaemonUnavailable("permission denied on %s (join group 'flame': sudo usermod -aG flame "
                                    "$USER, then log in again)" % self.path, "denied") from None
        except OSError as e:
            s.close()
            raise DaemonUnavailable("cannot connect to %s: %s" % (self.path, e.strerror or e), "other") from None
        self._sock, self._buf, self._pid = s, b"", os.getpid()
        if self.app is not None:
            self.hello(self.app)

    def close(self):
        with self._lock:
            if self._sock is not None and self._pid == os.getpid():
                with contextlib.suppress(OSError):
                    self._sock.close()
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, obj):
        """Sends one request (a dict) and returns the reply dict, whatever its "ok"."""
        line = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        with self._lock:
            if self._sock is not None and self._pid != os.getpid():
                self._sock = None  # forked: the parent's connection is not ours to use
            reused = self._sock is not None
            try:
                if self._sock is None:
                    self._connect()
                try:
                    reply = self._exchange(line)
                except DaemonUnavailable as e:
                    # flamed closes idle connections (limits.idle_timeout_ms) and a restart closes
                    # all of them while the (activation) socket stays: a connection that worked
                    # before gets one fresh try. A daemon that does not answer in time gets none.
                    if not reused or e.reason == "timeout":
                        raise
                    reused = False
                    self._connect()
                    reply = self._exchange(line)
            except DaemonUnavailable as e:
                e.fresh_connection = not reused
                raise
        try:
            return json.loads(reply)
        except ValueError:
            raise FlameError("flamed sent a reply that is not JSON: %r" % reply[:200]) from None

    def _exchange(self, line):
        try:
            self._sock.sendall(line)
            while b"\n" not in self._buf:
                chunk = self._sock.recv(65536)
                if not chunk:
                    raise DaemonUnavailable("flamed closed the connection", "closed")
                self._buf += chunk
        except socket.timeout:
            self.close()
            raise DaemonUnavailable("flamed did not answer within %g s" % self.timeout, "timeout") from None
        except DaemonUnavailable:
            self.close()
            raise
        except OSError as e:
            self.close()
            raise DaemonUnavailable("lost the connection to flamed: %s" % (e.strerror or e), "closed") from None
        reply, self._buf = self._buf.split(b"\n", 1)
        return reply

    def _checked(self, obj):
        r = self.request(obj)
        if not isinstance(r, dict) or not r.get("ok"):
            raise FlameError("flamed: %s" % (r.get("error", r) if isinstance(r, dict) else r), r)
        return r

    # -- protocol --------------------------------------------------------------------------
    def next_id(self):
        with self._lock:
            return next(self._ids)

    def hello(self, app="python"):
        r = self._checked({"op": "hello", "proto": PROTOCOL_VERSION, "app": app})
        self.client_number = r.get("client")
        return r

    def begin(self, model, deadline_ms, id=None, ctx=None, phase=None):
        """Asks flamed to set clocks for `model` to meet `deadline_ms`; they are set when this
        returns. Returns the reply (clocks, applied, predicted_ms, feasible)."""
        req = {"op": "begin", "id": self.next_id() if id is None else id, "model": model,
               "deadline_ms": deadline_ms}
        if ctx is not None:
            req["ctx"] = ctx
        if phase is not None:
            req["phase"] = phase
        return self._checked(req)

    def end(self, id, latency_ms=None):
        req = {"op": "end", "id": id}
        if latency_ms is not None:
            req["latency_ms"] = latency_ms
        return self._checked(req)

    def status(self):
        """The summary: clocks, models, calibration, counters and request counts."""
        return self._checked({"op": "status"})

    def requests(self, limit=1000):
        """The active requests this caller may see (its own user's; everyone's for root and the
        admin group), at most ``limit``, fetched page by page."""
        out, after = [], None
        while len(out) < limit:
            req = {"op": "status", "detail": "requests", "limit": min(limit - len(out), 1000)}
            if after is not None:
                req["after"] = after
            page = self._checked(req)
            out += page["requests"]
            after = page.get("next")
            if after is None:
                break
        return out


class Deadline:
    """What ``deadline()`` yields: ``active`` (flamed accepted the request), ``reply`` (its begin
    answer or None), ``predicted_ms``, ``feasible``, and after the block ``latency_ms`` and
    ``end_reply``."""

    def __init__(self, model, ms):
        self.model, self.deadline_ms = model, ms
        self.id = None
        self.active = False
        self.reply = None
        self.end_reply = None
        self.latency_ms = None
        self.error = None

    @property
    def predicted_ms(self):
        return self.reply.get("predicted_ms") if self.reply else None

    @property
    def feasible(self):
        return self.reply.get("feasible") if self.reply else None

    @property
    def clocks(self):
        return self.reply.get("clocks") if self.reply else None


class _Shared:
    """The process-wide client behind ``deadline()``, with the no-op policy."""

    def __init__(self, retry_interval=5.0):
        self.retry_interval = retry_interval
        self.lock = threading.Lock()
        self.client = None
        self.down_until = 0.0
        self.warned = set()

    def get(self):
        with self.lock:
            if self.client is None:
                self.client = Client()
            return self.client

    def reset(self, client=None, retry_interval=None):
        with self.lock:
            if self.client is not None:
                self.client.close()
            self.client = client
            self.down_until = 0.0
            self.warned = set()
            if retry_interval is not None:
                self.retry_interval = retry_interval

    def warn_once(self, key, message):
        with self.lock:
            if key in self.warned or os.environ.get("FLAME_CLIENT_QUIET"):
                return
            self.warned.add(key)
        warnings.warn("flame_client: %s; running without a deadline hint" % message, RuntimeWarning, stacklevel=4)


_shared = _Shared()


def default_client():
    return _shared.get()


def configure(path=None, timeout=2.0, retry_interval=5.0, client=None):
    """Replaces the client that ``deadline()`` uses (and forgets earlier warnings)."""
    _shared.reset(client or Client(path, timeout=timeout), retry_interval)


def _torch_sync():
    """torch.cuda.synchronize() if the application has initialised CUDA through torch. torch is
    looked up, never imported: importing it takes seconds, and an application without it has no
    queued GPU work of torch's to wait for."""
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    if cuda is not None and cuda.is_initialized():
        cuda.synchronize()


def _sync_function(sync):
    if sync is False:
        return None
    if sync is None:
        return _torch_sync
    if callable(sync):
        return sync
    raise TypeError("sync must be None, False or a callable, not %r" % (sync,))


@contextlib.contextmanager
def deadline(model, ms, ctx=None, phase=None, client=None, sync=None):
    """Holds a deadline request for the block; reports its latency on a normal exit. If the
    block raises, the request is ended without a latency (a failed run says nothing about the
    model). Never raises because of flamed.

    The latency is taken after the device has finished the block's work. ``sync`` says how to
    wait for it: ``None`` (default) calls ``torch.cuda.synchronize()`` when torch is already
    imported and CUDA initialised; a callable is called instead (a TensorRT or ONNX Runtime
    stream sync, say); ``False`` never waits (the block already waits, or runs on the CPU). The
    wait happens only while flamed holds the request: without the daemon the block runs as it
    would without flame_client. If the wait raises, the request ends without a latency and the
    exception propagates."""
    wait = _sync_function(sync)
    d = Deadline(model, ms)
    c = client or _shared.get()
    if time.monotonic() >= _shared.down_until:
        try:
            d.id = c.next_id()
            d.reply = c.begin(model, ms, id=d.id, ctx=ctx, phase=phase)
            d.active = True
        except DaemonUnavailable as e:
            d.error = str(e)
            # Quiet for retry_interval only when a fresh connection failed (flamed down or not
            # answering): a connection flamed closed (idle timeout, restart) was already retried
            # once, and the next deadline simply connects again.
            if e.fresh_connection:
                _shared.down_until = time.monotonic() + _shared.retry_interval
            _shared.warn_once(e.reason, str(e))
        except FlameError as e:
            d.error = str(e)
            _shared.warn_once(str(e), str(e))
    start = time.perf_counter()
    ok = False
    try:
        yield d
        if d.active and wait is not None:
            wait()  # launch time is not latency: the clock stops when the device is done
        ok = True
    finally:
        d.latency_ms = (time.perf_counter() - start) * 1000.0
        if d.active:
            try:
                d.end_reply = c.end(d.id, d.latency_ms if ok else None)
            except FlameError as e:  # includes DaemonUnavailable
                d.error = str(e)
                _shared.warn_once(str(e), str(e))
