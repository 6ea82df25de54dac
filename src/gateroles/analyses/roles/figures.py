"""Figures of the C1 role tests: who erases and who writes, and context dependence."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gateroles import plots
from gateroles.architectures import control_of, order
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


def _tested_and_control(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(task, tested arch, event) panels, each with its control's rows beside it."""
    tested = data[data["cells"] == "tested"]
    return [(task, arch, event) for task, arch in _panels(tested)
            for event in ("reset", "store")
            if not plots.select(tested, {"task": task, "arch": arch, "event": event}).empty]


def _control_rows(data: pd.DataFrame, task: str, arch: str, event: str, gate: str
                  ) -> tuple[str | None, pd.DataFrame]:
    """The control architecture of `gate` on `arch` and its rows of the same task and event."""
    control = control_of(arch, gate)
    if control is None:
        return None, data.iloc[:0]
    return control, plots.select(data, {"task": task, "arch": control, "event": event,
                                        "cells": "control"})


def _role_panels(table: pd.DataFrame, value: str, empty: str, ylabel: str, title: str,
                 reference: float | None, ylim=(0, 1)) -> plt.Figure:
    """One panel per task x tested arch x role: the tested model's `value` per seed, step 0 ->
    trained, in the gate's colour, and its negative control's in grey."""
    data = at_phase(table[table["solved"].astype(bool)]) if len(table) else table
    if data.empty or not (data.get("cells") == "tested").any():
        return plots.no_data(empty)
    panels = _tested_and_control(data)
    fig, axes = _grid(len(panels))
    for ax, (task, arch, event) in zip(axes.flat, panels, strict=False):
        part = plots.select(data, {"task": task, "arch": arch, "event": event,
                                   "cells": "tested"})
        gate = part["gate"].iloc[0]
        _phase_points(ax, part, value, 0, plots.GATE_COLOURS.get(gate, "black"),
                      f"{arch.upper()}")
        control, rows = _control_rows(data, task, arch, event, gate)
        if len(rows):
            _phase_points(ax, rows, value, 0, "grey", f"control: {control}")
        if reference is not None:
            ax.axhline(reference, color="black", lw=0.6, ls=":")
        ax.set_xticks([0, 1], [label for _, label in PHASES])
        ax.set_xlim(-0.3, 1.3)
        ax.set_ylim(*ylim)
        ax.set_title(f"{task} / {arch.upper()}: {gate} at {event}s", fontsize=10)
        ax.legend(fontsize=8, loc="best")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    fig.suptitle(title, y=1.0)
    fig.tight_layout()
    return fig


def attribution(table: pd.DataFrame) -> plt.Figure:
    """The role gate's share (resets: of the extra erasure; stores: of the write's
    selectivity), step 0 -> trained, beside its negative control."""
    return _role_panels(
        table, "share", "No solved LSTM with a memory variable: no attribution to show.",
        "share (0 = the other term, 1 = this gate)",
        "Who erases at resets and who selects the write at stores, in the memory-carrying "
        "units: the role gate's share (dotted: one half)", reference=0.5)


def context(table: pd.DataFrame) -> plt.Figure:
    """The role gate's activation at the RESET that must erase minus at the one that must
    not (memory units), step 0 -> trained, beside its negative control."""
    return _role_panels(
        table, "difference", "No solved model on a task with the armed/unarmed RESET pair.",
        "gate at armed - at unarmed RESET",
        "The same RESET token where it must erase and where it must not: the role gate's "
        "difference on the memory-carrying units (GRU: z near 1 keeps)", reference=0.0,
        ylim=(-1, 1))


FIGURES = {
    "c1_attribution": lambda tables, settings: attribution(tables["shares"]),
    "c1_context": lambda tables, settings: context(tables["context"]),
}
