"""The figure of claim C7: the push at each gate's events over the first steps, beside the
gates' activations at those events over training."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from gateroles import plots
from gateroles.analyses.emergence import PLURAL, cell_roles

EVENT_ORDER = ("reset", "store", "query")
ARCHS = ("lstm", "gru")


def _solved(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["solved"].astype(bool)] if len(table) else table


def chosen_task(updates: pd.DataFrame) -> str | None:
    """The task the figure shows: the first one (in table order) whose LSTM or GRU, default
    init, has a reset event (else any event)."""
    main = updates[updates["arch"].isin(ARCHS) & (updates["init"] == "default")]
    if main.empty:
        return None
    with_reset = main[main["event"] == "reset"]
    return str((with_reset if len(with_reset) else main)["task"].iloc[0])


def _cumulative(updates: pd.DataFrame) -> pd.DataFrame:
    """Per seed x gate: the running sum over the replayed steps of the summed gradient's push."""
    data = updates[updates["kind"] == "gradient"].sort_values("step")
    data = data.assign(cumulative=data.groupby(["seed", "gate"])["value"].cumsum())
    return data




def _band(ax, frame: pd.DataFrame, x: str, y: str, gate: str, role: bool) -> None:
    """Mean over seeds and its band; the role gate's line thicker."""
    band = plots.mean_band(frame, x, y)
    colour = plots.GATE_COLOURS.get(gate, "black")
    ax.plot(band[x], band["mean"], color=colour, lw=3.2 if role else 1.6, label=gate)
    ax.fill_between(band[x], band["lo"], band["hi"], color=colour, alpha=0.2)


def _gate_legend(ax, gates: list[str]) -> None:
    """One entry per gate, in its colour (line widths differ by column: the role gate's)."""
    handles = [Line2D([0], [0], color=plots.GATE_COLOURS.get(g, "black"), lw=2, label=g)
               for g in gates]
    handles.append(Line2D([0], [0], color="grey", lw=3.2, label="role gate (thick)"))
    ax.legend(handles=handles, fontsize=9, loc="center left", bbox_to_anchor=(1.02, 0.5),
              frameon=False)


def mechanism(push: pd.DataFrame, updates: pd.DataFrame) -> plt.Figure:
    """For one task, per architecture (LSTM, GRU) and role event: the cumulative push toward
    the event's role that each gate's weight from the event token receives over the replayed
    first steps (top), and each gate's activation at the event minus at lag-matched quiet
    steps over training, step 0 to the end (bottom). Solved seeds; bands: 95% CI over seeds."""
    push, updates = _solved(push), _solved(updates)
    task = chosen_task(updates) if len(updates) else None
    if task is None:
        return plots.no_data("No solved LSTM or GRU (default init): no push to show.")
    archs = [a for a in ARCHS if not plots.select(updates, {"task": task, "arch": a,
                                                           "init": "default"}).empty]
    events = [e for e in EVENT_ORDER if e in set(updates.loc[updates["task"] == task, "event"])]
    fig, axes = plt.subplots(2 * len(archs), len(events), squeeze=False,
                             figsize=(4.4 * len(events), 3.1 * 2 * len(archs)))
    for r, arch in enumerate(archs):
        here = {"task": task, "arch": arch, "init": "default"}
        first, over = axes[2 * r], axes[2 * r + 1]
        steps = plots.select(updates, here)
        trained = plots.select(push, here)
        for c, event in enumerate(events):
            if event not in cell_roles(arch):
                for ax in (first[c], over[c]):
                    ax.set_axis_off()
                    ax.text(0.5, 0.5, f"no {event} role\nfor the {arch.upper()}", ha="center",
                            va="center", transform=ax.transAxes, color="grey")
                continue
            role_gate, direction = cell_roles(arch)[event]
            toward = "close" if direction < 0 else "open"
            data = _cumulative(steps[steps["event"] == event])
            for gate, part in data.groupby("gate"):
                _band(first[c], part, "step", "cumulative", gate, gate == role_gate)
            first[c].axhline(0, color="black", lw=0.6)
            first[c].set_title(f"{arch.upper()} at {PLURAL.get(event, event)}: push toward "
                               f"'{toward}'\n(role: {role_gate}, thick)", fontsize=10)
            first[c].set_xlabel("training step (replayed)")
            at = trained[trained["event"] == event]
            at = at.assign(contrast=at["activation"] - at["activation_quiet"])
            for gate, part in at.groupby("gate"):
                _band(over[c], part, "step", "contrast", gate, gate == role_gate)
            over[c].axhline(0, color="black", lw=0.6)
            plots.step_axis(over[c], float(at["step"].max()) if len(at) else 25.0)
            over[c].set_title(f"{arch.upper()} at {PLURAL.get(event, event)}: activation over "
                              f"training", fontsize=10)
            over[c].set_xlabel("checkpoint (training step)")
        first[0].set_ylabel("cumulative summed gradient\non the token's weights, toward role")
        over[0].set_ylabel("gate at event\nminus at quiet steps")
        gates = sorted(set(steps["gate"]))
        for row in (first, over):
            _gate_legend(row[-1], gates)
    fig.suptitle(f"{task}: where the error pushes at each event (the first steps, replayed)\n"
                 "and what the gates become over training (GRU: z near 1 keeps)", y=1.0)
    fig.tight_layout()
    return fig


FIGURES = {"c7_mechanism": lambda tables, settings: mechanism(tables["push"],
                                                              tables["updates"])}
