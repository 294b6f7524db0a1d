#!/usr/bin/python3
"""torch_image_step.py: the image ARDM network (src/nn/net_image.h, -model unet) in PyTorch on
CPU, one thread, timed for forward + backward exactly like build/bench/image_step times ardm's
network: 32 x 32 x 3 images, K = 256 (categorical head), half the dims known (the targets are
the other half), best of a few steps after a warm-up. The network and the head are timed apart
on both sides: the head (log-softmax over K and the masked negative log-likelihood, forward and
backward) runs on a detached copy of the output, whose gradient is then fed to the network's
backward. The model follows tests/reference/net_image_ref.py op by op (nn.Conv2d 3x3 and 1x1,
nn.GroupNorm with the same group counts, SiLU, single-head attention over the H*W positions as
two batched matmuls and a softmax, average pooling, nearest up-sampling, one time projection
for all ResBlocks, an output conv to K x 3 planes plus a per-K bias); the input conv gets no
input gradient, as in ardm. It runs the C benchmark for the same configuration, then the PyTorch
step, alternately for R rounds (-rounds R, default 3), and prints ardm / torch of the best times
of each side.
PyTorch's convolutions run in oneDNN, which picks the CPU's widest vector ISA (AVX-512 where
there is one) whatever OPENBLAS_CORETYPE says, while ardm's convolutions are OpenBLAS sgemm: with
OPENBLAS_CORETYPE=Haswell on an AVX-512 CPU ardm runs 256-bit kernels against PyTorch's 512-bit
ones. For a like-for-like comparison either unset OPENBLAS_CORETYPE (both AVX-512) or also set
ONEDNN_MAX_CPU_ISA=AVX2 (both AVX2); the script prints both variables.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/torch_image_step.py [-rounds R] [channels blocks levels attention batch steps]...
(no arguments: input/cifar_small.opts' network, 32 1 3 4 8 3; input/cifar_oa.opts' is
256 32 1 1). Needs Debian's python3-torch (a benchmark dependency only: apt-get install -y
--no-install-recommends python3-torch)."""
import math
import os
import re
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

H = W = 32
IC = 3
D = IC * H * W
K = 256
E = 128


def groups_for(c):
    for g in range(min(32, c // 4), 1, -1):
        if c % g == 0:
            return g
    return 1


def norm(c):
    return nn.GroupNorm(groups_for(c), c, eps=1e-5)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, toff):
        super().__init__()
        self.toff, self.cout = toff, cout
        self.n1, self.c1 = norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.n2, self.c2 = norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, tb):
        z = self.c1(F.silu(self.n1(x))) + tb[:, self.toff:self.toff + self.cout, None, None]
        out = self.c2(F.silu(self.n2(z)))
        return out + (self.skip(x) if self.skip is not None else x)


class Attn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n, self.qkv, self.proj = norm(c), nn.Conv2d(c, 3 * c, 1), nn.Conv2d(c, c, 1)

    def forward(self, x, tb):
        B, c, h, w = x.shape
        q, k, v = self.qkv(self.n(x)).view(B, 3, c, h * w).unbind(1)  # [B][c][N] each
        p = torch.softmax(torch.bmm(q.transpose(1, 2), k) / math.sqrt(c), dim=-1)  # [B][N][N]
        o = torch.bmm(v, p.transpose(1, 2)).view(B, c, h, w)
        return x + self.proj(o)


class Net(nn.Module):
    """The op list of net_image.c's build_ops: ("res"/"attn", module), ("down",), ("up",),
    ("push",) (keep a skip) and ("cat",) (concatenate the last skip)."""

    def __init__(self, C, N, L, att):
        super().__init__()
        self.ops, mods, T = [], nn.ModuleList(), 0
        cl = lambda lev: C if lev == 0 else 2 * C

        def res(cin, cout, lev):
            nonlocal T
            mods.append(ResBlock(cin, cout, T))
            self.ops.append(("mod", len(mods) - 1))
            T += cout
            if att >> lev & 1:
                mods.append(Attn(cout))
                self.ops.append(("mod", len(mods) - 1))
            return cout

        self.inp = nn.Conv2d(2 * IC, C, 3, padding=1)
        c, skips = C, []
        for lev in range(L):
            for _ in range(N):
                c = res(c, cl(lev), lev)
                skips.append(c)
                self.ops.append(("push",))
            if lev + 1 < L:
                self.ops.append(("down",))
        c = res(c, cl(L - 1), L - 1)
        mods.append(ResBlock(c, cl(L - 1), T))
        self.ops.append(("mod", len(mods) - 1))
        T += cl(L - 1)
        for lev in range(L - 1, -1, -1):
            for _ in range(N):
                self.ops.append(("cat",))
                c = res(c + skips.pop(), cl(lev), lev)
            if lev > 0:
                self.ops.append(("up",))
        self.mods = mods
        self.t1, self.t2, self.tproj = nn.Linear(E, 4 * C), nn.Linear(4 * C, 4 * C), nn.Linear(4 * C, T)
        self.onorm, self.oconv = norm(c), nn.Conv2d(c, K * IC, 3, padding=1, bias=False)
        self.obias = nn.Parameter(torch.zeros(K))

    def forward(self, x, t):
        half = E // 2
        f = torch.exp(-math.log(10000.0) * torch.arange(half) / (half - 1))
        a = t[:, None] * (1000.0 / D) * f[None]
        h = F.silu(self.t2(F.silu(self.t1(torch.cat([torch.sin(a), torch.cos(a)], 1)))))
        tb = self.tproj(h)
        x, skips = self.inp(x), []
        for op in self.ops:
            if op[0] == "mod":
                x = self.mods[op[1]](x, tb)
            elif op[0] == "push":
                skips.append(x)
            elif op[0] == "down":
                x = F.avg_pool2d(x, 2)
            elif op[0] == "up":
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            else:
                x = torch.cat([x, skips.pop()], 1)
        y = self.oconv(F.silu(self.onorm(x)))  # [B][K*IC][H][W], planes ordered (k, image channel)
        return y.view(x.shape[0], K, D) + self.obias[None, :, None]  # [B][K][D]


