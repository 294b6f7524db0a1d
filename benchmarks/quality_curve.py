#!/usr/bin/python3
"""quality_curve.py: collects benchmarks/quality.sh's evaluations into OUT/quality.nc, a table
OUT/quality.txt and (when matplotlib is installed) OUT/quality.png: held-out bits/dim against
training wall time and examples seen, with the 50/100-step parallel bounds and FLAC -8, and a
power-law fit of the curve (bpd = a + b n^-c over examples seen n) that says where it levels off
and how many examples (and hours at the run's rate) it would need to reach FLAC.

usage: quality_curve.py OUT NAME FLAC_BPS EX REAL_BPD REAL_SE REAL_FLAC
Env: FIT_MAX_STEP=N fits only the checkpoints up to step N (a run with a final learning-rate
decay: the fit describes the stable phase before it, not the decay's drop).
"""
import os
import sys

import numpy as np
from netCDF4 import Dataset


def fit_power(n, y, se):
    """Weighted least squares of y = a + b n^-c (c on a grid, a and b linear for each c): the
    asymptote a of the curve and the rate c. Returns (a, b, c) or None with fewer than 4 points."""
    if len(n) < 4:
        return None
    w = 1.0 / np.maximum(se, 1e-6)
    best = None
    for c in np.geomspace(0.02, 3.0, 300):
        m = np.stack([np.ones_like(n), n ** -c], axis=1) * w[:, None]
        coef, *_ = np.linalg.lstsq(m, y * w, rcond=None)
        r = float(np.sum((m @ coef - y * w) ** 2))
        if coef[1] > 0 and (best is None or r < best[0]):
            best = (r, coef[0], coef[1], c)
    return None if best is None else best[1:]


def examples_to_reach(target, fit):
    """Examples seen at which the fitted curve reaches target (inf when its asymptote is above)."""
    a, b, c = fit
    return (b / (target - a)) ** (1.0 / c) if target > a else float("inf")


def extrapolate(a, flac):
    """The fitted curve's asymptote and the examples (and training hours at the run's average
    rate) it needs to reach FLAC, with the 10th-90th percentile range of a parametric bootstrap
    (each point redrawn within its standard error) as a guide to how loose that extrapolation is."""
    n, y, se, wall = a[:, 1], a[:, 3], a[:, 4], a[:, 2]
    fit = fit_power(n, y, se)
    if fit is None:
        return None
    rate = n[-1] / wall[-1]  # examples per second over the whole run
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(200):
        f = fit_power(n, y + se * rng.standard_normal(len(y)), se)
        if f is not None:
            boot.append(examples_to_reach(flac, f))
    # inf (a refit whose asymptote is above FLAC) sorts last; percentile's interpolation cannot
    # take it, so it stands in as 1e30 and is printed as inf again
    lo, hi = (np.percentile(np.minimum(boot, 1e30), [10, 90]) if boot else (float("nan"),) * 2)
    lo, hi = (float("inf") if v >= 1e30 else v for v in (lo, hi))
    need = examples_to_reach(flac, fit)
    return dict(asymptote=fit[0], b=fit[1], c=fit[2], examples=need, hours=need / rate / 3600,
                examples_lo=lo, examples_hi=hi, rate=rate)


def flac_per_clip(out, ex):
    """FLAC -8's bits per sample of each test clip (OUT/flac/test_NNNN.flac, clip NNNN of the
    test set, as quality.sh writes them), or None when they are not all there."""
    try:
        return np.array([os.path.getsize(f"{out}/flac/test_{i:04d}.flac") * 8 / 16000.0 for i in range(ex)])
    except OSError:
        return None


def paired(e, clips):
    """The model's bits/dim less FLAC's bits/sample on the same clips: mean and standard error of
    the per-clip difference (eval.nc's example_bpd), which leaves out the clip-to-clip spread that
    both share. NaN when the eval file predates per-example values."""
    if clips is None or "example_bpd" not in e.variables:
        return float("nan"), float("nan")
    d = np.asarray(e.variables["example_bpd"][:], dtype=np.float64)
    if len(d) != len(clips):
        return float("nan"), float("nan")
    d = d - clips
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def main():
    out, name, flac, ex = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    real_bpd, real_se, real_flac = (float(v) for v in sys.argv[5:8])
    # wall time at a checkpoint = its file's mtime less the training start (quality.sh records
    # it): exact to a second and available for every checkpoint, logged step or not
    start = float(open(f"{out}/train_start").read())
    clips = flac_per_clip(out, ex)
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
                     b[0], bs[0], b[1], bs[1]) + paired(e, clips))
    a = np.array(rows, dtype=np.float64)
    names = ["step", "examples_seen", "wall_s", "bpd", "bpd_stderr", "bpd_50", "bpd_50_stderr", "bpd_100",
             "bpd_100_stderr", "bpd_minus_flac", "bpd_minus_flac_stderr"]
    units = ["1", "1", "s", "bits/dim", "bits/dim", "bits/dim", "bits/dim", "bits/dim", "bits/dim", "bits/dim",
             "bits/dim"]
    fit_max = int(os.environ.get("FIT_MAX_STEP", "0"))
    ext = extrapolate(a[a[:, 0] <= fit_max] if fit_max > 0 else a, flac)
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
        if ext:  # the power-law fit of the curve and what it implies for reaching FLAC
            q.fit_asymptote, q.fit_b, q.fit_c = ext["asymptote"], ext["b"], ext["c"]
            q.fit_examples_to_flac, q.fit_hours_to_flac = ext["examples"], ext["hours"]
    os.replace(f"{out}/quality.nc.tmp", f"{out}/quality.nc")
    with open(f"{out}/quality.txt", "w") as t:
        t.write(f"# {name}: held-out bits/dim on {ex} test clips; FLAC -8 {flac:.3f} bits/sample\n")
        t.write(f"{'step':>8} {'examples':>9} {'wall_h':>7} {'bpd':>7} {'+-':>5} {'50 steps':>9} {'100 steps':>9} {'-FLAC':>7} {'+-':>5}\n")
        for r in rows:
            t.write(f"{r[0]:8.0f} {r[1]:9.0f} {r[2] / 3600:7.2f} {r[3]:7.3f} {r[4]:5.3f} {r[5]:9.3f} {r[7]:9.3f} {r[9]:7.3f} {r[10]:5.3f}\n")
        t.write("# -FLAC: the model's bits/dim less FLAC's bits/sample, paired clip by clip (its +- is the\n"
                "# standard error of the per-clip difference; nan: an eval file without per-example values)\n")
        if real_bpd == real_bpd:
            t.write(f"# real recordings: {real_bpd:.3f} +- {real_se:.3f} bits/dim; FLAC -8 {real_flac:.3f}\n")
        if ext:
            t.write(f"# fit bpd = a + b * examples^-c: a = {ext['asymptote']:.3f}, c = {ext['c']:.3f}; "
                    f"FLAC at {ext['examples']:.3g} examples = {ext['hours']:.3g} h at this run's "
                    f"{ext['rate']:.2f} examples/s (bootstrap 10-90%: {ext['examples_lo']:.3g} to "
                    f"{ext['examples_hi']:.3g} examples)\n")
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
