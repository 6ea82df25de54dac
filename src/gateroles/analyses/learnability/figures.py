"""Figure of C6's learnability: the share of seeds that learned each hold, per architecture."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from gateroles import plots
from gateroles.analyses.learnability import Settings
from gateroles.architectures import ARCHITECTURES

ARCH_COLOURS = dict(zip(ARCHITECTURES, sns.color_palette("colorblind", len(ARCHITECTURES)),
                        strict=True))
INIT_STYLES = {"default": "-", "forget_bias_1": "--", "chrono": ":"}


def learnability(holds: pd.DataFrame) -> plt.Figure:
    """One panel per task: share of seeds that learned each hold (log x) per architecture x
    init; a seed whose sweep stopped at a shorter hold counts as not learning it."""
    if holds.empty:
        return plots.no_data("no learnability sweep in this configuration")
    tasks = list(dict.fromkeys(holds["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 3.8), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        part = holds[holds["task"] == task]
        arms = list(part.groupby(["arch", "init"], sort=False))
        for k, ((arch, init), arm) in enumerate(arms):
            arm = arm.sort_values("hold")
            label = arch if init == "default" else f"{arch} ({init})"
            # markers shrink arm by arm, so arms that coincide stay visible
            ax.plot(arm["hold"], arm["n_learned"] / arm["n_seeds"], marker="o",
                    markersize=4 + 2 * (len(arms) - k), alpha=0.8,
                    color=ARCH_COLOURS.get(arch, "black"), ls=INIT_STYLES.get(init, "-."),
                    label=label)
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(sorted(part["hold"].unique()))
        ax.set_xticklabels([str(h) for h in sorted(part["hold"].unique())])
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel("hold (steps)")
        ax.set_ylabel("share of seeds that learned it")
        ax.set_title(task)
    axes[0][-1].legend(fontsize="small", loc="lower left")
    fig.tight_layout()
    return fig


FIGURES = {"c6_learnability": lambda tables, settings: learnability(tables["holds"])}
__all__ = ["FIGURES", "Settings"]
