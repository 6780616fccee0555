"""Tests of flame_profile (the PyTorch trace helper) on CPU PyTorch, kept small: a tiny model, two or
three iterations. Skipped, saying so, when torch is not installed. Run: python3 -m unittest -v
test_flame_profile. tests/integration/profile_python.sh also checks the traces with `flame`."""
import gzip
import json
import os
import re
import tempfile
import unittest

try:
    import torch
    import torch.nn as nn

    import flame_profile
    HAVE_TORCH = True
except ImportError:  # pragma: no cover - the skip path
    HAVE_TORCH = False


def load(path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rt") if gz else open(path)) as f:
        return json.load(f)["traceEvents"]


def annotations(events):
    """Per iteration (in time order), the leaf-call names in time order."""
    iters = sorted((e for e in events if e.get("cat") == "user_annotation" and re.fullmatch(r"iter\d+", e["name"])),
                   key=lambda e: float(e["ts"]))
    calls = [e for e in events if e.get("cat") == "user_annotation" and re.fullmatch(r"u\d+:.+", e["name"])]
    out = []
    for it in iters:
        lo, hi = float(it["ts"]), float(it["ts"]) + float(it["dur"])
        out.append([c["name"] for c in sorted(calls, key=lambda c: float(c["ts"])) if lo <= float(c["ts"]) <= hi])
    return [it["name"] for it in iters], out


@unittest.skipUnless(HAVE_TORCH, "torch is not installed (Debian: apt install python3-torch)")
class Helper(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        torch.manual_seed(0)

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_module_trace_has_iterations_and_leaf_calls_in_order(self):
        model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Sequential(nn.Linear(32, 8), nn.ReLU()))
        out = flame_profile.profile_module(model, (torch.randn(4, 16),), self.path("t.json.gz"), iterations=3,
                                           warmup=1)
        events = load(out)
        iters, calls = annotations(events)
        self.assertEqual(iters, ["iter0", "iter1", "iter2"])
        want = ["u0:0", "u1:1", "u2:2.0", "u3:2.1"]
        self.assertEqual(calls, [want] * 3)
        # Without CUDA the operators are mirrored as device ops, linked to a launch and marked synthetic.
        kernels = [e for e in events if e.get("cat") == "kernel"]
        self.assertTrue(kernels)
        self.assertTrue(all(k["args"].get("flame_synthetic") == "cpu_op" for k in kernels))
        launches = {e["args"]["correlation"] for e in events if e.get("cat") == "cuda_runtime"}
        self.assertTrue(all(k["args"]["correlation"] in launches for k in kernels))

    def test_leaf_calls_carry_their_layer_description(self):
        model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
        out = flame_profile.profile_module(model, (torch.randn(2, 3, 4, 4),), self.path("d.json.gz"),
                                           iterations=2, warmup=1)
        described = {}
        for e in load(out):
            if e.get("cat") == "user_annotation" and re.fullmatch(r"u\d+:.+", e["name"]):
                described.setdefault(e["name"], e.get("args", {}))
        conv, relu, linear = described["u0:0"], described["u1:1"], described["u3:3"]
        self.assertEqual(conv["flame_type"], "Conv2d")
        self.assertEqual(conv["flame_macs"], 2 * 8 * 4 * 4 * 3 * 3 * 3)  # outputs x in-channels x kernel
        self.assertEqual(conv["flame_flops"], 2 * conv["flame_macs"])
        self.assertEqual(conv["flame_bytes_in"], 2 * 3 * 4 * 4 * 4)
        self.assertEqual(conv["flame_bytes_out"], 2 * 8 * 4 * 4 * 4)
        self.assertEqual(conv["flame_param_bytes"], (8 * 3 * 3 * 3 + 8) * 4)
        self.assertEqual(relu["flame_type"], "ReLU")
        self.assertEqual(relu["flame_macs"], 0)
        self.assertEqual(linear["flame_macs"], 2 * 10 * 128)

    def test_a_module_called_twice_gives_two_calls(self):
        class Twice(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)

            def forward(self, x):
                return self.fc(torch.relu(self.fc(x)))

        model = Twice()
        events = load(flame_profile.profile_module(model, (torch.randn(2, 8),), self.path("t.json"),
                                                   iterations=2, warmup=0))
        self.assertEqual(annotations(events)[1], [["u0:fc", "u1:fc"]] * 2)
        self.assertFalse(any(h for h in model.fc._forward_hooks.values()), "hooks are removed afterwards")

    def test_calls_the_profiler_lost_are_restored_between_their_neighbours(self):
        class R:  # what LeafRanges recorded (perf_counter ns), iteration 0
            calls = [[0, 0, "a", 1_000_000, 2_000_000], [0, 1, "b", 2_100_000, 2_900_000],
                     [0, 2, "c", 3_000_000, 3_500_000]]
        # The profiler's clock is 500 us ahead; it kept a and c, lost b.
        events = [{"ph": "X", "cat": "user_annotation", "name": "iter0", "ts": 1400, "dur": 3000},
                  {"ph": "X", "cat": "user_annotation", "name": "u0:a", "ts": 1500, "dur": 1000},
                  {"ph": "X", "cat": "user_annotation", "name": "u2:c", "ts": 3500, "dur": 500}]
        self.assertEqual(flame_profile._restore_lost_calls(events, R), 1)
        b = events[-1]
        self.assertEqual((b["name"], b["ts"], b["dur"]), ("u1:b", 2600.0, 800.0))
        self.assertTrue(b["args"]["flame_reconstructed"])
        self.assertEqual(flame_profile._restore_lost_calls(events, R), 0)

    def test_decoder_contexts_share_one_segment_structure(self):
        model = flame_profile.TinyDecoder(layers=1, d=32, heads=2, kv=1, ff=64, vocab=64).eval()
        structures = []
        for ctx in (4, 32):
            fwd = flame_profile.decoder_step(model, ctx, "decode")
            logits, cache = fwd()
            self.assertEqual(tuple(logits.shape), (1, 1, 64))
            self.assertEqual(cache[0][0].shape[2], ctx + 1)
            events = load(flame_profile.profile_callable(fwd, model, self.path(f"d{ctx}.json.gz"), 2, 1))
            structures.append(annotations(events)[1][0])
        self.assertEqual(structures[0], structures[1])
        self.assertEqual(structures[0][0], "u0:emb")
        self.assertEqual(structures[0][-1], "u12:head")
        prefill = flame_profile.decoder_step(model, 8, "prefill")
        self.assertEqual(tuple(prefill()[0].shape), (1, 8, 64))
        with self.assertRaises(ValueError):
            flame_profile.decoder_step(model, 8, "sideways")

    def test_cli_writes_one_trace_per_context(self):
        rc = flame_profile.main(["--decoder", "--ctx", "8,16", "--layers", "1", "--hidden", "32", "--iterations",
                                 "2", "--warmup", "1", "--out", self.path("x-ctx{ctx}.json.gz")])
        self.assertEqual(rc, 0)
        for ctx in (8, 16):
            self.assertEqual(annotations(load(self.path(f"x-ctx{ctx}.json.gz")))[0], ["iter0", "iter1"])
        # Several contexts into one file would overwrite each other: refused.
        with self.assertRaises(SystemExit):
            flame_profile.main(["--decoder", "--ctx", "8,16", "--out", self.path("one.json.gz")])
        os.environ.pop("FLAME_PROFILE_TRACE", None)
        with self.assertRaises(SystemExit):
            flame_profile.main(["--decoder", "--ctx", "8"])

    def test_cli_takes_path_and_contexts_from_flame_profile(self):
        env = {"FLAME_PROFILE_TRACE": self.path("e-ctx{ctx}.json.gz"), "FLAME_PROFILE_CTX": "4"}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            flame_profile.main(["--decoder", "--layers", "1", "--hidden", "32", "--iterations", "2", "--warmup", "0"])
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.assertTrue(os.path.exists(self.path("e-ctx4.json.gz")))


if __name__ == "__main__":
    unittest.main()
