"""C3 across seeds: the primary predictions of the matched interventions, each beside its
negative control, and the sanity checks apart.

Damage is positive when the intervention makes the model worse (accuracy lost, or MSE gained
on adding). The decided cells are the analysis cells (not `control_only`), on solved seeds
only; for every task x architecture x init where the gate, the event and the behaviour exist,
built from `NEEDS` (which behaviours need which role) and `role_off` (each role's gate):

**Primary** (`stats.PRIMARY`), decided on the trained value against 0 (`stats.reference_row`;
at step 0 the model is at chance, so there is nothing to damage and the change from step 0
is the trained damage; the step-0 value is shown beside it):

* **matched interchange at events** -- for each role and each behaviour that needs it:
  (a) the role gate's interchange at the role's events damages the behaviour more than every
  other gate's interchange at the same events (per seed: the role gate's damage minus the
  largest other gate's; the rival, `RIVALS`, predicts the opposite); (b) more than its own
  interchange at the lag-matched quiet steps (per seed: event minus quiet damage).
* **unit ablation vs random groups** -- the `verdict_k` units of the role gate most locked to
  the role's event (chosen on held-out sequences) clamped to the role-off value damage the
  behaviours that need the role more than random groups of as many units (per seed: targeted
  minus the mean of the random groups; trained only, see `measure`). The per-k share of seeds
  with a permutation p < 0.05 and the mean effect size are in `ablation_summary`.

Each primary row carries its negative control (`stats.with_control`): the same prediction
computed on the control cell of the role gate (`architectures.control_of`: the architecture
that holds the gate constant in training; same task, default init), on every seed of that
cell whether or not it solved the task (a model without the gate may not solve it; the role
is absent there either way; the control's name says how many seeds solved it). A variant's
primary predictions have no control.

**Sanity** (`stats.SANITY`, the note says why it cannot fail), decided on the change from
step 0: the role-off clamp of each role's gate at its events damages each behaviour that needs
the role; exchanging two gates' weight blocks breaks the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import stats
from gateroles.analyses.causal import (
    ABLATION_RIVAL,
    CLAMP,
    EVENT,
    INTERCHANGE,
    NEEDS,
    QUIET,
    QUIET_RIVAL,
    RIVALS,
    SANITY_NOTES,
    SWAP_NOTE,
    Settings,
    cell,
    interchange_gates,
    role_off,
)
from gateroles.architectures import SPECS, control_of
from gateroles.study import CELL_KEYS, RUN_KEYS, at_phase

CLAIM = "C3"
INTERCHANGES = "matched interchange at events"
ABLATION = "unit ablation vs random groups"
CLAMPS = "role-off clamps at events"
SWAP = "weight-block swap"
PHASES = ("trained", "initial")
WHY = ("at step 0 the model is at chance: nothing to damage, so the change from step 0 is "
       "the trained damage")
ABLATION_WHY = ("at step 0 the model is at chance: nothing to damage, so the ablation runs on "
                "the trained model only")
VS_OTHERS, VS_QUIET = "others", "quiet"

MATRIX_KEYS = ["intervention", "gate", "value", "event", "condition", "behaviour"]
ABLATION_KEYS = ["event", "gate", "value", "k"]
SWAP_KEYS = ["gate_a", "gate_b"]


def clamp_label(gate: str, value: float) -> str:
    return f"{gate} → {value:g}"


# How predictions (a) and (b) end (the section tells them apart by it).
KINDS = {VS_OTHERS: "more than every other gate's interchange there",
         VS_QUIET: "more than its interchange at lag-matched quiet steps"}


def interchange_prediction(gate: str, role: str, behaviour: str, kind: str) -> str:
    """The wording of prediction (a) (`kind` = VS_OTHERS) or (b) (VS_QUIET)."""
    return f"{gate} interchange at {role} damages {behaviour} {KINDS[kind]}"


def ablation_prediction(gate: str, value: float, role: str, needed: str, k: int) -> str:
    return (f"the {k} {gate} units most locked to {role}, {clamp_label(gate, value)} at "
            f"{role}, damage {needed} more than random groups of {k}")


def _solved(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["solved"].astype(bool)] if len(table) else table


def _n_unsolved(runs: pd.DataFrame) -> dict[tuple, int]:
    """Cell (task, arch, init) -> number of unsolved seeds."""
    if runs.empty:
        return {}
    flags = runs.assign(unsolved=~runs["solved"].astype(bool))
    return {key: int(v) for key, v in flags.groupby(CELL_KEYS)["unsolved"].sum().items()}


def _decided(table: pd.DataFrame) -> pd.DataFrame:
    """The analysis cells' rows (solved seeds) at step 0 and the last step, with `phase`."""
    if table.empty:
        return table.assign(phase=[])
    own = table[~table["control_only"].astype(bool)] if "control_only" in table else table
    return at_phase(_solved(own)) if len(own) else own.assign(phase=[])


