#!/usr/bin/python3
"""torch_text_step.py: the Transformer ARDM network (src/nn/net_text.h, -model transformer) in
PyTorch on CPU, one thread, timed for forward + backward exactly like build/bench/text_step times
ardm's network: D = 250, K = 27 (categorical head), MLP 4, half the dims known (the targets are
the other half), best of a few steps after a warm-up. The network and the head are timed apart
on both sides: the head (log-softmax over K and the masked negative log-likelihood, forward and
backward) runs on a detached copy of the output, whose gradient is then fed to the network's
backward. The model follows tests/reference/net_text_ref.py layer by layer (the same shapes
and GEMMs, tanh-GELU, pre-norm blocks, attention as two batched matmuls and a softmax, with
the distance bias -m_h |i - j| added to the scores as ardm's default -model_attn_bias distance
does: a fixed [H][D][D] buffer, one add per score on both sides).
It runs the C benchmark for the same configuration, then the PyTorch step, alternately for R
rounds (-rounds R, default 3), and prints ardm / torch of the best times of each side. Both
sides' GEMMs go through the same OpenBLAS (PyTorch's nn.Linear and matmul call libblas), so
OPENBLAS_CORETYPE applies to both.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/torch_text_step.py [-rounds R] [layers width heads batch steps]...
(no arguments: 6 256 8 8 3 and 12 768 12 8 2). Needs Debian's python3-torch (a benchmark
dependency only: apt-get install -y --no-install-recommends python3-torch)."""
import math
import os
import re
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

D = 250
K = 27


def gelu(x):
    return F.gelu(x, approximate="tanh")


class Block(nn.Module):
    def __init__(self, W, H, m):
        super().__init__()
        self.H = H
        # -model_attn_bias distance: score_ij of head h gets -m_h |i - j|, m_h = 2^(-8(h+1)/H)
        slopes = torch.tensor([2.0 ** (-8.0 * (h + 1) / H) for h in range(H)])
        dist = (torch.arange(D)[:, None] - torch.arange(D)[None, :]).abs().float()
        self.register_buffer("bias", -slopes[:, None, None] * dist[None])  # [H][D][D]
        self.ln1, self.ln2 = nn.LayerNorm(W), nn.LayerNorm(W)
        self.qkv, self.proj = nn.Linear(W, 3 * W), nn.Linear(W, W)
        self.fc1, self.fc2 = nn.Linear(W, m * W), nn.Linear(m * W, W)

    def forward(self, x):
        B, n, W = x.shape
        hd = W // self.H
        q, k, v = self.qkv(self.ln1(x)).view(B, n, 3, self.H, hd).permute(2, 0, 3, 1, 4)  # [B][H][D][hd] each
        p = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd) + self.bias, dim=-1)
        a = torch.matmul(p, v).transpose(1, 2).reshape(B, n, W)
        x = x + self.proj(a)
        return x + self.fc2(gelu(self.fc1(self.ln2(x))))


class Net(nn.Module):
    def __init__(self, L, W, H, m=4):
        super().__init__()
        self.W = W
        self.tok = nn.Embedding(K + 1, W)
        self.pos = nn.Parameter(0.5 * torch.randn(D, W))
        self.t1, self.t2 = nn.Linear(W, W), nn.Linear(W, W)
        self.blocks = nn.ModuleList([Block(W, H, m) for _ in range(L)])
        self.lnf = nn.LayerNorm(W)
        self.head = nn.Linear(W, K)

    def forward(self, sym, t):
        half = self.W // 2
        f = torch.exp(-math.log(10000.0) * torch.arange(half) / (half - 1))
        a = t[:, None] * (1000.0 / D) * f[None]
        temb = self.t2(gelu(self.t1(torch.cat([torch.sin(a), torch.cos(a)], 1))))
        x = self.tok(sym) + self.pos[None] + temb[:, None, :]
        for b in self.blocks:
            x = b(x)
        return self.head(self.lnf(x))  # [B][D][K]


