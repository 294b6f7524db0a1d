#!/usr/bin/python3
"""tools/report.py: the drawing half of `ardm report RUN_DIR` (src/cmd/cmd_report.c runs it).

Usage:  /usr/bin/python3 tools/report.py RUN_DIR OUT_DIR [MAX_SAMPLES] [CODEC_EXAMPLES]
Reads   whatever of RUN_DIR is there: train_log.nc, loss_t.nc, checkpoint.nc, plan.nc,
        plan-<step>.nc, eval*.nc, samples*.nc, the data set eval.nc names (or RUN_DIR/data/),
        and jobs/scaling.sbatch task files (ardm_kind scaling_task) or scaling.csv.
Writes  OUT_DIR/index.html, the PNG figures and WAV files it shows, and OUT_DIR/manifest.json:
        every figure with the labels of its axes, the audio files, and the problems found.
Needs   Debian's python3-matplotlib, python3-numpy and python3-netcdf4 (for /usr/bin/python3);
        flac for the FLAC baseline of audio data (optional: a line in the report when missing).
Exit    0 the report was written (a missing or unreadable file is a line in it, not a failure);
        1 RUN_DIR is not a directory; 5 a Python module is missing.

Works on a run that is still training: ardm renames every file into place when it is complete
(doc/formats.md "Common rules"), so whatever is there is whole.
"""
import glob
import gzip
import html
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    from netCDF4 import Dataset
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:
    sys.stderr.write(f"report.py: {e}: needs Debian's python3-numpy, python3-netcdf4 and python3-matplotlib\n")
    sys.exit(5)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_figs as figs  # noqa: E402


class Report:
    """Collects the page's parts, the manifest and the problems."""

    def __init__(self, run, out):
        self.run, self.out, self.plt = run, out, plt
        self.figures, self.audio, self.problems, self.sections = [], [], [], []

    def problem(self, what):
        self.problems.append(what)

    def save(self, fig, name, section, caption, tight=True):
        if tight:
            fig.tight_layout()
        fig.savefig(os.path.join(self.out, name), dpi=90)
        axes = [{"xlabel": a.get_xlabel(), "ylabel": a.get_ylabel(), "title": a.get_title()}
                for a in fig.axes if a.get_visible() and a.axison and not hasattr(a, "_colorbar")]
        for a in fig.axes:  # colour bars: their label is the one that matters
            if hasattr(a, "_colorbar"):
                axes.append({"colorbar": a._colorbar.ax.get_ylabel()})
        self.figures.append({"file": name, "section": section, "axes": axes})
        plt.close(fig)
        cap = f"<figcaption>{caption}</figcaption>" if caption else ""
        return f'<figure><img src="{name}" alt="{html.escape(name)}">{cap}</figure>'


def read(path, kind=None):
    """A NetCDF file's variables and global attributes as a dict (None when absent); raises
    ValueError for a file of another kind, OSError for an unreadable one."""
    if not os.path.exists(path):
        return None
    with Dataset(path) as nc:
        attrs = {a: nc.getncattr(a) for a in nc.ncattrs()}
        if kind and attrs.get("ardm_kind") != kind:
            raise ValueError(f"ardm_kind is '{attrs.get('ardm_kind')}', expected '{kind}'")
        d = {k: np.ma.filled(v[...].astype(float) if v.dtype.kind == "f" else v[...], np.nan)
             for k, v in nc.variables.items() if k not in ("x", "params", "ema", "adam_m", "adam_v")}
        d["_attrs"] = attrs
        d["_units"] = {k: getattr(v, "units", "") for k, v in nc.variables.items()}
        return d


def unit_of(d, var, default="bits/dim"):
    u = d.get("_units", {}).get(var, "") if d else ""
    return u or default


def kind_of(path):
    try:
        with Dataset(path) as nc:
            return getattr(nc, "ardm_kind", "")
    except OSError as e:
        return f"unreadable ({e})"


