"""C6 across seeds: e-folding lags per path with intervals over solved seeds, and the verdicts.

Every prediction is a per-seed difference of e-folding lags (steps), decided on its change
from step 0 (`stats.prediction_row`: trained minus the same difference at initialisation, a
t-interval over solved seeds, Holm within C6), with the trained difference and the one at
step 0 beside it. Under PyTorch's default initialisation the gates sit near 0.5, so at step 0
the cell path fades within a few steps and clamping the forget gate to 0.5 changes little: the
change from step 0 asks whether training built the highway. Predictions, per task and init:

* P1 (LSTM family with a forget gate): the cell path outlasts the hidden state,
  e(dL/dc) - e(dL/dh) > 0.
* P2 (same architectures): clamping the forget gate to `clamp_value` shortens the cell path,
  e(dL/dc) - e(dL/dc | f clamped) > 0.
* P3 (needs `rnn` in the grid, default init): the tanh RNN fades fastest, e(other) - e(rnn) > 0
  for the LSTM's cell state and the GRU's hidden state. Two architectures: seeds are paired by
  seed index (the same data and batch order), a seed counting only when both models solved.
* P4 (GRU): its direct path (the product of update gates) is a highway like the cell path:
  clamping z to `clamp_value` shortens dL/dh, e(dL/dh) - e(dL/dh | z clamped) > 0.

A censored e-folding lag (the norm never fell to 1/e within K lags) counts as K, a lower bound:
a difference whose larger side is censored is underestimated, one whose smaller side is
censored overestimated; each row's note counts the censored seeds on each side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import stats
from gateroles.analyses.gradient_flow import CLAMPED, FREE, Settings
from gateroles.architectures import order, spec
from gateroles.study import CELL_KEYS, at_phase

CLAIM, EVIDENCE = "C6", "gradient norm by lag"
SUMMARY_COLUMNS = CELL_KEYS + [
    "phase", "condition", "clamped_gate", "state", "path", "efold", "ci_low", "ci_high",
    "n_seeds", "n_censored", "max_lag", "norm_lag0", "direct_share", "n_unsolved"]
# The state whose gradient is the highway, per fused cell (the P3 comparison's other side).
HIGHWAY_STATE = {"lstm": "cell", "gru": "hidden"}


def relative_norms(by_lag: pd.DataFrame) -> pd.DataFrame:
    """`by_lag` with `relative`: each norm over the lag-0 total norm of the same model, step,
    condition and state (so every state's total starts at 1 and paths are comparable)."""
    keys = ["task", "arch", "init", "seed", "step", "condition", "state"]
    lag0 = by_lag[(by_lag["lag"] == 0) & (by_lag["path"] == "total")]
    base = lag0.set_index(keys)["norm"].rename("lag0_total")
    out = by_lag.join(base, on=keys)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["relative"] = out["norm"] / out.pop("lag0_total")
    return out


def efold_summary(efold: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Mean e-folding lag and its t-interval over solved seeds, per cell x phase x condition x
    state x path, with the number of censored seeds."""
    phases = at_phase(efold)
    unsolved = (phases[~phases["solved"]].groupby(CELL_KEYS)["seed"].nunique()
                .rename("n_unsolved"))
    rows = []
    keys = CELL_KEYS + ["phase", "condition", "clamped_gate", "state", "path"]
    for values, group in phases[phases["solved"]].groupby(keys, sort=True, dropna=False):
        mean, lo, hi = stats.mean_ci(group["efold"], confidence)
        rows.append({**dict(zip(keys, values, strict=True)), "efold": mean, "ci_low": lo,
                     "ci_high": hi, "n_seeds": int(group["efold"].notna().sum()),
                     "n_censored": int(group["censored"].sum()),
                     "max_lag": int(group["max_lag"].max()),
                     "norm_lag0": float(group["norm_lag0"].mean()),
                     "direct_share": float(group["direct_share"].mean())})
    table = pd.DataFrame(rows, columns=[c for c in SUMMARY_COLUMNS if c != "n_unsolved"])
    table = table.join(unsolved, on=CELL_KEYS)
    table["n_unsolved"] = table["n_unsolved"].fillna(0).astype(int)
    return table[SUMMARY_COLUMNS]


class _Lags:
    """Per-seed e-folding lags (solved seeds only) and censoring flags, by selection."""

    def __init__(self, efold: pd.DataFrame):
        phases = at_phase(efold)
        self.all = phases
        keys = CELL_KEYS + ["phase", "condition", "state", "path"]
        solved = phases[phases["solved"]]
        self.groups = {k: g.set_index("seed") for k, g in solved.groupby(keys, sort=False)}

    def get(self, task, arch, init, phase, condition, state, path="total"
            ) -> tuple[pd.Series, pd.Series]:
        group = self.groups.get((task, arch, init, phase, condition, state, path))
        if group is None:
            empty = pd.Series(dtype=float)
            return empty, empty.astype(bool)
        return group["efold"].astype(float), group["censored"].astype(bool)

    def n_unsolved(self, task, arch, init) -> int:
        cell = self.all[(self.all["task"] == task) & (self.all["arch"] == arch)
                        & (self.all["init"] == init)]
        return int(cell.loc[~cell["solved"], "seed"].nunique())


def _difference(lags: _Lags, phase: str, a: tuple, b: tuple) -> tuple[pd.Series, str]:
    """Per-seed e(a) - e(b) (`a`, `b`: selections without the phase) on the seeds both have,
    and a note on how many of them were censored on each side."""
    ea, ca = lags.get(*a[:3], phase, *a[3:])
    eb, cb = lags.get(*b[:3], phase, *b[3:])
    seeds = ea.index.intersection(eb.index)
    diff = (ea.reindex(seeds) - eb.reindex(seeds)).sort_index()
    note = f"{phase}: censored {int(ca.reindex(seeds).sum())} / {int(cb.reindex(seeds).sum())}"
    return diff, note


def _row(lags: _Lags, a: tuple, b: tuple, prediction: str, arch_label: str, task: str,
         init: str, n_unsolved: int, settings: stats.Settings, max_lag: int) -> dict:
    trained, note_t = _difference(lags, "trained", a, b)
    initial, note_i = _difference(lags, "initial", a, b)
    note = (f"e-folding lags beyond K = {max_lag} count as {max_lag}; seeds censored "
            f"(first side / second side): {note_t}; {note_i}")
    return stats.prediction_row(trained, initial, +1, settings, claim=CLAIM, evidence=EVIDENCE,
                                prediction=prediction, task=task, arch=arch_label, init=init,
                                n_unsolved=n_unsolved, note=note)


def c6_rows(efold: pd.DataFrame, settings: Settings, stats_settings: stats.Settings
            ) -> list[dict]:
    """The C6 prediction rows (see the module docstring) for every cell of the grid."""
    if efold.empty:
        return []
    lags = _Lags(efold)
    max_lag = int(efold["max_lag"].max())
    value = f"{settings.clamp_value:g}"
    rows = []
    cells = efold[CELL_KEYS].drop_duplicates().sort_values(CELL_KEYS)
    archs = order(cells["arch"].unique())
    for task in sorted(cells["task"].unique()):
        for arch in archs:
            s = spec(arch)
            for init in sorted(cells.loc[(cells["task"] == task) & (cells["arch"] == arch),
                                         "init"]):
                args = (task, init, lags.n_unsolved(task, arch, init), stats_settings, max_lag)
                if s.cell == "lstm" and s.keep_gate == "forget":
                    rows.append(_row(
                        lags, (task, arch, init, FREE, "cell"), (task, arch, init, FREE, "hidden"),
                        "cell path outlasts h: e(dL/dc) - e(dL/dh) > 0", arch, *args))
                    rows.append(_row(
                        lags, (task, arch, init, FREE, "cell"),
                        (task, arch, init, CLAMPED, "cell"),
                        f"forget clamped to {value} shortens dL/dc: e(free) - e(clamped) > 0",
                        arch, *args))
                if s.cell == "gru":
                    rows.append(_row(
                        lags, (task, arch, init, FREE, "hidden"),
                        (task, arch, init, CLAMPED, "hidden"),
                        f"direct path is a highway: update gate clamped to {value} shortens "
                        "dL/dh: e(free) - e(clamped) > 0", arch, *args))
        here = set(cells.loc[(cells["task"] == task) & (cells["init"] == "default"), "arch"])
        if "rnn" in here:
            for other in ("lstm", "gru"):
                if other not in here:
                    continue
                state = HIGHWAY_STATE[spec(other).cell]
                unsolved = int(
                    pd.concat([_unsolved_seeds(lags, task, a) for a in (other, "rnn")]).nunique())
                rows.append(_row(
                    lags, (task, other, "default", FREE, state),
                    (task, "rnn", "default", FREE, "hidden"),
                    f"tanh RNN fades fastest: e({other} {state}) - e(rnn hidden) > 0 "
                    "(seeds paired by index)", "rnn", task, "default", unsolved,
                    stats_settings, max_lag))
    return rows


def _unsolved_seeds(lags: _Lags, task: str, arch: str) -> pd.Series:
    cell = lags.all[(lags.all["task"] == task) & (lags.all["arch"] == arch)
                    & (lags.all["init"] == "default")]
    return cell.loc[~cell["solved"], "seed"]


def aggregate(tables, runs, settings: Settings, stats_settings: stats.Settings
              ) -> dict[str, pd.DataFrame]:
    efold = tables["efold"]
    return {"by_lag": relative_norms(tables["by_lag"]), "efold": efold,
            "summary": efold_summary(efold, stats_settings.confidence),
            "c6": stats.verdict_table(c6_rows(efold, settings, stats_settings), stats_settings)}
