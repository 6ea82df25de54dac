"""C6 across seeds: e-folding lags per path with intervals over solved seeds, and the verdicts.

Every prediction is a per-seed difference of e-folding lags (steps), decided on its change
from step 0 (`stats.prediction_row`: trained minus the same difference at initialisation, a
t-interval over solved seeds), with the trained difference and the one at step 0 beside it.
Under PyTorch's default initialisation the gates sit near 0.5, so at step 0 the cell path
fades within a few steps and clamping the forget gate to 0.5 changes little: the change from
step 0 asks whether training built the highway. Every prediction is primary (`PREDICTIONS`:
what it says, `RIVALS`: what the competing account predicts instead) and runs beside its
negative control, the same prediction on the architecture whose keep gate was held at 0.5 in
training (`HIGHWAY_CONTROLS`: `lstm_ffg`, `gru_fug`; the direct path is 0.5^k there by
construction), default init, same task; only the plain `lstm` / `gru` rows have one. The
counted ones are one Holm family (claim C6, `stats.verdict_table`). Per task and init:

* P1 (LSTM family with a forget gate): the cell path outlasts the hidden state,
  e(dL/dc) - e(dL/dh) > 0. Control: the same on `lstm_ffg`.
* P2 (same architectures): clamping the forget gate to `clamp_value` shortens the cell path,
  e(dL/dc) - e(dL/dc | f clamped) > 0. Control: the same on `lstm_ffg`, where (at the default
  `clamp_value` 0.5) a clamp to the value f was held at changes nothing: 0 on every seed by
  construction (`untestable`), so this control shows that the test reads nothing but what
  the learned gate adds.
* P3 (needs `rnn` in the grid, default init): the gated architecture's gradient outlasts the
  tanh RNN's, e(lstm cell) - e(rnn hidden) > 0 and e(gru hidden) - e(rnn hidden) > 0. Primary,
  not a sanity check: a tanh RNN trained on the task can keep its gradient as long (the
  rival), and with the held-gate architecture in place of the gated one as its control the
  test asks whether the *learned* keep gate makes the difference, not the rest of the
  architecture (the additive cell, the other gates). Two architectures: seeds are paired by
  seed index (the same data and batch order), a seed counting only when both models solved.
* P4 (GRU): its direct path (the product of update gates) is a highway like the cell path:
  clamping z to `clamp_value` shortens dL/dh, e(dL/dh) - e(dL/dh | z clamped) > 0. Control:
  the same on `gru_fug` (0 by construction, as for P2).

A censored e-folding lag (the norm never fell to 1/e within K lags) counts as K, a lower bound:
a difference whose larger side is censored is underestimated, one whose smaller side is
censored overestimated; each row's note counts the censored seeds on each side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import stats
from gateroles.analyses.gradient_flow import (
    CLAMPED,
    DIRECT_STATE,
    FREE,
    HIGHWAY_CONTROLS,
    Settings,
    keep_gate,
)
from gateroles.architectures import order, spec
from gateroles.study import CELL_KEYS, at_phase

CLAIM = "C6"
# Each prediction's line of evidence (one line each in the report's answer), what it says and
# what the competing account predicts instead ("the learned gate carries no highway").
EVIDENCE = {"P1": "the cell path outlasts the hidden state",
            "P2": "clamping the forget gate shortens the cell path",
            "P3": "the gated architecture's gradient outlasts the tanh RNN's",
            "P4": "clamping the GRU's update gate shortens its gradient"}
PREDICTIONS = {"P1": "cell path outlasts h: e(dL/dc) - e(dL/dh) > 0",
               "P2": "forget clamped to {value} shortens dL/dc: e(free) - e(clamped) > 0",
               "P3": "the {other}'s gradient outlasts the tanh RNN's: e({other} {state}) - "
                     "e(rnn hidden) > 0 (seeds paired by index)",
               "P4": "direct path is a highway: update gate clamped to {value} shortens dL/dh: "
                     "e(free) - e(clamped) > 0"}
RIVALS = {"P1": "memory and its gradient live in the hidden-state loop (short holds, frequent "
                "events): training lengthens dL/dc no more than dL/dh",
          "P2": "the learned forget gate carries no highway: held at 0.5 it lets dL/dc last as "
                "long (longer, where it cuts the memory at events)",
          "P3": "no gate is needed to carry the gradient: the trained tanh RNN's lasts as long",
          "P4": "the GRU carries its gradient through the candidate's recurrence, not the "
                "product of update gates: held at 0.5, z lets dL/dh last as long"}
SUMMARY_COLUMNS = CELL_KEYS + [
    "phase", "condition", "clamped_gate", "state", "path", "efold", "ci_low", "ci_high",
    "n_seeds", "n_censored", "max_lag", "norm_lag0", "direct_share", "n_unsolved"]


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


def _row(lags: _Lags, a: tuple, b: tuple, kind: str, prediction: str, arch_label: str,
         task: str, init: str, n_unsolved: int, settings: stats.Settings, max_lag: int,
         gated: str) -> dict:
    """A prediction row of kind `kind` (P1-P4) on e(a) - e(b); `gated`: the architecture whose
    keep gate the row is about (the key of its negative control)."""
    trained, note_t = _difference(lags, "trained", a, b)
    initial, note_i = _difference(lags, "initial", a, b)
    note = (f"e-folding lags beyond K = {max_lag} count as {max_lag}; seeds censored "
            f"(first side / second side): {note_t}; {note_i}")
    row = stats.prediction_row(trained, initial, +1, settings, claim=CLAIM,
                               evidence=EVIDENCE[kind], prediction=prediction, task=task,
                               arch=arch_label, init=init, n_unsolved=n_unsolved, note=note,
                               rival=RIVALS[kind])
    return {**row, "kind": kind, "gated": gated}


def c6_rows(efold: pd.DataFrame, settings: Settings, stats_settings: stats.Settings
            ) -> list[dict]:
    """The C6 prediction rows (see the module docstring) for every cell of `efold`, the
    negative controls' cells included (their rows have `gated` = the control architecture);
    each row also carries `kind` (P1-P4) and `gated`, which are not verdict columns."""
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
            gate = keep_gate(arch)
            for init in sorted(cells.loc[(cells["task"] == task) & (cells["arch"] == arch),
                                         "init"]):
                args = (task, init, lags.n_unsolved(task, arch, init), stats_settings, max_lag,
                        arch)
                free = (task, arch, init, FREE)
                if gate == "forget":
                    rows.append(_row(lags, (*free, "cell"), (*free, "hidden"), "P1",
                                     PREDICTIONS["P1"], arch, *args))
                    rows.append(_row(lags, (*free, "cell"), (task, arch, init, CLAMPED, "cell"),
                                     "P2", PREDICTIONS["P2"].format(value=value), arch, *args))
                if gate == "update":
                    rows.append(_row(lags, (*free, "hidden"),
                                     (task, arch, init, CLAMPED, "hidden"), "P4",
                                     PREDICTIONS["P4"].format(value=value), arch, *args))
        here = set(cells.loc[(cells["task"] == task) & (cells["init"] == "default"), "arch"])
        if "rnn" not in here:
            continue
        for other in ("lstm", "gru", *HIGHWAY_CONTROLS.values()):
            if other not in here:
                continue
            state = DIRECT_STATE[spec(other).cell]
            unsolved = int(
                pd.concat([_unsolved_seeds(lags, task, a) for a in (other, "rnn")]).nunique())
            rows.append(_row(
                lags, (task, other, "default", FREE, state),
                (task, "rnn", "default", FREE, "hidden"), "P3",
                PREDICTIONS["P3"].format(other=other, state=state), f"{other} vs rnn", task,
                "default", unsolved, stats_settings, max_lag, other))
    return rows


def c6_verdicts(efold: pd.DataFrame, settings: Settings, stats_settings: stats.Settings
                ) -> pd.DataFrame:
    """The C6 verdict table: every prediction on the plain `lstm` / `gru` beside its negative
    control (the same prediction, default init, same task, on `HIGHWAY_CONTROLS`' architecture;
    "(not run)" where the config did not train it); the controls' own rows are not rows of
    the table; predictions on other architectures have no control (shown, not counted)."""
    rows = c6_rows(efold, settings, stats_settings)
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
    return stats.verdict_table(out, stats_settings)


def _unsolved_seeds(lags: _Lags, task: str, arch: str) -> pd.Series:
    cell = lags.all[(lags.all["task"] == task) & (lags.all["arch"] == arch)
                    & (lags.all["init"] == "default")]
    return cell.loc[~cell["solved"], "seed"]


def aggregate(tables, runs, settings: Settings, stats_settings: stats.Settings
              ) -> dict[str, pd.DataFrame]:
    efold = tables["efold"]
    return {"by_lag": relative_norms(tables["by_lag"]), "efold": efold,
            "summary": efold_summary(efold, stats_settings.confidence),
            "c6": c6_verdicts(efold, settings, stats_settings)}
