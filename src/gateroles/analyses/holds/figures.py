"""Figures of claim C8: where the memory lives and the keep gate's role at resets, against hold
length."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from gateroles import plots
from gateroles.analyses.holds.aggregate import CONTROL, ROLE_MEASURES, TESTED
from gateroles.architectures import ARCHITECTURES, order

ARCH_COLOURS = dict(zip(ARCHITECTURES, sns.color_palette("colorblind", len(ARCHITECTURES)),
                        strict=True))
PHASE_STYLE = {"trained": ("-", "o", 1.8), "initial": ("--", "s", 1.0)}
# The panels of the memory figure: (title, y label, [(measure, line style, what the style
# means)], phases drawn, bounds of the y axis or None: from the means).
MEMORY_PANELS = [
    ("keep gate saturated during holds", "share above the threshold",
     [("saturated", "-", "")], ("trained", "initial"), (-0.05, 1.05)),
    ("product of keep gates across a hold", "log10 product (trained)",
     [("log10_product_keep", "-", "no erase"), ("log10_product_erase", ":", "across an erase")],
     ("trained",), None),
    ("direct path's share at the store", "share (memory units)",
     [("direct_share", "-", "")], ("trained", "initial"), (-0.05, 1.05)),
    ("gradient kept from lag 1 to the store", "decades (trained)",
     [("kept_cell", "-", "dc"), ("kept_hidden", ":", "dh")], ("trained",), None),
]
ROLE_TITLES = {"erasure_share": "forget term's share of the\nextra erasure at resets",
               "context": "role gate's armed - unarmed\nRESET contrast (its direction)",
               "interchange": "role gate's interchange damage at\nresets minus the largest other's"}


def _hold_rows(by_hold: pd.DataFrame) -> pd.DataFrame:
    return by_hold[by_hold["hold"].notna()] if len(by_hold) else by_hold


def _line(ax, part: pd.DataFrame, colour, style: str, marker: str, width: float) -> list:
    """Mean against hold length with its t-interval as error bars; returns the means drawn."""
    part = part.sort_values("hold")
    ax.errorbar(part["hold"], part["mean"],
                yerr=[part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]],
                color=colour, ls=style, marker=marker, lw=width, ms=4, capsize=2, elinewidth=0.7)
    return list(part["mean"].dropna())


def _limits(ax, means: list, bounds: tuple | None) -> None:
    """The y axis: `bounds`, else the means with a margin (an interval over few seeds can be
    far wider than the means' spread; its ends then leave the panel)."""
    if bounds is not None:
        ax.set_ylim(*bounds)
    elif means:
        low, high = min(means), max(means)
        pad = max(0.15 * (high - low), 0.25)
        ax.set_ylim(low - pad, high + pad)


def _hold_axis(ax, holds) -> None:
    ax.set_xscale("log", base=2)
    ticks = sorted(set(holds))
    ax.set_xticks(ticks, [f"{h:g}" for h in ticks])
    ax.minorticks_off()


def _legend(fig, archs: list[str], extra: list[Line2D]) -> None:
    """One legend for the figure, right of it: a colour per architecture, then `extra`."""
    handles = [Line2D([], [], color=ARCH_COLOURS[a], lw=2, label=a) for a in archs]
    handles += [Line2D([], [], color="black", lw=1.8, marker="o", ms=4, label="trained"),
                Line2D([], [], color="black", lw=1.0, ls="--", marker="s", ms=4,
                       label="step 0"), *extra]
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9,
               frameon=False)


def _style_key(ax, lines: list[tuple[str, str, str]]) -> None:
    """An in-panel key of what each line style means (`lines`: (measure, style, meaning))."""
    handles = [Line2D([], [], color="dimgrey", ls=style, lw=1.6, label=meaning)
               for _, style, meaning in lines if meaning]
    if handles:
        ax.legend(handles=handles + ax.get_legend_handles_labels()[0], fontsize=7,
                  loc="best", frameon=False)


