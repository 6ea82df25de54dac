"""C6 across seeds: the gradient across hold intervals with intervals over solved seeds, the
verdicts, and the descriptive e-folding lags from scored steps.

Every prediction is a per-seed difference on the store-to-query intervals that cross no erase
(`KEEP`), measured on the gradient of the target's logit at the query over all units
(`measure.interval_rows`), decided on its change from step 0 (`stats.prediction_row`: trained
minus the same difference at initialisation, a t-interval over solved seeds), with the trained
difference and the one at step 0 beside it. Under PyTorch's default initialisation the gates
sit near 0.5, so the change from step 0 asks whether training built the highway. Every
prediction is primary (`PREDICTIONS`: what it says, `RIVALS`: what the competing account
predicts instead) and runs beside its negative control, the same prediction on the
architecture whose keep gate was held at 0.5 in training (`HIGHWAY_CONTROLS`: `lstm_ffg`,
`gru_fug`; the direct path is a product of 0.5s there by construction), default init, same
task; only the plain `lstm` / `gru` rows have one. The counted ones are one Holm family with
those of the learnability sweep (`gateroles.analyses.learnability`, where the config runs it):
claim C6's one family, and its one verdict table, written here (`c6_verdicts`,
`stats.join_verdicts`) over both analyses' rows. Per task (each hold length its own) and init,
in decades (log10):

* P1 (LSTM family with a forget gate): from lag 1 back to the store, the cell's gradient keeps
  more than the hidden state's: kept(dc) - kept(dh) > 0, kept = log10 ||g(store)|| - log10
  ||g(lag 1)|| (lag 0 left out: h_q reaches the read-out directly). Control: `lstm_ffg`.
* P2 (same architectures): the learned forget gate carries the query's gradient to the store
  better than a constant `clamp_value` would on the same trajectory: log10 ||dc_store|| free
  minus with f clamped to `clamp_value` inside the Jacobian only, > 0. Control: `lstm_ffg`,
  where (at the default `clamp_value` 0.5) the clamp to the value f was held at changes
  nothing: 0 on every seed by construction (`untestable`), so this control shows that the test
  reads nothing but what the learned gate adds.
* P3 (needs `rnn` on the task, default init): the gated architecture's gradient keeps more
  from lag 1 to the store than the tanh RNN's, kept(lstm cell) - kept(rnn hidden) > 0 and
  kept(gru hidden) - kept(rnn hidden) > 0; seeds paired by index (the same data and batch
  order), a seed counting only when both models solved. Control: the held-gate architecture
  in place of the gated one (does the *learned* keep gate make the difference?).
* P4 (GRU): the same as P2 for the update gate on dh. Control: `gru_fug` (0 by construction).

The e-folding lags from scored steps (`efold`) are summarised (`efold_summary`) and shown, not
tested.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import stats, tasks
from gateroles.analyses.gradient_flow import (
    ALL_UNITS,
    DIRECT_STATE,
    FREE,
    HIGHWAY_CONTROLS,
    JACOBIAN,
    KEEP,
    Settings,
    keep_gate,
)
from gateroles.architectures import order, spec
from gateroles.study import CELL_KEYS, at_phase

CLAIM = "C6"
# Each prediction's line of evidence (one line each in the report's answer), what it says and
# what the competing account predicts instead ("the learned gate carries no highway").
EVIDENCE = {"P1": "the cell's gradient outlasts the hidden state's across holds",
            "P2": "the learned forget gate carries the gradient across holds",
            "P3": "the gated architecture's gradient outlasts the tanh RNN's across holds",
            "P4": "the GRU's update gate carries the gradient across holds"}
PREDICTIONS = {"P1": "from lag 1 to the store dc keeps more than dh: kept(dc) - kept(dh) > 0 "
                     "(decades)",
               "P2": "log10 |dc at the store| falls with f clamped to {value} in the Jacobian "
                     "only: free - clamped > 0",
               "P3": "the {other}'s {state} gradient keeps more from lag 1 to the store than "
                     "the tanh RNN's: kept({other}) - kept(rnn) > 0 (seeds paired by index)",
               "P4": "log10 |dh at the store| falls with z clamped to {value} in the Jacobian "
                     "only: free - clamped > 0"}
RIVALS = {"P1": "memory and its gradient live in the hidden-state loop: from lag 1 to the "
                "store dc fades as fast as dh",
          "P2": "the learned forget gate carries no highway: a constant in its place (on the "
                "same trajectory) carries the gradient to the store as well",
          "P3": "no gate is needed to carry the gradient: the trained tanh RNN's lasts as long",
          "P4": "the GRU carries its gradient through the candidate's recurrence, not the "
                "product of update gates: a constant z carries it as well"}
SUMMARY_COLUMNS = CELL_KEYS + [
    "phase", "condition", "state", "path", "efold", "ci_low", "ci_high", "n_seeds",
    "n_censored", "max_lag", "norm_lag0", "direct_share", "n_unsolved"]
INTERVAL_VALUES = ("log10_store", "log10_lag1", "kept_decades", "share_store")
INTERVAL_SUMMARY_COLUMNS = CELL_KEYS + [
    "hold", "phase", "kind", "condition", "state", "path", "units", "store_lag", "n_picks",
    "n_seeds", "n_unsolved"] + [f"{v}{suffix}" for v in INTERVAL_VALUES
                                for suffix in ("", "_ci_low", "_ci_high")]



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


def _unsolved(phases: pd.DataFrame) -> pd.Series:
    return phases[~phases["solved"].astype(bool)].groupby(CELL_KEYS)["seed"].nunique().rename(
        "n_unsolved")


def efold_summary(efold: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Mean e-folding lag (from lag 1) and its t-interval over solved seeds, per cell x phase x
    condition x state x path, with the number of censored seeds (descriptive)."""
    phases = at_phase(efold)
    rows = []
    keys = CELL_KEYS + ["phase", "condition", "state", "path"]
    for values, group in phases[phases["solved"].astype(bool)].groupby(keys, sort=True,
                                                                        dropna=False):
        mean, lo, hi = stats.mean_ci(group["efold"], confidence)
        rows.append({**dict(zip(keys, values, strict=True)), "efold": mean, "ci_low": lo,
                     "ci_high": hi, "n_seeds": int(group["efold"].notna().sum()),
                     "n_censored": int(group["censored"].astype(bool).sum()),
                     "max_lag": int(group["max_lag"].max()),
                     "norm_lag0": float(group["norm_lag0"].mean()),
                     "direct_share": float(group["direct_share"].mean())})
    table = pd.DataFrame(rows, columns=[c for c in SUMMARY_COLUMNS if c != "n_unsolved"])
    table = table.join(_unsolved(phases), on=CELL_KEYS)
    table["n_unsolved"] = table["n_unsolved"].fillna(0).astype(int)
    return table[SUMMARY_COLUMNS]


