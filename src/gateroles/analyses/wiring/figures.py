"""Figures of claim C4: the variants' scores, the same blocks in two positions, rewiring."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gateroles import plots
from gateroles.analyses.wiring.aggregate import ATTRIBUTION, EFFECT, SWAP, normalised

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
    fig.suptitle("Which ability each variant loses: every seed against the full LSTM "
                 "(hollow: not solved; bar: mean)", y=1.0)
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


def _attribution_panel(ax, part: pd.DataFrame, event: str, position: str) -> None:
    """The concentration at its event of the term owned by `position` (C1's attribution
    measure), in each run (i.e. each block in
    that position): step 0 (grey) -> trained (colour), one line per seed."""
    runs = [("default", "default run"), (SWAP, "swap run")]
    for x, (init, _) in enumerate(runs):
        p = part[(part["init"] == init) & (part["position"] == position)]
        if p.empty:
            continue
        block = p["block"].iloc[0]
        wide = p.pivot_table(index="seed", columns="phase", values="value")
        for _, row in wide.iterrows():
            ax.plot([x - 0.15, x + 0.15], [row.get("initial", np.nan), row.get("trained", np.nan)],
                    color=BLOCK_STYLE[block]["color"], lw=0.9, ls=BLOCK_STYLE[block]["ls"],
                    alpha=0.8)
            ax.scatter([x - 0.15], [row.get("initial", np.nan)], color="grey", s=12, zorder=3)
            ax.scatter([x + 0.15], [row.get("trained", np.nan)], s=16, zorder=3,
                       color=BLOCK_STYLE[block]["color"], marker=BLOCK_STYLE[block]["marker"])
    ax.axhline(0, color="black", lw=0.6)
    labels = []
    for init, name in runs:
        block = "f0" if (init == "default") == (position == "forget") else "i0"
        labels.append(f"{name}\n(block {block})")
    ax.set_xticks([0, 1], labels)
    ax.set_xlim(-0.5, 1.5)
    term = "erasing (forget)" if position == "forget" else "writing (input)"
    ax.set_title(f"{term} term: log(mean size at {event}s\n/ mean size elsewhere) (C1)\n"
                 f"predicted: above step 0 (grey), in both runs", fontsize=9.5)


def two_positions(positions: pd.DataFrame) -> plt.Figure:
    """Per task: each block's event effects in the forget and in the input position (the two
    runs of a seed), and where the erasing / writing terms concentrate in both runs."""
    data = positions[positions["solved"].astype(bool)] if len(positions) else positions
    if data.empty:
        return plots.no_data("No seed whose default and swapped-init LSTMs both solved the "
                             "task: nothing to compare.")
    tasks = _tasks(data)
    panels = [(EFFECT, "reset", "forget"), (EFFECT, "store", "input"),
              (ATTRIBUTION, "reset", "forget"), (ATTRIBUTION, "store", "input")]
    fig, axes = plt.subplots(len(tasks), len(panels), figsize=(16, 3.6 * len(tasks)),
                             squeeze=False)
    for r, task in enumerate(tasks):
        for c, (measure, event, role) in enumerate(panels):
            ax = axes[r, c]
            part = data[(data["task"] == task) & (data["measure"] == measure)
                        & (data["event"] == event)]
            if part.empty:
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"no {event} events in {task}", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
                continue
            if measure == EFFECT:
                _effect_panel(ax, part, event, role)
            else:
                _attribution_panel(ax, part, event, role)
        axes[r, 0].set_ylabel(f"{task}\n(per seed)")
    handles = [plt.Line2D([], [], **BLOCK_STYLE[b], label=BLOCK_LABEL[b]) for b in BLOCK_STYLE]
    handles.append(plt.Line2D([], [], color="grey", alpha=0.5, label="the same at step 0"))
    fig.legend(handles=handles, loc="upper center", ncol=3, bbox_to_anchor=(0.5, 1.0),
               frameon=False, fontsize=9)
    fig.suptitle("The same initial weights in two positions: block f0 starts as the forget "
                 "rows of the default run and as the input rows of the swap run (i0 the other "
                 "way round); trained on the same batches", y=1.04)
    fig.tight_layout()
    return fig


def _mean_line(ax, frame: pd.DataFrame, y: str, colour: str, label: str, lw: float = 2.2):
    band = plots.mean_band(frame, "step", y)
    if len(band):
        ax.plot(band["step"], band["mean"], color=colour, lw=lw, label=label)


def rewire(table: pd.DataFrame, curves: pd.DataFrame) -> plt.Figure:
    """Per task: validation score during fine-tuning after the swap vs training from step 0,
    and the event effects of the two swapped positions over fine-tuning."""
    data = table[table["solved"].astype(bool)] if len(table) else table
    if data.empty:
        return plots.no_data("No rewired model (none of the original LSTMs solved its task, or "
                             "rewiring is off).")
    tasks = _tasks(data)
    fig, axes = plt.subplots(len(tasks), 3, figsize=(15, 3.6 * len(tasks)), squeeze=False)
    colours = {"after the swap": "#7570b3", "from step 0": "grey"}
    quantities = [("forget position at resets", "forget"), ("input position at stores", "input")]
    for r, task in enumerate(tasks):
        ax = axes[r, 0]
        c = curves[(curves["task"] == task) & curves["solved"].astype(bool)]
        for kind, colour in colours.items():
            part = c[c["kind"] == kind]
            for _, seed in part.groupby("seed"):
                ax.plot(seed["step"], seed["val_score"], color=colour, lw=0.6, alpha=0.5)
            _mean_line(ax, part, "val_score", colour, kind)
        max_step = float(c["step"].max()) if len(c) else 25.0
        plots.step_axis(ax, max_step)
        ax.set_ylabel(f"{task}\nvalidation score")
        ax.set_title("fine-tuning after the f/i swap vs training from step 0", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        for k, (quantity, position) in enumerate(quantities, start=1):
            ax = axes[r, k]
            q = data[(data["task"] == task) & (data["quantity"] == quantity)]
            if q.empty:
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"no such event in {task}", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
                continue
            colour = plots.GATE_COLOURS[position]
            for _, seed in q.groupby("seed"):
                ax.plot(seed["step"], seed["value"], color=colour, lw=0.6, alpha=0.5)
            _mean_line(ax, q, "value", colour, f"gate in the {position} position")
            ax.axhline(q["target"].mean(), color=colour, ls="--", lw=1.2,
                       label=f"trained {position} gate before the swap")
            ax.axhline(q["source"].mean(), color="black", ls=":", lw=1.2,
                       label="the moved block before the swap")
            ax.axhline(0, color="black", lw=0.5)
            plots.step_axis(ax, float(q["step"].max()))
            ax.set_title(f"{quantity.replace(' at ', ': effect at ')} (C2)", fontsize=10)
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
    "c4_two_positions": lambda tables, settings: two_positions(tables["positions"]),
    "c4_rewire": lambda tables, settings: rewire(tables["rewire"], tables["curves"]),
}
