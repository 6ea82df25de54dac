"""Figures: each function takes tidy tables and returns a matplotlib Figure.

Conventions: seeds are thin lines or points; means over solved seeds with 95% bootstrap bands
are thick. GRU update gate z is shown in PyTorch's convention (z near 1 keeps the state).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from gateroles import stats  # noqa: E402

GATE_COLOURS = {"input": "#1b9e77", "forget": "#d95f02", "output": "#7570b3",
                "reset": "#e7298a", "update": "#66a61e"}
TASK_COLOURS = dict(zip(("reset_recall", "adding", "count_reset"),
                        sns.color_palette("colorblind", 3), strict=True))
sns.set_theme(context="paper", style="whitegrid", font_scale=1.2)


def save(fig: plt.Figure, png: str, pdf: str) -> None:
    """PNG (for the report) and PDF (for a paper), written atomically."""
    from gateroles.storage import atomic_path

    for path, fmt in ((png, "png"), (pdf, "pdf")):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=130, bbox_inches="tight",
                        metadata={"CreationDate": None} if fmt == "pdf" else {"Software": None})
    plt.close(fig)


def no_data(message: str) -> plt.Figure:
    """A placeholder figure that says why there is nothing to show."""
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return fig


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


def _mean_band(frame: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per x: mean over seeds and its bootstrap CI."""
    rows = []
    for value, group in frame.groupby(x):
        mean, lo, hi = stats.bootstrap_ci(group[y], n_boot=1000)
        rows.append({x: value, "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(rows)


def _select(frame: pd.DataFrame, values: dict) -> pd.DataFrame:
    """Rows whose columns equal `values`."""
    keep = np.ones(len(frame), dtype=bool)
    for column, value in values.items():
        keep &= (frame[column] == value).to_numpy()
    return frame[keep]


def event_averages(aligned: pd.DataFrame) -> plt.Figure:
    """Gate activation aligned on each event, trained (solid) vs initial (dashed).

    One row per task x architecture, one column per event type; solved seeds only.
    """
    data = aligned[aligned["solved"]]
    if data.empty:
        return no_data("No model solved its task: no event-triggered averages to show.")
    initial = data[data["step"] == 0]
    trained = data[data["step"] == data["final_step"]]
    panels = list(dict.fromkeys(zip(data["task"], data["arch"], strict=True)))
    events = ["store", "reset", "query"]
    fig, axes = plt.subplots(len(panels), len(events), figsize=(13, 2.9 * len(panels)),
                             squeeze=False, sharex=True)
    for r, (task, arch) in enumerate(panels):
        for c, event in enumerate(events):
            ax = axes[r, c]
            here = {"task": task, "arch": arch, "event": event}
            if _select(trained, here).empty:
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"no {event} events\nin {task}", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
                continue
            init_here = _select(initial, here)
            for gate, part in _select(trained, here).groupby("gate"):
                band = _mean_band(part, "offset", "value")
                ax.plot(band["offset"], band["mean"], color=GATE_COLOURS[gate], lw=2,
                        label=f"{gate} (trained)")
                ax.fill_between(band["offset"], band["lo"], band["hi"],
                                color=GATE_COLOURS[gate], alpha=0.2)
                init_band = _mean_band(init_here[init_here["gate"] == gate], "offset", "value")
                ax.plot(init_band["offset"], init_band["mean"], color=GATE_COLOURS[gate],
                        lw=1.2, ls="--", label=f"{gate} (initial)")
            ax.axvline(0, color="black", lw=0.7)
            ax.set_title(f"{task} / {arch.upper()}: {event}", fontsize=11)
            ax.set_ylabel("mean gate activation")
            if r == len(panels) - 1:
                ax.set_xlabel("steps from event")
        handles, labels = axes[r, 0].get_legend_handles_labels()
        axes[r, -1].legend(handles, labels, fontsize=9, loc="center left",
                           bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.suptitle("Event-triggered gate averages (mean over units; band: 95% CI over solved "
                 "seeds)", y=1.0)
    fig.tight_layout()
    return fig


def saturation(saturation_table: pd.DataFrame, low: float, high: float) -> plt.Figure:
    """Karpathy-style scatter: per unit, fraction of steps right- vs left-saturated.

    Rows = architecture, columns = sigmoid gate type; colour = task, trained; grey = initial.
    """
    data = saturation_table[saturation_table["solved"]]
    if data.empty:
        return no_data("No model solved its task: no saturation to show.")
    archs = list(dict.fromkeys(data["arch"]))
    n_cols = max(data[data["arch"] == a]["gate"].nunique() for a in archs)
    fig, axes = plt.subplots(len(archs), n_cols, figsize=(4.2 * n_cols, 4.2 * len(archs)),
                             squeeze=False)
    for r, arch in enumerate(archs):
        part = data[data["arch"] == arch]
        gates = list(dict.fromkeys(part["gate"]))
        for c in range(n_cols):
            ax = axes[r, c]
            if c >= len(gates):
                ax.set_axis_off()
                continue
            g = part[part["gate"] == gates[c]]
            trained = g[g["step"] == g["final_step"]]
            for task, pts in trained.groupby("task"):
                ax.scatter(pts["left"], pts["right"], s=8, alpha=0.6, color=TASK_COLOURS[task],
                           label=f"{task} (trained)")
            init = g[g["step"] == 0]  # drawn last: at initialisation they pile up near (0, 0)
            ax.scatter(init["left"], init["right"], s=14, marker="x", linewidths=0.8,
                       color="black", label="initial (all tasks)")
            ax.plot([0, 1], [1, 0], color="black", lw=0.6, ls=":")
            ax.set_xlim(-0.02, 1.02)
            ax.set_ylim(-0.02, 1.02)
            ax.set_aspect("equal")
            ax.set_title(f"{arch.upper()} {gates[c]} gate")
            ax.set_xlabel(f"fraction of steps < {low:g} (left)")
            ax.set_ylabel(f"fraction of steps > {high:g} (right)")
            if r == 0 and c == 0:
                ax.legend(fontsize=8, loc="upper right", markerscale=2)
    fig.suptitle("Gate saturation per unit, all solved seeds (GRU update: z near 1 keeps; "
                 "black x: initialisation)", y=1.0)
    fig.tight_layout()
    return fig

