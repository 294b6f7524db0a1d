"""tools/report_figs.py: the figures of `ardm report` (tools/report.py drives them).

Each function takes the report `r` (tools/report.py: Report, which saves figures, records their
axes labels in the manifest and collects problems) and the data it needs, draws with
matplotlib (Debian python3-matplotlib, Agg backend) and returns HTML for its part of the page.
Per-dim losses are in the files' own unit (bits/dim, or bits/char for text: doc/formats.md).
"""
import html
import math
import os
import wave

import numpy as np


def smooth(y, weight=None):
    """Debiased exponential moving average (as TensorBoard's smoothing), NaN-safe."""
    y = np.asarray(y, dtype=float)
    if weight is None:
        weight = min(0.98, max(0.0, 1.0 - 10.0 / max(len(y), 1)))
    out, acc, norm = np.empty_like(y), 0.0, 0.0
    for i, v in enumerate(y):
        if np.isfinite(v):
            acc = weight * acc + (1 - weight) * v
            norm = weight * norm + (1 - weight)
        out[i] = acc / norm if norm > 0 else np.nan
    return out


def cumulative_wall(wall):
    """wall_s restarts at 0 after a resume: add the previous invocations' last values."""
    wall = np.asarray(wall, dtype=float)
    out, offset = np.empty_like(wall), 0.0
    for i, w in enumerate(wall):
        if i and w < wall[i - 1]:
            offset += wall[i - 1]
        out[i] = w + offset
    return out


def training(r, log, unit):
    """Loss and bits/dim against step and wall time, learning rate, gradient norm, examples/s."""
    step = log["step"]
    fig, axes = r.plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, key, name in ((axes[0], "loss", "training loss"), (axes[1], "bpd", "negative ELBO")):
        ax.plot(step, log[key], color="#9ecae1", lw=0.8, label="raw")
        ax.plot(step, smooth(log[key]), color="#08519c", lw=2, label="smoothed")
        ax.set(xlabel="optimizer step", ylabel=f"{name} [{unit}]", title=f"{name} against step")
        ax.legend()
        ax.grid(alpha=0.3)
    parts = [r.save(fig, "train_loss.png", "training", "Training loss (ELBO plus the cross-entropy term) and the "
                    "stochastic negative ELBO of each logged step, raw and smoothed.")]
    wall = cumulative_wall(log["wall_s"])
    fig, ax = r.plt.subplots(figsize=(6.5, 3.8))
    scale, tunit = (3600.0, "h") if wall[-1] > 7200 else (60.0, "min") if wall[-1] > 120 else (1.0, "s")
    ax.plot(wall / scale, log["bpd"], color="#fdae6b", lw=0.8, label="raw")
    ax.plot(wall / scale, smooth(log["bpd"]), color="#d94801", lw=2, label="smoothed")
    ax.set(xlabel=f"wall-clock time [{tunit}]", ylabel=f"negative ELBO [{unit}]", title="negative ELBO against time")
    ax.legend()
    ax.grid(alpha=0.3)
    parts.append(r.save(fig, "train_wall.png", "training", "The same against wall-clock time (summed over "
                        "resumed invocations)."))
    fig, axes = r.plt.subplots(1, 3, figsize=(13, 3.5))
    axes[0].plot(step, log["lr"], color="#31a354")
    axes[0].set(xlabel="optimizer step", ylabel="learning rate", title="learning rate")
    g = np.asarray(log["grad_norm"], dtype=float)
    axes[1].plot(step, g, color="#bcbddc", lw=0.8, label="raw")
    axes[1].plot(step, smooth(g), color="#54278f", lw=2, label="smoothed")
    if np.all(g[np.isfinite(g)] > 0):
        axes[1].set_yscale("log")
    axes[1].set(xlabel="optimizer step", ylabel="gradient norm (before clipping)", title="gradient norm")
    axes[1].legend()
    axes[2].plot(step, log["examples_per_s"], color="#636363")
    axes[2].set(xlabel="optimizer step", ylabel="examples / s", title="throughput")
    for ax in axes:
        ax.grid(alpha=0.3)
    parts.append(r.save(fig, "train_opt.png", "training", "Learning rate, global gradient norm and throughput "
                        "(examples per second since the invocation started)."))
    return "".join(parts)


def _loss_curve(ax, t, loss, sq, count, color, label):
    n = count.astype(float)
    seen = n > 0
    mean = np.where(seen, loss, np.nan)
    se = np.sqrt(np.where(n > 1, np.maximum(sq - loss ** 2, 0.0), np.nan) / np.maximum(n, 1))
    sparse = seen.mean() < 0.5  # few observations: points, a line would hide the gaps
    if sparse:
        ax.plot(t, mean, ".", color=color, ms=3, label=label)
    else:
        ax.plot(t, mean, color=color, lw=1.2, label=label)
    ax.fill_between(t, mean - 2 * se, mean + 2 * se, color=color, alpha=0.2, lw=0)


