"""Figures of claim C4: the variants behaviour by behaviour and overall, the same blocks in two
positions, rewiring."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gateroles import plots, stats
from gateroles.analyses.wiring.aggregate import (
    DISSOCIATIONS,
    FINAL,
    OVER_TRAINING,
    SWAP,
    behaviour_phases,
    normalised,
)
from gateroles.analyses.wiring.measure import EFFECT, FROZEN, SCRATCH, TUNED

# The runs of the variants figure, in order, with their labels.
RUN_LABELS = {("lstm", "default"): "LSTM", ("lstm_cifg", "default"): "coupled f = 1 - i",
              ("lstm_nfg", "default"): "no forget gate", ("lstm_nig", "default"): "no input gate",
              ("lstm_nog", "default"): "no output gate", ("rnn", "default"): "tanh RNN",
              ("lstm", "forget_bias_1"): "LSTM, forget bias 1", ("gru", "default"): "GRU",
              ("lstm", SWAP): "LSTM, f/i swapped init"}
BLOCK_STYLE = {"f0": {"color": "#d95f02", "ls": "-", "marker": "o"},
               "i0": {"color": "#1b9e77", "ls": "--", "marker": "s"}}
BLOCK_LABEL = {"f0": "block f0 (default run's initial forget rows)",
               "i0": "block i0 (default run's initial input rows)"}


def _tasks(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["task"]))


def variants(scores: pd.DataFrame) -> plt.Figure:
    """Per task: each run's normalised test score (top) and steps to solve (bottom), one point
    per seed (hollow: not solved), the mean as a bar."""
    if scores.empty:
        return plots.no_data("No C4 runs: no variants to show.")
    tasks = _tasks(scores)
    fig, axes = plt.subplots(2, len(tasks), figsize=(4.8 * len(tasks), 7.5), squeeze=False)
    rng = np.random.default_rng(0)
    for c, task in enumerate(tasks):
        here = scores[scores["task"] == task]
        keys = [k for k in RUN_LABELS if not plots.select(
            here, {"arch": k[0], "init": k[1]}).empty]
        top, bottom = axes[0, c], axes[1, c]
        budget = float(here["steps"].max())
        for x, (arch, init) in enumerate(keys):
            g = plots.select(here, {"arch": arch, "init": init})
            jitter = rng.uniform(-0.15, 0.15, len(g))
            solved = g["solved"].astype(bool).to_numpy()
            colour = "black" if arch == "lstm" and init == "default" else "#4c72b0"
            y = g["normalised"].to_numpy(dtype=float)
            top.scatter(x + jitter[solved], y[solved], color=colour, s=22, zorder=3)
            top.scatter(x + jitter[~solved], y[~solved], facecolor="none", edgecolor=colour,
                        s=22, zorder=3)
            top.plot([x - 0.3, x + 0.3], [np.mean(y)] * 2, color=colour, lw=2.2)
            steps = g["steps_to_solve"].to_numpy(dtype=float)
            never = ~np.isfinite(steps)
            bottom.scatter(x + jitter[~never], steps[~never], color=colour, s=22, zorder=3)
            bottom.scatter(x + jitter[never], np.full(never.sum(), budget * 1.08), marker="x",
                           color="#b42318", s=26, zorder=3)
        threshold = float(np.mean(normalised(here["threshold"], here["metric"],
                                             here["chance"])))
        top.axhline(threshold, color="grey", ls=":", lw=1)
        top.axhline(0, color="grey", lw=0.8)
        top.text(len(keys) - 0.5, threshold, "solved", ha="right", va="bottom", fontsize=8,
                 color="grey")
        bottom.axhline(budget * 1.08, color="#b42318", lw=0.6, ls=":")
        bottom.text(-0.4, budget * 1.1, "x = never (within the budget)", fontsize=8,
                    color="#b42318", va="bottom")
        for ax in (top, bottom):
            ax.set_xticks(range(len(keys)), [RUN_LABELS[k] for k in keys], fontsize=8,
                          rotation=45, ha="right")
            ax.set_xlim(-0.6, len(keys) - 0.4)
        top.set_title(task, fontsize=11)
        # Zoomed to the scores and the threshold (0 = chance shows only when a run is near it):
        # on tasks every run solves, a 0-1 axis would leave the points in one flat line.
        low = min(threshold, float(np.nanmin(here["normalised"])))
        span = max(1.0 - low, 0.02)
        top.set_ylim(low - 0.25 * span, 1.0 + 0.12 * span)
        bottom.set_ylim(0, budget * 1.25)
    axes[0, 0].set_ylabel("normalised test score\n(1 perfect, 0 chance)")
    axes[1, 0].set_ylabel("steps to solve (validation)")
    fig.suptitle("Every C4 run overall (descriptive): every seed against the full LSTM "
                 "(hollow: not solved; bar: mean)", y=1.0)
    fig.tight_layout()
    return fig


VARIANT_COLOURS = {"lstm_nfg": plots.GATE_COLOURS["forget"],
                   "lstm_nig": plots.GATE_COLOURS["input"],
                   "lstm_nog": plots.GATE_COLOURS["output"], "lstm_cifg": "#a6761d",
                   "rnn": "#666666", "lstm": "black"}


def _mean_ci(values) -> tuple[float, float, float]:
    return stats.mean_ci(np.asarray(values, dtype=float))


def behaviours(table: pd.DataFrame, writing: pd.DataFrame) -> plt.Figure:
    """Per task: each variant's drop on each behaviour over training (the LSTM's normalised
    score minus the variant's, mean over the checkpoints after step 0; bars: mean and
    t-interval over the seeds whose LSTM solved) and at the last checkpoint (a diamond), the
    behaviours each dissociation compares marked; below, every model's write selectivity
    (trained, and at step 0 in grey)."""
    phases = behaviour_phases(table) if len(table) else table
    data = phases[phases["ref_solved"].astype(bool) & (phases["arch"] != "lstm")] \
        if len(phases) else phases
    if data.empty:
        return plots.no_data("No variant whose LSTM solved the task: no behaviour to compare.")
    tasks = _tasks(data)
    fig, axes = plt.subplots(2, len(tasks), figsize=(max(5.2 * len(tasks), 9), 8.5),
                             squeeze=False)
    for c, task in enumerate(tasks):
        ax = axes[0, c]
        here = data[data["task"] == task]
        names = list(dict.fromkeys(here["behaviour"]))
        archs = [a for a in VARIANT_COLOURS if a in set(here["arch"])]
        width = 0.8 / max(len(archs), 1)
        for k, arch in enumerate(archs):
            for x, behaviour in enumerate(names):
                part = here[(here["arch"] == arch) & (here["behaviour"] == behaviour)]
                mean, lo, hi = _mean_ci(part.loc[part["phase"] == OVER_TRAINING, "drop"])
                xpos = x - 0.4 + width * (k + 0.5)
                ax.bar(xpos, mean, width * 0.9, color=VARIANT_COLOURS[arch],
                       label=arch if x == 0 else None)
                if np.isfinite(lo) and np.isfinite(hi):
                    ax.plot([xpos, xpos], [lo, hi], color="black", lw=0.9)
                end = part.loc[part["phase"] == FINAL, "drop"]
                if len(end):
                    ax.scatter([xpos], [end.mean()], marker="D", s=14, color="black",
                               zorder=4, label="at the last checkpoint" if x == k == 0
                               else None)
        for arch, d in DISSOCIATIONS.items():
            served, other = d.sets.get(task, ((), ()))
            for x, behaviour in enumerate(names):
                mark = "served" if behaviour in served else "other" if behaviour in other else ""
                if mark and arch in archs:
                    k = archs.index(arch)
                    ax.text(x - 0.4 + width * (k + 0.5), 1.02, "S" if mark == "served" else "o",
                            transform=ax.get_xaxis_transform(), ha="center", fontsize=8,
                            color=VARIANT_COLOURS[arch])
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xticks(range(len(names)), [n.replace("_", " ") for n in names], rotation=30,
                      ha="right", fontsize=8)
        ax.set_title(f"{task}\n", fontsize=11)
        ax = axes[1, c]
        w = writing[writing["task"] == task] if len(writing) else writing
        w = w[w["ref_solved"].astype(bool)] if len(w) else w
        models = [a for a in ("lstm", *VARIANT_COLOURS) if len(w) and a in set(w["arch"])]
        models = list(dict.fromkeys(models))  # the LSTM first
        for x, arch in enumerate(models):
            for phase, colour, dx in (("initial", "#bbbbbb", -0.15),
                                      ("trained", VARIANT_COLOURS[arch], 0.15)):
                values = w[(w["arch"] == arch) & (w["phase"] == phase)]["selectivity"]
                ax.scatter(np.full(len(values), x + dx), values, color=colour, s=14, zorder=3)
                mean, lo, hi = _mean_ci(values)
                ax.plot([x + dx - 0.1, x + dx + 0.1], [mean, mean], color=colour, lw=2)
        ax.axhline(0.5, color="grey", ls=":", lw=1)
        ax.set_xticks(range(len(models)), models, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        if not models:
            ax.text(0.5, 0.5, f"no STORE event in {task}", ha="center", va="center",
                    transform=ax.transAxes, color="grey")
    axes[0, 0].set_ylabel("drop in normalised score over training\n(LSTM minus variant)")
    axes[1, 0].set_ylabel("write selectivity at STOREs\n(0.5 = none; grey: step 0)")
    plots.legend_right(axes[0, 0], axes[0, -1])
    fig.suptitle("Which behaviours each variant loses (top; S / o above a bar: the behaviours "
                 "its dissociation counts as served / compared)\nand how selectively each "
                 "model writes (bottom)", y=1.02)
    fig.tight_layout()
    return fig


def _effect_panel(ax, part: pd.DataFrame, event: str, role: str) -> None:
    """One block per line from its value in the forget position to the input position."""
    for phase, alpha, lw in (("initial", 0.35, 0.8), ("trained", 1.0, 1.4)):
        p = part[part["phase"] == phase]
        wide = p.pivot_table(index="seed", columns=["block", "position"], values="value")
        for block, style in BLOCK_STYLE.items():
            if (block, "forget") not in wide or (block, "input") not in wide:
                continue
            for _, row in wide.iterrows():
                ys = [row[(block, "forget")], row[(block, "input")]]
                if phase == "initial":
                    ax.plot([0, 1], ys, color="grey", lw=lw, alpha=alpha, ls=style["ls"])
                else:
                    ax.plot([0, 1], ys, color=style["color"], lw=lw, ls=style["ls"],
                            marker=style["marker"], ms=4, alpha=0.85)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks([0, 1], ["forget\nposition", "input\nposition"])
    ax.set_xlim(-0.3, 1.3)
    verb = "lower" if role == "forget" else "higher"
    ax.set_title(f"mean gate activation at {event}s minus elsewhere (C2)\n"
                 f"predicted: {verb} in the {role} position,\nfor both blocks", fontsize=9.5)


def two_positions(positions: pd.DataFrame) -> plt.Figure:
    """Per task: each block's event effects in the forget and in the input position (the two
    runs of a seed)."""
    data = positions[positions["solved"].astype(bool)] if len(positions) else positions
    if data.empty:
        return plots.no_data("No seed whose default and swapped-init LSTMs both solved the "
                             "task: nothing to compare.")
    tasks = _tasks(data)
    panels = [("reset", "forget"), ("store", "input")]
    fig, axes = plt.subplots(len(tasks), len(panels), figsize=(9, 3.6 * len(tasks)),
                             squeeze=False)
    for r, task in enumerate(tasks):
        for c, (event, role) in enumerate(panels):
            ax = axes[r, c]
            part = data[(data["task"] == task) & (data["measure"] == EFFECT)
                        & (data["event"] == event)]
            if part.empty:
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"no {event} events in {task}", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
                continue
            _effect_panel(ax, part, event, role)
        axes[r, 0].set_ylabel(f"{task}\n(per seed)")
    handles = [plt.Line2D([], [], **BLOCK_STYLE[b], label=BLOCK_LABEL[b]) for b in BLOCK_STYLE]
    handles.append(plt.Line2D([], [], color="grey", alpha=0.5, label="the same at step 0"))
    fig.legend(handles=handles, loc="upper center", ncol=1, bbox_to_anchor=(0.5, 1.0),
               frameon=False, fontsize=9)
    fig.suptitle("The same initial weights in two positions (a symmetry demonstration): block "
                 "f0 starts as the forget rows of the default run\nand as the input rows of the "
                 "swap run (i0 the other way round); trained on the same batches", y=1.08)
    fig.tight_layout()
    return fig


def _mean_line(ax, frame: pd.DataFrame, y: str, colour: str, label: str, lw: float = 2.2):
    band = plots.mean_band(frame, "step", y)
    if len(band):
        ax.plot(band["step"], band["mean"], color=colour, lw=lw, label=label)


KIND_COLOURS = {TUNED: "#7570b3", FROZEN: "#e6ab02", SCRATCH: "grey"}
KIND_LABELS = {TUNED: "fine-tuned after the swap", FROZEN: "the same, moved blocks frozen",
               SCRATCH: "the same seed from step 0"}


def rewire(table: pd.DataFrame, curves: pd.DataFrame) -> plt.Figure:
    """Per task: validation score while fine-tuning after the swap (and with the moved
    blocks frozen) against training from step 0; the distance of the swapped positions'
    statistics from the original model's, relative to the distance right after the swap."""
    data = table[table["solved"].astype(bool)] if len(table) else table
    if data.empty:
        return plots.no_data("No rewired model (none of the original LSTMs solved its task, or "
                             "rewiring is off).")
    tasks = _tasks(data)
    fig, axes = plt.subplots(len(tasks), 3, figsize=(15, 3.6 * len(tasks)), squeeze=False)
    for r, task in enumerate(tasks):
        ax = axes[r, 0]
        c = curves[(curves["task"] == task) & curves["solved"].astype(bool)]
        end = float(data.loc[data["task"] == task, "final_step"].max())
        c = c[c["step"] <= end]
        for kind, colour in KIND_COLOURS.items():
            part = c[c["kind"] == kind]
            for _, seed in part.groupby("seed"):
                ax.plot(seed["step"], seed["val_score"], color=colour, lw=0.6, alpha=0.5)
            _mean_line(ax, part, "val_score", colour, KIND_LABELS[kind])
        plots.step_axis(ax, end)
        ax.set_ylabel(f"{task}\nvalidation score")
        ax.set_title(f"the first {int(end)} steps", fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
        for k, position in enumerate(("forget", "input"), start=1):
            ax = axes[r, k]
            q = data[(data["task"] == task)
                     & (data["quantity"] == f"remaining distance, {position} position")]
            for run, colour in ((TUNED, KIND_COLOURS[TUNED]), (FROZEN, KIND_COLOURS[FROZEN])):
                part = q[q["run"] == run]
                for _, seed in part.groupby("seed"):
                    ax.plot(seed["step"], seed["value"], color=colour, lw=0.6, alpha=0.5,
                            marker="o" if run == FROZEN else None, ms=3)
                if run == TUNED:
                    _mean_line(ax, part, "value", colour, KIND_LABELS[run])
                else:
                    ax.scatter(part["step"], part["value"], color=colour, s=18, zorder=3,
                               label=KIND_LABELS[run])
            ax.axhline(0, color="black", lw=0.5)
            plots.step_axis(ax, end)
            ax.set_title(f"{position} position: distance from the original model's\n"
                         f"statistics there, over the same right after the swap", fontsize=9.5)
            ax.legend(fontsize=7, loc="best")
        axes[-1, 0].set_xlabel("step")
        for k in (1, 2):
            axes[-1, k].set_xlabel("fine-tuning step (0 = right after the swap)")
    fig.suptitle("Rewire and retrain: trained forget and input blocks swapped, then "
                 "fine-tuned on the same batches (thin: seeds; thick: mean)", y=1.0)
    fig.tight_layout()
    return fig


FIGURES = {
    "c4_variants": lambda tables, settings: variants(tables["scores"]),
    "c4_behaviours": lambda tables, settings: behaviours(tables["behaviours"],
                                                         tables["writing"]),
    "c4_two_positions": lambda tables, settings: two_positions(tables["positions"]),
    "c4_rewire": lambda tables, settings: rewire(tables["rewire"], tables["curves"]),
}
