"""flame_profile: PyTorch profiler traces in the form `flame profile` and `flame trace summarize` read.

Needs only the standard library and torch (torchvision for --torchvision models). It wraps a
torch.nn.Module: every call of a leaf module is a profiler range `u<i>:<module path>` (i counts calls
within the iteration), every iteration a range `iter<k>`, after a warm-up that is not recorded; the
trace is exported by torch.profiler and written as gzip'ed Chrome-trace JSON. That is the segment
structure of the reference traces (profile_coupling.py in the shared H200 data), see
docs/trace-format.md and docs/profiling.md.

    python3 -m flame_profile --torchvision resnet18 --batch 1 --out trace.json.gz
    python3 -m flame_profile --decoder --phase decode --ctx 128,512 --out 'trace-ctx{ctx}.json.gz'

Under `flame profile` the output path and the context lengths come from the environment
(FLAME_PROFILE_TRACE, FLAME_PROFILE_CTX), so `flame profile ... -- python3 -m flame_profile
--torchvision resnet18` needs no --out.

From Python:

    import flame_profile
    flame_profile.profile_module(model, (x,), "trace.json.gz", iterations=10)

Without CUDA there is no device timeline. The trace then mirrors every innermost CPU operator of an
iteration as a device op launched at its start ("cpu-device" mode: the CPU is the device), marked
`"flame_synthetic": "cpu_op"` in its args, so the trace keeps its structure and parses; it is meant
for testing the pipeline, not for modelling a GPU.
"""
import argparse
import gzip
import json
import os
import re
import sys
import tempfile
import time

import torch
import torch.nn as nn

__all__ = ["LeafRanges", "describe_layer", "profile_callable", "profile_module", "TinyDecoder", "decoder_step", "main"]

CTX_PLACEHOLDER = "{ctx}"


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class LeafRanges:
    """Forward hooks on every leaf module that open a profiler range u<i>:<path> around each call."""

    def __init__(self, model):
        self.enabled = False
        self.index = 0
        self.iteration = -1
        self.calls = []  # (iteration, index, name, start_ns, end_ns) on time.perf_counter_ns
        self.layers = {}  # call index -> the layer's description (flame_* args, docs/trace-format.md)
        self._open = []
        self._handles = []
        for name, m in model.named_modules():
            if name and not list(m.children()):
                self._handles.append(m.register_forward_pre_hook(self._pre(name)))
                self._handles.append(m.register_forward_hook(self._post()))
        if not self._handles:
            raise ValueError("the model has no leaf modules to time (is it a single module without children?)")

    def _pre(self, name):
        def hook(module, inputs):
            if not self.enabled:
                return
            t = time.perf_counter_ns()
            rf = torch.autograd.profiler.record_function(f"u{self.index}:{name}")
            rf.__enter__()
            self._open.append((rf, len(self.calls)))
            self.calls.append([self.iteration, self.index, name, t, t])
            self.index += 1
        return hook

    def _post(self):
        def hook(module, inputs, output):
            if self.enabled and self._open:
                rf, i = self._open.pop()
                rf.__exit__(None, None, None)
                self.calls[i][4] = time.perf_counter_ns()
                index = self.calls[i][1]
                if index not in self.layers:
                    self.layers[index] = describe_layer(module, inputs, output)
        return hook

    def start_iteration(self):
        self.index = 0
        self.iteration += 1

    def remove(self):
        for h in self._handles:
            h.remove()
        self._handles = []


def _tensor_bytes(x):
    if isinstance(x, torch.Tensor):
        return x.numel() * x.element_size()
    if isinstance(x, (list, tuple)):
        return sum(_tensor_bytes(v) for v in x)
    if isinstance(x, dict):
        return sum(_tensor_bytes(v) for v in x.values())
    return 0


