"""Figure of the saturation analysis: per-unit left/right saturation."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from gateroles import plots


def saturation(saturation_table: pd.DataFrame, low: float, high: float) -> plt.Figure:
    """Karpathy-style scatter: per unit, fraction of steps right- vs left-saturated.

    Rows = architecture, columns = sigmoid gate type; colour = task, trained; grey = initial.
    """
    data = saturation_table[saturation_table["solved"]]
    if data.empty:
        return plots.no_data("No model solved its task: no saturation to show.")
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
                ax.scatter(pts["left"], pts["right"], s=8, alpha=0.6,
                           color=plots.TASK_COLOURS[task], label=f"{task} (trained)")
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



# Figure name -> function(tables, settings); tables are named as in the rules file.
FIGURES = {"saturation": lambda tables, settings: saturation(tables["saturation"], settings.low,
                                                             settings.high)}