def loss_components(r, sets, unit):
    """The per-step loss against t (paper's figure), per stage, with its standard error and count.
    sets: list of (label, loss[S][D], loss_sq[S][D], count[S][D]). One stage: the curves and the
    counts below them; upscale models: one panel per stage (at most 16)."""
    S = max(s[1].shape[0] for s in sets)
    colors = r.plt.rcParams["axes.prop_cycle"].by_key()["color"]
    caption = ("The loss of generating the remaining dims when t are known (doc/method.md section 2), "
               "+-2 standard errors shaded. The planner turns this curve into generation plans.")
    if S == 1:
        fig, axes = r.plt.subplots(2, 1, figsize=(10, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        for k, (label, loss, sq, count) in enumerate(sets):
            t = np.arange(loss.shape[1])
            _loss_curve(axes[0], t, loss[0], sq[0], count[0], colors[k % len(colors)], label)
            axes[1].plot(t, count[0], color=colors[k % len(colors)], lw=1)
        axes[0].set(ylabel=f"loss per generated dim [{unit}]", title="loss components: per-step loss against t")
        axes[0].legend(fontsize=8)
        axes[1].set(xlabel="t: dims already known", ylabel="observations")
        axes[0].tick_params(labelbottom=True)
        axes[0].set_xlabel("t: dims already known")
        for ax in axes:
            ax.grid(alpha=0.3)
        return r.save(fig, "loss_t.png", "losses", caption + " Below: observations behind each value.")
    shown = min(S, 16)
    cols = min(shown, 4)
    rows = (shown + cols - 1) // cols
    fig, axes = r.plt.subplots(rows, cols, figsize=(3.4 * cols, 2.8 * rows + 0.6), squeeze=False)
    for s in range(shown):
        ax = axes.flat[s]
        for k, (label, loss, sq, count) in enumerate(sets):
            if s < loss.shape[0]:
                t = np.arange(loss.shape[1])
                _loss_curve(ax, t, loss[s], sq[s], count[s], colors[k % len(colors)], label)
        ax.set(xlabel="t: dims already known", ylabel=f"loss [{unit}]", title=f"stage {s}")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    for ax in list(axes.flat)[shown:]:
        ax.axis("off")
    fig.suptitle("loss components per upscale stage" + (f" (first 16 of {S})" if S > 16 else ""))
    return r.save(fig, "loss_t.png", "losses", caption + " One panel per upscale stage.")


def plan_steps(plan):
    """Per budget, stage 0's steps as (start t, size) arrays."""
    out = []
    D = int(plan["D"])
    for b, budget in enumerate(plan["budgets"]):
        st = [int(v) for v in plan["starts"][b, 0] if v >= 0]
        sizes = [(st[i + 1] if i + 1 < len(st) else D) - st[i] for i in range(len(st))]
        # the last step drawn to D: (start, size) pairs plus the end point
        out.append((int(budget), np.array(st + [D]), np.array(sizes + sizes[-1:])))
    return out


def planning(r, plan, unit, history):
    """Optimal cost against budget with the naive plans, chosen plans' step sizes, and the plan's
    expected cost at each training checkpoint (history: list of (step, budgets, expected))."""
    parts = []
    fig, ax = r.plt.subplots(figsize=(7.5, 4.2))
    n = np.arange(1, len(plan["curve_bpd"]) + 1)
    ax.plot(n, plan["curve_bpd"], color="#08519c", lw=1.8, label="optimal plan (cost curve)")
    ax.plot(plan["budgets"], plan["expected_bpd"], "o", color="#08519c", label="chosen budgets")
    if np.any(np.isfinite(plan["naive_bpd"])):
        ax.plot(plan["budgets"], plan["naive_bpd"], "x--", color="#d94801", ms=9, label="evenly spaced plan")
    if math.isfinite(plan["full_bpd"]):
        ax.axhline(plan["full_bpd"], color="grey", ls=":", label=f"all D steps ({plan['full_bpd']:.3f})")
    ax.set_xscale("log")
    ax.set(xlabel="network calls per stage (budget)", ylabel=f"expected cost [{unit}]",
           title="planning: cost against budget")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    parts.append(r.save(fig, "plan_curve.png", "planning", "The optimal cost for every budget (dynamic "
                        "programming over the loss components) and, at the chosen budgets, evenly spaced "
                        "plans with the same number of network calls."))
    fig, ax = r.plt.subplots(figsize=(7.5, 4.2))
    for budget, st, sizes in plan_steps(plan):
        ax.step(st, sizes, where="post", lw=1.5, label=f"budget {budget} ({len(sizes) - 1} steps)")
    ax.set_yscale("log")
    ax.set(xlabel="t at the start of the step (dims known)", ylabel="dims generated in the step",
           title="chosen plans' step sizes (stage 0)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    parts.append(r.save(fig, "plan_steps.png", "planning", "Step sizes of each chosen plan: large steps "
                        "where the loss changes little with t."))
    if len(history) >= 1:
        fig, ax = r.plt.subplots(figsize=(7.5, 4.2))
        budgets = sorted({int(b) for _, bs, _ in history for b in bs})
        for budget in budgets:
            xs = [s for s, bs, e in history if budget in list(bs)]
            ys = [e[list(bs).index(budget)] for s, bs, e in history if budget in list(bs)]
            ax.plot(xs, ys, "o-", label=f"budget {budget}")
        ax.set(xlabel="optimizer step of the checkpoint", ylabel=f"expected cost [{unit}]",
               title="the training job's plans during training")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        parts.append(r.save(fig, "plan_history.png", "planning", "Expected cost of the plans the training "
                            "job wrote at each checkpoint (train -plan_budgets, plan-&lt;step&gt;.nc)."))
    return "".join(parts)


def evaluation(r, full, budgets, baselines, unit):
    """Held-out bits/dim with error bars: the full ELBO, the parallel bound per budget next to the
    planner's expectation, and codec baselines (name, bits) as horizontal lines."""
    fig, ax = r.plt.subplots(figsize=(7.5, 4.2))
    if budgets:
        b = np.array([x[0] for x in budgets], dtype=float)
        ax.errorbar(b, [x[1] for x in budgets], yerr=[2 * x[2] for x in budgets], fmt="o-", capsize=4,
                    color="#08519c", label="parallel bound (eval -plan), +-2 s.e.")
        ax.plot(b, [x[3] for x in budgets], "s--", color="#6baed6", label="planner's expectation")
        ax.set_xscale("log")
    if full is not None:
        ax.axhline(full[0], color="#d94801", lw=1.5, label=f"full ELBO, all D steps ({full[0]:.3f})")
        ax.axhspan(full[0] - 2 * full[1], full[0] + 2 * full[1], color="#d94801", alpha=0.15, lw=0)
    ls = [":", "-.", "--"]
    for i, (name, bits) in enumerate(baselines):
        ax.axhline(bits, color="#636363", ls=ls[i % 3], label=f"{name} ({bits:.3f})")
    ax.set(xlabel="network calls per stage (budget)", ylabel=f"held-out negative log-likelihood [{unit}]",
           title="evaluation")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return r.save(fig, "eval.png", "evaluation", "Held-out bits/dim: the ELBO with all D steps, the parallel "
                  "bound of each plan (error bars: two standard errors across examples), the planner's "
                  "expectation, and general-purpose codecs on the same examples.")


def write_wav(path, pcm, rate):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(np.asarray(pcm, dtype="<i2").tobytes())


def audio_samples(r, x, rate, limit):
    """Waveform and spectrogram per sample with an <audio> player for its WAV."""
    parts = []
    for i in range(min(limit, x.shape[0])):
        pcm = x[i].astype(np.int32) - 32768
        wav = f"sample_{i}.wav"
        write_wav(os.path.join(r.out, wav), pcm, rate)
        r.audio.append(wav)
        fig, axes = r.plt.subplots(2, 1, figsize=(8, 4.2))
        t = np.arange(len(pcm)) / rate
        axes[0].plot(t, pcm / 32768.0, lw=0.5, color="#08519c")
        axes[0].set(xlabel="time [s]", ylabel="amplitude", title=f"sample {i}: waveform", xlim=(0, t[-1]),
                    ylim=(-1, 1))
        nfft = 256 if len(pcm) >= 1024 else 64
        _, _, _, im = axes[1].specgram(pcm / 32768.0 + 1e-9, NFFT=nfft, Fs=rate, noverlap=nfft // 2, cmap="magma")
        axes[1].set(xlabel="time [s]", ylabel="frequency [Hz]", title="spectrogram")
        cb = fig.colorbar(im, ax=axes[1])
        cb.set_label("power [dB]")
        fig.tight_layout()
        img = r.save(fig, f"sample_{i}.png", "samples", "", tight=False)
        parts.append(f'<div class="sample">{img}<audio controls preload="auto" src="{wav}"></audio></div>')
    return "".join(parts)


def image_grid(r, x, h, w, c, limit):
    """Samples as a grid of images (channel-planar [c][h][w] per example)."""
    n = min(limit, x.shape[0])
    cols = min(n, 8)
    rows = (n + cols - 1) // cols
    fig, axes = r.plt.subplots(rows, cols, figsize=(1.6 * cols, 1.6 * rows + 0.4), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k < n:
            im = x[k].reshape(c, h, w).transpose(1, 2, 0)
            ax.imshow(im[:, :, 0] if c == 1 else im, cmap="gray" if c == 1 else None, vmin=0, vmax=255)
            ax.set(xlabel=f"sample {k}", ylabel="pixels")
        else:
            ax.axis("off")
    fig.suptitle("samples")
    return r.save(fig, "samples_grid.png", "samples", "Samples as images.")


def sequence_samples(r, x, K, limit):
    """Discrete sequences without a modality: one row per sample, colour = value."""
    n = min(limit, x.shape[0])
    fig, ax = r.plt.subplots(figsize=(10, 0.4 * n + 1.2))
    im = ax.imshow(x[:n], aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=K - 1)
    ax.set(xlabel="dim", ylabel="sample", title="samples (colour: value)")
    cb = fig.colorbar(im, ax=ax)
    cb.set_label("value")
    return r.save(fig, "samples_seq.png", "samples", "Samples, one row each.")


def text_samples(x, alphabet, limit):
    lines = ["".join(alphabet[v] if v < len(alphabet) else "?" for v in row) for row in x[:limit]]
    return "<pre class=\"text\">" + "\n".join(html.escape(s) for s in lines) + "</pre>"


def scaling(r, recs):
    """Throughput and parallel efficiency against ranks, with a fitted communication model
    t(P) = c / P + a (P - 1) + b (P - 1) / P per step (compute + ring latency + ring bandwidth
    terms, doc/design.md) projected to 4 times the largest measured rank count (strong mode,
    three or more rank counts)."""
    fig, (ax1, ax2) = r.plt.subplots(1, 2, figsize=(11, 4))
    notes = []
    for mode in sorted({x["mode"] for x in recs}):
        g = sorted((x for x in recs if x["mode"] == mode), key=lambda x: x["ranks"])
        P = np.array([x["ranks"] for x in g], dtype=float)
        X = np.array([x["examples_per_s"] for x in g], dtype=float)
        E = X / X[0] * P[0] / P
        ax1.plot(P, X, "o-", label=f"{mode} (measured)")
        ax1.plot(P, X[0] * P / P[0], ":", color="grey")
        ax2.plot(P, E, "o-", label=f"{mode} (measured)")
        if mode == "strong" and len(P) >= 3:
            batch = g[0]["batch"]
            tstep = batch / X
            A = np.stack([1 / P, P - 1, (P - 1) / P], axis=1)
            coef, *_ = np.linalg.lstsq(A, tstep, rcond=None)
            coef = np.maximum(coef, 0)
            Pp = np.unique(np.round(np.geomspace(P[0], 4 * P[-1], 24)))
            tp = coef[0] / Pp + coef[1] * (Pp - 1) + coef[2] * (Pp - 1) / Pp
            Xp = batch / tp
            ax1.plot(Pp, Xp, "--", color="#d94801", label="communication model")
            ax2.plot(Pp, Xp / (batch / (coef[0] / P[0] + coef[1] * (P[0] - 1) + coef[2] * (P[0] - 1) / P[0])) * P[0] / Pp,
                     "--", color="#d94801", label="communication model")
            notes.append(f"strong-scaling model fit: compute {coef[0]:.4g} s/step on one rank, latency "
                         f"{coef[1]:.3g} s per extra rank, bandwidth term {coef[2]:.3g} s")
    ax1.set(xscale="log", yscale="log", xlabel="MPI ranks", ylabel="examples / s", title="throughput (dotted: ideal)")
    ax2.set(xscale="log", xlabel="MPI ranks", ylabel="parallel efficiency", title="efficiency", ylim=(0, 1.15))
    ax2.axhline(1.0, color="grey", ls=":")
    for ax in (ax1, ax2):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
    html_fig = r.save(fig, "scaling.png", "scaling", "Throughput and parallel efficiency against MPI ranks "
                      "(jobs/scaling.sbatch, merged as jobs/scaling_merge.py does), with a latency-bandwidth "
                      "model of the step fitted to the strong-scaling points and projected beyond them.")
    return html_fig + "".join(f"<p>{html.escape(n)}</p>" for n in notes)
