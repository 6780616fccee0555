"""Tests of flame_client. Without a daemon they cover the no-op paths (absent socket, refused,
silent daemon). With FLAME_TEST_SOCKET pointing at a running flamed (the integration test
tests/integration/python_client.sh starts one), they drive the real protocol; FLAME_TEST_MODEL
names a model it has loaded. Run: python3 -m unittest -v test_flame_client"""
import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
import types
import unittest
import warnings

import flame_client

LIVE = os.environ.get("FLAME_TEST_SOCKET")
MODEL = os.environ.get("FLAME_TEST_MODEL", "resnet50")
SYNC_S = 0.08  # how long the fake device takes to finish what the block queued


@contextlib.contextmanager
def fake_torch(initialized=True):
    """Puts a stand-in for torch in sys.modules, as an application that imported torch has it:
    torch.cuda.synchronize() sleeps SYNC_S, as a GPU finishing queued kernels would. Yields the
    list of its synchronize() calls."""
    calls = []

    def synchronize():
        calls.append(time.perf_counter())
        time.sleep(SYNC_S)

    torch = types.ModuleType("torch")
    torch.cuda = types.SimpleNamespace(is_initialized=lambda: initialized, synchronize=synchronize)
    saved = sys.modules.get("torch")
    sys.modules["torch"] = torch
    try:
        yield calls
    finally:
        if saved is None:
            del sys.modules["torch"]
        else:
            sys.modules["torch"] = saved


