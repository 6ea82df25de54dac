"""C1 role tests across seeds: attribution of state changes and context dependence.

Predictions, one per task x architecture x role (`architectures.ROLE_GATES`), decided on the
per-seed change from step 0 (`stats.prediction_row`, Holm within claim C1):

* attribution: the erasing term's share of the state change in the memory-carrying units is
  larger at resets than elsewhere, and the writing term's share larger at stores than
  elsewhere (LSTM: the forget and the input gate's terms; GRU: the two parts of its update);
* context: the role gate moves in its predicted direction more where its event token must act
  than where the same token must not (e.g. forget lower at an armed RESET than at an unarmed
  one; input higher at a STORE_k that changes the memory than at one that repeats it).
"""

from __future__ import annotations

import pandas as pd

from gateroles import stats
from gateroles.analyses.roles.measure import ROLE_TERMS
from gateroles.architectures import ROLE_GATES, SPECS
from gateroles.study import CELL_KEYS, at_phase

ATTRIBUTION, CONTEXT = "attribution of state changes", "context dependence"
TERM_OWNER = {("lstm", "erase"): "the forget term", ("lstm", "write"): "the input term",
              ("gru", "erase"): "the update's erasing part",
              ("gru", "write"): "the update's writing part"}


def _per_seed(group: pd.DataFrame, value: str) -> tuple[pd.Series, pd.Series]:
    wide = group[group["solved"]].pivot_table(index="seed", columns="phase", values=value)
    return (wide.get("trained", pd.Series(dtype=float)),
            wide.get("initial", pd.Series(dtype=float)))


def _unsolved(group: pd.DataFrame) -> int:
    return int(group.loc[~group["solved"], "seed"].nunique())


def role_verdicts(attribution: pd.DataFrame, context: pd.DataFrame, settings: stats.Settings
                  ) -> pd.DataFrame:
    rows = []
    table = at_phase(attribution.assign(
        contrast=attribution["share_at_event"] - attribution["share_elsewhere"]))
    for (task, arch, init, event), group in table.groupby(CELL_KEYS + ["event"], sort=True):
        if event not in ROLE_GATES[arch]:
            continue  # the variant lacks the gate of this role
        term = ROLE_TERMS[event]
        trained, initial = _per_seed(group, "contrast")
        owner = TERM_OWNER[SPECS[arch].cell, term]
        rows.append(stats.prediction_row(
            trained, initial, +1, settings, claim="C1", evidence=ATTRIBUTION, task=task,
            arch=arch, init=init, n_unsolved=_unsolved(group),
            prediction=f"{owner} does more of the {term} at {event}s than elsewhere"))
    table = at_phase(context)
    for (task, arch, init, event, gate), group in table.groupby(
            CELL_KEYS + ["event", "gate"], sort=True):
        direction = ROLE_GATES[arch][event][1]
        trained, initial = _per_seed(group, "difference")
        verb = "higher" if direction > 0 else "lower"
        rows.append(stats.prediction_row(
            trained, initial, direction, settings, claim="C1", evidence=CONTEXT, task=task,
            arch=arch, init=init, n_unsolved=_unsolved(group),
            prediction=f"{gate} {verb} where the {event} must act than at the same token "
                       f"where it must not"))
    return stats.verdict_table(rows, settings)


def aggregate(tables, runs, settings, stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    return {"attribution": tables["attribution"], "context": tables["context"],
            "c1_roles": role_verdicts(tables["attribution"], tables["context"],
                                      stats_settings)}
