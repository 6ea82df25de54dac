"""Figures of claim C5: MI between gates and disentanglement over training."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gateroles import plots

PAIR_COLOURS = {"forget-input": "#d95f02", "forget-output": "#7570b3", "input-output": "#1b9e77",
                "reset-update": "#e7298a"}


METRIC_LABELS = {"mig": "MIG", "modularity": "modularity",
                 "dci_disentanglement": "DCI disentanglement",
                 "dci_completeness": "DCI completeness",
                 "dci_informativeness": "DCI informativeness", "sap": "SAP"}


def c5_gate_mi(gate_mi: pd.DataFrame, bins: int) -> plt.Figure:
    """MI between gate types of the same unit against training step, solved seeds.

    Rows = architecture, columns = task; colour = gate pair; all on logits. Solid: same unit;
    dash-dot: same unit given the current input's type; dotted: *different* units (unit j vs
    j+1) given the input, the baseline of the dash-dot line (what any two units share through
    the recurrent state). Mean over seeds with a 95% CI band (solid).
    """
    data = gate_mi[gate_mi["solved"] & (gate_mi["bins"] == bins)]
    if data.empty:
        return plots.no_data("No model solved its task: no MI between gates to show.")
    data, end = plots.final_at_end(data)
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
            here = plots.select(data, {"arch": arch, "task": task})
            if here.empty:
                ax.set_axis_off()
                continue
            for pair, part in here.groupby("pair"):
                for rep, summary, ls in styles:
                    sel = plots.select(part, {"representation": rep, "summary": summary})
                    band = plots.mean_band(sel, "step", "mi")
                    label = pair if (rep, summary) == ("logit", "same_unit") else None
                    ax.plot(band["step"], band["mean"], color=PAIR_COLOURS.get(pair, "black"),
                            ls=ls, lw=2 if ls == "-" else 1.2, label=label)
                    top = max(top, float(band[["mean", "hi"]].max().max()))
                    if ls == "-":
                        ax.fill_between(band["step"], band["lo"], band["hi"], alpha=0.2,
                                        color=PAIR_COLOURS.get(pair, "black"))
            plots.step_axis(ax, end)
            plots.end_ticks(ax, end)
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
    """MIG, modularity and DCI against training step, every solved seed (thin) and means,
    with each score's shuffled-factor null (crosses, at step 0 and the end).

    Rows = architecture, columns = metric; colour = task; unit-level codes. MIG and modularity
    are computed at every checkpoint; DCI (and SAP) at step 0 and the last step only.
    """
    data = scores[scores["solved"] & (scores["level"] == "unit")]
    if data.empty:
        return plots.no_data("No model solved its task: no disentanglement scores to show.")
    archs = list(dict.fromkeys(data["arch"]))
    metrics = [m for m in METRIC_LABELS if m in set(data["metric"]) and m != "sap"]
    fig, axes = plt.subplots(len(archs), len(metrics), figsize=(3.5 * len(metrics),
                                                                3.3 * len(archs)),
                             squeeze=False, sharex=True)
    for r, arch in enumerate(archs):
        for c, metric in enumerate(metrics):
            ax = axes[r, c]
            here = plots.select(data, {"arch": arch, "metric": metric})
            for task, part in here.groupby("task", sort=False):
                colour = plots.TASK_COLOURS.get(task, "black")
                for _, seed_part in part.groupby("seed"):
                    seed_part = seed_part.sort_values("step")
                    ax.plot(seed_part["step"], seed_part["value"], color=colour, lw=0.7,
                            alpha=0.45, marker="." if len(seed_part) < 3 else None)
                init = part[part["step"] == 0]["value"].mean()
                trained = part[part["step"] == part["final_step"]]
                ax.plot([0, trained["final_step"].median()], [init, trained["value"].mean()],
                        color=colour, lw=0, marker="o", ms=7, mec="black", mew=0.6,
                        label=task)
                nulls = part[part["null_mean"].notna()].groupby("step")["null_mean"].mean()
                ax.plot(nulls.index, nulls.to_numpy(), color=colour, lw=0, marker="x", ms=7,
                        mew=1.5)
            plots.step_axis(ax, data["step"].max())
            top = 1.02 if metric != "mig" else min(1.02, 1.2 * float(here["value"].max()))
            ax.set_ylim(0, top)
            ax.set_title(f"{arch.upper()}: {METRIC_LABELS[metric]}", fontsize=11)
            if r == len(archs) - 1:
                ax.set_xlabel("training step (symlog)")
        axes[r, 0].set_ylabel("score")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.suptitle("Disentanglement of gate units from task variables over training (thin: "
                 "seeds; dots: means at step 0 and at the end; crosses: the null with factors "
                 "shuffled)", y=1.0)
    fig.tight_layout()
    fig.legend(handles, labels,
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
        return plots.no_data("No model solved its task: no unit x variable MI to show.")
    task = "reset_recall" if "reset_recall" in set(data["task"]) else data["task"].iloc[0]
    archs = list(dict.fromkeys(data[data["task"] == task]["arch"]))
    fig, axes = plt.subplots(len(archs), 2, figsize=(15, 2.9 * len(archs) + 0.8),
                             squeeze=False, layout="constrained")
    for r, arch in enumerate(archs):
        here = plots.select(data, {"task": task, "arch": arch})
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



# Figure name -> function(tables, settings); tables are named as in the rules file.
# Each reads one table, passed as `table`.
FIGURES = {
    "c5_gate_mi": lambda tables, settings: c5_gate_mi(tables["gate_mi"], settings.main_bins),
    "c5_disentanglement": lambda tables, settings: c5_disentanglement(tables["disentanglement"]),
    "c5_unit_factor_mi": lambda tables, settings: c5_unit_factor_mi(tables["unit_factor"]),
}