def _control_rows(table: pd.DataFrame, task: str, arch: str) -> pd.DataFrame:
    """A control cell's rows at its last step, every seed (solved or not)."""
    if table.empty:
        return table
    rows = table[(table["task"] == task) & (table["arch"] == arch)
                 & (table["init"] == "default") & (table["step"] == table["final_step"])]
    return rows


def _by_seed(frame: pd.DataFrame, value: str = "damage") -> pd.Series:
    return frame.set_index("seed")[value].astype(float).sort_index()


def interchange_effects(frame: pd.DataFrame, arch: str, role: str, gate: str, behaviour: str
                        ) -> dict[str, pd.Series] | None:
    """Per-seed effects of (a) and (b) from one cell's interchange rows at one phase:
    `others` (the role gate's damage at the events minus the largest other gate's),
    `quiet` (minus its own at the lag-matched quiet steps), `strongest` (which other gate
    was the largest, per seed, or "a tie"); None without the role gate's rows."""
    rows = frame[(frame["intervention"] == INTERCHANGE) & (frame["event"] == role)
                 & (frame["behaviour"] == behaviour)]
    at = rows[rows["condition"] == EVENT]
    own = at[at["gate"] == gate]
    if own.empty:
        return None
    own = _by_seed(own)
    rivals = {g: _by_seed(at[at["gate"] == g]) for g in interchange_gates(arch)
              if g != gate and (at["gate"] == g).any()}
    quiet = rows[(rows["condition"] == QUIET) & (rows["gate"] == gate)]
    out = {VS_OTHERS: pd.Series(dtype=float), "strongest": pd.Series(dtype=object),
           VS_QUIET: own - _by_seed(quiet) if len(quiet) else pd.Series(dtype=float)}
    if rivals:
        others = pd.concat(rivals, axis=1)
        top = others.max(axis=1)
        tied = others.eq(top, axis=0).sum(axis=1) > 1  # e.g. every other gate at 0
        out.update({VS_OTHERS: own - top,
                    "strongest": others.idxmax(axis=1).where(~tied, "a tie")})
    return out


def _control(arch: str, gate: str, runs: pd.DataFrame, task: str) -> tuple[str | None, str]:
    """(control architecture, its name for the table) of `gate`'s tests on `arch`."""
    control = control_of(arch, gate)
    if control is None:
        return None, "none (no control architecture for this cell)"
    held = SPECS[control].held.get(gate, 1.0)
    seeds = runs[(runs["task"] == task) & (runs["arch"] == control)
                 & (runs["init"] == "default")] if len(runs) else runs
    solved = (f"; {int(seeds['solved'].astype(bool).sum())} of {len(seeds)} seeds solved the "
              f"task" if len(seeds) else "")
    return control, f"{control}: {gate} held at {held:g} in training{solved}"


def _mean_by_gate(frame: pd.DataFrame, role: str, column: str) -> str:
    """'forget 0.41, input 0.05, ...': the mean of `column` per gate at the role's events."""
    at = frame[(frame["intervention"] == INTERCHANGE) & (frame["event"] == role)
               & (frame["condition"] == EVENT)]
    means = at.groupby("gate", sort=False)[column].mean()
    return ", ".join(f"{g} {means[g]:.3f}" for g in means.index)


def _strongest_note(strongest: pd.Series) -> str:
    counts = strongest.value_counts()
    n = len(strongest)
    return "largest other gate's interchange (trained seeds): " + ", ".join(
        f"{g} in {int(c)} of {n}" for g, c in counts.items())


