"""Figures of claim C3: the gate x event x behaviour damage of the matched interchanges, and
the unit-ablation nulls."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

from gateroles import plots, tasks
from gateroles.analyses.causal import EVENT, INTERCHANGE, NEEDS, QUIET, interchange_gates, role_off

PHASE_TITLES = {"trained": "trained (last checkpoint)", "initial": "step 0"}
EVENT_ORDER = ("reset", "store", "query")


def _cells(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    return list(dict.fromkeys(zip(frame["task"], frame["arch"], frame["init"], strict=True)))


def _cell_title(task: str, arch: str, init: str, several_inits: bool) -> str:
    return f"{task} / {arch.upper()}" + (f" / {init}" if several_inits else "")


def matrix_grid(frame: pd.DataFrame, arch: str) -> tuple[pd.DataFrame, list, list]:
    """Mean damage of the interchanges at the events as a [gate] x [event x behaviour] grid,
    for one cell and phase; the row and column keys in display order."""
    events = sorted(frame["event"].unique(),
                    key=lambda e: (EVENT_ORDER.index(e) if e in EVENT_ORDER else 9, e))
    columns = [(e, b) for e in events for b in sorted(frame["behaviour"].unique())]
    rows = list(interchange_gates(arch))
    grid = frame.pivot_table(index="gate", columns=["event", "behaviour"], values="damage",
                             aggfunc="mean")
    return grid.reindex(index=rows, columns=pd.MultiIndex.from_tuples(columns)), rows, columns


def causal_matrix(matrix: pd.DataFrame) -> plt.Figure:
    """One row of panels per task x arch (x init): trained beside step 0, rows = the
    interchanged gate, columns = event x behaviour, colour = mean damage over solved seeds
    (diverging, centred at 0, one scale per row of panels); predicted cells outlined, with the
    same gate's damage at the lag-matched quiet steps ("q") under it."""
    data = (matrix[matrix["intervention"] == INTERCHANGE] if len(matrix) else matrix)
    events = data[data["condition"] == EVENT] if len(data) else data
    if events.empty:
        return plots.no_data("No solved model with gates: no interchange matrix to show.")
    quiet = data[data["condition"] == QUIET].set_index(
        ["task", "arch", "init", "phase", "gate", "event", "behaviour"])["damage"]
    cells = _cells(events)
    several_inits = events["init"].nunique() > 1
    widths = [len(matrix_grid(plots.select(events, dict(zip(("task", "arch", "init"), c,
                                                            strict=True))), c[1])[2])
              for c in cells]
    fig, axes = plt.subplots(len(cells), 2, squeeze=False, layout="constrained",
                             figsize=(2 * (0.6 * max(widths) + 2.0) + 1.5, 3.0 * len(cells)))
    for r, (task, arch, init) in enumerate(cells):
        here = plots.select(events, {"task": task, "arch": arch, "init": init})
        grids = {p: matrix_grid(here[here["phase"] == p], arch) for p in ("trained", "initial")}
        values = np.concatenate([g[0].to_numpy(dtype=float).ravel() for g in grids.values()])
        limit = max(float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0, 1e-3)
        norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
        predicted = {(gate, role, b) for role, (gate, _) in role_off(arch).items()
                     for b in NEEDS.get(task, {}).get(role, ())}
        metric = "MSE gained" if tasks.get(task).kind == "regression" else "accuracy lost"
        digits = 2 if limit >= 0.1 else 3  # small damages would all read 0.00
        for c, phase in enumerate(("trained", "initial")):
            ax = axes[r, c]
            grid, rows, columns = grids[phase]
            # Square cells: a task with few event x behaviour columns gets a narrow panel
            # instead of cells stretched across the width of the widest task's.
            image = ax.imshow(grid.to_numpy(dtype=float), cmap="RdBu_r", norm=norm,
                              aspect="equal")
            for i, gate in enumerate(rows):
                for j, (event, behaviour) in enumerate(columns):
                    v = grid.iloc[i, j]
                    text = f"{v:.{digits}f}" if np.isfinite(v) else ""
                    if (gate, event, behaviour) in predicted:
                        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False,
                                                   lw=2, ec="black"))
                        q = quiet.get((task, arch, init, phase, gate, event, behaviour))
                        if q is not None and np.isfinite(q):
                            text += f"\nq {q:.{digits}f}"
                    if text:
                        ax.text(j, i, text, ha="center", va="center", fontsize=7,
                                color="white" if np.isfinite(v) and abs(v) > 0.6 * limit
                                else "black")
            ax.set_yticks(range(len(rows)), rows if c == 0 else [""] * len(rows))
            ax.set_xticks(range(len(columns)),
                          [f"at {e}: {b.replace('_', ' ')}" for e, b in columns],
                          rotation=40, ha="right", fontsize=8)
            ax.grid(False)
            ax.set_title(f"{_cell_title(task, arch, init, several_inits)}: "
                         f"{PHASE_TITLES[phase]}", fontsize=10)
        fig.colorbar(image, ax=list(axes[r]), shrink=0.85, pad=0.01,
                     label=f"damage ({metric})")
    fig.suptitle("Damage of each gate's interchange at each event, per behaviour (mean over "
                 "solved seeds; outlined: predicted roles, q: at lag-matched quiet steps)")
    return fig


