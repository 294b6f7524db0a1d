#!/usr/bin/python3
"""quality_curve.py: collects benchmarks/quality.sh's evaluations into OUT/quality.nc, a table
OUT/quality.txt and (when matplotlib is installed) OUT/quality.png: held-out bits/dim against
training wall time and examples seen, with the 50/100-step parallel bounds and FLAC -8.

usage: quality_curve.py OUT NAME FLAC_BPS EX REAL_BPD REAL_SE REAL_FLAC
"""
import os
import sys

import numpy as np
from netCDF4 import Dataset


def main():
    out, name, flac, ex = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    real_bpd, real_se, real_flac = (float(v) for v in sys.argv[5:8])
    # wall time at a checkpoint = its file's mtime less the training start (quality.sh records
    # it): exact to a second and available for every checkpoint, logged step or not
    start = float(open(f"{out}/train_start").read())
    rows = []
    for line in open(f"{out}/points.txt"):
        step, ckpt, ev = line.split()
        step = int(step)
        seen = int(Dataset(ckpt).getncattr("examples_seen"))
        wall = os.path.getmtime(ckpt) - start
        e = Dataset(ev)
        b = np.asarray(e.variables["budget_bpd"][:], dtype=np.float64)
        bs = np.asarray(e.variables["budget_bpd_stderr"][:], dtype=np.float64)
        rows.append((step, seen, wall, float(e.variables["bpd"][:]), float(e.variables["bpd_stderr"][:]),
                     b[0], bs[0], b[1], bs[1]))
    a = np.array(rows, dtype=np.float64)
    names = ["step", "examples_seen", "wall_s", "bpd", "bpd_stderr", "bpd_50", "bpd_50_stderr", "bpd_100",
             "bpd_100_stderr"]
    units = ["1", "1", "s", "bits/dim", "bits/dim", "bits/dim", "bits/dim", "bits/dim", "bits/dim"]
    with Dataset(f"{out}/quality.nc.tmp", "w") as q:
        q.createDimension("point", len(rows))
        for j, (n, u) in enumerate(zip(names, units)):
            v = q.createVariable(n, "f8" if j > 1 else "i8", ("point",))
            v[:] = a[:, j]
            v.units = u
        q.ardm_kind = "quality_curve"
        q.run = name
        q.flac_bits_per_sample = flac
        q.test_clips = ex
        q.real_bpd, q.real_bpd_stderr, q.real_flac_bits_per_sample = real_bpd, real_se, real_flac
    os.replace(f"{out}/quality.nc.tmp", f"{out}/quality.nc")
    with open(f"{out}/quality.txt", "w") as t:
        t.write(f"# {name}: held-out bits/dim on {ex} test clips; FLAC -8 {flac:.3f} bits/sample\n")
        t.write(f"{'step':>8} {'examples':>9} {'wall_h':>7} {'bpd':>7} {'+-':>5} {'50 steps':>9} {'100 steps':>9}\n")
        for r in rows:
            t.write(f"{r[0]:8.0f} {r[1]:9.0f} {r[2] / 3600:7.2f} {r[3]:7.3f} {r[4]:5.3f} {r[5]:9.3f} {r[7]:9.3f}\n")
        if real_bpd == real_bpd:
            t.write(f"# real recordings: {real_bpd:.3f} +- {real_se:.3f} bits/dim; FLAC -8 {real_flac:.3f}\n")
    print(open(f"{out}/quality.txt").read(), end="")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("quality_curve.py: matplotlib not installed: no plot")
        return
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for k, (x, lab) in enumerate([(a[:, 2] / 3600, "training wall time (h)"), (a[:, 1], "examples seen")]):
        ax[k].errorbar(x, a[:, 3], yerr=a[:, 4], marker="o", label="ELBO (all steps)")
        ax[k].plot(x, a[:, 7], marker=".", label="100-step bound")
        ax[k].plot(x, a[:, 5], marker=".", label="50-step bound")
        ax[k].axhline(flac, color="k", ls="--", label="FLAC -8")
        ax[k].set_xlabel(lab)
        ax[k].set_ylabel("held-out bits/dim")
        ax[k].legend()
    fig.suptitle(f"{name}: SC09-style test split, {ex} clips")
    fig.tight_layout()
    fig.savefig(f"{out}/quality.png", dpi=90)


if __name__ == "__main__":
    main()