def interchange_predictions(matrix: pd.DataFrame, runs: pd.DataFrame, settings: stats.Settings,
                            unsolved: dict) -> list[dict]:
    """Predictions (a) and (b) of every decided cell, each with its negative control."""
    rows = []
    phases = _decided(matrix)
    for key, group in (phases.groupby(CELL_KEYS, sort=True) if len(phases) else []):
        task, arch, init = key
        trained, initial = (group[group["phase"] == p] for p in PHASES)
        for role, (gate, _) in role_off(arch).items():
            control, name = _control(arch, gate, runs, task)
            held = _control_rows(matrix, task, control) if control else matrix.iloc[:0]
            for behaviour in NEEDS.get(task, {}).get(role, ()):
                effects = interchange_effects(trained, arch, role, gate, behaviour)
                if effects is None:
                    continue
                at_0 = interchange_effects(initial, arch, role, gate, behaviour) or {}
                against = (interchange_effects(held, control, role, gate, behaviour)
                           if len(held) else None)
                lags = trained[(trained["gate"] == gate) & (trained["event"] == role)
                               & (trained["behaviour"] == behaviour)
                               & (trained["intervention"] == INTERCHANGE)]
                lag = lags.groupby("condition")["mean_lag"].mean()
                count = lags.groupby("condition")["n_lagged"].mean()
                notes = {
                    VS_OTHERS: _strongest_note(effects["strongest"]) + "; size of each "
                    "interchange (mean |change| of the activation): "
                    + _mean_by_gate(trained, role, "size"),
                    VS_QUIET: f"mean lag to the next scored step: events "
                              f"{lag.get(EVENT, np.nan):.2f}, quiet steps "
                              f"{lag.get(QUIET, np.nan):.2f}; perturbed steps with a "
                              f"scored step after them, per model: events "
                              f"{count.get(EVENT, np.nan):.0f}, quiet "
                              f"{count.get(QUIET, np.nan):.0f}"}
                rivals = {VS_OTHERS: RIVALS.get((cell(arch), role), ""), VS_QUIET: QUIET_RIVAL}
                for kind in (VS_OTHERS, VS_QUIET):
                    if not effects[kind].notna().any():
                        continue
                    keys = {"claim": CLAIM, "task": task, "init": init,
                            "prediction": interchange_prediction(gate, role, behaviour, kind)}
                    row = stats.reference_row(
                        effects[kind], 0.0, +1, settings, initial=at_0.get(kind), why=WHY,
                        test=stats.PRIMARY, evidence=INTERCHANGES, arch=arch,
                        n_unsolved=unsolved.get(key, 0), rival=rivals[kind], note=notes[kind],
                        **keys)
                    control_row = (stats.reference_row(against[kind], 0.0, +1, settings,
                                                       why=WHY, arch=control, **keys)
                                   if against is not None else None)
                    rows.append(stats.with_control(row, control_row, name))
    return rows


def _ablation_excess(frame: pd.DataFrame, role: str, gate: str, k: int) -> pd.Series:
    part = frame[(frame["event"] == role) & (frame["gate"] == gate) & (frame["k"] == k)]
    return _by_seed(part.assign(excess=part["targeted"] - part["null_mean"]), "excess")


def ablation_predictions(ablation: pd.DataFrame, runs: pd.DataFrame, settings: Settings,
                         stats_settings: stats.Settings, unsolved: dict) -> list[dict]:
    """One row per decided cell x role at `settings.verdict_k`: targeted minus mean random
    damage, with its negative control."""
    rows, k = [], settings.verdict_k
    phases = _decided(ablation)
    for key, group in (phases.groupby(CELL_KEYS, sort=True) if len(phases) else []):
        task, arch, init = key
        trained = group[group["phase"] == "trained"]
        for (role, gate, value), part in trained[trained["k"] == k].groupby(
                ["event", "gate", "value"], sort=False):
            control, name = _control(arch, gate, runs, task)
            held = _control_rows(ablation, task, control) if control else ablation.iloc[:0]
            keys = {"claim": CLAIM, "task": task, "init": init,
                    "prediction": ablation_prediction(
                        gate, value, role, part["behaviours"].iloc[0].replace(" ", ", "), k)}
            row = stats.reference_row(
                _ablation_excess(trained, role, gate, k), 0.0, +1, stats_settings,
                why=ABLATION_WHY, test=stats.PRIMARY,
                evidence=ABLATION, arch=arch, n_unsolved=unsolved.get(key, 0),
                rival=ABLATION_RIVAL, **keys)
            excess = _ablation_excess(held, role, gate, k) if len(held) else None
            control_row = (stats.reference_row(excess, 0.0, +1, stats_settings,
                                               why=ABLATION_WHY, arch=control, **keys)
                           if excess is not None and len(excess) else None)
            rows.append(stats.with_control(row, control_row, name))
    return rows


def clamp_checks(matrix: pd.DataFrame, settings: stats.Settings, unsolved: dict) -> list[dict]:
    """Sanity: each role's role-off clamp at its events damages the behaviours that need it,
    trained vs step 0."""
    rows = []
    phases = _decided(matrix)
    clamps = phases[phases["intervention"] == CLAMP] if len(phases) else phases
    for key, group in (clamps.groupby(CELL_KEYS, sort=True) if len(clamps) else []):
        task, arch, init = key
        for role, (gate, value) in role_off(arch).items():
            for behaviour in NEEDS.get(task, {}).get(role, ()):
                at = group[(group["gate"] == gate) & (group["event"] == role)
                           & (group["behaviour"] == behaviour)]
                if at.empty:
                    continue
                trained, initial = (_by_seed(at[at["phase"] == p]) for p in PHASES)
                rows.append(stats.prediction_row(
                    trained, initial, +1, settings, test=stats.SANITY, claim=CLAIM,
                    evidence=CLAMPS, task=task, arch=arch, init=init,
                    n_unsolved=unsolved.get(key, 0),
                    prediction=f"{clamp_label(gate, value)} at {role} damages {behaviour}",
                    note=SANITY_NOTES.get((cell(arch), role), "")))
    return rows


