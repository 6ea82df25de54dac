"""C1 role tests across seeds: attribution of state changes and context dependence.

Predictions, one per task x architecture x role (`architectures.ROLE_GATES`), decided on the
per-seed change from step 0 (`stats.prediction_row`, Holm within claim C1):

* attribution: in the memory-carrying units, the erasing term's magnitude concentrates at
  resets (log of its mean at resets over its mean elsewhere rises from step 0), and more than
  the writing term's does at resets; the writing term's concentrates at stores, more than the
  erasing term's (LSTM: the forget and the input gate's terms; GRU: the two parts of its
  update, both gated by z);
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
        lead=attribution["concentration"] - attribution["other_concentration"]))
    for (task, arch, init, event), group in table.groupby(CELL_KEYS + ["event"], sort=True):
        if event not in ROLE_GATES[arch]:
            continue  # the variant lacks the gate of this role
        term = ROLE_TERMS[event]
        owner = TERM_OWNER[SPECS[arch].cell, term]
        other = TERM_OWNER[SPECS[arch].cell, "write" if term == "erase" else "erase"]
        keys = {"claim": "C1", "evidence": ATTRIBUTION, "task": task, "arch": arch,
                "init": init, "n_unsolved": _unsolved(group)}
        trained, initial = _per_seed(group, "concentration")
        rows.append(stats.prediction_row(
            trained, initial, +1, settings, **keys,
            prediction=f"{owner}'s {term} concentrates at {event}s"))
        trained, initial = _per_seed(group, "lead")
        rows.append(stats.prediction_row(
            trained, initial, +1, settings, **keys,
            prediction=f"{owner} more than {other} at {event}s"))
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