def inputs(batch):
    """The same values, known dims and times as benchmarks/image_step.c."""
    i = torch.arange(D * batch, dtype=torch.int64)
    x = (i * 7919 + i // 13) % K
    known = (((i * 2654435761) & 0xFFFFFFFF) >> 7) % 2 == 1  # C's 32-bit unsigned product
    planes = torch.cat([(x.float() * 2.0 / (K - 1) - 1.0).view(batch, IC, H, W), known.float().view(batch, IC, H, W)],
                       1)
    return planes, x.view(batch, D), (~known).view(batch, D).float(), torch.full((batch,), D / 2.0)


def torch_step(C, N, L, att, batch, steps):
    torch.manual_seed(0)
    net = Net(C, N, L, att)
    print("  torch: %d parameters (%.2f M)" % (sum(p.numel() for p in net.parameters()),
                                             sum(p.numel() for p in net.parameters()) / 1e6), flush=True)
    planes, x, tmask, t = inputs(batch)
    best = [float("inf")] * 4  # net, head in wall seconds; net, head in CPU seconds
    for s in range(steps + 1):
        net.zero_grad(set_to_none=False)
        t0, c0 = time.perf_counter(), time.process_time()
        out = net(planes, t)
        t1, c1 = time.perf_counter(), time.process_time()
        o = out.detach().requires_grad_()
        logp = torch.log_softmax(o, dim=1).gather(1, x[:, None, :])[:, 0]
        (-(logp * tmask).sum()).backward()
        t2, c2 = time.perf_counter(), time.process_time()
        out.backward(o.grad)
        t3, c3 = time.perf_counter(), time.process_time()
        if s > 0:
            best = [min(b, v) for b, v in zip(best, ((t1 - t0) + (t3 - t2), t2 - t1, (c1 - c0) + (c3 - c2), c2 - c1))]
    return best


def ardm_step(args):
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bench", "image_step")
    out = subprocess.run([exe] + [str(a) for a in args], check=True, capture_output=True, text=True).stdout
    sys.stdout.write("  ardm: " + "  ardm: ".join(l + "\n" for l in out.strip().splitlines()))
    sys.stdout.flush()
    cpu = re.search(r"cpu time: net fwd\+bwd ([0-9.]+) s, head ([0-9.]+) s", out)
    return [float(re.search(r"step \(net fwd\+bwd\) ([0-9.]+) s", out).group(1)),
            float(re.search(r"; head ([0-9.]+) s", out).group(1)), float(cpu.group(1)), float(cpu.group(2))]


def main():
    torch.set_num_threads(1)
    argv, rounds = sys.argv[1:], 3
    if argv[:1] == ["-rounds"]:
        rounds, argv = int(argv[1]), argv[2:]
    args = [int(a) for a in argv]
    configs = [args[i:i + 6] for i in range(0, len(args), 6)] or [[32, 1, 3, 4, 8, 3]]
    print("torch %s, threads %d, OPENBLAS_CORETYPE=%s, ONEDNN_MAX_CPU_ISA=%s, %d rounds"
          % (torch.__version__, torch.get_num_threads(), os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
             os.environ.get("ONEDNN_MAX_CPU_ISA", "(unset)"), rounds), flush=True)
    for cfg in configs:
        a, t = [float("inf")] * 4, [float("inf")] * 4
        for _ in range(rounds):  # alternating, the best of each side: a burst of load hits both alike
            a = [min(u, v) for u, v in zip(a, ardm_step(cfg))]
            r = torch_step(*cfg)
            t = [min(u, v) for u, v in zip(t, r)]
            print("  torch: net fwd+bwd %.3f s, head %.4f s; cpu time: net fwd+bwd %.3f s, head %.4f s" % tuple(r),
                  flush=True)
        print("C=%d N=%d L=%d att=%d batch %d, 32x32x3, K=%d" % tuple(cfg[:5] + [K]) + ":")
        for what, k in (("wall", 0), ("cpu ", 2)):
            print("  %s: net fwd+bwd ardm %.3f s, torch %.3f s: ardm/torch = %.2f; with the head ardm %.3f s, "
                  "torch %.3f s: ardm/torch = %.2f" % (what, a[k], t[k], a[k] / t[k], a[k] + a[k + 1], t[k] + t[k + 1],
                                                       (a[k] + a[k + 1]) / (t[k] + t[k + 1])), flush=True)


if __name__ == "__main__":
    main()
