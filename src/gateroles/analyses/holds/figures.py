"""Figures of claim C8: where the memory lives and the keep gate's role at resets, against hold
length."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from gateroles import plots
from gateroles.analyses.holds.aggregate import CONTROL, ROLE_MEASURES, TESTED
from gateroles.architectures import ARCHITECTURES, order

ARCH_COLOURS = dict(zip(ARCHITECTURES, sns.color_palette("colorblind", len(ARCHITECTURES)),
                        strict=True))
PHASE_STYLE = {"trained": ("-", "o", 1.8), "initial": ("--", "s", 1.0)}
PHASE_NAMES = {"trained": "trained", "initial": "step 0"}
# The panels of the memory figure: (title, y label, [(measure, line style, label suffix)],
# phases drawn).
MEMORY_PANELS = [
    ("keep gate saturated during holds", "share above the threshold",
     [("saturated", "-", "")], ("trained", "initial")),
    ("product of keep gates across a hold", "log10 product (trained)",
     [("log10_product_keep", "-", ", no erase"), ("log10_product_erase", ":", ", erase")],
     ("trained",)),
    ("direct path's share at the store", "share (memory units)",
     [("direct_share", "-", "")], ("trained", "initial")),
    ("gradient kept from lag 1 to the store", "decades (trained)",
     [("kept_cell", "-", ", dc"), ("kept_hidden", ":", ", dh")], ("trained",)),
]
ROLE_TITLES = {"erasure_share": "forget term's share of the\nextra erasure at resets",
               "context": "role gate's armed - unarmed\nRESET contrast (its direction)",
               "interchange": "role gate's interchange damage at\nresets minus the largest other's"}


def _hold_rows(by_hold: pd.DataFrame) -> pd.DataFrame:
    return by_hold[by_hold["hold"].notna()] if len(by_hold) else by_hold


def _line(ax, part: pd.DataFrame, colour, style: str, marker: str, width: float, label: str):
    """Mean against hold length with its t-interval as error bars."""
    part = part.sort_values("hold")
    ax.errorbar(part["hold"], part["mean"],
                yerr=[part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]],
                color=colour, ls=style, marker=marker, lw=width, ms=4, capsize=2, label=label)


def _hold_axis(ax, holds) -> None:
    ax.set_xscale("log", base=2)
    ticks = sorted(set(holds))
    ax.set_xticks(ticks, [f"{h:g}" for h in ticks])
    ax.minorticks_off()


def _legend(fig, axes) -> None:
    handles = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="lower center",
                   ncol=min(4, len(handles)), fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, -0.02))


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
                             figsize=(4.1 * len(MEMORY_PANELS), 3.3 * len(bases) + 0.8),
                             squeeze=False)
    for r, base in enumerate(bases):
        here = data[data["base"] == base]
        for c, (title, ylabel, lines, phases) in enumerate(MEMORY_PANELS):
            ax = axes[r, c]
            for arch in order(here["arch"].unique()):
                for measure, style, suffix in lines:
                    for phase in phases:
                        part = here[(here["arch"] == arch) & (here["measure"] == measure)
                                    & (here["phase"] == phase)]
                        if part.empty:
                            continue
                        own, marker, width = PHASE_STYLE[phase]
                        _line(ax, part, ARCH_COLOURS[arch], style if len(lines) > 1 else own,
                              marker, width, f"{arch}{suffix} ({PHASE_NAMES[phase]})")
            if c == 1:
                half = here[(here["measure"] == "log10_half") & (here["phase"] == "trained")]
                half = half.groupby("hold")["mean"].mean()
                if len(half):
                    ax.plot(half.index, half.to_numpy(), color="black", ls="--", lw=1,
                            label="constant 0.5 over the hold")
            _hold_axis(ax, here["hold"])
            ax.set_title(f"{base}: {title}", fontsize=9)
            ax.set_ylabel(ylabel, fontsize=8)
            if r == len(bases) - 1:
                ax.set_xlabel("hold H (steps)")
            if not ax.lines:
                ax.text(0.5, 0.5, "not measured", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
    _legend(fig, axes)
    fig.suptitle("Where the memory lives, by hold length (keep gate: LSTM forget, GRU update z "
                 "in PyTorch's convention; memory-carrying units; mean and 95% t-interval over "
                 "solved seeds)", y=1.0, fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
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
                             figsize=(4.2 * len(measures), 3.3 * len(bases) + 0.8),
                             squeeze=False)
    for r, base in enumerate(bases):
        here = data[data["base"] == base]
        for c, measure in enumerate(measures):
            ax = axes[r, c]
            part = here[here["measure"] == measure]
            for (arch, cells), rows in part.groupby(["arch", "cells"], sort=False):
                control = cells == CONTROL
                for phase in ("trained", "initial"):
                    line = rows[rows["phase"] == phase]
                    if line.empty or (control and phase == "initial"):
                        continue
                    style, marker, width = PHASE_STYLE[phase]
                    colour = "grey" if control else ARCH_COLOURS[arch]
                    label = f"{arch}{' (negative control)' if control else ''} " \
                            f"({PHASE_NAMES[phase]})"
                    _line(ax, line, colour, ":" if control else style, marker, width, label)
            ax.axhline(0.5 if measure == "erasure_share" else 0.0, color="black", lw=0.6)
            _hold_axis(ax, here["hold"])
            ax.set_title(f"{base}: {ROLE_TITLES[measure]}", fontsize=9)
            if r == len(bases) - 1:
                ax.set_xlabel("hold H (steps)")
            if not ax.lines or len(ax.lines) == 1:
                ax.text(0.5, 0.5, "not measured on this task", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
    _legend(fig, axes)
    fig.suptitle("The keep gate's role at resets against hold length (mean and 95% t-interval; "
                 "solved seeds, a control's every seed)", y=1.0, fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


# Figure name -> function(tables, settings); tables are named as in the rules file.
FIGURES = {
    "holds_memory": lambda tables, settings: memory_figure(tables["by_hold"]),
    "holds_roles": lambda tables, settings: roles_figure(tables["by_hold"]),
}
