"""The toy analysis's figure: each gate's mean, step 0 against trained."""

from __future__ import annotations

import matplotlib.pyplot as plt


def gate_means(means):
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for phase, marker in (("initial", "x"), ("trained", "o")):
        part = means[means["phase"] == phase]
        ax.scatter(part["gate"] + " (" + part["arch"] + ")", part["mean"], marker=marker,
                   label=phase)
    ax.set(ylabel="mean activation", ylim=(0, 1))
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend()
    return fig


FIGURES = {"gate_means": lambda tables, settings: gate_means(tables["means"])}
