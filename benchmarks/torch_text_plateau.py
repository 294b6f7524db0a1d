#!/usr/bin/python3
"""torch_text_plateau.py: the unigram-plateau check of RESULTS.md ("text8 quality run: the unigram
plateau", "Transformer attention distance bias") in PyTorch: the Transformer of
torch_text_step.py (2 layers x 64, 4 heads, MLP 2x) trained with the OA-ARDM objective (t uniform,
a random order, the per-dim ELBO in bits) on a text data set made by `ardm prep -format text`,
batch 32, Adam beta2 0.99, linear warm-up over 50 steps; prints the mean training ELBO of every
50 steps. It checks that a plateau seen in ardm is a property of the network and objective.

Usage: /usr/bin/python3 benchmarks/torch_text_plateau.py DATA.nc STEPS [LR] [BIAS] [WINDOW] [BATCH] [MAX]
  LR      peak learning rate (default 3e-3)
  BIAS    none (default), alibi (slopes 2^(-8(h+1)/H), what ardm's -model_attn_bias distance
          uses) or half (slopes 2^-(h+1))
  WINDOW  input window R (ardm's -model_window; default 0): 2R more embedding tables of K + 2
          rows (row K + 1 = outside the sequence) added for the neighbours at distances 1..R
  BATCH   examples per step (default 32)
  MAX     train on the first MAX examples of DATA (default all)
The RESULTS.md window probes: DATA = input/text8/data/train.nc, 400 steps, LR 3e-3, BIAS alibi,
WINDOW 0 or 2, BATCH 16, MAX 50000. The plateau probes: head -c 300000 of the KJV text (input/text8/data/sources/kjv.txt), then
`bin/ardm prep -format text -in FILE -out DIR -length 32`, DATA = DIR/train.nc, 300 or 600 steps."""
import math
import os
import sys

import numpy as np
import torch
from netCDF4 import Dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_text_step as T  # noqa: E402


def biased_forward(slope):
    def forward(self, x):
        B, n, W = x.shape
        hd = W // self.H
        q, k, v = self.qkv(self.ln1(x)).view(B, n, 3, self.H, hd).permute(2, 0, 3, 1, 4)
        i = torch.arange(n)
        dist = (i[:, None] - i[None, :]).abs().float()
        m = torch.tensor([slope(h, self.H) for h in range(self.H)])[:, None, None]
        p = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd) - m * dist, dim=-1)
        a = torch.matmul(p, v).transpose(1, 2).reshape(B, n, W)
        x = x + self.proj(a)
        return x + self.fc2(T.gelu(self.fc1(self.ln2(x))))
    return forward


def windowed_forward(win):
    """Net.forward of torch_text_step.py plus the input window (left_o, right_o alternate in nb)."""
    def forward(self, sym, t):
        D, K = T.D, T.K
        half = self.W // 2
        f = torch.exp(-math.log(10000.0) * torch.arange(half) / (half - 1))
        a = t[:, None] * (1000.0 / D) * f[None]
        temb = self.t2(T.gelu(self.t1(torch.cat([torch.sin(a), torch.cos(a)], 1))))
        x = self.tok(sym) + self.pos[None] + temb[:, None, :]
        pad = torch.full((sym.shape[0], win), K + 1, dtype=sym.dtype)
        sp = torch.cat([pad, sym, pad], 1)
        j = 0
        for o in range(-win, win + 1):
            if o:
                x = x + self.nb[j](sp[:, win + o:win + o + D])
                j += 1
        for b in self.blocks:
            x = b(x)
        return self.head(self.lnf(x))
    return forward


def main():
    data, steps = sys.argv[1], int(sys.argv[2])
    lr = float(sys.argv[3]) if len(sys.argv) > 3 else 3e-3
    bias = sys.argv[4] if len(sys.argv) > 4 else "none"
    if bias == "alibi":
        T.Block.forward = biased_forward(lambda h, H: 2.0 ** (-8.0 * (h + 1) / H))
    elif bias == "half":
        T.Block.forward = biased_forward(lambda h, H: 2.0 ** -(h + 1))
    elif bias != "none":
        sys.exit("torch_text_plateau.py: BIAS must be none, alibi or half")
    win = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    batch = int(sys.argv[6]) if len(sys.argv) > 6 else 32
    nmax = int(sys.argv[7]) if len(sys.argv) > 7 else None
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x_all = torch.tensor(np.asarray(Dataset(data).variables["x"][:nmax]).astype(np.int64))
    n, D = x_all.shape
    T.D, K = D, T.K
    net = T.Net(2, 64, 4, m=2)
    if win:
        net.nb = torch.nn.ModuleList([torch.nn.Embedding(K + 2, 64) for _ in range(2 * win)])
        T.Net.forward = windowed_forward(win)
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.99))
    run = 0.0
    for step in range(1, steps + 1):
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, step / 50)
        x = x_all[torch.randint(0, n, (batch,))]
        t = torch.randint(0, D, (batch,))
        known = torch.argsort(torch.rand(batch, D), dim=1).argsort(dim=1) < t[:, None]
        out = net(torch.where(known, x, torch.full_like(x, K)), t.float())
        ce = -torch.log_softmax(out, -1).gather(-1, x[..., None])[..., 0] / math.log(2)
        loss = ((ce * (~known)).sum(1) / (D - t)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        run += loss.item()
        if step % 50 == 0:
            print(f"step {step}: training ELBO {run / 50:.4f} bits/char (mean of the last 50 steps)", flush=True)
            run = 0.0


if __name__ == "__main__":
    main()
