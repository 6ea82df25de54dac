"""C2 across seeds: does each predicted gate move at its event, more than at step 0?

Two lines of evidence per prediction (`architectures.ROLE_GATES`: gate, event, direction):
the population effect (mean activation over units at the event minus elsewhere) and the share
of units whose own response is significant in the predicted direction. Each is decided on the
per-seed change from step 0 (`stats.prediction_row`; solved seeds only). They are primary
predictions: the competing account "erasure (or writing) goes through another gate's term"
predicts no such movement of this gate. Each runs beside its negative control, the same
prediction on the architecture that holds that gate constant in training
(`architectures.control_of`), where it must not come out supported; the counted ones are one
Holm family (claim C2).
"""

from __future__ import annotations

import pandas as pd

from gateroles import stats
from gateroles.architectures import CONTROLS, ROLE_GATES, SPECS, measured_gates
from gateroles.study import CELL_KEYS, at_phase

POPULATION, UNITS = "population mean", "share of units"
# What the competing account predicts for each role gate's movement at its event.
RIVALS = {"reset": "erasure goes through another term (the input term; for the GRU the "
                   "candidate): this gate need not move at the event",
          "store": "writing is selected by the candidate alone: this gate need not move at the "
                   "event",
          "query": "the read-out is selected by the cell and the read-out weights: this gate "
                   "need not move at the event"}


def _per_seed(phases: pd.DataFrame, value: str) -> tuple[pd.Series, pd.Series]:
    wide = phases.pivot_table(index="seed", columns="phase", values=value)
    return (wide.get("trained", pd.Series(dtype=float)),
            wide.get("initial", pd.Series(dtype=float)))


def c2_verdicts(contrast: pd.DataFrame, units: pd.DataFrame, settings: stats.Settings,
                control_contrast: pd.DataFrame | None = None,
                control_units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Claim C2, one row per task x arch x init x (event, gate, direction) x line of evidence,
    each with its negative control from the control cells' tables (None: not run)."""
    rows = c2_rows(contrast, units, settings)
    controls = (c2_rows(control_contrast, control_units, settings)
                if control_contrast is not None else [])
    return stats.verdict_table(stats.attach_controls(rows, controls), settings)


def c2_rows(contrast: pd.DataFrame, units: pd.DataFrame, settings: stats.Settings
            ) -> list[dict]:
    """The prediction rows (each with its `role_gate`) of every cell of `contrast`.

    Population effect: mean gate activation at the event minus at every other step
    (activation units). Unit share: fraction of units responding significantly in the
    predicted direction. Both per seed at the last checkpoint, against step 0. A control
    architecture's held gate is measured as the constant it is (`measured_gates`), so its
    rows are those of the gate it replaces.
    """
    rows = []
    for (task, arch, init), group in at_phase(contrast[contrast["solved"]]).groupby(
            CELL_KEYS, sort=True):
        unsolved = int(contrast[(contrast["task"] == task) & (contrast["arch"] == arch)
                                & (contrast["init"] == init) & ~contrast["solved"]]
                       ["seed"].nunique())
        cell_units = at_phase(units[units["solved"] & (units["task"] == task)
                                    & (units["arch"] == arch) & (units["init"] == init)])
        # a control architecture's held gate takes the role prediction of the gate it holds
        roles = dict(ROLE_GATES[arch])
        if arch in CONTROLS.values():
            cell = SPECS[arch].cell
            roles.update({event: (gate, sign) for event, (gate, sign)
                          in ROLE_GATES[cell].items()
                          if gate in SPECS[arch].held and gate in measured_gates(arch)})
        for event, (gate, direction) in roles.items():
            sel = group[(group["event"] == event) & (group["gate"] == gate)]
            if sel.empty:
                continue  # this task has no such event
            verb = "rises" if direction > 0 else "drops"
            keys = {"claim": "C2", "task": task, "arch": arch, "init": init,
                    "n_unsolved": unsolved, "role_gate": gate, "rival": RIVALS[event]}
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
    return rows


def aggregate(tables, runs, settings, stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    return {"contrast": tables["contrast"], "aligned": tables["aligned"],
            "units": tables["units"],
            "c2": c2_verdicts(tables["contrast"], tables["units"], stats_settings,
                              tables.get("control_contrast"), tables.get("control_units"))}