def table(rows):
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def section(r, key, title, fn):
    """Runs one section; an exception becomes a problem line, never a crash."""
    try:
        body = fn()
    except Exception as e:  # noqa: BLE001: a broken file must cost one section, not the report
        r.problem(f"{title}: {type(e).__name__}: {e}")
        plt.close("all")
        body = f'<p class="problem">not shown: {html.escape(type(e).__name__)}: {html.escape(str(e))}</p>'
    if body:
        r.sections.append((key, title, body))


# ------------------------------------------------------------------------------------ sections

def sec_summary(r, files):
    rows = [("run directory", os.path.abspath(r.run)), ("report written", time.strftime("%Y-%m-%d %H:%M:%S %Z"))]
    ck = files.get("checkpoint")
    if ck:
        a = read(ck, "checkpoint")["_attrs"]
        rows += [("checkpoint", f"{os.path.basename(ck)}: step {int(a['step'])}, {int(a['examples_seen'])} examples seen"),
                 ("model", f"{a.get('model', '?')}, {int(a['nparam'])} parameters, D = {int(a['model_D'])}, "
                  f"K = {int(a['model_K'])}, {int(a['model_stages'])} stage(s)"),
                 ("data", a.get("data_modality", "?"))]
        if "plan_budgets" in a:
            rows.append(("training plans for budgets", ", ".join(str(int(b)) for b in np.ravel(a["plan_budgets"]))))
    log = files.get("train_log")
    if log:
        d = read(log, "train_log")
        if len(d["step"]):
            rows.append(("last logged step", f"{int(d['step'][-1])}: loss {d['loss'][-1]:.4f}, "
                         f"{d['bpd'][-1]:.4f} {unit_of(d, 'bpd')}"))
        rows.append(("written by", d["_attrs"].get("command_line", "?")))
    for e in files.get("eval", []):
        d = read(e, "eval")
        rows.append((os.path.basename(e), f"{float(d['bpd']):.4f} +- {float(d['bpd_stderr']):.4f} "
                     f"{unit_of(d, 'bpd')} on {int(d['_attrs'].get('examples', 0))} examples"))
    return table(rows)


def sec_training(r, files):
    path = files.get("train_log")
    if not path:
        r.problem("training: no train_log.nc in the run directory")
        return ""
    d = read(path, "train_log")
    if len(d["step"]) == 0:
        return "<p>The training log has no records yet.</p>"
    return figs.training(r, d, unit_of(d, "bpd"))


def sec_losses(r, files):
    sets, unit = [], "bits/dim"
    for label, path, kind in [("training (loss_t.nc)", files.get("loss_t"), "loss_components")] + \
            [(f"held-out ({os.path.basename(e)})", e, "eval") for e in files.get("eval", [])[:1]]:
        if not path:
            continue
        d = read(path, kind)
        loss = np.atleast_2d(d["loss"])
        sets.append((label, loss, np.atleast_2d(d.get("loss_sq", loss ** 2)), np.atleast_2d(d["count"])))
        unit = unit_of(d, "loss", unit)
    if not sets:
        r.problem("loss components: neither loss_t.nc nor an eval file")
        return ""
    return figs.loss_components(r, sets, unit)


def plan_dict(path):
    d = read(path, "plan")
    d["D"] = d["_attrs"]["D"]
    d["full_bpd"] = float(d["_attrs"].get("full_bpd", np.nan))
    d["starts"] = np.asarray(d["starts"])
    if "naive_bpd" not in d:
        d["naive_bpd"] = np.full(len(d["budgets"]), np.nan)
    return d


def sec_planning(r, files):
    history = []
    for p in files.get("plan_steps", []):
        try:
            d = plan_dict(p)
            step = int(re.search(r"plan-(\d+)\.nc$", p).group(1))
            history.append((step, [int(b) for b in d["budgets"]], list(d["expected_bpd"])))
        except Exception as e:  # noqa: BLE001
            r.problem(f"planning: {os.path.basename(p)}: {e}")
    path = files.get("plan")
    if not path:
        if not history:
            r.problem("planning: no plan.nc (ardm plan, or train -plan_budgets)")
            return ""
        path = files["plan_steps"][-1]
    d = plan_dict(path)
    src = d["_attrs"].get("loss_file", "?")
    return (f"<p>{html.escape(os.path.basename(path))}: planned on {html.escape(str(src))} "
            f"({html.escape(str(d['_attrs'].get('loss_variable', 'loss')))}).</p>"
            + figs.planning(r, d, unit_of(d, "expected_bpd"), sorted(history)))


