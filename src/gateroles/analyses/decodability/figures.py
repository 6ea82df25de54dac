"""Figures of the probes (C1 decodability)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from gateroles import plots
from gateroles.architectures import ROLE_GATES, SIGMOID_GATES, order
from gateroles.tasks import EVENTS

SOURCE_COLOURS = {**plots.GATE_COLOURS, "cell_candidate": "#a6761d", "candidate": "#a6761d",
                  "cell": "#1f78b4", "hidden": "#333333", "input_window": "#999999"}


SOURCE_ORDER = ("input", "forget", "output", "reset", "update", "cell_candidate", "candidate",
                "cell", "hidden", "input_window")


def _sources(frame: pd.DataFrame) -> list[str]:
    present = set(frame["source"])
    return [s for s in SOURCE_ORDER if s in present] + sorted(present - set(SOURCE_ORDER))


def selectivity_heatmap(probes: pd.DataFrame) -> plt.Figure:
    """Mean selectivity over solved seeds, source x variable; rows = task, columns = arch x
    (initial, trained)."""
    data = probes[probes["solved"]]
    if data.empty:
        return plots.no_data("No model solved its task: no probes to show.")
    tasks = list(dict.fromkeys(data["task"]))
    archs = order(set(data["arch"]))
    phases = (("initial", data["step"] == 0), ("trained", data["step"] == data["final_step"]))
    fig, axes = plt.subplots(len(tasks), 2 * len(archs),
                             figsize=(3.3 * 2 * len(archs), 0.9 + 2.9 * len(tasks)),
                             squeeze=False)
    for r, task in enumerate(tasks):
        for a, arch in enumerate(archs):
            for p, (phase, keep) in enumerate(phases):
                ax = axes[r, 2 * a + p]
                part = data[keep & (data["task"] == task) & (data["arch"] == arch)]
                if part.empty:
                    ax.set_axis_off()
                    continue
                grid = (part.groupby(["source", "variable"])["selectivity"].mean().unstack()
                        .reindex(_sources(part)))
                sns.heatmap(grid, ax=ax, cmap="vlag", center=0, vmin=-1, vmax=1, annot=True,
                            fmt=".2f", annot_kws={"size": 8}, cbar=False, linewidths=0.5)
                ax.set_title(f"{task} / {arch.upper()}, {phase}", fontsize=10)
                ax.set_xlabel("")
                ax.set_ylabel("source" if p == 0 and a == 0 else "")
                ax.tick_params(axis="x", labelrotation=30, labelsize=8)
                ax.tick_params(axis="y", labelrotation=0, labelsize=8)
                for label in ax.get_xticklabels():
                    label.set_horizontalalignment("right")
    fig.suptitle("Probe selectivity (task minus control score), mean over solved seeds; "
                 "initial = step 0, trained = last checkpoint", y=1.0)
    fig.tight_layout(rect=(0, 0, 0.96, 1))
    bar = fig.add_axes((0.965, 0.3, 0.01, 0.4))
    fig.colorbar(plt.cm.ScalarMappable(plt.Normalize(-1, 1), sns.color_palette("vlag",
                                                                               as_cmap=True)),
                 cax=bar, label="selectivity")
    return fig


def emergence_curves(probes: pd.DataFrame) -> plt.Figure:
    """Selectivity against training step of every sigmoid gate, for each role's variable.

    The gate each role predicts (`ROLE_GATES`) is drawn thick; solved seeds only.
    """
    roles = {arch: {role: gate for role, (gate, _) in r.items()} for arch, r in ROLE_GATES.items()}
    events, gates = EVENTS, SIGMOID_GATES
    data = probes[probes["solved"]]
    panels = [(task, arch, role, events[task][role], gate)
              for task in dict.fromkeys(data["task"])
              for arch in order(set(data["arch"]))
              for role, gate in roles[arch].items() if role in events[task]
              and not data[(data["task"] == task) & (data["arch"] == arch)].empty]
    if not panels:
        return plots.no_data("No model solved its task: no emergence curves to show.")
    n_cols = 3
    n_rows = -(-len(panels) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4.6 * n_cols, 3.3 * n_rows),
                             squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    for ax, (task, arch, role, variable, predicted) in zip(axes.flat, panels, strict=False):
        part = plots.select(data, {"task": task, "arch": arch, "variable": variable})
        # Seeds stop at different steps: keep the steps every seed passed through, and put
        # each seed's last checkpoint at one "final" position, so every point averages all seeds.
        final = part["step"] == part["final_step"]
        common = set.intersection(*(set(g.loc[g["step"] < g["final_step"], "step"])
                                    for _, g in part.groupby("seed")))
        part, end_x = plots.final_at_end(part[final | part["step"].isin(common)])
        for gate in gates[arch]:
            band = plots.mean_band(part[part["source"] == gate], "step", "selectivity")
            thick = gate == predicted
            ax.plot(band["step"], band["mean"], color=plots.GATE_COLOURS[gate],
                    lw=2.4 if thick else 1.1, marker="o", ms=3,
                    label=gate + (" (predicted)" if thick else ""))
            ax.fill_between(band["step"], band["lo"], band["hi"], color=plots.GATE_COLOURS[gate],
                            alpha=0.2 if thick else 0.08)
        base = plots.mean_band(part[part["source"] == "input_window"], "step", "selectivity")
        ax.plot(base["step"], base["mean"], color="grey", lw=1, ls=":", label="input window")
        ax.set_xscale("symlog", linthresh=25)
        ticks = sorted(common)
        ax.set_xticks([*ticks, end_x], [*map(str, ticks), "final"], fontsize=7)
        ax.minorticks_off()
        ax.set_title(f"{task} / {arch.upper()}: {variable} ({role})", fontsize=10)
        ax.set_xlabel("training step (symlog)")
        ax.set_ylabel("selectivity")
        ax.legend(fontsize=7, loc="best")
    fig.suptitle("Emergence of role selectivity over training (mean over solved seeds, band: "
                 "95% CI; \"final\" = each seed's last checkpoint)", y=1.0)
    fig.tight_layout()
    return fig


def task_vs_control(probes: pd.DataFrame) -> plt.Figure:
    """Task score against control score per source and variable (mean over solved seeds).

    Rows = architecture, columns = task; filled = trained, open = initial. Points below the
    diagonal are selective; the distance to it is the selectivity.
    """
    data = probes[probes["solved"]]
    if data.empty:
        return plots.no_data("No model solved its task: no probe scores to show.")
    tasks = list(dict.fromkeys(data["task"]))
    archs = order(set(data["arch"]))
    fig, axes = plt.subplots(len(archs), len(tasks), figsize=(4.3 * len(tasks), 4.2 * len(archs)),
                             squeeze=False)
    for r, arch in enumerate(archs):
        for c, task in enumerate(tasks):
            ax = axes[r, c]
            part = plots.select(data, {"task": task, "arch": arch})
            if part.empty:
                ax.set_axis_off()
                continue
            variables = list(dict.fromkeys(part["variable"]))
            markers = dict(zip(variables, "osD^v<>", strict=False))
            for keep, filled in ((part["step"] == 0, False),
                                 (part["step"] == part["final_step"], True)):
                means = (part[keep].groupby(["source", "variable"])[["task_score",
                                                                    "control_score"]]
                         .mean().reset_index())
                for row in means.itertuples():
                    colour = SOURCE_COLOURS.get(row.source, "black")
                    ax.scatter(row.control_score, row.task_score, marker=markers[row.variable],
                               s=34, linewidths=1.1, edgecolors=colour,
                               facecolors=colour if filled else "none", alpha=0.85)
            ax.plot([0, 1], [0, 1], color="black", lw=0.6, ls=":")
            ax.set_xlim(-0.05, 1.05)
            ax.set_ylim(-0.05, 1.05)
            ax.set_aspect("equal")
            ax.set_title(f"{task} / {arch.upper()}", fontsize=10)
            ax.set_xlabel("control score")
            ax.set_ylabel("task score")
            handles = [plt.Line2D([], [], ls="", marker=markers[v], color="black", mfc="none",
                                  label=v) for v in variables]
            ax.legend(handles=handles, fontsize=7, loc="lower right", title="variable",
                      title_fontsize=7)
    sources = _sources(data)
    handles = [plt.Line2D([], [], ls="", marker="o", color=SOURCE_COLOURS.get(s, "black"),
                          label=s) for s in sources]
    handles += [plt.Line2D([], [], ls="", marker="o", color="black", mfc="none",
                           label="initial (open)"),
                plt.Line2D([], [], ls="", marker="o", color="black", label="trained (filled)")]
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8,
               frameon=False, title="source")
    fig.suptitle("Probe task vs control score (balanced accuracy or R^2; mean over solved "
                 "seeds)", y=1.0)
    fig.tight_layout()
    return fig



# Figure name -> function(tables, settings); tables are named as in the rules file.
FIGURES = {
    "c1_selectivity_heatmap": lambda tables, settings: selectivity_heatmap(tables["probes"]),
    "c1_emergence": lambda tables, settings: emergence_curves(tables["probes"]),
    "c1_task_vs_control": lambda tables, settings: task_vs_control(tables["probes"]),
}
