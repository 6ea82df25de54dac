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
TASK_COLOURS = dict(zip(("reset_recall", "adding", "count_reset", "charlm"),
                        sns.color_palette("colorblind", 4), strict=True))
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



# --------------------------------------------------------------------------- C1: probes

SOURCE_COLOURS = {**GATE_COLOURS, "cell_candidate": "#a6761d", "candidate": "#a6761d",
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
        return no_data("No model solved its task: no probes to show.")
    tasks = list(dict.fromkeys(data["task"]))
    archs = sorted(set(data["arch"]), key=["lstm", "gru"].index)
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


def emergence_curves(probes: pd.DataFrame, roles: dict[str, dict[str, str]],
                     events: dict[str, dict[str, str]], gates: dict[str, tuple[str, ...]]
                     ) -> plt.Figure:
    """Selectivity against training step of every sigmoid gate, for each role's variable.

    `roles`: arch -> {role: predicted gate}; `events`: task -> {role: variable}; `gates`:
    arch -> the sigmoid gates compared. The predicted gate is drawn thick; solved seeds only.
    """
    data = probes[probes["solved"]]
    panels = [(task, arch, role, events[task][role], gate)
              for task in dict.fromkeys(data["task"])
              for arch in sorted(set(data["arch"]), key=["lstm", "gru"].index)
              for role, gate in roles[arch].items() if role in events[task]
              and not data[(data["task"] == task) & (data["arch"] == arch)].empty]
    if not panels:
        return no_data("No model solved its task: no emergence curves to show.")
    n_cols = 3
    n_rows = -(-len(panels) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4.6 * n_cols, 3.3 * n_rows),
                             squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    for ax, (task, arch, role, variable, predicted) in zip(axes.flat, panels, strict=False):
        part = _select(data, {"task": task, "arch": arch, "variable": variable})
        # Seeds stop at different steps: keep the steps every seed passed through, and put
        # each seed's last checkpoint at one "final" position, so every point averages all seeds.
        final = part["step"] == part["final_step"]
        common = set.intersection(*(set(g.loc[g["step"] < g["final_step"], "step"])
                                    for _, g in part.groupby("seed")))
        part, end_x = _final_at_end(part[final | part["step"].isin(common)])
        for gate in gates[arch]:
            band = _mean_band(part[part["source"] == gate], "step", "selectivity")
            thick = gate == predicted
            ax.plot(band["step"], band["mean"], color=GATE_COLOURS[gate], lw=2.4 if thick else 1.1,
                    marker="o", ms=3, label=gate + (" (predicted)" if thick else ""))
            ax.fill_between(band["step"], band["lo"], band["hi"], color=GATE_COLOURS[gate],
                            alpha=0.2 if thick else 0.08)
        base = _mean_band(part[part["source"] == "input_window"], "step", "selectivity")
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
        return no_data("No model solved its task: no probe scores to show.")
    tasks = list(dict.fromkeys(data["task"]))
    archs = sorted(set(data["arch"]), key=["lstm", "gru"].index)
    fig, axes = plt.subplots(len(archs), len(tasks), figsize=(4.3 * len(tasks), 4.2 * len(archs)),
                             squeeze=False)
    for r, arch in enumerate(archs):
        for c, task in enumerate(tasks):
            ax = axes[r, c]
            part = _select(data, {"task": task, "arch": arch})
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


# --------------------------------------------------------------------------------------------
# C5: dependence between gates and disentanglement
# --------------------------------------------------------------------------------------------
PAIR_COLOURS = {"forget-input": "#d95f02", "forget-output": "#7570b3", "input-output": "#1b9e77",
                "reset-update": "#e7298a"}
METRIC_LABELS = {"mig": "MIG", "modularity": "modularity",
                 "dci_disentanglement": "DCI disentanglement",
                 "dci_completeness": "DCI completeness",
                 "dci_informativeness": "DCI informativeness", "sap": "SAP"}


def _step_axis(ax, max_step: float) -> None:
    """Steps on a symlog axis (step 0 and late checkpoints both show), plain tick labels."""
    ax.set_xscale("symlog", linthresh=25)
    ticks = [t for t in (0, 25, 100, 400, 1600, 6400) if t <= max_step * 1.05] or [0]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlim(0, max(max_step, 25) * 1.1)


def _final_at_end(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Each seed's last checkpoint moved to one shared x position `end` (seeds stop at
    different steps, so averaging by raw step would leave one-seed tails)."""
    before = frame.loc[frame["step"] < frame["final_step"], "step"]
    end = int(2 * max(before.max() if len(before) else 25, 25))
    return frame.assign(step=frame["step"].where(frame["step"] < frame["final_step"], end)), end


def _end_ticks(ax, end: int) -> None:
    ticks = [t for t in (0, 25, 100, 400, 1600, 6400) if t < end / 3] + [end]
    ax.set_xticks(ticks, [str(t) for t in ticks[:-1]] + ["end"])


def c5_gate_mi(gate_mi: pd.DataFrame, bins: int) -> plt.Figure:
    """MI between gate types of the same unit against training step, solved seeds.

    Rows = architecture, columns = task; colour = gate pair; all on logits. Solid: same unit;
    dash-dot: same unit given the current input's type; dotted: *different* units (unit j vs
    j+1) given the input, the baseline of the dash-dot line (what any two units share through
    the recurrent state). Mean over seeds with a 95% CI band (solid).
    """
    data = gate_mi[gate_mi["solved"] & (gate_mi["bins"] == bins)]
    if data.empty:
        return no_data("No model solved its task: no MI between gates to show.")
    data, end = _final_at_end(data)
    top = 0.0
    archs = list(dict.fromkeys(data["arch"]))
    tasks = list(dict.fromkeys(data["task"]))
    fig, axes = plt.subplots(len(archs), len(tasks), figsize=(4.6 * len(tasks),
                                                                3.6 * len(archs)),
                             squeeze=False, sharey=True)
    styles = (("logit", "same_unit", "-"), ("logit", "same_unit_given_input", "-."),
              ("logit", "shifted_unit_given_input", ":"))
    for r, arch in enumerate(archs):
        for c, task in enumerate(tasks):
            ax = axes[r, c]
            here = _select(data, {"arch": arch, "task": task})
            if here.empty:
                ax.set_axis_off()
                continue
            for pair, part in here.groupby("pair"):
                for rep, summary, ls in styles:
                    sel = _select(part, {"representation": rep, "summary": summary})
                    band = _mean_band(sel, "step", "mi")
                    label = pair if (rep, summary) == ("logit", "same_unit") else None
                    ax.plot(band["step"], band["mean"], color=PAIR_COLOURS.get(pair, "black"),
                            ls=ls, lw=2 if ls == "-" else 1.2, label=label)
                    top = max(top, float(band[["mean", "hi"]].max().max()))
                    if ls == "-":
                        ax.fill_between(band["step"], band["lo"], band["hi"], alpha=0.2,
                                        color=PAIR_COLOURS.get(pair, "black"))
            _step_axis(ax, end)
            _end_ticks(ax, end)
            ax.set_title(f"{task} / {arch.upper()}", fontsize=11)
            if c == 0:
                ax.set_ylabel(f"MI (nats, {bins} quantile bins)")
            if r == len(archs) - 1:
                ax.set_xlabel("training step (symlog)")
            ax.legend(fontsize=8, loc="lower right", title="gate pair", title_fontsize=8)
    for ax in axes.ravel():
        ax.set_ylim(0, 1.05 * top)
    style_handles = [matplotlib.lines.Line2D([], [], color="grey", ls=ls, lw=2 if ls == "-"
                                             else 1.2, label=label)
                     for ls, label in (("-", "same unit (band: 95% CI over seeds)"),
                                       ("-.", "same unit, given the current input"),
                                       (":", "different units (j, j+1), given the input"))]
    fig.suptitle("MI between gate types over training (logits, mean over units; solved seeds; "
                 "end: each seed's last checkpoint)", y=1.0)
    fig.tight_layout()
    fig.legend(handles=style_handles, loc="upper center", ncol=3, fontsize=9,
               bbox_to_anchor=(0.5, 0.0), frameon=False)
    return fig


def c5_disentanglement(scores: pd.DataFrame) -> plt.Figure:
    """MIG, modularity and DCI against training step, every solved seed (thin) and means.

    Rows = architecture, columns = metric; colour = task. MIG and modularity are computed at
    every checkpoint; DCI (and SAP) at step 0 and the last step only.
    """
    data = scores[scores["solved"]]
    if data.empty:
        return no_data("No model solved its task: no disentanglement scores to show.")
    archs = list(dict.fromkeys(data["arch"]))
    metrics = [m for m in METRIC_LABELS if m in set(data["metric"]) and m != "sap"]
    fig, axes = plt.subplots(len(archs), len(metrics), figsize=(3.5 * len(metrics),
                                                                3.3 * len(archs)),
                             squeeze=False, sharex=True)
    for r, arch in enumerate(archs):
        for c, metric in enumerate(metrics):
            ax = axes[r, c]
            here = _select(data, {"arch": arch, "metric": metric})
            for task, part in here.groupby("task", sort=False):
                colour = TASK_COLOURS.get(task, "black")
                for _, seed_part in part.groupby("seed"):
                    seed_part = seed_part.sort_values("step")
                    ax.plot(seed_part["step"], seed_part["value"], color=colour, lw=0.7,
                            alpha=0.45, marker="." if len(seed_part) < 3 else None)
                init = part[part["step"] == 0]["value"].mean()
                trained = part[part["step"] == part["final_step"]]
                ax.plot([0, trained["final_step"].median()], [init, trained["value"].mean()],
                        color=colour, lw=0, marker="o", ms=7, mec="black", mew=0.6,
                        label=task)
            _step_axis(ax, data["step"].max())
            top = 1.02 if metric != "mig" else min(1.02, 1.2 * float(here["value"].max()))
            ax.set_ylim(0, top)
            ax.set_title(f"{arch.upper()}: {METRIC_LABELS[metric]}", fontsize=11)
            if r == len(archs) - 1:
                ax.set_xlabel("training step (symlog)")
        axes[r, 0].set_ylabel("score")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.suptitle("Disentanglement of gate units from task variables over training "
                 "(thin: seeds; DCI at step 0 and the last step only)", y=1.0)
    fig.tight_layout()
    fig.legend(handles, [f"{t} (dots: mean at step 0 and at the end)" for t in labels],
               loc="upper center", ncol=len(labels), fontsize=9, bbox_to_anchor=(0.5, 0.0),
               frameon=False)
    return fig


def c5_unit_factor_mi(unit_factor: pd.DataFrame) -> plt.Figure:
    """MI of every gate unit with every task variable: one trained model per architecture.

    The model: the first solved seed of `reset_recall` (or of the first task). Left: at
    initialisation; right: trained. Units are sorted within each gate by the variable they
    carry most (in the trained model), so blocks show specialisation.
    """
    data = unit_factor[unit_factor["solved"]]
    if data.empty:
        return no_data("No model solved its task: no unit x variable MI to show.")
    task = "reset_recall" if "reset_recall" in set(data["task"]) else data["task"].iloc[0]
    archs = list(dict.fromkeys(data[data["task"] == task]["arch"]))
    fig, axes = plt.subplots(len(archs), 2, figsize=(15, 2.9 * len(archs) + 0.8),
                             squeeze=False, layout="constrained")
    for r, arch in enumerate(archs):
        here = _select(data, {"task": task, "arch": arch})
        seed = int(here["seed"].min())
        here = here[here["seed"] == seed]
        final = int(here["final_step"].iloc[0])
        factors = list(dict.fromkeys(here["factor"]))
        gates = list(dict.fromkeys(here["gate"]))
        trained = here[here["step"] == final].pivot_table(index="factor",
                                                          columns=["gate", "unit"], values="mi")
        order = []
        for gate in gates:
            block = trained[gate].reindex(factors)
            key = sorted(block.columns, key=lambda u: (int(np.argmax(block[u].to_numpy())),
                                                       -float(block[u].max())))
            order += [(gate, u) for u in key]
        here = here.assign(mi=np.clip(here["mi"] / here["factor_entropy"], 0, None))
        vmax = max(float(here["mi"].max()), 1e-6)
        for c, (step, label) in enumerate(((0, "initialisation"), (final, f"trained (step "
                                                                          f"{final})"))):
            ax = axes[r, c]
            mat = (here[here["step"] == step].pivot_table(index="factor", columns=["gate", "unit"],
                                                          values="mi")
                   .reindex(index=factors, columns=pd.MultiIndex.from_tuples(order)))
            im = ax.imshow(mat.to_numpy(), aspect="auto", cmap="viridis",
                           vmin=0, vmax=vmax, interpolation="nearest")
            ax.set_yticks(range(len(factors)), factors)
            bounds = np.cumsum([sum(1 for g, _ in order if g == gate) for gate in gates])
            for b in bounds[:-1]:
                ax.axvline(b - 0.5, color="white", lw=1.5)
            starts = np.concatenate([[0], bounds[:-1]])
            ax.set_xticks((starts + bounds) / 2 - 0.5, [f"{g} units" for g in gates])
            ax.tick_params(axis="x", length=0)
            ax.grid(False)
            ax.set_title(f"{task} / {arch.upper()} seed {seed}: {label}", fontsize=11)
        fig.colorbar(im, ax=axes[r, :].tolist(), label="MI / H(variable)", aspect=12)
    fig.suptitle("MI of each gate unit with each task variable, as a fraction of the "
                 "variable's entropy (units sorted by the variable they carry most when trained)")
    return fig
