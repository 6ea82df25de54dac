"""Where the memory lives, per model: the keep gate during holds, in the memory-carrying units.

All arithmetic is vectorised over intervals and units: per-step quantities are summed along
time once (`np.cumsum`), so an interval's sum over its hold is the difference of two entries.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles.analyses.gradient_flow import KEEP_GATES
from gateroles.analyses.holds import ALL_UNITS, ERASE, KEEP, KEEP_FLOOR, MEMORY_UNITS, Settings
from gateroles.architectures import spec
from gateroles.gatefile import with_held
from gateroles.study import Run

COLUMNS = ["step", "kind", "units", "gate", "n_intervals", "n_units", "hold_steps",
           "saturated", "mean_keep", "log10_product", "log10_product_best", "log10_half",
           "final_step"]


def measured_keep_gate(arch: str) -> str | None:
    """The keep gate measured on `arch` (LSTM family: forget; GRU: update), a removed one as
    the constant 1 it is (`gatefile.with_held`); None for the tanh RNN."""
    s = spec(arch)
    gate = KEEP_GATES.get(s.cell)
    return gate if gate is not None and (gate in s.gates or gate in s.removed) else None


def usable_intervals(factors: dict, events: dict) -> np.ndarray:
    """`[M, 4]` (sequence, store, query, crosses_erase): the store-to-query intervals
    (`tasks.hold_intervals`) of the odd-numbered sequences with at least one step between store
    and query (the even-numbered sequences choose the memory units)."""
    from gateroles.tasks import hold_intervals

    intervals = hold_intervals(factors, events)
    return intervals[(intervals[:, 0] % 2 == 1) & (intervals[:, 2] - intervals[:, 1] >= 2)]


def hold_sums(per_step: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """`[M, H]`: the sum of `per_step` (`[N, T, H]`) over each interval's hold, the steps
    strictly between its store and its query (`intervals` `[M, 4]`)."""
    total = np.cumsum(np.asarray(per_step, dtype=np.float64), axis=1)
    rows, store, query = intervals[:, 0], intervals[:, 1], intervals[:, 2]
    return total[rows, query - 1] - total[rows, store]


def keep_rows(keep: np.ndarray, intervals: np.ndarray, units: dict[str, np.ndarray | slice],
              threshold: float) -> list[dict]:
    """Per interval kind x units: the keep gate `keep` (`[N, T, H]`) over the holds of
    `intervals`: the share of (hold step, unit) above `threshold` (`saturated`), its mean, and
    log10 of its product over each hold, averaged over intervals and units (`log10_product`),
    the best unit's mean over intervals (`log10_product_best`), and a constant 0.5's over the
    same holds (`log10_half`)."""
    k = np.asarray(keep, dtype=np.float64)
    log_keep = hold_sums(np.log10(np.maximum(k, KEEP_FLOOR)), intervals)
    above = hold_sums(k > threshold, intervals)
    mean = hold_sums(k, intervals)
    steps = (intervals[:, 2] - intervals[:, 1] - 1).astype(np.float64)
    rows = []
    for kind, crosses in ((KEEP, 0), (ERASE, 1)):
        mine = intervals[:, 3] == crosses
        if not mine.any():
            continue
        n = steps[mine][:, None]
        for name, which in units.items():
            product = log_keep[mine][:, which]  # [m, u]
            rows.append({"kind": kind, "units": name, "n_intervals": int(mine.sum()),
                         "n_units": int(product.shape[1]), "hold_steps": float(n.mean()),
                         "saturated": float(above[mine][:, which].sum()
                                            / (n.sum() * product.shape[1])),
                         "mean_keep": float(mean[mine][:, which].sum()
                                            / (n.sum() * product.shape[1])),
                         "log10_product": float(product.mean()),
                         "log10_product_best": float(product.mean(axis=0).max()),
                         "log10_half": float(n.mean() * np.log10(0.5))})
    return rows


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """`keep` rows of one model at step 0 and its last checkpoint (`step`, `final_step`):
    none for a model without a keep gate or a task without store-to-query intervals."""
    from gateroles.analyses.roles.measure import memory_state, memory_units

    data = inputs.gates
    gate = measured_keep_gate(run.arch)
    memory = data.meta.get("memory")
    factors = data.factors
    intervals = usable_intervals(factors, data.meta["events"])
    rows = []
    if gate is not None and len(intervals):
        for step in dict.fromkeys((0, data.final_step)):
            if step not in data.steps:
                continue
            gates = with_held(data.gates(step), run.arch)
            units = {ALL_UNITS: slice(None)}
            if memory in factors:
                units = {MEMORY_UNITS: memory_units(memory_state(gates, run.arch)[0::2],
                                                    factors[memory][0::2],
                                                    settings.memory_units), **units}
            rows += [{"step": step, "gate": gate, **row}
                     for row in keep_rows(gates[gate], intervals, units, settings.saturation)]
    table = pd.DataFrame(rows, columns=COLUMNS[:-1]).assign(final_step=data.final_step)
    return {"keep": table[COLUMNS]}
