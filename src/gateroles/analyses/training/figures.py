"""Figure of the tasks-and-training section: every seed's training curve."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


def training_curves(training: pd.DataFrame, runs: pd.DataFrame) -> plt.Figure:
    """Validation score against step, every seed; rows = task, columns = architecture."""
    tasks = list(dict.fromkeys(runs["task"]))
    archs = list(dict.fromkeys(runs["arch"]))
    fig, axes = plt.subplots(len(tasks), len(archs), figsize=(5.2 * len(archs), 3.6 * len(tasks)),
                             squeeze=False, sharex=True)
    inits = list(dict.fromkeys(runs["init"]))
    palette = dict(zip(inits, sns.color_palette("dark", len(inits)), strict=True))
    for r, task in enumerate(tasks):
        info = runs[runs["task"] == task].iloc[0]
        for c, arch in enumerate(archs):
            ax = axes[r, c]
            sub = training[(training["task"] == task) & (training["arch"] == arch)]
            for (init, seed), curve in sub.groupby(["init", "seed"]):
                solved = bool(curve["solved"].iloc[0])
                ax.plot(curve["step"], curve["val_score"], color=palette[init], lw=1.2,
                        ls="-" if solved else ":", alpha=0.85,
                        label=f"{init}" if seed == sub["seed"].min() else None)
            ax.axhline(info["threshold"], color="black", lw=0.8, ls="--")
            ax.axhline(info["chance"], color="grey", lw=0.8, ls=":")
            if info["metric"] == "mse":
                ax.set_yscale("log")
            ax.set_title(f"{task} / {arch.upper()}")
            ax.set_ylabel(f"validation {'accuracy' if info['metric'] == 'accuracy' else 'MSE'}")
            if r == len(tasks) - 1:
                ax.set_xlabel("training step")
    axes[0, -1].legend(title="init (dotted: unsolved)", fontsize=9, loc="best")
    fig.suptitle("Training curves of every seed (dashed: solved threshold; dotted grey: chance)",
                 y=1.0)
    fig.tight_layout()
    return fig



# Figure name -> function(tables, settings); tables are named as in the rules file.
FIGURES = {"training_curves": lambda tables, settings: training_curves(tables["training"],
                                                                       tables["runs"])}
