"""The figures of a user model's report, one function per figure (tables in, figure out)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gateroles import plots

MARKS = {"supported": "+", "contradicted": "-"}


def event_aligned(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """Each gate's mean over units aligned on each event (band: t-interval over sequences)."""
    data = tables["event_aligned"]
    points, events = list(dict.fromkeys(data["point"])), list(dict.fromkeys(data["event"]))
    fig, axes = plt.subplots(1, len(events), figsize=(3.4 * len(events), 3.2), squeeze=False,
                             sharey=True)
    for c, event in enumerate(events):
        ax = axes[0, c]
        for k, point in enumerate(points):
            part = data[(data["point"] == point) & (data["event"] == event)]
            colour = plots.GATE_COLOURS.get(part["gate"].iloc[0], f"C{k}")
            ax.plot(part["offset"], part["mean"], color=colour, lw=2, label=point)
            ax.fill_between(part["offset"], part["ci_low"], part["ci_high"], color=colour,
                            alpha=0.2)
        ax.axvline(0, color="black", lw=0.7)
        ax.set_title(event, fontsize=11)
        ax.set_xlabel("steps from event")
    axes[0, 0].set_ylabel("mean gate activation")
    plots.legend_right(axes[0, 0], axes[0, -1])
    fig.tight_layout()
    return fig


def event_units(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """Per gate, each unit's response to each event (mean over sequences of event minus quiet
    steps); + / - mark the units that rise / drop (Holm across the units)."""
    data = tables["event_units"]
    points = list(dict.fromkeys(data["point"]))
    events = list(dict.fromkeys(data["event"]))
    n_units = int(data["unit"].max()) + 1
    fig, axes = plt.subplots(len(points), 1, figsize=(min(2 + 0.12 * n_units, 16),
                                                       0.5 + 0.45 * len(events) * len(points)),
                             squeeze=False)
    limit = float(np.nanmax(np.abs(data["mean"]))) or 1.0
    for r, point in enumerate(points):
        part = data[data["point"] == point]
        grid = part.pivot(index="event", columns="unit", values="mean").loc[events]
        ax = axes[r, 0]
        image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="RdBu_r", vmin=-limit,
                          vmax=limit, interpolation="nearest")
        marks = part.pivot(index="event", columns="unit", values="verdict").loc[events]
        for (i, j), verdict in np.ndenumerate(marks.to_numpy()):
            if verdict in MARKS:
                ax.text(j, i, MARKS[verdict], ha="center", va="center", fontsize=6)
        ax.set_yticks(range(len(events)), events)
        ax.grid(False)
        ax.set_title(point, fontsize=10)
        ax.set_xlabel("unit")
        fig.colorbar(image, ax=ax, fraction=0.02, pad=0.01, label="event - quiet")
    fig.tight_layout()
    return fig


def perturbation(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """The matched perturbation matrix: per behaviour, each gate x event's damage at the
    event minus at matched quiet steps (mean over sequences); + marks a supported cell (the
    event interchange damages the behaviour more, Holm across the matrix), - the opposite."""
    data = tables["perturbation"]
    behaviours = list(dict.fromkeys(data["behaviour"]))
    points, events = list(dict.fromkeys(data["point"])), list(dict.fromkeys(data["event"]))
    fig, axes = plt.subplots(len(behaviours), 1, figsize=(2.5 + 1.3 * len(events),
                                                          (0.9 + 0.5 * len(points))
                                                          * len(behaviours)), squeeze=False)
    for r, behaviour in enumerate(behaviours):
        part = data[data["behaviour"] == behaviour]
        grid = part.pivot(index="point", columns="event", values="mean").loc[points, events]
        limit = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
        ax = axes[r, 0]
        ax.imshow(grid.to_numpy(), aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.grid(False)
        verdicts = part.pivot(index="point", columns="event", values="verdict").loc[
            points, events]
        for (i, j), value in np.ndenumerate(grid.to_numpy()):
            ax.text(j, i, f"{value:.2g}{MARKS.get(verdicts.iloc[i, j], '')}", ha="center",
                    va="center", fontsize=8,
                    color="white" if abs(value) > 0.6 * limit else "black")
        ax.set_xticks(range(len(events)), events if r == len(behaviours) - 1 else
                      [""] * len(events), rotation=30, ha="right")
        ax.set_yticks(range(len(points)), points)
        ax.set_title(behaviour, fontsize=11)
    fig.suptitle("damage at the event minus at matched quiet steps", fontsize=11)
    fig.tight_layout()
    return fig


def attribution(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """The erasing term's share of the state change at each event and at the quiet steps
    (mean over sequences, t-interval)."""
    data = tables["attribution"]
    if data.empty:
        return plots.no_data("No attribution: the module has no gated state (a plain RNN).")
    points = list(dict.fromkeys(data["point"]))
    fig, axes = plt.subplots(1, len(points), figsize=(1.5 + 1.1 * data["event"].nunique(), 3.4),
                             squeeze=False)
    for c, point in enumerate(points):
        part = data[data["point"] == point]
        x = np.arange(len(part))
        ax = axes[0, c]
        for shift, label, colour in ((-0.2, "event", "#d95f02"), (0.2, "quiet", "#7570b3")):
            mean = part[f"share_{label}"].to_numpy()
            err = np.abs(part[[f"share_{label}_ci_low", f"share_{label}_ci_high"]].to_numpy().T
                         - mean)
            ax.bar(x + shift, mean, width=0.4, yerr=err, color=colour,
                   label="at the event" if label == "event" else "at quiet steps")
        ax.set_xticks(x, part["event"], rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.set_ylabel("erasing term's share")
        ax.set_title(point, fontsize=10)
    plots.legend_right(axes[0, 0], axes[0, -1])
    fig.tight_layout()
    return fig


FIGURES = {"event_aligned": event_aligned, "event_units": event_units,
           "perturbation": perturbation, "attribution": attribution}


def write(name: str, inputs: dict, png: str, pdf: str) -> None:
    """The workflow's `user_model_figure` job: figure `name` from the tables `inputs`."""
    from gateroles import storage

    tables = {key: storage.read_csv(path) for key, path in inputs.items() if key != "code"}
    plots.save(FIGURES[name](tables), png, pdf)
