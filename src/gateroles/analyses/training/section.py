"""The tasks-and-training section: chance, thresholds, solved seeds, training curves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles.report import Inputs, ci, fmt, folded, html_table


def solved_table(solved: pd.DataFrame) -> pd.DataFrame:
    decimals = np.where(solved["metric"] == "mse", 4, 3)
    return pd.DataFrame({
        "task": solved["task"], "arch": solved["arch"], "init": solved["init"],
        "metric": solved["metric"], "chance": [fmt(c, d) for c, d in
                                               zip(solved["chance"], decimals, strict=True)],
        "threshold": solved["threshold"].map(lambda t: f"{t:g}"),
        "budget (steps)": solved["steps"],
        "slowest seed first passed it at": solved["steps_to_solve_max"].map(
            lambda s: "never" if not np.isfinite(s) else f"{int(s)}"),
        "solved seeds": [f"{s} / {n}" for s, n in zip(solved["n_solved"], solved["n_seeds"],
                                                      strict=True)],
        "test score, mean [95% CI]": [ci(*row, decimals=d) for row, d in zip(
            solved[["test_score", "ci_low", "ci_high"]].to_numpy(), decimals, strict=True)],
        "unsolved seeds": solved["unsolved_seeds"].fillna("").astype(str),
    })



def budget_sentence(solved: pd.DataFrame) -> str:
    """How far into its budget the slowest seed of any cell first passed its threshold (from
    the table: whether the budgets were long enough is a result, not a given)."""
    late = solved["steps_to_solve_max"] / solved["steps"]
    if not np.isfinite(late).any():
        return "No seed passed its threshold within its budget."
    worst = solved.loc[late.idxmax()]
    return (f"The slowest seed of any cell first passed its threshold at "
            f"{late.max():.0%} of its budget ({worst['task']}, {worst['arch']}, "
            f"{worst['init']}: step {int(worst['steps_to_solve_max'])} of "
            f"{int(worst['steps'])}); the median cell's slowest seed at "
            f"{np.nanmedian(late):.0%}.")


def section(inputs: Inputs) -> dict:
    runs = inputs.table("runs")
    unsolved = runs[~runs["solved"]]
    note = ""
    if len(unsolved):
        names = ", ".join(f"{r.task}/{r.arch}/{r.init}/seed {r.seed}" for r in
                          unsolved.itertuples())
        note = (f"{len(unsolved)} of {len(runs)} models did not solve their task and are "
                f"excluded from the verdicts: {names}.")
    solved = inputs.table("solved", dtype={"unsolved_seeds": str})
    table = solved_table(solved)
    return {"template": "analyses/training/section.html.j2", "claims": [],
            "solved_table": folded(html_table(table), "Budgets, solved seeds and test scores "
                                   "per task, architecture and init", len(table)),
            "budget_sentence": budget_sentence(solved), "unsolved_note": note,
            "figures": inputs.figures("training_curves")}