def find_data(r, e):
    """The data set an eval file names, tried as written, from the run directory, and in RUN/data."""
    name = str(e["_attrs"].get("data", ""))
    for p in (name, os.path.join(r.run, name), os.path.join(r.run, "data", os.path.basename(name))):
        if name and os.path.exists(p):
            return p
    return None


def read_examples(path, n):
    with Dataset(path) as nc:
        attrs = {a: nc.getncattr(a) for a in nc.ncattrs()}
        n = min(n, nc.dimensions["example"].size)
        return np.asarray(nc["x"][:n]).astype(np.int64), attrs


def codec_baselines(r, data_path, n):
    """General-purpose codecs on the first n examples of the evaluated data set, in bits/dim:
    FLAC -8 (audio), gzip -9 and xz -9e (text and other sequences), PNG (images)."""
    x, a = read_examples(data_path, n)
    D, out = x.shape[1], []
    mod = a.get("modality", "sequence")
    if mod == "audio":
        if not shutil.which("flac"):
            r.problem("evaluation: flac is not installed: no FLAC baseline (Debian: flac)")
            return out
        with tempfile.TemporaryDirectory() as tmp:
            total = 0
            for i, row in enumerate(x):
                w = os.path.join(tmp, f"{i}.wav")
                figs.write_wav(w, row - 32768, int(a.get("sample_rate", 16000)))
                subprocess.run(["flac", "-s", "-8", "--no-padding", "--no-seektable", "-f", w], check=True)
                total += os.path.getsize(w[:-4] + ".flac")
        out.append((f"FLAC -8 on {len(x)} examples", 8.0 * total / x.size))
    elif mod == "image":
        from PIL import Image
        h, w, c = int(a["height"]), int(a["width"]), int(a["channels"])
        total = 0
        for row in x:
            im = row.reshape(c, h, w).transpose(1, 2, 0).astype(np.uint8)
            buf = io.BytesIO()
            Image.fromarray(im[:, :, 0] if c == 1 else im).save(buf, format="PNG", optimize=True)
            total += len(buf.getvalue())
        out.append((f"PNG on {len(x)} images", 8.0 * total / x.size))
    else:
        if mod == "text":
            raw = "".join(a["alphabet"][v] for v in x.ravel()).encode()
        else:
            raw = x.astype(np.uint8 if int(a["num_classes"]) <= 256 else np.uint16).tobytes()
        out.append((f"gzip -9 on {len(x)} examples", 8.0 * len(gzip.compress(raw, 9)) / x.size))
        out.append((f"xz -9e on {len(x)} examples", 8.0 * len(lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME)) / x.size))
    return out


def sec_evaluation(r, files, codec_n):
    evals = files.get("eval", [])
    if not evals:
        r.problem("evaluation: no eval file (ardm eval -out RUN/eval.nc)")
        return ""
    full, budgets, baselines, unit, rows, data = None, [], [], "bits/dim", [], None
    for path in evals:
        d = read(path, "eval")
        unit = unit_of(d, "bpd", unit)
        rows.append((os.path.basename(path), f"full ELBO {float(d['bpd']):.4f} +- {float(d['bpd_stderr']):.4f} "
                     f"{unit}, {int(d['_attrs'].get('examples', 0))} examples x {int(d['draws'])} draws"))
        if full is None:
            full = (float(d["bpd"]), float(d["bpd_stderr"]))
        if "budget_bpd" in d and not budgets:
            budgets = [(int(b), float(m), float(s), float(e)) for b, m, s, e in
                       zip(d["budgets"], d["budget_bpd"], d["budget_bpd_stderr"], d["planner_expected_bpd"])]
            for b, m, s, e in budgets:
                rows.append((f"budget {b}", f"parallel bound {m:.4f} +- {s:.4f}; planner expected {e:.4f}"))
        data = data or find_data(r, d)
        codec_n = min(codec_n, int(d["_attrs"].get("examples", codec_n)) or codec_n)
    if data:
        try:
            baselines = codec_baselines(r, data, codec_n)
            rows += [(name, f"{bits:.4f} {unit}") for name, bits in baselines]
        except Exception as e:  # noqa: BLE001
            r.problem(f"evaluation: codec baselines on {data}: {e}")
    else:
        r.problem("evaluation: the evaluated data set was not found: no codec baselines")
    return table(rows) + figs.evaluation(r, full, budgets, baselines, unit)


