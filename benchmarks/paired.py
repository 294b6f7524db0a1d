#!/usr/bin/python3
"""paired.py A.nc B.nc|FLACDIR: model A minus model B (another eval.nc) or minus FLAC (a directory
of per-example .flac files, as quality.sh writes to OUT/flac, bits/sample = bytes * 8 / D), clip
by clip over the examples both cover: mean and standard error of the per-example difference of
the full-steps ELBO and of each budget's bound. Usage (issue 15, RESULTS.md):
  /usr/bin/python3 benchmarks/paired.py output/quality/sc09_up4_wsd/eval-00015500.strat8.nc \
      output/quality/sc09_oa_wsd2/eval-00015400.strat8.nc"""
import glob
import os
import sys

import numpy as np
from netCDF4 import Dataset


CLIP = 16000  # samples per SC09 clip (D of the audio data sets quality.sh uses)


def load(path):
    d = Dataset(path)
    full = np.asarray(d.variables["example_bpd"][:], dtype=float)
    budgets = np.asarray(d.variables["example_budget_bpd"][:], dtype=float) if "example_budget_bpd" in d.variables else None
    return full, budgets


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, ab = load(sys.argv[1])
    if os.path.isdir(sys.argv[2]):
        files = sorted(glob.glob(os.path.join(sys.argv[2], "*.flac")))
        b = np.array([os.path.getsize(f) * 8 / CLIP for f in files])
        bb = None
        name = "FLAC"
    else:
        b, bb = load(sys.argv[2])
        name = sys.argv[2]
    n = min(len(a), len(b))
    se = lambda x: x.std(ddof=1) / np.sqrt(len(x))
    d = a[:n] - b[:n]
    print("%d examples: A %.3f, B (%s) %.3f, A - B = %+.3f +- %.3f (full-steps ELBO)" % (n, a[:n].mean(), name, b[:n].mean(), d.mean(), se(d)))
    if ab is not None:
        for i in range(ab.shape[0]):
            other = bb[i, :n] if bb is not None else b[:n]
            d = ab[i, :n] - other
            print("  budget index %d: A - B = %+.3f +- %.3f" % (i, d.mean(), se(d)))


main()
