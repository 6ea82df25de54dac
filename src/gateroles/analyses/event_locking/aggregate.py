"""C2 across seeds: does each predicted gate move at its event, more than at step 0?

Two lines of evidence per prediction (`architectures.ROLE_GATES`: gate, event, direction):
the population effect (mean activation over units at the event minus elsewhere) and the share
of units whose own response is significant in the predicted direction. Each is decided on the
per-seed change from step 0 (`stats.prediction_row`; solved seeds only), Holm-adjusted within
claim C2.
"""

from __future__ import annotations

import pandas as pd

from gateroles import stats
from gateroles.architectures import ROLE_GATES
from gateroles.study import CELL_KEYS, at_phase

POPULATION, UNITS = "population mean", "share of units"


def _per_seed(phases: pd.DataFrame, value: str) -> tuple[pd.Series, pd.Series]:
    wide = phases.pivot_table(index="seed", columns="phase", values=value)
    return (wide.get("trained", pd.Series(dtype=float)),
            wide.get("initial", pd.Series(dtype=float)))


def c2_verdicts(contrast: pd.DataFrame, units: pd.DataFrame, settings: stats.Settings
                ) -> pd.DataFrame:
    """Claim C2, one row per task x arch x init x (event, gate, direction) x line of evidence.

    Population effect: mean gate activation at the event minus at every other step
    (activation units). Unit share: fraction of units responding significantly in the
    predicted direction. Both per seed at the last checkpoint, against step 0.
    """
    rows = []
    for (task, arch, init), group in at_phase(contrast[contrast["solved"]]).groupby(
            CELL_KEYS, sort=True):
        unsolved = int(contrast[(contrast["task"] == task) & (contrast["arch"] == arch)
                                & (contrast["init"] == init) & ~contrast["solved"]]
                       ["seed"].nunique())
        cell_units = at_phase(units[units["solved"] & (units["task"] == task)
                                    & (units["arch"] == arch) & (units["init"] == init)])
        for event, (gate, direction) in ROLE_GATES[arch].items():
            sel = group[(group["event"] == event) & (group["gate"] == gate)]
            if sel.empty:
                continue  # this task has no such event
            verb = "rises" if direction > 0 else "drops"
            keys = {"claim": "C2", "task": task, "arch": arch, "init": init,
                    "n_unsolved": unsolved}
            trained, initial = _per_seed(sel, "difference")
            rows.append(stats.prediction_row(
                trained, initial, direction, settings, **keys, evidence=POPULATION,
                prediction=f"{gate} {verb} at {event} (mean over units)"))
            share = "share_up" if direction > 0 else "share_down"
            u = cell_units[(cell_units["event"] == event) & (cell_units["gate"] == gate)]
            trained, initial = _per_seed(u, share)
            rows.append(stats.prediction_row(
                trained, initial, +1, settings, **keys, evidence=UNITS,
                prediction=f"more {gate} units {verb.removesuffix('s')} at {event}"))
    return stats.verdict_table(rows, settings)


def aggregate(tables, runs, settings, stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    return {"contrast": tables["contrast"], "aligned": tables["aligned"],
            "units": tables["units"],
            "c2": c2_verdicts(tables["contrast"], tables["units"], stats_settings)}