def sec_samples(r, files, limit):
    paths = files.get("samples", [])
    if not paths:
        r.problem("samples: no samples file (ardm sample -out RUN/samples.nc)")
        return ""
    path = paths[0]
    with Dataset(path) as nc:
        a = {k: nc.getncattr(k) for k in nc.ncattrs()}
        x = np.asarray(nc["x"][:limit]).astype(np.int64)
    head = (f"<p>{html.escape(os.path.basename(path))}: {x.shape[0]} shown, budget {a.get('budget', '?')} "
            f"({html.escape(str(a.get('plan', '?')))}), temperature {a.get('temperature', '?')}.</p>")
    mod = a.get("modality", "sequence")
    if mod == "audio":
        return head + figs.audio_samples(r, x, int(a.get("sample_rate", 16000)), limit)
    if mod == "text":
        return head + figs.text_samples(x, a["alphabet"], limit)
    if mod == "image":
        ck = read(files["checkpoint"], "checkpoint")["_attrs"] if files.get("checkpoint") else {}
        h, w, c = (int(ck.get(k, 0)) for k in ("data_height", "data_width", "data_channels"))
        if h * w * c != x.shape[1]:
            raise ValueError("image size unknown (checkpoint.nc with data_height/width/channels needed)")
        return head + figs.image_grid(r, x, h, w, c, limit)
    return head + figs.sequence_samples(r, x, int(a.get("num_classes", x.max() + 1)), limit)


def scaling_records(r, files):
    csv = os.path.join(r.run, "scaling.csv")
    if files.get("scaling_tasks"):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "jobs"))
        try:
            import scaling_merge
            recs = [rec for rec in (scaling_merge.read_task(p) for p in files["scaling_tasks"]) if rec]
            return recs
        except ImportError:
            pass
    if os.path.exists(csv):
        import csv as csvmod
        with open(csv) as f:
            rows = list(csvmod.DictReader(f))
        return [{"mode": x["mode"], "ranks": int(x["ranks"]), "batch": int(x["batch"]),
                 "examples_per_s": float(x["examples/s"])} for x in rows]
    return []


def sec_scaling(r, files):
    recs = scaling_records(r, files)
    if not recs:
        return ""
    rows = [(f"{x['mode']} P={x['ranks']}", f"{x['examples_per_s']:.2f} examples/s (batch {x['batch']})")
            for x in sorted(recs, key=lambda x: (x["mode"], x["ranks"]))]
    return table(rows) + figs.scaling(r, recs)


# ------------------------------------------------------------------------------------ driver

