"""Figure of the tasks-and-training section: every seed's training curve."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from gateroles import plots
from gateroles.architectures import order

BASE = ("lstm", "gru")  # PyTorch's modules; every other architecture is a C4 variant
REFERENCE = ("lstm", "default")  # drawn in black wherever it appears


def _runs_of(runs: pd.DataFrame, variants: bool) -> list[tuple[str, str]]:
    """The (arch, init) runs of one panel, in architecture order, default init first: the
    LSTM and GRU (every init arm), or the variants with the default LSTM as their reference."""
    keys = set(zip(runs["arch"], runs["init"], strict=True))
    keep = {k for k in keys if (k[0] not in BASE) == variants}
    if variants and keep and REFERENCE in keys:
        keep.add(REFERENCE)
    rank = {a: i for i, a in enumerate(order({a for a, _ in keep}))}
    return sorted(keep, key=lambda k: (rank[k[0]], k[1] != "default", k[1]))


def _label(arch: str, init: str) -> str:
    return arch.upper() if init == "default" else f"{arch.upper()} ({init})"


def _colours(runs: pd.DataFrame) -> dict[tuple[str, str], tuple]:
    """One colour per (arch, init) run across the figure; the default LSTM in black."""
    keys = [k for k in _runs_of(runs, False) + _runs_of(runs, True) if k != REFERENCE]
    tab10 = sns.color_palette("tab10")
    distinct = [tab10[i] for i in (0, 1, 2, 3, 4, 9, 8, 7, 5, 6)]  # neighbours unlike
    return {REFERENCE: "black", **dict(zip(keys, itertools.cycle(distinct)))}


def _panel(ax, curves: pd.DataFrame, keys: list[tuple[str, str]], info: pd.Series,
           colours: dict) -> None:
    """Every seed of each run in `keys`: one colour per run, solid if solved, dotted if not."""
    for arch, init in keys:
        run = plots.select(curves, {"arch": arch, "init": init})
        for _, curve in run.groupby("seed"):
            ax.plot(curve["step"], curve["val_score"], color=colours[arch, init], lw=1.1,
                    alpha=0.85, ls="-" if bool(curve["solved"].iloc[0]) else ":")
    handles = [Line2D([], [], color=colours[k], lw=1.5, label=_label(*k)) for k in keys]
    ax.axhline(info["threshold"], color="black", lw=0.8, ls="--")
    ax.axhline(info["chance"], color="grey", lw=0.8, ls=":")
    mse = info["metric"] == "mse"
    if mse:
        ax.set_yscale("log")
    ax.set_ylabel(f"validation {'MSE' if mse else 'accuracy'}")
    ax.legend(handles=handles, fontsize=8, loc="upper right" if mse else "lower right",
              ncol=2 if len(keys) > 4 else 1)


def training_curves(training: pd.DataFrame, runs: pd.DataFrame) -> plt.Figure:
    """Validation score against step, every seed; a row per task (its own step axis: budgets
    differ by task), the LSTM and GRU on the left, the C4 variants (with the default LSTM as
    reference) on the right where the study has them."""
    tasks = list(dict.fromkeys(runs["task"]))
    with_variants = bool((~runs["arch"].isin(BASE)).any())
    n_cols = 2 if with_variants else 1
    colours = _colours(runs)
    fig, axes = plt.subplots(len(tasks), n_cols, figsize=(7.0 * n_cols, 2.9 * len(tasks)),
                             squeeze=False, sharex="row")
    for r, task in enumerate(tasks):
        info = runs[runs["task"] == task].iloc[0]
        curves = training[training["task"] == task]
        here = runs[runs["task"] == task]
        for c in range(n_cols):
            ax, keys = axes[r, c], _runs_of(here, variants=c == 1)
            if not keys:
                ax.text(0.5, 0.5, f"no variants trained on {task}", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
                ax.set_axis_off()
                continue
            _panel(ax, curves, keys, info, colours)
            ax.set_title(f"{task}: " + ("variants (C4), LSTM in black" if c else "LSTM and GRU"),
                         fontsize=11)
    for ax in axes[-1]:
        ax.set_xlabel("training step")
    fig.suptitle("Training curves of every seed (solid: solved, dotted: not solved; dashed: "
                 "solved threshold; dotted grey: chance)", y=1.0)
    fig.tight_layout()
    return fig


# Figure name -> function(tables, settings); tables are named as in the rules file.
FIGURES = {"training_curves": lambda tables, settings: training_curves(tables["training"],
                                                                       tables["runs"])}
