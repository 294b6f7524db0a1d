#!/usr/bin/python3
"""jobs/scaling_merge.py: merges the per-task timing files of jobs/scaling.sbatch into one table
of throughput, speed-up and parallel efficiency per rank count, and a plot.

Usage:  /usr/bin/python3 jobs/scaling_merge.py DIR
Reads   DIR/*.nc with ardm_kind = "scaling_task" (and the train_log.nc each one names)
Writes  DIR/scaling.txt (the table, also printed), DIR/scaling.csv, DIR/scaling.png (when
        matplotlib is installed; otherwise a text chart goes into scaling.txt instead).
Needs   numpy and netCDF4 (Debian: python3-numpy python3-netcdf4 for /usr/bin/python3; the
        python3 first on PATH may lack them). Exit 1 when DIR holds no usable task file.

Throughput per task: the median of train_log's examples_per_s over the logged steps, leaving
out the first logged step (start-up, first-touch page faults) when there are at least three;
without a train log: steps * batch / wall_s of the whole launch (start-up included, noted in
the table's "source" column).
Per mode, relative to the smallest rank count P0 measured in that mode:
  speed-up   S(P) = X(P) / X(P0)                    X = examples per second
  efficiency E(P) = S(P) * P0 / P                    1.0 = perfect scaling
Strong scaling keeps the global batch (ideal: P times the throughput, time per step / P);
weak scaling keeps the per-rank batch (ideal: P times the throughput, same time per step).
"""
import os
import sys

import numpy as np
from netCDF4 import Dataset


def read_task(path):
    """One task's record, or None when the file is not a scaling task."""
    with Dataset(path) as nc:
        if getattr(nc, "ardm_kind", "") != "scaling_task":
            return None
        rec = {
            "file": os.path.basename(path),
            "mode": nc.mode,
            "ranks": int(nc["ranks"][...]),
            "batch": int(nc["batch"][...]),
            "batch_per_rank": int(nc["batch_per_rank"][...]),
            "steps": int(nc["steps"][...]),
            "wall_s": float(nc["wall_s"][...]),
            "train_log": getattr(nc, "train_log", ""),
        }
    log = os.path.join(os.path.dirname(path), rec["train_log"]) if rec["train_log"] else ""
    eps = None
    if log and os.path.exists(log):
        with Dataset(log) as nc:
            if "examples_per_s" in nc.variables:
                eps = np.ma.filled(nc["examples_per_s"][:].astype(float), np.nan)
                eps = eps[np.isfinite(eps) & (eps > 0)]
    if eps is not None and eps.size > 0:
        steady = eps[1:] if eps.size >= 3 else eps
        rec["examples_per_s"] = float(np.median(steady))
        rec["source"] = "train_log median of %d" % steady.size
    else:
        rec["examples_per_s"] = rec["steps"] * rec["batch"] / rec["wall_s"]
        rec["source"] = "launch wall time"
    rec["step_s"] = rec["batch"] / rec["examples_per_s"]
    return rec


def add_efficiency(recs):
    for mode in sorted({r["mode"] for r in recs}):
        group = sorted((r for r in recs if r["mode"] == mode), key=lambda r: r["ranks"])
        base = group[0]
        for r in group:
            r["speedup"] = r["examples_per_s"] / base["examples_per_s"]
            r["efficiency"] = r["speedup"] * base["ranks"] / r["ranks"]


COLUMNS = [  # (header, key, format)
    ("mode", "mode", "%-6s"), ("ranks", "ranks", "%5d"), ("batch", "batch", "%6d"),
    ("per_rank", "batch_per_rank", "%8d"), ("steps", "steps", "%5d"),
    ("step_s", "step_s", "%9.4f"), ("examples/s", "examples_per_s", "%11.2f"),
    ("speedup", "speedup", "%7.3f"), ("efficiency", "efficiency", "%10.3f"),
    ("wall_s", "wall_s", "%8.2f"), ("source", "source", "%s"),
]