def discover(r):
    """Every NetCDF file of the run by its ardm_kind; unreadable ones become problems."""
    files = {"eval": [], "samples": [], "plan_steps": [], "scaling_tasks": []}
    names = sorted(glob.glob(os.path.join(r.run, "*.nc")))
    for p in names:
        base = os.path.basename(p)
        if ".tmp." in base:
            continue
        k = kind_of(p)
        if k.startswith("unreadable"):
            r.problem(f"{base}: {k}")
        elif k == "train_log":
            files["train_log"] = p
        elif k == "loss_components":
            files["loss_t"] = p
        elif k == "checkpoint":
            if base == "checkpoint.nc" or "checkpoint" not in files:
                files["checkpoint"] = p
        elif k == "plan":
            if re.match(r"plan-\d+\.nc$", base):
                files["plan_steps"].append(p)
            elif base == "plan.nc" or "plan" not in files:
                files["plan"] = p
        elif k == "eval":
            files["eval"].append(p)
        elif k == "samples":
            files["samples"].append(p)
        elif k == "scaling_task":
            files["scaling_tasks"].append(p)
    # the plain eval.nc first (full ELBO and loss components), then those with -plan
    files["eval"].sort(key=lambda p: (os.path.basename(p) != "eval.nc", p))
    files["samples"].sort(key=lambda p: (os.path.basename(p) != "samples.nc", p))
    return files


CSS = """body{font-family:sans-serif;max-width:1150px;margin:1em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:1.5em}
figure{display:inline-block;margin:0.5em}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:0.85em;color:#555;max-width:760px}table{border-collapse:collapse;margin:0.5em 0}
th,td{text-align:left;padding:2px 10px;border-bottom:1px solid #eee;font-size:0.9em}
.problem{color:#a00}.sample{display:inline-block;margin:0.4em}.sample audio{display:block;width:100%}
pre.text{background:#f6f6f6;padding:0.6em;white-space:pre-wrap}"""


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 1
    run, out = argv[1], argv[2]
    limit = int(argv[3]) if len(argv) > 3 else 8
    codec_n = int(argv[4]) if len(argv) > 4 else 24
    if not os.path.isdir(run):
        sys.stderr.write(f"report.py: {run}: not a directory\n")
        return 1
    os.makedirs(out, exist_ok=True)
    r = Report(run, out)
    files = discover(r)
    section(r, "summary", "Run", lambda: sec_summary(r, files))
    section(r, "training", "Training", lambda: sec_training(r, files))
    section(r, "losses", "Loss components", lambda: sec_losses(r, files))
    section(r, "planning", "Planning", lambda: sec_planning(r, files))
    section(r, "evaluation", "Evaluation", lambda: sec_evaluation(r, files, codec_n))
    section(r, "samples", "Samples", lambda: sec_samples(r, files, limit))
    section(r, "scaling", "Scaling", lambda: sec_scaling(r, files))
    if files["scaling_tasks"] or os.path.exists(os.path.join(run, "scaling.csv")):
        # a scaling directory has no run files: those problems are noise there
        r.problems = [p for p in r.problems if p.split(":")[0] not in
                      ("training", "loss components", "planning", "evaluation", "samples")]
    probs = "".join(f"<li>{html.escape(p)}</li>" for p in r.problems)
    page = [f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>ardm report: "
            f"{html.escape(os.path.abspath(run))}</title><style>{CSS}</style></head><body>",
            f"<h1>ardm report: {html.escape(os.path.abspath(run))}</h1>"]
    page.append("<nav>" + " | ".join(f'<a href="#{k}">{t}</a>' for k, t, _ in r.sections) + "</nav>")
    if probs:
        page.append(f'<h2 id="problems">Not shown</h2><ul class="problem">{probs}</ul>')
    for k, t, body in r.sections:
        page.append(f'<h2 id="{k}">{t}</h2>{body}')
    page.append("<p><small>Written by ardm report (tools/report.py, matplotlib). Files: doc/formats.md."
                "</small></p></body></html>")
    tmp = os.path.join(out, "index.html.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(page))
    with open(os.path.join(out, "manifest.json.tmp"), "w") as f:
        json.dump({"run": os.path.abspath(run), "sections": [k for k, _, _ in r.sections],
                   "figures": r.figures, "audio": r.audio, "problems": r.problems}, f, indent=1)
    os.replace(os.path.join(out, "manifest.json.tmp"), os.path.join(out, "manifest.json"))
    os.replace(tmp, os.path.join(out, "index.html"))
    print(f"report: {len(r.figures)} figures, {len(r.audio)} audio files, {len(r.problems)} problem(s)")
    for p in r.problems:
        print(f"report: not shown: {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
