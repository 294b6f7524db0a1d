#!/usr/bin/python3
"""torch_step.py: the audio network (src/nn/net_audio.h) in PyTorch on CPU, one thread, timed for
forward + backward exactly like build/bench/train_step times ardm's network (best of a few
steps after a warm-up; the loss is sum(out * r), i.e. the head is not included on either side).
It runs the C benchmark for the same configuration first and prints ardm / torch step time.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/torch_step.py [blocks channels batch steps]...
(no arguments: 12 64 1 3, 12 64 4 2, 36 256 1 1). Needs Debian's python3-torch (a benchmark
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

E = 128
D = 16000


class Net(nn.Module):
    def __init__(self, blocks, C, cycle=12, k=3, cin=2, cout=90):
        super().__init__()
        self.blocks, self.C = blocks, C
        self.t1, self.t2 = nn.Linear(E, 4 * C), nn.Linear(4 * C, 4 * C)
        self.tproj = nn.Linear(4 * C, blocks * 2 * C)
        self.inp = nn.Conv1d(cin, C, 1)
        self.convs = nn.ModuleList(
            [nn.Conv1d(C, 2 * C, k, dilation=2 ** (i % cycle), padding=2 ** (i % cycle) * (k - 1) // 2, bias=False)
             for i in range(blocks)])
        self.outs = nn.ModuleList([nn.Conv1d(C, 2 * C, 1) for _ in range(blocks)])
        self.skip, self.final = nn.Conv1d(C, C, 1), nn.Conv1d(C, cout, 1)

    def forward(self, x, t):
        half = E // 2
        f = torch.exp(-math.log(10000.0) * torch.arange(half) / (half - 1))
        a = t[:, None] * (1000.0 / D) * f[None]
        e = torch.cat([torch.sin(a), torch.cos(a)], 1)
        h = F.silu(self.t2(F.silu(self.t1(e))))
        tp = self.tproj(h).view(-1, self.blocks, 2 * self.C)
        x = F.relu(self.inp(x))
        skip = 0
        for i in range(self.blocks):
            z = self.convs[i](x) + tp[:, i, :, None]
            g = torch.tanh(z[:, :self.C]) * torch.sigmoid(z[:, self.C:])
            o = self.outs[i](g)
            x = (x + o[:, :self.C]) / math.sqrt(2.0)
            skip = skip + o[:, self.C:]
        r = F.relu(skip / math.sqrt(self.blocks))
        return self.final(F.relu(self.skip(r)))


def torch_step(blocks, C, batch, steps):
    torch.manual_seed(0)
    net = Net(blocks, C)
    x = torch.randn(batch, 2, D)
    t = torch.full((batch,), 8000.0)
    r = torch.randn(batch, 90, D)
    best = float("inf")
    for s in range(steps + 1):
        net.zero_grad(set_to_none=False)
        t0 = time.perf_counter()
        out = net(x, t)
        (out * r).sum().backward()
        dt = time.perf_counter() - t0
        if s > 0:
            best = min(best, dt)
    return best


def ardm_step(blocks, C, batch, steps):
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bench", "train_step")
    out = subprocess.run([exe, str(blocks), str(C), str(batch), str(steps)], check=True, capture_output=True,
                         text=True).stdout
    sys.stdout.write("  ardm: " + "  ardm: ".join(l + "\n" for l in out.strip().splitlines()))
    return float(re.search(r"step \(net fwd\+bwd\) ([0-9.]+) s", out).group(1))


def main():
    torch.set_num_threads(1)
    args = [int(a) for a in sys.argv[1:]]
    configs = [args[i:i + 4] for i in range(0, len(args), 4)] or [[12, 64, 1, 3], [12, 64, 4, 2], [36, 256, 1, 1]]
    print("torch %s, threads %d, OPENBLAS_CORETYPE=%s" % (torch.__version__, torch.get_num_threads(),
                                                         os.environ.get("OPENBLAS_CORETYPE", "(unset)")))
    for blocks, C, batch, steps in configs:
        ta = ardm_step(blocks, C, batch, steps)
        tt = torch_step(blocks, C, batch, steps)
        print("B=%d C=%d batch %d: ardm %.3f s, torch %.3f s per forward+backward: ardm/torch = %.2f"
              % (blocks, C, batch, ta, tt, ta / tt), flush=True)


if __name__ == "__main__":
    main()