def describe_layer(module, inputs, output):
    """The flame_* args of one leaf call (docs/trace-format.md, "Layer features"): its class, the
    multiply-accumulates of convolutions and linear layers (0 for others), FLOPs = 2 x MACs, and the
    bytes of its inputs, outputs and own parameters."""
    macs = 0
    out = output[0] if isinstance(output, (list, tuple)) and output else output
    if isinstance(out, torch.Tensor):
        if isinstance(module, nn.modules.conv._ConvNd):
            k = 1
            for v in module.kernel_size:
                k *= v
            macs = out.numel() * (module.in_channels // module.groups) * k
        elif isinstance(module, nn.Linear):
            macs = out.numel() * module.in_features
    params = sum(p.numel() * p.element_size() for p in module.parameters(recurse=False))
    params += sum(b.numel() * b.element_size() for b in module.buffers(recurse=False))
    return {"flame_type": type(module).__name__, "flame_macs": macs, "flame_flops": 2 * macs,
            "flame_bytes_in": _tensor_bytes(inputs), "flame_bytes_out": _tensor_bytes(output),
            "flame_param_bytes": params}


def _describe_calls(events, ranges):
    """Puts each leaf call's description into the args of its u<i> ranges."""
    for e in events:
        m = re.fullmatch(r"u(\d+):.*", str(e.get("name", ""))) if _is_range(e) else None
        if m and int(m.group(1)) in ranges.layers:
            e.setdefault("args", {}).update(ranges.layers[int(m.group(1))])


def _events(path):
    with open(path) as f:
        doc = json.load(f)
    return doc if isinstance(doc, list) else doc.get("traceEvents", []), doc


def _is_range(e):
    return e.get("ph") == "X" and "ts" in e and "dur" in e


def _is_annotation(name):
    return name.startswith("iter") or (name.startswith("u") and ":" in name and name[1:name.index(":")].isdigit())


def _cpu_device_ops(events):
    """Mirrors the operators of each iteration as launch + device op pairs: one per operator, at its
    start, lasting its self time (its duration minus that of the operators it called)."""
    host = [e for e in events if _is_range(e) and e.get("cat") not in ("kernel", "gpu_memcpy", "gpu_memset")]
    iters = [e for e in host if str(e.get("name", "")).startswith("iter") and str(e["name"])[4:].isdigit()]
    ops = [e for e in host if not _is_annotation(str(e.get("name", "")))]
    ops.sort(key=lambda e: (e.get("tid"), float(e["ts"]), -float(e["dur"])))
    self_us = {}
    stack = []
    for e in ops:
        start, end = float(e["ts"]), float(e["ts"]) + float(e["dur"])
        while stack and (stack[-1][0].get("tid") != e.get("tid") or end > stack[-1][1]):
            stack.pop()
        if stack:
            self_us[id(stack[-1][0])] -= float(e["dur"])
        self_us[id(e)] = float(e["dur"])
        stack.append((e, end))
    out = []
    corr = 1_000_000
    for e in ops:
        t = float(e["ts"])
        if self_us[id(e)] <= 0 or not any(float(i["ts"]) <= t <= float(i["ts"]) + float(i["dur"]) for i in iters):
            continue
        corr += 1
        out.append({"ph": "X", "cat": "cuda_runtime", "name": "flame_cpu_device_launch", "pid": "host",
                    "tid": e.get("tid", 1), "ts": e["ts"], "dur": 0,
                    "args": {"correlation": corr, "flame_synthetic": "cpu_op"}})
        out.append({"ph": "X", "cat": "kernel", "name": str(e.get("name", "op")), "pid": "cpu-device", "tid": 1,
                    "ts": e["ts"], "dur": round(self_us[id(e)], 3),
                    "args": {"correlation": corr, "flame_synthetic": "cpu_op"}})
    return out


def _restore_lost_calls(events, ranges):
    """The profiler without Kineto (e.g. Debian's CPU torch 1.13) silently loses a few record_function
    ranges. Calls missing from the export are put back from the hooks' own clock, shifted onto the
    profiler's by the median offset of the calls it did keep, clipped to their neighbours, and marked
    "flame_reconstructed". Returns how many were restored."""
    iters = sorted((e for e in events if _is_range(e) and re.fullmatch(r"iter\d+", str(e.get("name", "")))),
                   key=lambda e: float(e["ts"]))
    have = {}
    for e in events:
        m = re.fullmatch(r"u(\d+):.*", str(e.get("name", ""))) if _is_range(e) else None
        if not m:
            continue
        t = float(e["ts"])
        k = next((k for k, it in enumerate(iters) if float(it["ts"]) <= t <= float(it["ts"]) + float(it["dur"])), None)
        if k is not None:
            have[(k, int(m.group(1)))] = e
    offsets = sorted(float(have[(c[0], c[1])]["ts"]) - c[3] / 1000.0 for c in ranges.calls if (c[0], c[1]) in have)
    missing = [c for c in ranges.calls if (c[0], c[1]) not in have and 0 <= c[0] < len(iters)]
    if not missing or not offsets:
        return 0
    offset = offsets[len(offsets) // 2]
    for c in missing:
        k, idx = c[0], c[1]
        it = iters[k]
        lo, hi = float(it["ts"]), float(it["ts"]) + float(it["dur"])
        prev = [have[(k, j)] for j in range(idx - 1, -1, -1) if (k, j) in have][:1]
        nxt = [have[(k, j)] for j in range(idx + 1, idx + 10000) if (k, j) in have][:1]
        if prev:
            lo = max(lo, float(prev[0]["ts"]) + float(prev[0]["dur"]))
        if nxt:
            hi = min(hi, float(nxt[0]["ts"]))
        start = min(max(c[3] / 1000.0 + offset, lo), hi)
        end = max(min(c[4] / 1000.0 + offset, hi), start)
        e = {"ph": "X", "cat": "user_annotation", "name": f"u{idx}:{c[2]}", "pid": it.get("pid", 1),
             "tid": it.get("tid", 1), "ts": round(start, 3), "dur": round(end - start, 3),
             "args": {"flame_reconstructed": True}}
        events.append(e)
        have[(k, idx)] = e
    return len(missing)


def _normalise(events):
    """Kineto-style categories for what the legacy (non-Kineto) profiler exports without them."""
    for e in events:
        if not _is_range(e) or "cat" in e:
            continue
        e["cat"] = "user_annotation" if _is_annotation(str(e.get("name", ""))) else "cpu_op"
    return events


def _write(events, doc, out):
    body = {"schemaVersion": 1, "traceEvents": events, "traceName": os.path.basename(out),
            "flame_profile": {"torch": torch.__version__}}
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k not in ("traceEvents", "traceName"):
                body.setdefault(k, v)
    d = os.path.dirname(os.path.abspath(out))
    os.makedirs(d, exist_ok=True)
    tmp = out + ".part"
    opener = gzip.open if out.endswith(".gz") else open
    with opener(tmp, "wt") as f:
        json.dump(body, f)
    os.replace(tmp, out)  # a reader never sees half a trace


def profile_callable(fwd, model, out, iterations=5, warmup=3, device=None):
    """Runs fwd() `warmup` times unrecorded, then `iterations` times under torch.profiler with
    iter<k> and leaf-module ranges, and writes the trace to `out` (gzip when it ends in .gz)."""
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    device = torch.device(device) if device is not None else next(
        (p.device for p in model.parameters()), torch.device("cpu"))
    ranges = LeafRanges(model)
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                fwd()
            _sync(device)
            acts = [torch.profiler.ProfilerActivity.CPU]
            if device.type == "cuda":
                acts.append(torch.profiler.ProfilerActivity.CUDA)
            with torch.profiler.profile(activities=acts) as prof:
                ranges.enabled = True
                for k in range(iterations):
                    ranges.start_iteration()
                    _sync(device)
                    with torch.autograd.profiler.record_function(f"iter{k}"):
                        fwd()
                    _sync(device)
                ranges.enabled = False
    finally:
        ranges.remove()
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "trace.json")
        prof.export_chrome_trace(raw)
        events, doc = _events(raw)
    events = _normalise(events)
    _restore_lost_calls(events, ranges)
    _describe_calls(events, ranges)
    if device.type != "cuda":
        events = events + _cpu_device_ops(events)
    _write(events, doc, out)
    return out


def profile_module(module, inputs, out, iterations=5, warmup=3):
    """profile_callable for module(*inputs)."""
    module.eval()
    return profile_callable(lambda: module(*inputs), module, out, iterations, warmup)


class TinyDecoder(nn.Module):
    """A small Llama-style decoder from torch.nn (grouped KV heads, SwiGLU MLP, tied nothing)."""

    def __init__(self, layers=2, d=128, heads=4, kv=2, ff=352, vocab=1024):
        super().__init__()
        if d % heads or heads % kv:
            raise ValueError("d must divide by heads and heads by kv")
        self.emb = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            b = nn.Module()
            b.n1 = nn.LayerNorm(d)
            b.q = nn.Linear(d, d, bias=False)
            b.k = nn.Linear(d, d // heads * kv, bias=False)
            b.v = nn.Linear(d, d // heads * kv, bias=False)
            b.o = nn.Linear(d, d, bias=False)
            b.n2 = nn.LayerNorm(d)
            b.g = nn.Linear(d, ff, bias=False)
            b.u = nn.Linear(d, ff, bias=False)
            b.dn = nn.Linear(ff, d, bias=False)
            b.act = nn.SiLU()
            self.blocks.append(b)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.h, self.kv, self.hd, self.vocab = heads, kv, d // heads, vocab

    def forward(self, ids, cache=None):
        x = self.emb(ids)
        B, T, _ = x.shape
        new = []
        for i, b in enumerate(self.blocks):
            h = b.n1(x)
            q = b.q(h).view(B, T, self.h, self.hd).transpose(1, 2)
            k = b.k(h).view(B, T, self.kv, self.hd).transpose(1, 2)
            v = b.v(h).view(B, T, self.kv, self.hd).transpose(1, 2)
            if cache is not None:
                k = torch.cat([cache[i][0], k], 2)
                v = torch.cat([cache[i][1], v], 2)
            new.append((k, v))
            k = k.repeat_interleave(self.h // self.kv, 1)
            v = v.repeat_interleave(self.h // self.kv, 1)
            a = torch.softmax(q @ k.transpose(-1, -2) / self.hd ** 0.5, -1) @ v
            x = x + b.o(a.transpose(1, 2).reshape(B, T, -1))
            h = b.n2(x)
            x = x + b.dn(b.act(b.g(h)) * b.u(h))
        return self.head(self.norm(x)), new


def decoder_step(model, ctx, phase, device="cpu", seed=0):
    """fwd() for one prefill of ctx tokens, or one decode step on a KV cache of ctx tokens."""
    if ctx < 1:
        raise ValueError("ctx must be positive")
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, model.vocab, (1, ctx), generator=g).to(device)
    if phase == "prefill":
        return lambda: model(ids)
    if phase != "decode":
        raise ValueError(f"phase must be prefill or decode, not {phase!r}")
    tok = torch.randint(0, model.vocab, (1, 1), generator=g).to(device)
    with torch.inference_mode():
        _, cache = model(ids)
    return lambda: model(tok, cache)


def _torchvision_model(name):
    try:
        import torchvision
    except ImportError as e:
        raise SystemExit(f"flame_profile: --torchvision needs torchvision ({e})")
    if not hasattr(torchvision.models, name):
        raise SystemExit(f"flame_profile: torchvision has no model {name!r}")
    return getattr(torchvision.models, name)()  # random weights: nothing is downloaded


def _contexts(text):
    try:
        out = [int(c) for c in text.split(",") if c.strip()]
    except ValueError:
        raise SystemExit(f"flame_profile: --ctx must be a comma-separated list of integers, not {text!r}")
    if not out or any(c < 1 for c in out):
        raise SystemExit(f"flame_profile: --ctx needs positive context lengths, not {text!r}")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m flame_profile", description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--torchvision", metavar="NAME", help="a torchvision model, e.g. resnet18")
    src.add_argument("--decoder", action="store_true", help="the small decoder built from torch.nn")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--phase", choices=("prefill", "decode"),
                   default=os.environ.get("FLAME_PROFILE_PHASE") or "decode",
                   help="decoder phase, default $FLAME_PROFILE_PHASE (set by flame profile for an SLM), else decode")
    p.add_argument("--ctx", help="context lengths (decoder), default $FLAME_PROFILE_CTX")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--out", help="trace file ({ctx} is replaced per context); default $FLAME_PROFILE_TRACE")
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    a = p.parse_args(argv)
    out = a.out or os.environ.get("FLAME_PROFILE_TRACE")
    if not out:
        p.error("--out is required outside `flame profile` (FLAME_PROFILE_TRACE is not set)")
    device = torch.device("cuda" if a.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if a.device == "auto" else a.device))
    torch.manual_seed(0)
    written = []
    if a.torchvision:
        if CTX_PLACEHOLDER in out:
            p.error("the output path has {ctx} but a torchvision model has no context length")
        model = _torchvision_model(a.torchvision).eval().to(device)
        x = torch.randn(a.batch, 3, a.image_size, a.image_size, device=device)
        written.append(profile_callable(lambda: model(x), model, out, a.iterations, a.warmup, device))
    else:
        ctx_text = a.ctx or os.environ.get("FLAME_PROFILE_CTX", "")
        if not ctx_text:
            p.error("--decoder needs --ctx (or FLAME_PROFILE_CTX)")
        contexts = _contexts(ctx_text)
        if len(contexts) > 1 and CTX_PLACEHOLDER not in out:
            p.error("several contexts need {ctx} in the output path")
        heads = max(1, a.hidden // 32)
        model = TinyDecoder(layers=a.layers, d=a.hidden, heads=heads, kv=max(1, heads // 2),
                            ff=a.hidden * 11 // 4).eval().to(device)
        for ctx in contexts:
            fwd = decoder_step(model, ctx, a.phase, device)
            written.append(profile_callable(fwd, model, out.replace(CTX_PLACEHOLDER, str(ctx)), a.iterations,
                                            a.warmup, device))
    for w in written:
        print(f"flame_profile: wrote {w}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
