"""Figures of claim C6: the gradient across hold intervals, and gradient norm against lag from
scored steps, by architecture and by path."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from gateroles import plots
from gateroles.analyses.gradient_flow import ALL_UNITS, DIRECT_STATE, FREE, JACOBIAN, KEEP
from gateroles.architectures import ARCHITECTURES, order, spec

ARCH_COLOURS = dict(zip(ARCHITECTURES, sns.color_palette("colorblind", len(ARCHITECTURES)),
                        strict=True))
PATH_STYLE = {  # (label, colour) of each line of the paths figure
    ("total", FREE): ("total", "black"),
    ("direct", FREE): ("direct path", "#1f77b4"),
    ("via_h", FREE): ("paths through h", "#ff7f0e"),
}
FLOOR = 1e-8  # the log axis stops here (a tanh RNN's gradient can fall to 1e-30)


def _phases(data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {"trained": data[data["step"] == data["final_step"]],
            "step 0": data[data["step"] == 0]}


def _band(ax, part: pd.DataFrame, colour, style: str, label: str | None, lw: float
          ) -> tuple[float, float]:
    """Mean relative norm by lag over seeds, with its bootstrap band; returns the smallest and
    the largest positive mean drawn."""
    band = plots.mean_band(part[part["relative"] > 0], "lag", "relative")
    if band.empty:
        return np.inf, 0.0
    ax.plot(band["lag"], band["mean"], color=colour, ls=style, lw=lw, label=label)
    ax.fill_between(band["lag"], band["lo"], band["hi"], color=colour, alpha=0.15, lw=0)
    shown = band["mean"][band["mean"] > 0]
    return (float(shown.min()), float(shown.max())) if len(shown) else (np.inf, 0.0)


def _log_axis(ax, span: tuple[float, float]) -> None:
    """Log y from the lowest curve (not below FLOOR) to above the highest."""
    lowest, highest = span
    ax.set_yscale("log")
    bottom = max(FLOOR, 10 ** np.floor(np.log10(lowest))) if np.isfinite(lowest) else 1e-3
    ax.set_ylim(bottom, max(2.0, 1.5 * highest))
    ax.axhline(np.exp(-1), color="black", lw=0.6, ls=":")


def _widen(span: tuple[float, float], more: tuple[float, float]) -> tuple[float, float]:
    return min(span[0], more[0]), max(span[1], more[1])


def gradient_by_lag(by_lag: pd.DataFrame) -> plt.Figure:
    """Relative gradient norm against lag: one row per task, trained | step 0 columns; one
    colour per architecture, solid the cell state, dashed the hidden state (free gates)."""
    data = by_lag[by_lag["solved"] & (by_lag["condition"] == FREE)
                  & (by_lag["path"] == "total")]
    if data.empty:
        return plots.no_data("No model solved its task: no gradient-by-lag curves to show.")
    tasks = sorted(data["task"].unique())
    fig, axes = plt.subplots(len(tasks), 2, figsize=(12, 3.4 * len(tasks)), squeeze=False,
                             sharex=True)
    for r, task in enumerate(tasks):
        here = data[data["task"] == task]
        missing = [a for a in order(by_lag.loc[by_lag["task"] == task, "arch"].unique())
                   if a not in set(here["arch"])]
        for c, (phase, rows) in enumerate(_phases(here).items()):
            ax = axes[r, c]
            span = (np.inf, 0.0)
            for arch in order(rows["arch"].unique()):
                for state in spec(arch).states:
                    part = rows[(rows["arch"] == arch) & (rows["state"] == state)]
                    for init, group in part.groupby("init"):
                        suffix = "" if init == "default" else f", {init}"
                        label = f"{arch} {'c' if state == 'cell' else 'h'}{suffix}"
                        span = _widen(span, _band(
                            ax, group, ARCH_COLOURS[arch], "-" if state == "cell" else "--",
                            label, 1.8))
            _log_axis(ax, span)
            note = f" (no solved seed: {', '.join(missing)})" if missing else ""
            ax.set_title(f"{task}: {phase}{note}", fontsize=11)
            ax.set_ylabel("||d logit_t/d state_{t-k}||\n/ value at lag 0")
            if r == len(tasks) - 1:
                ax.set_xlabel("lag k (steps)")
        plots.legend_right(axes[r, 0], axes[r, -1])
    fig.suptitle("Gradient norm by lag (mean over solved seeds, band: 95% bootstrap CI; dotted: "
                 "1/e)", y=1.0)
    fig.tight_layout()
    return fig


def gradient_paths(by_lag: pd.DataFrame) -> plt.Figure:
    """Path by path, for each architecture with a direct path: total, direct and through h
    (gates free); trained solid, step 0 dashed. One row per task."""
    data = by_lag[by_lag["solved"]]
    highway = data["arch"].map(lambda a: DIRECT_STATE[spec(a).cell])  # None: the tanh RNN
    data = data[highway.notna() & (data["state"] == highway)]
    if data.empty:
        return plots.no_data("No solved model with a direct gradient path (LSTM family or GRU).")
    tasks = sorted(data["task"].unique())
    panels = list(dict.fromkeys(zip(data["arch"], data["init"], strict=True)))
    panels = sorted(panels, key=lambda p: (ARCHITECTURES.index(p[0]), p[1]))
    fig, axes = plt.subplots(len(tasks), len(panels),
                             figsize=(4.2 * len(panels) + 2.5, 3.3 * len(tasks)),
                             squeeze=False, sharex=True)
    for r, task in enumerate(tasks):
        legend = {}
        for c, (arch, init) in enumerate(panels):
            ax = axes[r, c]
            here = data[(data["task"] == task) & (data["arch"] == arch) & (data["init"] == init)]
            state = "c" if spec(arch).cell == "lstm" else "h"
            title = f"{task}: {arch}{'' if init == 'default' else f' ({init})'}, dL/d{state}"
            if here.empty:
                ran = ((by_lag["task"] == task) & (by_lag["arch"] == arch)
                       & (by_lag["init"] == init)).any()
                why = "no solved seed" if ran else "not run on this task"
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"{title}\n{why}", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
                continue
            span = (np.inf, 0.0)
            for (path, condition), (label, colour) in PATH_STYLE.items():
                part = here[(here["path"] == path) & (here["condition"] == condition)]
                if part.empty:
                    continue
                for phase, rows in _phases(part).items():
                    trained = phase == "trained"
                    span = _widen(span, _band(ax, rows, colour, "-" if trained else "--",
                                              f"{label} ({phase})", 1.8 if trained else 1.1))
            _log_axis(ax, span)
            ax.set_title(title, fontsize=10)
            _finish(ax, legend, "norm / total at lag 0" if c == 0 else None,
                    "lag k (steps)" if r == len(tasks) - 1 else None)
        _row_legend(axes[r, -1], legend, 8)
    fig.suptitle("Gradient paths by lag from scored steps: direct (product of forget / update "
                 "gates) vs through h (solid trained, dashed step 0; dotted 1/e)", y=1.0)
    fig.tight_layout()
    return fig


# The curves of the interval figure: (state, path, condition) -> (label, colour).
INTERVAL_STYLE = {
    ("cell", "total", FREE): ("dc, total", "black"),
    ("cell", "direct", FREE): ("dc, direct path", "#1f77b4"),
    ("cell", "total", JACOBIAN): ("dc, forget clamped in the Jacobian", "#7f7f7f"),
    ("hidden", "total", FREE): ("dh, total", "#d95f02"),
    ("hidden", "direct", FREE): ("dh, direct path (GRU)", "#1f77b4"),
    ("hidden", "total", JACOBIAN): ("dh, update clamped in the Jacobian (GRU)", "#7f7f7f"),
}


def _finish(ax, legend: dict, ylabel: str | None, xlabel: str | None) -> None:
    """Axis labels where given (a row's first panel, the last row), and `ax`'s labelled lines
    added to the row's `legend` (label -> handle; the first one of each kept)."""
    if ylabel:
        ax.set_ylabel(ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
        legend.setdefault(label, handle)


def _row_legend(ax, legend: dict, fontsize: float) -> None:
    """One legend for a row of panels, right of its last panel `ax`."""
    ax.legend(list(legend.values()), list(legend), fontsize=fontsize, loc="center left",
              bbox_to_anchor=(1.02, 0.5), frameon=False)


def interval_gradients(interval_lag: pd.DataFrame, clamp_value: float) -> plt.Figure:
    """On the store-to-query intervals with no erase: log10 of the mean gradient norm of the
    target's logit at the query against the lag back from it, per task (row) and
    architecture (column); trained solid, step 0 dashed; mean over solved seeds."""
    data = interval_lag[interval_lag["solved"].astype(bool) & (interval_lag["kind"] == KEEP)
                        & (interval_lag["units"] == ALL_UNITS)
                        & (interval_lag["path"] != "via_h")]
    if data.empty:
        return plots.no_data("No solved model on a task with store-to-query intervals: no "
                             "gradient across holds to show.")
    tasks = sorted(data["task"].unique(), key=lambda t: (t.partition("@")[0],
                                                         int(t.partition("@")[2] or 0)))
    archs = order(data["arch"].unique())
    fig, axes = plt.subplots(len(tasks), len(archs), figsize=(3.6 * len(archs),
                                                              2.9 * len(tasks)),
                             squeeze=False, sharey="row")
    drawn = {}
    for r, task in enumerate(tasks):
        for c, arch in enumerate(archs):
            ax = axes[r, c]
            here = data[(data["task"] == task) & (data["arch"] == arch)]
            ax.set_title(f"{task}: {arch}", fontsize=9)
            if here.empty:
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"{task}: {arch}\nno solved seed or not run", ha="center",
                        va="center", transform=ax.transAxes, color="grey", fontsize=8)
                continue
            for key, (_, colour) in INTERVAL_STYLE.items():
                state, path, condition = key
                part = here[(here["state"] == state) & (here["path"] == path)
                            & (here["condition"] == condition)]
                for phase, rows in _phases(part).items():
                    curve = rows.groupby("lag")["norm"].mean()
                    curve = np.log10(curve[curve > 0].clip(lower=FLOOR))
                    trained = phase == "trained"
                    ax.plot(curve.index, curve.to_numpy(), color=colour,
                            ls="-" if trained else "--", lw=1.6 if trained else 1.0)
                    drawn[key] = True
            _finish(ax, {}, "log10 |d logit_q / d state|" if c == 0 else None,
                    "lag back from the query (steps)" if r == len(tasks) - 1 else None)
    handles = [Line2D([], [], color=colour, lw=1.6, label=label)
               for key, (label, colour) in INTERVAL_STYLE.items() if key in drawn]
    handles += [Line2D([], [], color="black", lw=1.6, label="solid: trained"),
                Line2D([], [], color="black", lw=1.0, ls="--", label="dashed: step 0")]
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9,
               frameon=False)
    fig.suptitle(f"Gradient of the target's logit across holds (intervals with no erase; grey: "
                 f"keep gate clamped to {clamp_value:g} in the Jacobian only)", y=1.0)
    fig.tight_layout()
    return fig


# Figure name -> function(tables, settings); tables are named as in the rules file.
FIGURES = {
    "c6_gradient_by_lag": lambda tables, settings: gradient_by_lag(tables["by_lag"]),
    "c6_gradient_paths": lambda tables, settings: gradient_paths(tables["by_lag"]),
    "c6_interval_gradients": lambda tables, settings: interval_gradients(
        tables["interval_lag"], settings.clamp_value),
}