class NoDaemon(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "absent.sock")
        flame_client.configure(self.path, timeout=0.3, retry_interval=0)

    def tearDown(self):
        flame_client.configure(retry_interval=5.0)
        self.tmp.cleanup()

    def test_client_raises_absent(self):
        with self.assertRaises(flame_client.DaemonUnavailable) as cm:
            flame_client.Client(self.path).status()
        self.assertEqual(cm.exception.reason, "absent")
        self.assertIn("flamed is not running (no socket at %s)" % self.path, str(cm.exception))

    def test_deadline_is_a_noop_with_one_warning(self):
        ran = []
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for _ in range(3):
                with flame_client.deadline("resnet50", ms=30) as d:
                    ran.append(1)
        self.assertEqual(len(ran), 3)
        self.assertFalse(d.active)
        self.assertIsNone(d.reply)
        self.assertIsNotNone(d.latency_ms)
        self.assertGreaterEqual(d.latency_ms, 0)
        self.assertEqual(len(w), 1, [str(x.message) for x in w])
        self.assertIn("no socket at", str(w[0].message))

    def test_exception_in_block_propagates(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with self.assertRaises(KeyError):
                with flame_client.deadline("resnet50", ms=30):
                    raise KeyError("boom")

    def test_no_sync_without_a_daemon(self):
        # Without flamed nothing is reported, so the block runs as it would without the client.
        called = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fake_torch() as calls:
                with flame_client.deadline("resnet50", ms=30) as d:
                    pass
                with flame_client.deadline("resnet50", ms=30, sync=lambda: called.append(1)):
                    pass
        self.assertFalse(d.active)
        self.assertEqual(calls, [])
        self.assertEqual(called, [])

    def test_torch_is_never_imported(self):
        had_torch = "torch" in sys.modules
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with flame_client.deadline("resnet50", ms=30):
                pass
        self.assertEqual("torch" in sys.modules, had_torch)

    def test_sync_must_be_none_false_or_callable(self):
        with self.assertRaises(TypeError):
            with flame_client.deadline("resnet50", ms=30, sync=True):
                pass

    def test_refused(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.path)  # bound but not listening: connect() is refused
        try:
            with self.assertRaises(flame_client.DaemonUnavailable) as cm:
                flame_client.Client(self.path).hello()
            self.assertEqual(cm.exception.reason, "refused")
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                with flame_client.deadline("resnet50", ms=30) as d:
                    pass
            self.assertFalse(d.active)
            self.assertEqual(len(w), 1)
        finally:
            s.close()

    def test_silent_daemon_times_out(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.path)
        s.listen(4)  # accepted by the kernel, never answered
        try:
            with self.assertRaises(flame_client.DaemonUnavailable) as cm:
                flame_client.Client(self.path, timeout=0.2).status()
            self.assertEqual(cm.exception.reason, "timeout")
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                with flame_client.deadline("resnet50", ms=30) as d:
                    pass
            self.assertFalse(d.active)
            self.assertEqual(len(w), 1)
        finally:
            s.close()

    def test_restarted_daemon_gets_one_fresh_try(self):
        # A server that answers one request per connection, then hangs up (a daemon restart).
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(self.path)
        srv.listen(4)

        def serve():
            for _ in range(2):
                conn, _ = srv.accept()
                with conn:
                    conn.recv(4096)
                    conn.sendall(b'{"ok":true,"active_requests":0,"counters":{}}\n')

        t = threading.Thread(target=serve)
        t.start()
        try:
            c = flame_client.Client(self.path, timeout=2)
            self.assertTrue(c.status()["ok"])
            self.assertTrue(c.status()["ok"])  # first connection closed: reconnected once
            c.close()
        finally:
            t.join()
            srv.close()

    def test_closed_idle_connection_is_not_a_down_daemon(self):
        # A server that serves one deadline (begin, end) per connection, then hangs up, as flamed
        # does with an idle connection: every deadline is held, none is skipped, no warning.
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(self.path)
        srv.listen(4)

        def serve():
            srv.settimeout(10)
            for _ in range(3):
                conn, _ = srv.accept()
                with conn, conn.makefile("rb") as f:  # the file holds the socket open too
                    for _ in range(2):
                        req = json.loads(f.readline())
                        conn.sendall(b'{"id":%d,"ok":true}\n' % req["id"])

        t = threading.Thread(target=serve)
        t.start()
        flame_client.configure(self.path, timeout=2, retry_interval=60)
        try:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                for _ in range(3):
                    with flame_client.deadline("resnet50", ms=30, sync=False) as d:
                        pass
                    self.assertTrue(d.active, d.error)
                    self.assertTrue(d.end_reply["ok"])
            self.assertEqual(w, [])
        finally:
            flame_client.configure(self.path, timeout=0.3, retry_interval=0)
            t.join()
            srv.close()

    def test_failed_fresh_connection_goes_quiet(self):
        # Accepted, then closed at once without an answer: the fresh connection failed, so the
        # shared client stays quiet for retry_interval (one warning, the later blocks skip flamed).
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(self.path)
        srv.listen(4)
        accepted = []

        def serve():
            srv.settimeout(1.0)
            with contextlib.suppress(OSError):
                while True:
                    conn, _ = srv.accept()
                    accepted.append(1)
                    conn.close()

        t = threading.Thread(target=serve)
        t.start()
        flame_client.configure(self.path, timeout=2, retry_interval=60)
        try:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                for _ in range(3):
                    with flame_client.deadline("resnet50", ms=30, sync=False) as d:
                        pass
                    self.assertFalse(d.active)
            self.assertEqual(len(w), 1)
            self.assertEqual(len(accepted), 1)
        finally:
            flame_client.configure(self.path, timeout=0.3, retry_interval=0)
            t.join()
            srv.close()

    @unittest.skipIf(os.geteuid() == 0, "root is never denied by file permissions")
    def test_denied(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.path)
        s.listen(1)
        os.chmod(self.path, 0)
        try:
            with self.assertRaises(flame_client.DaemonUnavailable) as cm:
                flame_client.Client(self.path).status()
            self.assertEqual(cm.exception.reason, "denied")
        finally:
            s.close()


@unittest.skipUnless(LIVE, "FLAME_TEST_SOCKET is not set (no running flamed)")
class WithDaemon(unittest.TestCase):
    def setUp(self):
        flame_client.configure(LIVE, timeout=5.0, retry_interval=0)

    def tearDown(self):
        flame_client.configure(retry_interval=5.0)

    def mine(self, client):
        return [a for a in client.requests() if a["client"] == client.client_number]

    def test_hello(self):
        with flame_client.Client(LIVE) as c:
            r = c.hello("unittest")
            self.assertEqual(r["proto"], 1)
            self.assertEqual(r["daemon"], "flamed")
            self.assertIsInstance(c.client_number, int)

    def test_begin_end_status(self):
        with flame_client.Client(LIVE) as c:
            c.hello("unittest")
            r = c.begin(MODEL, 1000, id=42)
            self.assertTrue(r["ok"])
            self.assertEqual(r["id"], 42)
            for k in ("clocks", "applied", "predicted_ms", "feasible"):
                self.assertIn(k, r)
            self.assertEqual([a["id"] for a in self.mine(c)], [42])
            e = c.end(42, latency_ms=5.0)
            self.assertTrue(e["ok"])
            self.assertIn("calibration", e)
            self.assertEqual(self.mine(c), [])

    def test_errors_raise(self):
        with flame_client.Client(LIVE) as c:
            with self.assertRaises(flame_client.FlameError) as cm:
                c.begin("no-such-model-xyz", 30)
            self.assertIn("unknown model", str(cm.exception))
            self.assertFalse(cm.exception.reply["ok"])
            with self.assertRaises(flame_client.FlameError):
                c.end(987654)

    def test_deadline_reports_latency(self):
        c = flame_client.Client(LIVE)
        c.hello("unittest")
        before = c.status()["counters"]
        with flame_client.deadline(MODEL, ms=1000, client=c) as d:
            self.assertTrue(d.active)
            self.assertEqual([a["id"] for a in self.mine(c)], [d.id])
        self.assertTrue(d.end_reply["ok"])
        self.assertIn("calibration", d.end_reply)  # sent with latency_ms
        self.assertGreater(d.latency_ms, 0)
        after = c.status()["counters"]
        self.assertEqual(after["ends"], before["ends"] + 1)
        self.assertEqual(after["deadline_met"] + after["deadline_missed"],
                         before["deadline_met"] + before["deadline_missed"] + 1)
        c.close()

    def test_exception_ends_without_latency(self):
        c = flame_client.Client(LIVE)
        c.hello("unittest")
        before = c.status()["counters"]
        with self.assertRaises(RuntimeError):
            with flame_client.deadline(MODEL, ms=1000, client=c) as d:
                raise RuntimeError("inference failed")
        self.assertTrue(d.end_reply["ok"])
        self.assertNotIn("calibration", d.end_reply)
        after = c.status()["counters"]
        self.assertEqual(after["ends"], before["ends"] + 1)
        self.assertEqual(after["deadline_met"], before["deadline_met"])
        c.close()

    def reported_ms(self, client, d):
        """The latency flamed received for `d`, from its calibration bucket: the last measured /
        predicted ratio times the uncorrected prediction (predicted_ms / the begin's factor)."""
        st = client.status()  # flamed keys buckets by the model file's digest: MODEL@<digest>
        digest = st["models"].get(MODEL, {}).get("digest")
        bucket = st["calibration"][f"{MODEL}@{digest}" if digest else MODEL]
        return bucket["last_ratio"] * d.predicted_ms / d.reply["calibration"]

    def test_torch_sync_is_part_of_the_latency(self):
        # An empty block on a GPU that needs SYNC_S to finish: the latency is the device's.
        c = flame_client.Client(LIVE)
        c.hello("unittest")
        before = c.status()["counters"]
        with fake_torch() as calls:
            with flame_client.deadline(MODEL, ms=60, client=c) as d:
                start = time.perf_counter()
        self.assertTrue(d.end_reply["ok"])
        self.assertEqual(len(calls), 1)
        self.assertGreaterEqual(calls[0], start)  # after the block, before the clock stopped
        self.assertGreaterEqual(d.latency_ms, SYNC_S * 1000)
        self.assertGreaterEqual(self.reported_ms(c, d), SYNC_S * 1000)
        after = c.status()["counters"]
        self.assertEqual(after["deadline_missed"], before["deadline_missed"] + 1)  # 80 ms > 60 ms
        c.close()

    def test_torch_without_cuda_is_not_synced(self):
        c = flame_client.Client(LIVE)
        with fake_torch(initialized=False) as calls:
            with flame_client.deadline(MODEL, ms=1000, client=c) as d:
                pass
        self.assertEqual(calls, [])
        self.assertLess(d.latency_ms, SYNC_S * 1000)
        c.close()

    def test_sync_false_never_syncs(self):
        c = flame_client.Client(LIVE)
        with fake_torch() as calls:
            with flame_client.deadline(MODEL, ms=1000, client=c, sync=False) as d:
                pass
        self.assertTrue(d.active)
        self.assertEqual(calls, [])
        self.assertLess(d.latency_ms, SYNC_S * 1000)
        self.assertIn("calibration", d.end_reply)  # the latency was still reported
        c.close()

    def test_sync_callable_is_called_instead(self):
        c = flame_client.Client(LIVE)
        c.hello("unittest")
        called = []

        def stream_sync():
            called.append(1)
            time.sleep(SYNC_S)

        with fake_torch() as calls:
            with flame_client.deadline(MODEL, ms=1000, client=c, sync=stream_sync) as d:
                pass
        self.assertEqual(called, [1])
        self.assertEqual(calls, [])
        self.assertGreaterEqual(d.latency_ms, SYNC_S * 1000)
        self.assertGreaterEqual(self.reported_ms(c, d), SYNC_S * 1000)
        c.close()

    def test_raising_sync_still_ends_the_request(self):
        c = flame_client.Client(LIVE)
        c.hello("unittest")
        before = c.status()["counters"]

        def broken_sync():
            self.assertEqual([a["id"] for a in self.mine(c)], [d.id])  # still held here
            raise RuntimeError("device lost")

        with self.assertRaises(RuntimeError) as cm:
            with flame_client.deadline(MODEL, ms=1000, client=c, sync=broken_sync) as d:
                pass
        self.assertIn("device lost", str(cm.exception))
        self.assertTrue(d.end_reply["ok"])
        self.assertNotIn("calibration", d.end_reply)  # ended without a latency
        self.assertEqual(self.mine(c), [])
        after = c.status()["counters"]
        self.assertEqual(after["ends"], before["ends"] + 1)
        self.assertEqual(after["deadline_met"] + after["deadline_missed"],
                         before["deadline_met"] + before["deadline_missed"])
        c.close()

    def test_unknown_model_is_a_noop(self):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with flame_client.deadline("no-such-model-xyz", ms=30) as d:
                pass
        self.assertFalse(d.active)
        self.assertIn("unknown model", d.error)
        self.assertEqual(len(w), 1)

    def test_threads_share_one_client(self):
        c = flame_client.Client(LIVE)
        c.hello("threads")
        errors = []

        def worker():
            try:
                for _ in range(20):
                    with flame_client.deadline(MODEL, ms=1000, client=c) as d:
                        if not d.active:
                            errors.append(d.error)
            except Exception as e:  # noqa: BLE001 - any failure fails the test
                errors.append(repr(e))

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(self.mine(c), [])
        c.close()

    def test_fork_gets_its_own_connection(self):
        c = flame_client.Client(LIVE)
        c.hello("fork")
        parent_number = c.client_number
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                c.hello("child")
                os.write(w, str(c.client_number).encode())
            finally:
                os._exit(0)
        os.close(w)
        child_number = int(os.read(r, 64) or b"-1")
        os.waitpid(pid, 0)
        self.assertNotEqual(child_number, parent_number)
        self.assertEqual(c.status()["ok"], True)  # the parent's connection still works
        c.close()


IDLE_MS = os.environ.get("FLAME_TEST_IDLE_MS")


@unittest.skipUnless(LIVE and IDLE_MS, "FLAME_TEST_SOCKET and FLAME_TEST_IDLE_MS are not set")
class WithIdleTimeout(unittest.TestCase):
    """flamed configured with a short limits.idle_timeout_ms closes the client's idle connection;
    the client reconnects once, transparently, and is not marked down."""

    def setUp(self):
        flame_client.configure(LIVE, timeout=5.0, retry_interval=60)

    def tearDown(self):
        flame_client.configure(retry_interval=5.0)

    def test_client_reconnects_after_the_idle_timeout(self):
        c = flame_client.Client(LIVE, app="idle")
        c.status()  # connects; the hello gives the connection's number
        first = c.client_number
        time.sleep(2 * float(IDLE_MS) / 1000)
        r = c.begin(MODEL, 1000, id=1)
        self.assertTrue(r["ok"])
        self.assertNotEqual(c.client_number, first)  # flamed had closed the first connection
        time.sleep(2 * float(IDLE_MS) / 1000)  # held: the connection stays
        self.assertTrue(c.end(1, latency_ms=5.0)["ok"])
        c.close()

    def test_deadline_after_the_idle_timeout_is_held(self):
        c = flame_client.Client(LIVE)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for _ in range(2):
                time.sleep(2 * float(IDLE_MS) / 1000)
                with flame_client.deadline(MODEL, ms=1000, client=c, sync=False) as d:
                    pass
                self.assertTrue(d.active, d.error)
                self.assertTrue(d.end_reply["ok"])
        self.assertEqual(w, [])
        c.close()


if __name__ == "__main__":
    unittest.main()
