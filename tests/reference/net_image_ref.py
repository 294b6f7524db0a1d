#!/usr/bin/python3
"""net_image_ref.py: an independent numpy (float64) implementation of the image ARDM network's
forward pass (the U-Net that src/nn/net_image.h documents), checked against the C forward.

Usage: /usr/bin/python3 tests/reference/net_image_ref.py FILE.nc
FILE.nc is written by `build/tests/test_net_image -net_reference_dump FILE.nc`: one variable per
parameter tensor (flat, named opN.<name> in op order as in the C tensor table), the
input[example][in_plane][pixel], the times t[example] and the C output[example][out][dim].
Exits 0 when they agree, 1 with a message otherwise.

Written from the architecture description: the 3x3 convolution is a direct sum over the nine
taps of a zero-padded image, group norm, attention and resampling follow their definitions."""
import sys

import numpy as np
from netCDF4 import Dataset

E = 128
EPS = 1e-5


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def silu(x):
    return x * sigmoid(x)


def time_embedding(t, max_time):
    half = E // 2
    freqs = 10000.0 ** (-np.arange(half) / (half - 1))
    a = t * 1000.0 / max_time * freqs
    return np.concatenate([np.sin(a), np.cos(a)])


def groups_for(c):
    top = min(32, c // 4)
    for g in range(top, 1, -1):
        if c % g == 0:
            return g
    return 1


def group_norm(x, g, b):
    c, h, w = x.shape
    G = groups_for(c)
    xg = x.reshape(G, -1)
    m = xg.mean(axis=1, keepdims=True)
    v = ((xg - m) ** 2).mean(axis=1, keepdims=True)
    y = ((xg - m) / np.sqrt(v + EPS)).reshape(c, h, w)
    return y * g[:, None, None] + b[:, None, None]


def conv3x3(x, w, b=None):
    cin, h, wd = x.shape
    cout = w.size // (cin * 9)
    w = w.reshape(cout, cin, 3, 3)
    xp = np.zeros((cin, h + 2, wd + 2))
    xp[:, 1:h + 1, 1:wd + 1] = x
    y = np.zeros((cout, h, wd))
    for ky in range(3):
        for kx in range(3):
            y += np.einsum("oc,chw->ohw", w[:, :, ky, kx], xp[:, ky:ky + h, kx:kx + wd])
    if b is not None:
        y += b[:, None, None]
    return y


def conv1x1(x, w, b):
    cout = b.shape[0]
    return np.einsum("oc,chw->ohw", w.reshape(cout, x.shape[0]), x) + b[:, None, None]


class Params:
    def __init__(self, f):
        self.f = f
        self.op = 0

    def get(self, name):
        return np.asarray(self.f.variables[name][:], dtype=np.float64)

    def next_op(self):
        i = self.op
        self.op += 1
        return lambda name: self.get("op%d.%s" % (i, name))


def forward(f, x_in, t):
    C, N, L, att, H, W, IC = (int(f.getncattr(a)) for a in
                              ("channels", "blocks", "levels", "attention", "height", "width", "img_channels"))
    max_time = float(f.getncattr("max_time"))
    P = Params(f)
    C4 = 4 * C
    e = time_embedding(t, max_time)
    h = silu(P.get("time.dense1.w").reshape(C4, E) @ e + P.get("time.dense1.b"))
    h = silu(P.get("time.dense2.w").reshape(C4, C4) @ h + P.get("time.dense2.b"))
    tproj = P.get("time.proj.w").reshape(-1, C4) @ h + P.get("time.proj.b")
    toff = [0]

    def res(x, cout):
        g = P.next_op()
        cin = x.shape[0]
        z = conv3x3(silu(group_norm(x, g("norm1.g"), g("norm1.b"))), g("conv1.w"), g("conv1.b"))
        z = z + tproj[toff[0]:toff[0] + cout][:, None, None]
        toff[0] += cout
        out = conv3x3(silu(group_norm(z, g("norm2.g"), g("norm2.b"))), g("conv2.w"), g("conv2.b"))
        return out + (conv1x1(x, g("skip.w"), g("skip.b")) if cin != cout else x)

    def attn(x):
        g = P.next_op()
        c, hh, ww = x.shape
        a = group_norm(x, g("norm.g"), g("norm.b"))
        qkv = conv1x1(a, g("qkv.w"), g("qkv.b")).reshape(3, c, hh * ww)
        q, k, v = qkv
        s = q.T @ k / np.sqrt(c)
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        o = (v @ p.T).reshape(c, hh, ww)
        return x + conv1x1(o, g("proj.w"), g("proj.b"))

    def block(x, cout, lev):
        x = res(x, cout)
        return attn(x) if att >> lev & 1 else x

    def cl(lev):
        return C if lev == 0 else 2 * C

    def skip_op():  # pooling, up-sampling and concatenation have no parameters but are ops
        P.op += 1

    g = P.next_op()
    x = conv3x3(x_in.reshape(-1, H, W), g("in.w"), g("in.b"))
    skips = []
    for lev in range(L):
        for _ in range(N):
            x = block(x, cl(lev), lev)
            skips.append(x)
        if lev + 1 < L:
            skip_op()
            c, hh, ww = x.shape
            x = x.reshape(c, hh // 2, 2, ww // 2, 2).mean(axis=(2, 4))
    x = block(x, cl(L - 1), L - 1)
    x = res(x, cl(L - 1))
    for lev in range(L - 1, -1, -1):
        for _ in range(N):
            skip_op()
            x = np.concatenate([x, skips.pop()], axis=0)
            x = block(x, cl(lev), lev)
        if lev > 0:
            skip_op()
            x = x.repeat(2, axis=1).repeat(2, axis=2)
    g = P.next_op()
    y = conv3x3(silu(group_norm(x, g("norm.g"), g("norm.b"))), g("conv.w"))
    O = P.get("final.b").shape[0]
    return y.reshape(O, IC * H * W) + P.get("final.b")[:, None]


def main():
    f = Dataset(sys.argv[1])
    x_in = np.asarray(f.variables["input"][:], dtype=np.float64)
    t = np.asarray(f.variables["t"][:], dtype=np.float64)
    out_c = np.asarray(f.variables["output"][:], dtype=np.float64)
    worst = 0.0
    for e in range(x_in.shape[0]):
        ref = forward(f, x_in[e], t[e])
        scale = max(1.0, np.abs(ref).max())
        worst = max(worst, np.abs(ref - out_c[e]).max() / scale)
    # float32 forward through ~40 ops of O(1) values: relative error ~1e-6; 1e-4 is 100x margin
    # and far below the O(1) error of a wrong tap, group or skip connection
    print("net_image_ref: max relative difference %.3g over %d examples" % (worst, x_in.shape[0]))
    if not worst < 1e-4:
        print("net_image_ref: C forward disagrees with the numpy reference")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