def causal_null(models: pd.DataFrame, null: pd.DataFrame) -> plt.Figure:
    """One row per task x arch (x init) x role, one column per group size k: per seed, the
    damage of the random groups (box) and of the targeted units (red diamond), trained."""
    if models.empty:
        return plots.no_data("No solved model with a role gate: no unit ablation to show.")
    several_inits = models["init"].nunique() > 1
    keys = list(dict.fromkeys(zip(models["task"], models["arch"], models["init"],
                                  models["event"], models["gate"], strict=True)))
    ks = sorted(models["k"].unique())
    panel = ["task", "arch", "init", "event", "gate"]
    nulls = {key: part.groupby(["k", "seed"])["damage"].apply(
                 lambda d: d.to_numpy(dtype=float))
             for key, part in null.groupby(panel, sort=False)}
    hits = models.set_index([*panel, "k", "seed"])["targeted"].sort_index()
    fig, axes = plt.subplots(len(keys), len(ks), squeeze=False,
                             figsize=(3.6 * len(ks) + 1, 2.5 * len(keys)))
    for r, key in enumerate(keys):
        task, arch, init, role, gate = key
        seeds = sorted(plots.select(models, dict(zip(panel, key, strict=True)))["seed"].unique())
        dists = nulls.get(key, pd.Series(dtype=object))
        for c, k in enumerate(ks):
            ax = axes[r, c]
            here = [(s, dists.get((k, seed))) for s, seed in enumerate(seeds)]
            here = [(s, d) for s, d in here if d is not None and d.size]
            if here:
                ax.boxplot([d for _, d in here], positions=[s for s, _ in here], widths=0.5,
                           flierprops={"markersize": 2}, patch_artist=True,
                           boxprops={"facecolor": "#999999"}, medianprops={"color": "black"},
                           manage_ticks=False)
            marks = [(s, hits.get((*key, k, seed))) for s, seed in enumerate(seeds)]
            marks = [(x, y) for x, y in marks if y is not None and np.isfinite(y)]
            if marks:
                ax.plot(*zip(*marks, strict=True), marker="D", color="#b42318", markersize=5,
                        ls="none")
            ax.axhline(0, color="black", lw=0.6)
            ax.set_xticks(range(len(seeds)), [f"seed {s}" for s in seeds], fontsize=8)
            ax.set_xlim(-0.6, len(seeds) - 0.4)
            ax.set_title(f"{_cell_title(task, arch, init, several_inits)}: {gate} "
                         f"at {role}, k = {k}", fontsize=9)
            if c == 0:
                ax.set_ylabel("damage", fontsize=9)
    fig.suptitle("Unit ablation on the trained models: targeted units (red) vs random groups "
                 "(boxes), per seed", y=1 - 0.25 / fig.get_figheight())
    # fixed spacing: tight_layout on dozens of panels costs seconds
    fig.subplots_adjust(left=0.07, right=0.98, top=1 - 0.85 / fig.get_figheight(),
                        bottom=0.3 / fig.get_figheight(), hspace=0.45, wspace=0.25)
    return fig


# Figure name -> function(tables, settings); tables are named as in the rules file.
FIGURES = {
    "causal_matrix": lambda tables, settings: causal_matrix(tables["matrix"]),
    "causal_null": lambda tables, settings: causal_null(tables["ablation_models"],
                                                        tables["ablation_null"]),
}