def memory_figure(by_hold: pd.DataFrame) -> plt.Figure:
    """One row per task with a hold, one column per measure of where the memory lives; one
    colour per architecture; x: the hold length (log scale)."""
    data = _hold_rows(by_hold)
    data = data[data["cells"] == TESTED] if len(data) else data
    if data.empty:
        return plots.no_data("No hold task (name@H) in this study: nothing to show against hold "
                             "length.")
    bases = sorted(data["base"].unique())
    fig, axes = plt.subplots(len(bases), len(MEMORY_PANELS),
                             figsize=(4.1 * len(MEMORY_PANELS), 3.3 * len(bases)),
                             squeeze=False)
    for r, base in enumerate(bases):
        here = data[data["base"] == base]
        for c, (title, ylabel, lines, phases, bounds) in enumerate(MEMORY_PANELS):
            ax = axes[r, c]
            means = []
            for arch in order(here["arch"].unique()):
                for measure, style, _ in lines:
                    for phase in phases:
                        part = here[(here["arch"] == arch) & (here["measure"] == measure)
                                    & (here["phase"] == phase)]
                        if part.empty:
                            continue
                        own, marker, width = PHASE_STYLE[phase]
                        means += _line(ax, part, ARCH_COLOURS[arch],
                                       style if len(lines) > 1 else own, marker, width)
            if c == 1:
                half = here[(here["measure"] == "log10_half") & (here["phase"] == "trained")]
                half = half.groupby("hold")["mean"].mean()
                if len(half):
                    ax.plot(half.index, half.to_numpy(), color="black", ls="--", lw=1,
                            label="constant 0.5")
                    means += list(half)
            if not means:
                ax.text(0.5, 0.5, "not measured", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
            _limits(ax, means, bounds)
            _style_key(ax, lines)
            _hold_axis(ax, here["hold"])
            ax.set_title(f"{base}: {title}", fontsize=9)
            ax.set_ylabel(ylabel, fontsize=8)
            if r == len(bases) - 1:
                ax.set_xlabel("hold H (steps)")
    _legend(fig, order(data["arch"].unique()), [])
    fig.suptitle("Where the memory lives, by hold length (keep gate: LSTM forget, GRU update z "
                 "in PyTorch's convention; memory-carrying units; mean and 95% t-interval over "
                 "solved seeds)", y=1.0, fontsize=10)
    fig.tight_layout()
    return fig


def roles_figure(by_hold: pd.DataFrame) -> plt.Figure:
    """One row per task with a hold, one column per role measure at resets; the tested
    architectures solid (trained) and dashed (step 0), their negative controls grey."""
    data = _hold_rows(by_hold)
    data = data[data["measure"].isin(ROLE_MEASURES)] if len(data) else data
    if data.empty:
        return plots.no_data("No hold task (name@H) with a role measure at resets in this "
                             "study.")
    bases = sorted(data["base"].unique())
    measures = [m for m in ROLE_MEASURES if (data["measure"] == m).any()]
    fig, axes = plt.subplots(len(bases), len(measures),
                             figsize=(4.2 * len(measures), 3.3 * len(bases)), squeeze=False)
    for r, base in enumerate(bases):
        here = data[data["base"] == base]
        for c, measure in enumerate(measures):
            ax = axes[r, c]
            part = here[here["measure"] == measure]
            means = []
            for (arch, cells), rows in part.groupby(["arch", "cells"], sort=False):
                control = cells == CONTROL
                for phase in ("trained", "initial"):
                    line = rows[rows["phase"] == phase]
                    if line.empty or (control and phase == "initial"):
                        continue
                    style, marker, width = PHASE_STYLE[phase]
                    means += _line(ax, line, ARCH_COLOURS[arch], ":" if control else style,
                                   marker, width)
            ax.set_title(f"{base}: {ROLE_TITLES[measure]}", fontsize=9)
            if not means:
                ax.set_axis_off()
                ax.text(0.5, 0.5, "not measured on this task", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
                continue
            reference = 0.5 if measure == "erasure_share" else 0.0
            ax.axhline(reference, color="black", lw=0.6)
            _limits(ax, means + [reference],
                    (-0.05, 1.05) if measure == "erasure_share" else None)
            _hold_axis(ax, here["hold"])
            if r == len(bases) - 1:
                ax.set_xlabel("hold H (steps)")
    archs = order(data["arch"].unique())
    _legend(fig, archs, [Line2D([], [], color="black", lw=1.8, ls=":", marker="o", ms=4,
                                label="negative control (gate held\nconstant), every seed")])
    fig.suptitle("The keep gate's role at resets against hold length (mean and 95% t-interval "
                 "over solved seeds)", y=1.0, fontsize=10)
    fig.tight_layout()
    return fig


# Figure name -> function(tables, settings); tables are named as in the rules file.
FIGURES = {
    "holds_memory": lambda tables, settings: memory_figure(tables["by_hold"]),
    "holds_roles": lambda tables, settings: roles_figure(tables["by_hold"]),
}
