"""C6's learnability across seeds: each seed's reach, each architecture's longest hold learned
by every seed, and the primary predictions with their negative control (package docstring).

The predictions are written before Holm (`predictions`, `stats.prediction_table`): claim C6 is
one Holm family, so its verdict table (`results/tables/c6_verdicts.csv`) is written once, by
the gradient's aggregate (`gradient_flow.aggregate.c6_verdicts`), over these rows and its own."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import stats
from gateroles.analyses.learnability import (
    CONTROL,
    CONTROL_NAME,
    EVIDENCE,
    LEARNED,
    PREDICTIONS,
    Settings,
)

ARM_KEYS = ["task", "arch", "init"]
WHY = ("no step-0 version: a reach is a property of training; the per-seed difference in "
       "sweep positions, paired by seed, against 0")


def reach_table(sweeps: pd.DataFrame) -> pd.DataFrame:
    """Per task x arch x init x seed: the longest hold learned (`reach_hold`, NaN if none)
    and its position in the task's sweep (`reach`, 1 = the shortest hold, 0 = none)."""
    rows = []
    for (task, arch, init, seed), group in sweeps.groupby(ARM_KEYS + ["seed"], sort=False):
        holds = sorted(group["hold"].unique())
        learned = group[group["learned"].astype(bool)]["hold"]
        top = learned.max() if len(learned) else np.nan
        rows.append({"task": task, "arch": arch, "init": init, "seed": int(seed),
                     "reach": holds.index(top) + 1 if len(learned) else 0,
                     "reach_hold": top, "n_holds": len(holds)})
    return pd.DataFrame(rows, columns=["task", "arch", "init", "seed", "reach", "reach_hold",
                                       "n_holds"])


def hold_table(sweeps: pd.DataFrame) -> pd.DataFrame:
    """Per task x arch x init x hold: seeds trained, seeds that learned it, the slowest
    learner's steps, and the mean test score of those trained."""
    rows = []
    for (task, arch, init, hold), group in sweeps.groupby(ARM_KEYS + ["hold"], sort=False):
        trained = group[group["trained"].astype(bool)]
        learned = trained[trained["learned"].astype(bool)]
        rows.append({"task": task, "arch": arch, "init": init, "hold": int(hold),
                     "n_seeds": group["seed"].nunique(), "n_trained": len(trained),
                     "n_learned": len(learned),
                     "budget": trained["budget"].max() if len(trained) else np.nan,
                     "steps_to_solve_max": learned["steps_to_solve"].max() if len(learned)
                     else np.nan,
                     "test_score": trained["test_score"].mean() if len(trained) else np.nan})
    return pd.DataFrame(rows)


def longest_table(reach: pd.DataFrame, holds: pd.DataFrame) -> pd.DataFrame:
    """Per task x arch x init: the longest hold every seed learned (NaN if not the shortest),
    the shortest and the longest of the seeds' longest holds learned (NaN: a seed that
    learned none), and the longest hold swept."""
    rows = []
    for (task, arch, init), group in reach.groupby(ARM_KEYS, sort=False):
        part = holds[(holds["task"] == task) & (holds["arch"] == arch) & (holds["init"] == init)]
        every = part[part["n_learned"] == part["n_seeds"]]["hold"]
        weakest, strongest = group.loc[group["reach"].idxmin()], group.loc[group["reach"].idxmax()]
        rows.append({"task": task, "arch": arch, "init": init, "n_seeds": len(group),
                     "longest_every_seed": every.max() if len(every) else np.nan,
                     "reach_min": weakest["reach_hold"], "reach_max": strongest["reach_hold"],
                     "longest_swept": part["hold"].max()})
    return pd.DataFrame(rows)


def _difference(reach: pd.DataFrame, task: str, arch: str, other: str) -> pd.Series | None:
    """Per seed: reach(arch) - reach(other) on `task` (default init), the seeds both ran;
    None when either did not run."""
    def of(a):
        part = reach[(reach["task"] == task) & (reach["arch"] == a)
                     & (reach["init"] == "default")]
        return part.set_index("seed")["reach"] if len(part) else None
    left, right = of(arch), of(other)
    if left is None or right is None:
        return None
    both = left.index.intersection(right.index)
    return (left[both] - right[both]).astype(float)


def verdict_rows(reach: pd.DataFrame, stats_settings: stats.Settings) -> list[dict]:
    """Per task and prediction: the primary row (lstm vs the compared architecture) beside its
    negative control (`CONTROL` in place of lstm)."""
    rows = []
    for task in reach["task"].unique():
        for other, (prediction, rival) in PREDICTIONS.items():
            effect = _difference(reach, task, LEARNED, other)
            if effect is None:
                continue
            keys = dict(claim="C6", evidence=EVIDENCE, prediction=prediction, task=task,
                        arch=LEARNED, init="default", rival=rival,
                        note=f"reach of {LEARNED} minus reach of {other}, in positions of the "
                             f"hold sweep")
            row = stats.reference_row(effect, 0.0, +1, stats_settings, why=WHY, **keys)
            control = _difference(reach, task, CONTROL, other)
            control_row = (None if control is None else
                           stats.reference_row(control, 0.0, +1, stats_settings, why=WHY,
                                               **{**keys, "arch": CONTROL}))
            rows.append(stats.with_control(row, control_row, CONTROL_NAME))
    return rows


def aggregate(tables: dict, runs: pd.DataFrame | None, settings: Settings,
              stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    """`tables["sweeps"]`: the sweep tables stacked (the sweeps train their own models, so
    there is no runs table to read: `runs` is None). `predictions`: the verdict rows before
    Holm, which C6's one verdict table adjusts together with the gradient's (module
    docstring)."""
    sweeps = tables["sweeps"]
    reach = reach_table(sweeps)
    holds = hold_table(sweeps)
    return {"reach": reach, "holds": holds, "longest": longest_table(reach, holds),
            "predictions": stats.prediction_table(verdict_rows(reach, stats_settings))}
