"""One C4 model scored behaviour by behaviour, and how selectively it writes (claim C4).

Per model of a C4 cell (the `lstm` / default reference and every variant), on the gate
file's sequences:

* `behaviours`, at every checkpoint (so that a behaviour learnt later shows, not only one
  that is never learnt: on easy tasks every variant ends at the ceiling): the score on the
  scored steps of each behaviour apart (`tasks.BEHAVIOURS`: queries answered after a RESET,
  after a STORE, ...; `causal.measure.Data` gives the per-step errors: 0/1 for
  classification, squared for regression), from one forward pass of the fused module per
  checkpoint, with the task's metric and chance (normalised in the aggregate).
* `writing` (the LSTM family), at step 0 and at the last checkpoint: **write selectivity**
  in the memory-carrying units (chosen on the even sequences, `roles.measure.memory_units`;
  measured on the odd ones): the write term's (`i g`; without an input gate, `g`:
  `roles.measure.change_terms`) mean magnitude per step and unit at STORE steps, as a share
  of that at STORE steps plus that at quiet steps (no event of any role):
  `at_store / (at_store + quiet)`, in [0, 1]; 0.5 = the term is as large at quiet steps as at
  stores, 1 = it writes only at stores. Without an input gate the cell still writes
  (`i = 1`); what it can lose is writing only at stores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from gateroles.analyses.causal.measure import Data
from gateroles.analyses.roles.measure import change_terms, memory_units
from gateroles.analyses.wiring import Settings
from gateroles.architectures import SPECS
from gateroles.models import models_from_payload
from gateroles.study import Run

BEHAVIOUR_COLUMNS = ["step", "behaviour", "metric", "chance", "n_scored", "score",
                     "final_step"]
WRITING_COLUMNS = ["step", "at_store", "quiet", "selectivity", "n_units", "n_store",
                   "final_step"]


def models_at(payload: dict, steps) -> dict:
    """step -> model for the saved `steps` of a checkpoint payload only (not every step)."""
    wanted = {str(int(s)) for s in steps}
    return models_from_payload({**payload, "steps": {k: v for k, v in payload["steps"].items()
                                                     if k in wanted}})


@torch.no_grad()
def behaviour_rows(model, data: Data) -> list[dict]:
    """The score of `model` on each behaviour of `data` (one forward pass)."""
    errors = data.errors(model(data.inputs).numpy())
    return [{"behaviour": behaviour, "metric": data.metric, "chance": data.chance,
             "n_scored": int(scored.sum()), "score": data.score(float(errors[scored].mean()))}
            for behaviour, scored in data.behaviours.items()]


def write_selectivity(gates: dict[str, np.ndarray], factors: dict[str, np.ndarray],
                      meta: dict, arch: str, share: float) -> dict | None:
    """The write term's selectivity for STORE steps in the memory units (module docstring);
    None where the model has no cell, the task no STORE event, or no memory variable."""
    store = meta["events"].get("store")
    memory = meta.get("memory")
    if SPECS[arch].cell != "lstm" or store is None or memory not in factors:
        return None
    select, measure = slice(0, None, 2), slice(1, None, 2)
    units = memory_units(gates["cell"][select], factors[memory][select], share)
    write = np.abs(change_terms(gates, arch)["write"][measure][..., units])
    events = [np.asarray(factors[f]).astype(bool)[measure] for f in meta["events"].values()]
    at = np.asarray(factors[store]).astype(bool)[measure]
    quiet = ~np.any(events, axis=0)
    if not at.any() or not quiet.any():
        return None
    at_store, at_quiet = float(write[at].mean()), float(write[quiet].mean())
    total = at_store + at_quiet
    return {"at_store": at_store, "quiet": at_quiet,
            "selectivity": at_store / total if total > 0 else np.nan,
            "n_units": len(units), "n_store": int(at.sum())}


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """`behaviours` rows at every checkpoint and `writing` rows at step 0 and at the last
    checkpoint (`step`, `final_step`)."""
    gates = inputs.gates
    data = Data.from_gatefile(gates)
    final = gates.final_step
    behaviours, writing = [], []
    for step, model in models_at(inputs.checkpoints, gates.steps).items():
        behaviours += [{**row, "step": step} for row in behaviour_rows(model, data)]
    for step in (0, final):
        row = write_selectivity(gates.gates(step), gates.factors, gates.meta, run.arch,
                                settings.memory_units)
        if row is not None:
            writing.append({**row, "step": step})
    return {"behaviours": pd.DataFrame(behaviours, columns=BEHAVIOUR_COLUMNS[:-1]
                                       ).assign(final_step=final),
            "writing": pd.DataFrame(writing, columns=WRITING_COLUMNS[:-1]
                                    ).assign(final_step=final)}
