"""C1 role tests across seeds: attribution shares and the diagnostic context contrast.

Primary predictions (each a comparison the competing account predicts differently), on solved
seeds, each beside its negative control, the same prediction on the architecture that holds
the gate constant in training (`architectures.control_of`), where it must not come out
supported; the counted ones are one Holm family (claim C1):

* **attribution** (LSTM family; in the memory-carrying units): the forget term does most of
  the extra erasure at resets (its share of the positive excess erasure over quiet steps is
  above one half; rival: erasure goes through the input term, a share below one half), and
  the input gate most of the write's selectivity at stores (its share against the candidate's
  above one half; rival: the candidate alone selects when to write). A share has no role at
  step 0 to compare with, so it is decided against one half, with step 0 shown.
* **context** (`tasks.ROLE_CONTEXTS`: armed vs unarmed RESET, the memory holding a value in
  both): the role gate moves in its predicted direction more at the RESET that must erase than
  at the one that must not, on the memory-carrying units; decided on the change from step 0
  (rival: gates only read their input, so the same token moves the gate alike).
"""

from __future__ import annotations

import pandas as pd

from gateroles import stats
from gateroles.architectures import ROLE_GATES, SPECS
from gateroles.study import CELL_KEYS, at_phase

ATTRIBUTION, CONTEXT = "attribution of state changes", "context dependence"
SHARE_WHY = ("a share against one half: the rival predicts below one half, and before "
             "training no gate has a role to compare with (step 0 shown)")
RIVALS = {"reset": "erasure goes through the input term: the forget term's share below one half",
          "store": "the candidate alone selects when to write: the input gate's share below "
                   "one half",
          CONTEXT: "gates only read their input: the same RESET token moves the gate alike "
                   "whether it must erase or not"}
PREDICTIONS = {"reset": "the forget term does most of the extra erasure at resets",
               "store": "the input gate does most of the write's selectivity at stores"}


def _per_seed(group: pd.DataFrame, value: str) -> tuple[pd.Series, pd.Series]:
    wide = group[group["solved"]].pivot_table(index="seed", columns="phase", values=value)
    return (wide.get("trained", pd.Series(dtype=float)),
            wide.get("initial", pd.Series(dtype=float)))


def _unsolved(group: pd.DataFrame) -> int:
    return int(group.loc[~group["solved"], "seed"].nunique())


def role_rows(shares: pd.DataFrame, context: pd.DataFrame, settings: stats.Settings
              ) -> list[dict]:
    """The prediction rows (each with its `role_gate`) of every cell of the tables."""
    rows = []
    for (task, arch, init, event, gate), group in at_phase(shares).groupby(
            CELL_KEYS + ["event", "gate"], sort=True):
        trained, initial = _per_seed(group, "share")
        rows.append(stats.reference_row(
            trained, 0.5, +1, settings, initial=initial, why=SHARE_WHY, claim="C1",
            evidence=ATTRIBUTION, task=task, arch=arch, init=init,
            n_unsolved=_unsolved(group), role_gate=gate, rival=RIVALS[event],
            prediction=PREDICTIONS[event]))
    for (task, arch, init, event, gate), group in at_phase(context).groupby(
            CELL_KEYS + ["event", "gate"], sort=True):
        direction = ROLE_GATES[SPECS[arch].cell][event][1]  # the role's, held gate or not
        trained, initial = _per_seed(group, "difference")
        verb = "higher" if direction > 0 else "lower"
        rows.append(stats.prediction_row(
            trained, initial, direction, settings, claim="C1", evidence=CONTEXT, task=task,
            arch=arch, init=init, n_unsolved=_unsolved(group), role_gate=gate,
            rival=RIVALS[CONTEXT],
            prediction=f"{gate} {verb} at the {event} that must erase than at the same token "
                       f"that must not (memory units)"))
    return rows


def role_verdicts(shares: pd.DataFrame, context: pd.DataFrame, settings: stats.Settings,
                  control_shares: pd.DataFrame | None = None,
                  control_context: pd.DataFrame | None = None) -> pd.DataFrame:
    """The C1 verdict table: every prediction beside its negative control (None: not run)."""
    rows = role_rows(shares, context, settings)
    controls = (role_rows(control_shares, control_context, settings)
                if control_shares is not None else [])
    return stats.verdict_table(stats.attach_controls(rows, controls), settings)


def _with_controls(table: pd.DataFrame, control: pd.DataFrame | None) -> pd.DataFrame:
    """The analysis cells' rows (`cells` = tested) and the control cells' (`cells` = control),
    for the figures."""
    parts = [table.assign(cells="tested")]
    if control is not None:
        parts.append(control.assign(cells="control"))
    return pd.concat(parts, ignore_index=True)


def aggregate(tables, runs, settings, stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    return {"shares": _with_controls(tables["shares"], tables.get("control_shares")),
            "context": _with_controls(tables["context"], tables.get("control_context")),
            "c1_roles": role_verdicts(tables["shares"], tables["context"], stats_settings,
                                      tables.get("control_shares"),
                                      tables.get("control_context"))}
