#!/usr/bin/python3
"""net_audio_ref.py: an independent numpy (float64) implementation of the audio ARDM network's
forward pass (src/nn/net_audio.h documents the architecture), checked against the C forward.

Usage: /usr/bin/python3 tests/reference/net_audio_ref.py FILE.nc
FILE.nc is written by `build/tests/test_net -net_reference_dump FILE.nc`: one variable per
parameter tensor (flat, named as in the C tensor table), the input[example][in_channel][dim],
the times t[example] and the C output[example][out_channel][dim]. Exits 0 when they agree,
1 with a message otherwise.

Everything here is written from the architecture description, not from the C code: the
dilated convolution is a direct sum over taps with explicit zero padding, the gate, residual,
skip and tail follow DiffWave's equations."""
import sys

import numpy as np
from netCDF4 import Dataset

E = 128  # sinusoid dims of the time embedding


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def silu(x):
    return x * sigmoid(x)


def time_embedding(t, max_time):
    """sin/cos of t * 1000 / max_time at frequencies 10000^(-j/(half-1))."""
    half = E // 2
    freqs = 10000.0 ** (-np.arange(half) / (half - 1))
    a = t * 1000.0 / max_time * freqs
    return np.concatenate([np.sin(a), np.cos(a)])


def dilated_conv(w, x, dil):
    """'same' zero-padded conv: y[o, i] = sum_j sum_c w[j, o, c] x[c, i + (j - (k-1)/2) dil]."""
    k, _, _ = w.shape
    c, d = x.shape
    pad = dil * (k - 1) // 2
    xp = np.zeros((c, d + 2 * pad))
    xp[:, pad:pad + d] = x
    y = 0.0
    for j in range(k):
        start = pad + (j - (k - 1) // 2) * dil
        y = y + w[j] @ xp[:, start:start + d]
    return y


def forward(f, x_in, t):
    g = lambda name: np.asarray(f.variables[name][:], dtype=np.float64)
    nb, C, cycle, k = (int(f.getncattr(a)) for a in ("blocks", "channels", "cycle", "kernel"))
    max_time = float(f.getncattr("max_time"))
    cin = x_in.shape[0]
    # time path: sinusoid -> dense 4C -> swish -> dense 4C -> swish -> per-block dense 2C
    e = time_embedding(t, max_time)
    h = silu(g("time.dense1.w").reshape(4 * C, E) @ e + g("time.dense1.b"))
    h = silu(g("time.dense2.w").reshape(4 * C, 4 * C) @ h + g("time.dense2.b"))
    tproj = (g("blocks.tproj.w").reshape(nb * 2 * C, 4 * C) @ h + g("blocks.tproj.b")).reshape(nb, 2 * C)
    # input projection + ReLU
    x = np.maximum(g("input.w").reshape(C, cin) @ x_in + g("input.b")[:, None], 0.0)
    skip = 0.0
    for i in range(nb):
        w = g("block%d.conv.w" % i).reshape(k, 2 * C, C)
        z = dilated_conv(w, x, 2 ** (i % cycle)) + tproj[i][:, None]
        gated = np.tanh(z[:C]) * sigmoid(z[C:])
        o = g("block%d.out.w" % i).reshape(2 * C, C) @ gated + g("block%d.out.b" % i)[:, None]
        x = (x + o[:C]) / np.sqrt(2.0)
        skip = skip + o[C:]
    r = np.maximum(skip / np.sqrt(nb), 0.0)
    hh = np.maximum(g("skip.w").reshape(C, C) @ r + g("skip.b")[:, None], 0.0)
    nout = g("final.b").shape[0]
    return g("final.w").reshape(nout, C) @ hh + g("final.b")[:, None]


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with Dataset(sys.argv[1]) as f:
        f.set_auto_mask(False)
        x_in = np.asarray(f.variables["input"][:], dtype=np.float64)
        t = np.asarray(f.variables["t"][:], dtype=np.float64)
        got = np.asarray(f.variables["output"][:], dtype=np.float64)
        want = np.stack([forward(f, x_in[e], t[e]) for e in range(x_in.shape[0])])
    # The C network runs in float32: each of the ~20 layers adds ~1e-7 relative rounding per
    # sum term and the fast exp in tanh/sigmoid ~1e-7 absolute, so outputs of magnitude ~1
    # should agree to ~1e-6 (4e-8 was observed). 1e-5 of max(1, largest |output|) leaves a
    # wide margin and is far below real differences (a wrong dilation moved outputs by 7e-2,
    # a residual scale of 1/1.4 instead of 1/sqrt(2) by 2e-3).
    scale = max(1.0, float(np.max(np.abs(want))))
    err = float(np.max(np.abs(got - want)))
    tol = 1e-5 * scale
    if not np.all(np.isfinite(got)) or err > tol:
        idx = np.unravel_index(int(np.argmax(np.abs(got - want))), got.shape)
        print("MISMATCH: max |C - numpy| = %.3g > %.3g at %s (C %.6g, numpy %.6g)" % (err, tol, idx, got[idx], want[idx]))
        return 1
    print("OK: max |C - numpy| = %.3g (tolerance %.3g, output scale %.3g)" % (err, tol, scale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