def interval_summary(store: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Per cell x phase x kind x condition x state x path x units: the mean over solved seeds of
    each interval summary (`INTERVAL_VALUES`) with its t-interval, the task's hold, the mean
    store lag and picks per model."""
    if store.empty:
        return pd.DataFrame(columns=INTERVAL_SUMMARY_COLUMNS)
    phases = at_phase(store)
    keys = CELL_KEYS + ["phase", "kind", "condition", "state", "path", "units"]
    rows = []
    for values, group in phases[phases["solved"].astype(bool)].groupby(keys, sort=True):
        row = dict(zip(keys, values, strict=True))
        row.update(hold=tasks.hold_of(row["task"])[1], store_lag=float(group["store_lag"].mean()),
                   n_picks=float(group["n_picks"].mean()), n_seeds=int(group["seed"].nunique()))
        for value in INTERVAL_VALUES:
            mean, lo, hi = stats.mean_ci(group[value], confidence)
            row.update({value: mean, f"{value}_ci_low": lo, f"{value}_ci_high": hi})
        rows.append(row)
    table = pd.DataFrame(rows, columns=[c for c in INTERVAL_SUMMARY_COLUMNS
                                        if c != "n_unsolved"])
    table = table.join(_unsolved(phases), on=CELL_KEYS)
    table["n_unsolved"] = table["n_unsolved"].fillna(0).astype(int)
    return table[INTERVAL_SUMMARY_COLUMNS]


class _Values:
    """Per-seed interval summaries of the solved seeds (keep intervals, all units), by
    selection (task, arch, init, phase, condition, state)."""

    def __init__(self, store: pd.DataFrame):
        phases = at_phase(store) if len(store) else store.assign(phase=[])
        phases = phases[(phases["kind"] == KEEP) & (phases["units"] == ALL_UNITS)
                        & (phases["path"] == "total")] if len(phases) else phases
        self.all = phases
        keys = CELL_KEYS + ["phase", "condition", "state"]
        solved = phases[phases["solved"].astype(bool)] if len(phases) else phases
        self.groups = ({k: g.set_index("seed") for k, g in solved.groupby(keys, sort=False)}
                       if len(solved) else {})

    def get(self, task, arch, init, phase, condition, state, value) -> pd.Series:
        group = self.groups.get((task, arch, init, phase, condition, state))
        return pd.Series(dtype=float) if group is None else group[value].astype(float)

    def unsolved_seeds(self, task, arch, init) -> pd.Series:
        if self.all.empty:
            return pd.Series(dtype=int)
        cell = self.all[(self.all["task"] == task) & (self.all["arch"] == arch)
                        & (self.all["init"] == init)]
        return cell.loc[~cell["solved"].astype(bool), "seed"]


def _difference(values: _Values, phase: str, a: tuple, b: tuple) -> pd.Series:
    """Per-seed a - b (`a`, `b`: (task, arch, init, condition, state, value)) on the seeds both
    have."""
    va = values.get(*a[:3], phase, *a[3:])
    vb = values.get(*b[:3], phase, *b[3:])
    seeds = va.index.intersection(vb.index)
    return (va.reindex(seeds) - vb.reindex(seeds)).sort_index()


def _row(values: _Values, a: tuple, b: tuple, kind: str, prediction: str, arch_label: str,
         task: str, init: str, n_unsolved: int, settings: stats.Settings, gated: str) -> dict:
    """A prediction row of kind `kind` (P1-P4) on a - b; `gated`: the architecture whose keep
    gate the row is about (the key of its negative control)."""
    trained = _difference(values, "trained", a, b)
    initial = _difference(values, "initial", a, b)
    row = stats.prediction_row(trained, initial, +1, settings, claim=CLAIM,
                               evidence=EVIDENCE[kind], prediction=prediction, task=task,
                               arch=arch_label, init=init, n_unsolved=n_unsolved,
                               note="store-to-query intervals with no erase; decades (log10)",
                               rival=RIVALS[kind])
    return {**row, "kind": kind, "gated": gated}


def c6_rows(store: pd.DataFrame, settings: Settings, stats_settings: stats.Settings
            ) -> list[dict]:
    """The C6 prediction rows (see the module docstring) for every cell of the interval
    summaries `store`, the negative controls' cells included (their rows have `gated` = the
    control architecture); each row also carries `kind` (P1-P4) and `gated`, which are not
    verdict columns."""
    values = _Values(store)
    if values.all.empty:
        return []
    value = f"{settings.clamp_value:g}"
    rows = []
    cells = values.all[CELL_KEYS].drop_duplicates().sort_values(CELL_KEYS)
    archs = order(cells["arch"].unique())
    for task in sorted(cells["task"].unique()):
        for arch in archs:
            gate = keep_gate(arch)
            for init in sorted(cells.loc[(cells["task"] == task) & (cells["arch"] == arch),
                                         "init"]):
                args = (task, init, int(values.unsolved_seeds(task, arch, init).nunique()),
                        stats_settings, arch)
                if gate == "forget":
                    rows.append(_row(values, (task, arch, init, FREE, "cell", "kept_decades"),
                                     (task, arch, init, FREE, "hidden", "kept_decades"), "P1",
                                     PREDICTIONS["P1"], arch, *args))
                    rows.append(_row(values, (task, arch, init, FREE, "cell", "log10_store"),
                                     (task, arch, init, JACOBIAN, "cell", "log10_store"),
                                     "P2", PREDICTIONS["P2"].format(value=value), arch, *args))
                if gate == "update":
                    rows.append(_row(values, (task, arch, init, FREE, "hidden", "log10_store"),
                                     (task, arch, init, JACOBIAN, "hidden", "log10_store"),
                                     "P4", PREDICTIONS["P4"].format(value=value), arch, *args))
        here = set(cells.loc[(cells["task"] == task) & (cells["init"] == "default"), "arch"])
        if "rnn" not in here:
            continue
        for other in ("lstm", "gru", *HIGHWAY_CONTROLS.values()):
            if other not in here:
                continue
            state = DIRECT_STATE[spec(other).cell]
            unsolved = int(pd.concat([values.unsolved_seeds(task, a, "default")
                                      for a in (other, "rnn")]).nunique())
            rows.append(_row(
                values, (task, other, "default", FREE, state, "kept_decades"),
                (task, "rnn", "default", FREE, "hidden", "kept_decades"), "P3",
                PREDICTIONS["P3"].format(other=other, state=state), f"{other} vs rnn", task,
                "default", unsolved, stats_settings, other))
    return rows


def c6_verdicts(store: pd.DataFrame, settings: Settings, stats_settings: stats.Settings,
                learnability: pd.DataFrame | None = None) -> pd.DataFrame:
    """The C6 verdict table: every prediction on the plain `lstm` / `gru` beside its negative
    control (the same prediction, default init, same task, on `HIGHWAY_CONTROLS`' architecture;
    "(not run)" where the config did not train it); the controls' own rows are not rows of
    the table; predictions on other architectures have no control (shown, not counted).
    `learnability`: the learnability sweep's C6 rows (its `predictions`), None where the
    config runs no sweep; they join the table, and its counted rows are one Holm family."""
    rows = c6_rows(store, settings, stats_settings)
    controls = {(r["task"], r["kind"], r["gated"]): r for r in rows
                if r["gated"] in HIGHWAY_CONTROLS.values() and r["init"] == "default"}
    out = []
    for row in rows:
        gated = row["gated"]
        if gated in HIGHWAY_CONTROLS.values():
            continue  # a negative control: it stands beside its prediction
        control = HIGHWAY_CONTROLS.get(gated)
        if control is None:
            out.append(dict(row, control="no control for this architecture"))
            continue
        gate = keep_gate(gated)
        name = (f"{control} ({gate} held at {spec(control).held[gate]:g} in training"
                + (f", in place of {gated})" if row["kind"] == "P3" else ")"))
        out.append(stats.with_control(row, controls.get((row["task"], row["kind"], control)),
                                      name))
    return stats.join_verdicts([stats.prediction_table(out), learnability], stats_settings)


def aggregate(tables, runs, settings: Settings, stats_settings: stats.Settings
              ) -> dict[str, pd.DataFrame]:
    """`tables["learnability"]`, where the config sweeps: the learnability sweep's C6 rows,
    which join C6's one verdict table (`c6_verdicts`)."""
    efold, store = tables["efold"], tables["interval_store"]
    return {"by_lag": relative_norms(tables["by_lag"]), "efold": efold,
            "summary": efold_summary(efold, stats_settings.confidence),
            "interval_lag": tables["interval_lag"], "interval_store": store,
            "intervals": interval_summary(store, stats_settings.confidence),
            "c6": c6_verdicts(store, settings, stats_settings, tables.get("learnability"))}