def swap_checks(swaps: pd.DataFrame, settings: stats.Settings, unsolved: dict) -> list[dict]:
    """Sanity: one row per cell x swapped pair, the damage of the swap, trained vs step 0."""
    rows = []
    phases = at_phase(_solved(swaps)) if len(swaps) else swaps
    for key, group in (phases.groupby(CELL_KEYS, sort=True) if len(phases) else []):
        for (a, b), part in group.groupby(SWAP_KEYS, sort=False):
            trained, initial = (_by_seed(part[part["phase"] == p]) for p in PHASES)
            rows.append(stats.prediction_row(
                trained, initial, +1, settings, test=stats.SANITY, claim=CLAIM, evidence=SWAP,
                n_unsolved=unsolved.get(key, 0), note=SWAP_NOTE,
                prediction=f"swapping the {a} and {b} weight blocks breaks the model",
                **dict(zip(CELL_KEYS, key, strict=True))))
    return rows


def _summary(phases: pd.DataFrame, keys: list[str], values: list[str], confidence: float
             ) -> pd.DataFrame:
    """Mean and t-interval over seeds of `values`, per cell x phase x `keys` (rows with a
    `phase`; NaN keys, e.g. an interchange's clamp value, kept)."""
    columns = CELL_KEYS + ["phase", *keys, "n_seeds"] + [
        f"{v}{s}" for v in values for s in ("", "_ci_low", "_ci_high")]
    if phases.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for key, group in phases.groupby(CELL_KEYS + ["phase", *keys], sort=True, dropna=False):
        row = dict(zip(CELL_KEYS + ["phase", *keys], key, strict=True))
        row["n_seeds"] = int(group["seed"].nunique())
        for v in values:
            row[v], row[f"{v}_ci_low"], row[f"{v}_ci_high"] = stats.mean_ci(group[v],
                                                                             confidence)
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def ablation_summary(phases: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Per cell x phase x role x k: share of seeds with p < 0.05, the mean effect size
    (and its median over seeds: a null without spread, e.g. single units of which almost
    none matters, makes one seed's effect size huge), mean targeted and random damage."""
    base = _summary(phases, ABLATION_KEYS, ["targeted", "null_mean", "effect_size"],
                    confidence)
    if base.empty:
        return base.assign(effect_size_median=[], share_p05=[], n_p05=[])
    counts = (phases.assign(p05=phases["p_value"] < 0.05)
              .groupby(CELL_KEYS + ["phase", *ABLATION_KEYS])
              .agg(n_p05=("p05", "sum"), n_tests=("p05", "count"),
                   effect_size_median=("effect_size", "median"))
              .reset_index())
    merged = base.merge(counts, on=CELL_KEYS + ["phase", *ABLATION_KEYS], how="left")
    return merged.assign(n_p05=merged["n_p05"].astype(int),
                         share_p05=merged["n_p05"] / merged["n_tests"]).drop(columns="n_tests")


def aggregate(tables, runs, settings: Settings, stats_settings: stats.Settings
              ) -> dict[str, pd.DataFrame]:
    unsolved = _n_unsolved(runs)
    confidence = stats_settings.confidence
    matrix, ablation = tables["matrix"], tables["ablation"]
    rows = (interchange_predictions(matrix, runs, stats_settings, unsolved)
            + ablation_predictions(ablation, runs, settings, stats_settings, unsolved)
            + clamp_checks(matrix, stats_settings, unsolved)
            + swap_checks(tables["swaps"], stats_settings, unsolved))
    decided_ablation = _decided(ablation)
    null = _decided(tables["ablation_null"])
    null_columns = RUN_KEYS + ["phase", *ABLATION_KEYS, "group", "damage"]
    return {
        "c3": stats.verdict_table(rows, stats_settings),
        "matrix": _summary(_decided(matrix), MATRIX_KEYS,
                           ["damage", "size", "mean_lag", "score", "base_score"], confidence),
        "ablation": ablation_summary(decided_ablation, confidence),
        "ablation_models": decided_ablation,
        "ablation_null": null[null_columns] if len(null) else pd.DataFrame(columns=null_columns),
        "swaps": _summary(at_phase(_solved(tables["swaps"])) if len(tables["swaps"])
                          else tables["swaps"].assign(phase=[]), SWAP_KEYS + ["metric"],
                          ["score_before", "score_after", "damage", "chance"], confidence),
    }
