"""Figure of claim C2: event-triggered gate averages, trained vs initial."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from gateroles import plots


def event_averages(aligned: pd.DataFrame) -> plt.Figure:
    """Gate activation aligned on each event, trained (solid) vs initial (dashed).

    One row per task x architecture, one column per event type; solved seeds only.
    """
    data = aligned[aligned["solved"]]
    if data.empty:
        return plots.no_data("No model solved its task: no event-triggered averages to show.")
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
            if plots.select(trained, here).empty:
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"no {event} events\nin {task}", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
                continue
            init_here = plots.select(initial, here)
            for gate, part in plots.select(trained, here).groupby("gate"):
                band = plots.mean_band(part, "offset", "value")
                ax.plot(band["offset"], band["mean"], color=plots.GATE_COLOURS[gate], lw=2,
                        label=f"{gate} (trained)")
                ax.fill_between(band["offset"], band["lo"], band["hi"],
                                color=plots.GATE_COLOURS[gate], alpha=0.2)
                init_band = plots.mean_band(init_here[init_here["gate"] == gate], "offset", "value")
                ax.plot(init_band["offset"], init_band["mean"], color=plots.GATE_COLOURS[gate],
                        lw=1.2, ls="--", label=f"{gate} (initial)")
            ax.axvline(0, color="black", lw=0.7)
            ax.set_title(f"{task} / {arch.upper()}: {event}", fontsize=11)
            ax.set_ylabel("mean gate activation")
            if r == len(panels) - 1:
                ax.set_xlabel("steps from event")
        plots.legend_right(axes[r, 0], axes[r, -1])
    fig.suptitle("Event-triggered gate averages (mean over units; band: 95% CI over solved "
                 "seeds)", y=1.0)
    fig.tight_layout()
    return fig



# Figure name -> function(tables, settings); tables are named as in the rules file.
FIGURES = {"event_averages": lambda tables, settings: event_averages(tables["aligned"])}
