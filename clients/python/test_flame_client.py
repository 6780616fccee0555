"""Tests of flame_client. Without a daemon they cover the no-op paths (absent socket, refused,
silent daemon). With FLAME_TEST_SOCKET pointing at a running flamed (the integration test
tests/integration/python_client.sh starts one), they drive the real protocol; FLAME_TEST_MODEL
names a model it has loaded. Run: python3 -m unittest -v test_flame_client"""
import os
import socket
import tempfile
import threading
import unittest
import warnings

import flame_client

LIVE = os.environ.get("FLAME_TEST_SOCKET")
MODEL = os.environ.get("FLAME_TEST_MODEL", "resnet50")


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
                    conn.sendall(b'{"ok":true,"active":[],"counters":{}}\n')

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
        return [a for a in client.status()["active"] if a["client"] == client.client_number]

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


if __name__ == "__main__":
    unittest.main()