def inputs(batch):
    """The same symbols, known dims and times as benchmarks/text_step.c."""
    i = torch.arange(D * batch, dtype=torch.int64)
    x = (i * 7919 + i // 13) % K
    known = (((i * 2654435761) & 0xFFFFFFFF) >> 7) % 2 == 1  # C's 32-bit unsigned product
    sym = torch.where(known, x, torch.full_like(x, K)).view(batch, D)
    return sym, x.view(batch, D), (~known).view(batch, D).float(), torch.full((batch,), D / 2.0)


def torch_step(L, W, H, batch, steps):
    torch.manual_seed(0)
    net = Net(L, W, H)
    sym, x, tmask, t = inputs(batch)
    print("  torch: %d parameters (%.2f M)" % (sum(p.numel() for p in net.parameters()),
                                             sum(p.numel() for p in net.parameters()) / 1e6))
    best = [float("inf")] * 4  # net, head in wall seconds; net, head in CPU seconds
    for s in range(steps + 1):
        net.zero_grad(set_to_none=False)
        t0, c0 = time.perf_counter(), time.process_time()
        out = net(sym, t)
        t1, c1 = time.perf_counter(), time.process_time()
        o = out.detach().requires_grad_()
        logp = torch.log_softmax(o, dim=-1).gather(-1, x[..., None])[..., 0]
        (-(logp * tmask).sum()).backward()
        t2, c2 = time.perf_counter(), time.process_time()
        out.backward(o.grad)
        t3, c3 = time.perf_counter(), time.process_time()
        if s > 0:
            best = [min(b, v) for b, v in zip(best, ((t1 - t0) + (t3 - t2), t2 - t1, (c1 - c0) + (c3 - c2), c2 - c1))]
    return best


def ardm_step(L, W, H, batch, steps):
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bench", "text_step")
    out = subprocess.run([exe, str(L), str(W), str(H), str(batch), str(steps)], check=True, capture_output=True,
                         text=True).stdout
    sys.stdout.write("  ardm: " + "  ardm: ".join(l + "\n" for l in out.strip().splitlines()))
    cpu = re.search(r"cpu time: net fwd\+bwd ([0-9.]+) s, head ([0-9.]+) s", out)
    return [float(re.search(r"step \(net fwd\+bwd\) ([0-9.]+) s", out).group(1)),
            float(re.search(r"; head ([0-9.]+) s", out).group(1)), float(cpu.group(1)), float(cpu.group(2))]


def main():
    torch.set_num_threads(1)
    argv, rounds = sys.argv[1:], 3
    if argv[:1] == ["-rounds"]:
        rounds, argv = int(argv[1]), argv[2:]
    args = [int(a) for a in argv]
    configs = [args[i:i + 5] for i in range(0, len(args), 5)] or [[6, 256, 8, 8, 3], [12, 768, 12, 8, 2]]
    print("torch %s, threads %d, OPENBLAS_CORETYPE=%s, ONEDNN_MAX_CPU_ISA=%s, %d rounds"
          % (torch.__version__, torch.get_num_threads(), os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
             os.environ.get("ONEDNN_MAX_CPU_ISA", "(unset)"), rounds), flush=True)
    for L, W, H, batch, steps in configs:
        a, t = [float("inf")] * 4, [float("inf")] * 4
        for _ in range(rounds):  # alternating, the best of each side: a burst of load hits both alike
            a = [min(u, v) for u, v in zip(a, ardm_step(L, W, H, batch, steps))]
            r = torch_step(L, W, H, batch, steps)
            t = [min(u, v) for u, v in zip(t, r)]
            print("  torch: net fwd+bwd %.3f s, head %.4f s; cpu time: net fwd+bwd %.3f s, head %.4f s" % tuple(r),
                  flush=True)
        print("L=%d W=%d H=%d batch %d D=%d K=%d" % (L, W, H, batch, D, K) + ":")
        for what, k in (("wall", 0), ("cpu ", 2)):
            print("  %s: net fwd+bwd ardm %.3f s, torch %.3f s: ardm/torch = %.2f; with the head ardm %.3f s, "
                  "torch %.3f s: ardm/torch = %.2f" % (what, a[k], t[k], a[k] / t[k], a[k] + a[k + 1], t[k] + t[k + 1],
                                                       (a[k] + a[k + 1]) / (t[k] + t[k + 1])), flush=True)


if __name__ == "__main__":
    main()
