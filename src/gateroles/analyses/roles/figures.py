"""Figures of the C1 role tests: who erases and who writes, and context dependence."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gateroles import plots
from gateroles.architectures import SPECS, order
from gateroles.study import at_phase

PHASES = (("initial", "step 0"), ("trained", "trained"))


def _panels(data: pd.DataFrame) -> list[tuple[str, str]]:
    tasks = list(dict.fromkeys(data["task"]))
    return [(task, arch) for task in tasks for arch in order(set(data["arch"]))
            if not plots.select(data, {"task": task, "arch": arch}).empty]


def _phase_points(ax, part: pd.DataFrame, value: str, x0: float, colour: str, label: str):
    """One seed per thin line from step 0 to trained, the mean as a thick one."""
    wide = part.pivot_table(index="seed", columns="phase", values=value)
    xs = [x0, x0 + 1]
    for _, row in wide.iterrows():
        ax.plot(xs, [row.get("initial", np.nan), row.get("trained", np.nan)], color=colour,
                lw=0.8, alpha=0.45)
    ax.plot(xs, [wide.get("initial", pd.Series(dtype=float)).mean(),
                 wide.get("trained", pd.Series(dtype=float)).mean()],
            color=colour, lw=2.4, marker="o", label=label)


def _grid(n_panels: int, n_cols: int = 4, sharey: bool = True):
    n_rows = -(-n_panels // n_cols)
    fig, axes = plt.subplots(n_rows, min(n_cols, n_panels),
                             figsize=(3.6 * min(n_cols, n_panels), 3.2 * n_rows),
                             squeeze=False, sharey=sharey)
    for ax in axes.flat[n_panels:]:
        ax.set_axis_off()
    return fig, axes


def attribution(table: pd.DataFrame) -> plt.Figure:
    """How much the role term's magnitude concentrates at its event (log of its mean at the
    event over its mean elsewhere; colour) and the other term's at the same event (grey),
    step 0 -> trained; one panel per task x arch x role."""
    data = at_phase(table[table["solved"]]) if len(table) else table
    if data.empty:
        return plots.no_data("No solved model with a memory variable: no attribution to show.")
    panels = [(task, arch, event) for task, arch in _panels(data)
              for event in ("reset", "store")
              if not plots.select(data, {"task": task, "arch": arch, "event": event}).empty]
    fig, axes = _grid(len(panels))
    colours = {"reset": plots.GATE_COLOURS["forget"], "store": plots.GATE_COLOURS["input"]}
    names = {("lstm", "erase"): "forget term", ("lstm", "write"): "input term",
             ("gru", "erase"): "erasing part", ("gru", "write"): "writing part"}
    for ax, (task, arch, event) in zip(axes.flat, panels, strict=False):
        part = plots.select(data, {"task": task, "arch": arch, "event": event})
        term = part["term"].iloc[0]
        other = "write" if term == "erase" else "erase"
        cell = SPECS[arch].cell
        _phase_points(ax, part, "concentration", 0, colours[event],
                      f"{names[cell, term]} ({term})")
        _phase_points(ax, part, "other_concentration", 0, "grey",
                      f"{names[cell, other]} ({other})")
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xticks([0, 1], [label for _, label in PHASES])
        ax.set_xlim(-0.3, 1.3)
        ax.set_title(f"{task} / {arch.upper()}: at {event}s", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
    for ax in axes[:, 0]:
        ax.set_ylabel("log(mean |term| at event / elsewhere)")
    fig.suptitle("Who erases at resets and who writes at stores: concentration of each term "
                 "of the state change at the event, in the memory-carrying units", y=1.0)
    fig.tight_layout()
    return fig


def context(table: pd.DataFrame) -> plt.Figure:
    """The role gate's mean activation where its token must act (colour) and where the same
    token must not (grey), step 0 -> trained; one panel per task x arch x role."""
    data = at_phase(table[table["solved"]]) if len(table) else table
    if data.empty:
        return plots.no_data("No solved model on a task with context pairs: nothing to show.")
    panels = [(task, arch, event) for task, arch in _panels(data)
              for event in ("reset", "store")
              if not plots.select(data, {"task": task, "arch": arch, "event": event}).empty]
    fig, axes = _grid(len(panels))
    for ax, (task, arch, event) in zip(axes.flat, panels, strict=False):
        part = plots.select(data, {"task": task, "arch": arch, "event": event})
        gate = part["gate"].iloc[0]
        _phase_points(ax, part, "acting", 0, plots.GATE_COLOURS.get(gate, "black"),
                      f"{event} that must act")
        _phase_points(ax, part, "inert", 0, "grey", "same token, inert")
        ax.set_xticks([0, 1], [label for _, label in PHASES])
        ax.set_xlim(-0.3, 1.3)
        ax.set_ylim(0, 1)
        ax.set_title(f"{task} / {arch.upper()}: {gate} at {event}", fontsize=10)
        ax.legend(fontsize=8, loc="best")
    for ax in axes[:, 0]:
        ax.set_ylabel("mean gate activation")
    fig.suptitle("The same token in different states: the role gate where its event must act "
                 "vs where the same token must not (GRU: z near 1 keeps the state)", y=1.0)
    fig.tight_layout()
    return fig


FIGURES = {
    "c1_attribution": lambda tables, settings: attribution(tables["table"]),
    "c1_context": lambda tables, settings: context(tables["table"]),
}