def table(recs):
    """Aligned text table: text columns left, numbers right."""
    cells = [[f % r[k] for _, k, f in COLUMNS] for r in recs]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, (h, _, _) in enumerate(COLUMNS)]
    left = {"mode", "source"}

    def row(values):
        return "  ".join(v.ljust(w) if COLUMNS[i][1] in left else v.rjust(w)
                         for i, (v, w) in enumerate(zip(values, widths))).rstrip()
    return [row([h for h, _, _ in COLUMNS])] + [row(c) for c in cells]


def text_chart(recs):
    """Efficiency as bars of '#' (40 = 1.0), for when matplotlib is missing."""
    lines = ["", "parallel efficiency (40 # = 1.0):"]
    for r in recs:
        n = int(round(40 * max(0.0, min(r["efficiency"], 1.5))))
        lines.append("  %-6s P=%-4d %5.3f %s" % (r["mode"], r["ranks"], r["efficiency"], "#" * n))
    return lines


def plot(recs, path):
    """Writes the plot; returns why not (a string) when matplotlib is missing or broken."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed; Debian: python3-matplotlib"
    except Exception as e:  # a broken installation must not cost the table
        return "matplotlib failed to load: %s" % e
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for mode in sorted({r["mode"] for r in recs}):
        g = sorted((r for r in recs if r["mode"] == mode), key=lambda r: r["ranks"])
        p = [r["ranks"] for r in g]
        ax1.plot(p, [r["examples_per_s"] for r in g], "o-", label=mode)
        ax1.plot(p, [g[0]["examples_per_s"] * q / p[0] for q in p], ":", color="grey")
        ax2.plot(p, [r["efficiency"] for r in g], "o-", label=mode)
    ax1.set(xscale="log", yscale="log", xlabel="MPI ranks", ylabel="examples / s",
            title="throughput (dotted: ideal)")
    top = max([1.1] + [1.05 * r["efficiency"] for r in recs])
    ax2.set(xscale="log", xlabel="MPI ranks", ylabel="parallel efficiency", ylim=(0, top),
            title="efficiency")
    ax2.axhline(1.0, color="grey", ls=":")
    ranks = sorted({r["ranks"] for r in recs})
    for ax in (ax1, ax2):
        ax.set_xticks(ranks)
        ax.set_xticklabels([str(p) for p in ranks])
        ax.minorticks_off()
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    d = argv[1]
    recs, skipped = [], []
    for name in sorted(os.listdir(d)):
        if not name.endswith(".nc") or name == "scaling.nc":
            continue
        try:
            rec = read_task(os.path.join(d, name))
        except (OSError, KeyError, IndexError, ValueError) as e:
            skipped.append("%s (%s)" % (name, e))
            continue
        if rec is not None:
            recs.append(rec)
    for s in skipped:
        print("scaling_merge: warning: skipped %s" % s, file=sys.stderr)
    if not recs:
        print("scaling_merge: error: no scaling task files (ardm_kind scaling_task) in %s" % d,
              file=sys.stderr)
        return 1
    recs.sort(key=lambda r: (r["mode"], r["ranks"]))
    add_efficiency(recs)
    lines = table(recs)
    with open(os.path.join(d, "scaling.csv"), "w") as f:
        f.write(",".join(h for h, _, _ in COLUMNS) + "\n")
        for r in recs:
            f.write(",".join(str(r[k]) for _, k, _ in COLUMNS) + "\n")
    png = os.path.join(d, "scaling.png")
    why_not = plot(recs, png)
    if why_not is None:
        note = ["", "plot: %s" % png]
    else:
        note = text_chart(recs) + ["", "plot: skipped (%s)" % why_not]
    with open(os.path.join(d, "scaling.txt"), "w") as f:
        f.write("\n".join(lines + note) + "\n")
    print("\n".join(lines + note))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
