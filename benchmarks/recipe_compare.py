#!/usr/bin/env python3
"""benchmarks/recipe_compare.py: the table of benchmarks/recipe_sc09.sh.

usage: recipe_compare.py OUT NAME...   (OUT/NAME/{valid.nc,options,train.out} from recipe_sc09.sh)

For each variant: steps reached, valid bits/dim +- its standard error, and the paired
difference to the first variant. Every variant was evaluated on the same clips with the same eval
seed, so each (t, order) draw is the same across variants (the draws are keyed by seed, example and
purpose, not by the weights): eval.nc's loss(t) per t is then the mean of the same observations in
each file, and the difference is estimated per t-group (counts are mostly 1), which removes the
clip-to-clip variance that dominates bpd_stderr.
"""
import os
import re
import sys

import numpy as np
from netCDF4 import Dataset


def load(out, name, fn="valid.nc"):
    with Dataset(f"{out}/{name}/{fn}") as f:
        loss = np.asarray(f["loss"][:], dtype=np.float64).ravel()
        count = np.asarray(f["count"][:], dtype=np.int64).ravel()
        bpd, se = float(f["bpd"][...]), float(f["bpd_stderr"][...])
    step = 0
    with open(f"{out}/{name}/train.out") as f:
        for line in f:
            m = re.match(r"step\s+(\d+)", line)
            if m:
                step = int(m.group(1))
            m = re.search(r"at step (\d+)", line)
            if m:
                step = max(step, int(m.group(1)))
    try:
        with open(f"{out}/{name}/options") as f:
            opts = f.read().strip()
    except OSError:
        opts = ""
    return dict(loss=loss, count=count, bpd=bpd, se=se, step=step, opts=opts)


def paired(a, b):
    """mean difference b - a over the shared observations and its standard error"""
    if not np.array_equal(a["count"], b["count"]):
        return float("nan"), float("nan")  # different draws: not paired
    c = a["count"]
    m = c > 0
    d = (b["loss"] - a["loss"])[m]
    w = c[m].astype(np.float64)
    n = w.sum()
    mean = (w * d).sum() / n
    # each t-group is one unit of weight w (its mean of w observations)
    var = (w * w * (d - mean) ** 2).sum() / (n * n) * len(d) / max(len(d) - 1, 1)
    return mean, var ** 0.5


def main():
    out, names = sys.argv[1], sys.argv[2:]
    runs = [load(out, n) for n in names]
    print("| variant | options | steps | valid bits/dim | +- | minus first | +- |")
    print("|---|---|---|---|---|---|---|")
    for n, r in zip(names, runs):
        d, s = paired(runs[0], r)
        print(f"| {n} | `{r['opts']}` | {r['step']} | {r['bpd']:.3f} | {r['se']:.3f} | {d:+.3f} | {s:.3f} |")
    # the curve (CKPT_EVERY): the checkpoints all variants have, each against the first variant's
    steps = None
    for n in names:
        s = {int(m.group(1)) for m in (re.match(r"valid-(\d+)\.nc$", f) for f in os.listdir(f"{out}/{n}")) if m}
        steps = s if steps is None else steps & s
    if steps:
        print()
        print("| step | " + " | ".join(f"{n} bits/dim | +-" for n in names[:1]) + "".join(
            f" | {n} minus {names[0]} | +-" for n in names[1:]) + " |")
        print("|---" * (1 + 2 * len(names)) + "|")
        for st in sorted(steps):
            rs = [load(out, n, f"valid-{st}.nc") for n in names]
            row = f"| {st} | {rs[0]['bpd']:.3f} | {rs[0]['se']:.3f}"
            for r in rs[1:]:
                d, s = paired(rs[0], r)
                row += f" | {d:+.3f} | {s:.3f}"
            print(row + " |")


if __name__ == "__main__":
    main()
