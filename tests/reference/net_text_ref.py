#!/usr/bin/python3
"""net_text_ref.py: an independent numpy (float64) implementation of the Transformer ARDM
network's forward pass (src/nn/net_text.h documents the architecture), checked against the C
forward.

Usage: /usr/bin/python3 tests/reference/net_text_ref.py FILE.nc
FILE.nc is written by `build/tests/test_net_text -net_reference_dump FILE.nc`: one variable per
parameter tensor (flat, named as in the C tensor table), the input symbols[example][dim], the
times t[example], the attention bias (global attribute attn_bias: 0 none, 1 distance; absent =
0), the input window R (attribute window, absent = 0: tables tok.left1, tok.right1, ... of V + 1
rows, row V for a neighbour outside the sequence) and the C output[example][out_channel][dim]. Exits 0 when they agree, 1 with a
message otherwise.

Written from the architecture description, not from the C code: attention is computed per head
with an explicit softmax over all positions (with attn_bias 1, head h's score of query i and
key j gets -m_h |i - j|, m_h = 2^(-8 (h + 1) / H): ALiBi's slopes, symmetric because the
attention is bidirectional), layer norm and tanh-GELU from their formulas."""
import sys

import numpy as np
from netCDF4 import Dataset


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def layer_norm(x, g, b, eps=1e-5):
    m = x.mean(axis=-1, keepdims=True)
    v = ((x - m) ** 2).mean(axis=-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b


def time_embedding(t, max_time, dim):
    half = dim // 2
    freqs = 10000.0 ** (-np.arange(half) / (half - 1))
    a = t * 1000.0 / max_time * freqs
    return np.concatenate([np.sin(a), np.cos(a)])


def attention(qkv, heads, bias):
    d, w3 = qkv.shape
    w = w3 // 3
    hd = w // heads
    out = np.zeros((d, w))
    dist = np.abs(np.arange(d)[:, None] - np.arange(d)[None, :]).astype(np.float64)
    for h in range(heads):
        q = qkv[:, h * hd:(h + 1) * hd]
        k = qkv[:, w + h * hd:w + (h + 1) * hd]
        v = qkv[:, 2 * w + h * hd:2 * w + (h + 1) * hd]
        s = q @ k.T / np.sqrt(hd)
        if bias == 1:
            s = s - 2.0 ** (-8.0 * (h + 1) / heads) * dist
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        out[:, h * hd:(h + 1) * hd] = p @ v
    return out


def forward(f, symbols, t):
    g = lambda name: np.asarray(f.variables[name][:], dtype=np.float64)
    L, W, H, m, V = (int(f.getncattr(a)) for a in ("layers", "width", "heads", "mlp", "vocab"))
    max_time = float(f.getncattr("max_time"))
    bias = int(f.getncattr("attn_bias")) if "attn_bias" in f.ncattrs() else 0
    d = symbols.shape[0]
    e = time_embedding(t, max_time, W)
    temb = g("time.dense2.w").reshape(W, W) @ gelu(g("time.dense1.w").reshape(W, W) @ e + g("time.dense1.b")) \
        + g("time.dense2.b")
    x = g("tok.emb").reshape(V, W)[symbols] + g("pos.emb").reshape(d, W) + temb[None, :]
    R = int(f.getncattr("window")) if "window" in f.ncattrs() else 0
    padded = np.concatenate([np.full(R, V), symbols, np.full(R, V)])  # V = outside the sequence
    for o in range(1, R + 1):
        x = x + g("tok.left%d" % o).reshape(V + 1, W)[padded[R - o:R - o + d]]
        x = x + g("tok.right%d" % o).reshape(V + 1, W)[padded[R + o:R + o + d]]
    for l in range(L):
        p = lambda n: g("block%d.%s" % (l, n))
        h = layer_norm(x, p("ln1.g"), p("ln1.b"))
        qkv = h @ p("qkv.w").reshape(3 * W, W).T + p("qkv.b")
        x = x + attention(qkv, H, bias) @ p("proj.w").reshape(W, W).T + p("proj.b")
        h = layer_norm(x, p("ln2.g"), p("ln2.b"))
        h = gelu(h @ p("fc1.w").reshape(m * W, W).T + p("fc1.b"))
        x = x + h @ p("fc2.w").reshape(W, m * W).T + p("fc2.b")
    h = layer_norm(x, g("final.ln.g"), g("final.ln.b"))
    nout = g("head.b").shape[0]
    return (h @ g("head.w").reshape(nout, W).T + g("head.b")).T  # [O][D]


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with Dataset(sys.argv[1]) as f:
        f.set_auto_mask(False)
        sym = np.asarray(f.variables["symbols"][:], dtype=np.int64)
        t = np.asarray(f.variables["t"][:], dtype=np.float64)
        got = np.asarray(f.variables["output"][:], dtype=np.float64)
        f_bias = int(f.getncattr("attn_bias")) if "attn_bias" in f.ncattrs() else 0
        f_win = int(f.getncattr("window")) if "window" in f.ncattrs() else 0
        want = np.stack([forward(f, sym[e], t[e]) for e in range(sym.shape[0])])
    # float32 through 3 blocks (GEMMs of length <= 48, layer norms, the ~1 ulp exp): ~1e-6 of
    # outputs ~1 expected; 1e-5 of max(1, largest |output|) leaves a margin and is far below
    # real differences (a missing 1/sqrt(hd) or a swapped q/k block moves outputs by > 1e-2).
    scale = max(1.0, float(np.max(np.abs(want))))
    err = float(np.max(np.abs(got - want)))
    tol = 1e-5 * scale
    if not np.all(np.isfinite(got)) or err > tol:
        idx = np.unravel_index(int(np.argmax(np.abs(got - want))), got.shape)
        print("MISMATCH: max |C - numpy| = %.3g > %.3g at %s (C %.6g, numpy %.6g)" % (err, tol, idx, got[idx], want[idx]))
        return 1
    print("OK: max |C - numpy| = %.3g (tolerance %.3g, output scale %.3g, attn_bias %s, window %d)"
          % (err, tol, scale, f_bias, f_win))
    return 0


if __name__ == "__main__":
    sys.exit(main())
