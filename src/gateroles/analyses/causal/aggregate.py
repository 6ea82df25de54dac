"""C3 across seeds: the predictions of the causal interventions, trained vs step 0.

Every prediction is a per-seed effect at the last checkpoint and the same effect at step 0 of
the same seed, decided on the change (`stats.prediction_row`, one-sided, Holm within C3), on
solved seeds only; damage is positive when the intervention makes the model worse (accuracy
lost, or MSE gained on adding). The predictions, built from `NEEDS` (which behaviours need
which role) and `role_off` (each role's gate and the value that switches it off, from
`architectures.ROLE_GATES`), for every task x architecture x init where the gate, the event
and the behaviour exist:

* **clamping at events** -- (a) "at its event": for each role and each behaviour that needs
  it, clamping the role's gate to its role-off value at the role's events damages the
  behaviour more than the same clamp at as many matched quiet steps (contrast = damage at the
  events - damage at the control steps). E.g. LSTM forget -> 1 at resets damages
  recall_after_reset (reset_recall), count_after_reset (count_reset) and
  recall_after_armed_reset (armed_reset); input -> 0 at stores damages recall_after_store;
  output -> 0 at queries damages the recalls whose answer is a stored value; GRU update -> 1
  (keep) at resets and stores damages the same behaviours. (b) "the diagonal dominates": at
  the role's events, its gate's clamp damages the behaviour more than the most damaging clamp
  of any other gate at the same events (contrast = role gate's damage - the largest other
  damage, per seed; "each other gate" at once, so the test is conservative). At stores the
  forget gate has a share in the role too: writing a new value over a held one needs the old
  one erased, so forget -> 1 at stores can damage recall_after_store as well.
* **unit ablation vs random groups** -- the `verdict_k` units of the role gate most locked to
  the role's event (chosen on held-out sequences) damage the behaviours that need the role
  more than random groups of as many units (contrast = targeted damage - mean damage of the
  random groups). The per-k share of seeds with a permutation p < 0.05 and the mean effect
  size are in `ablation_summary`, trained vs step 0.
* **weight-block swap** -- exchanging two gates' weight blocks breaks the trained model
  (damage on all scored steps) and changes nothing at step 0 (the change is the verdict).
"""

from __future__ import annotations

import pandas as pd

from gateroles import stats
from gateroles.analyses.causal import NEEDS, Settings, clamps, role_off
from gateroles.study import CELL_KEYS, RUN_KEYS, at_phase

CLAIM = "C3"
EVENTS, ABLATION, SWAP = "clamping at events", "unit ablation vs random groups", \
    "weight-block swap"
PHASES = ("trained", "initial")

MATRIX_KEYS = ["gate", "value", "event", "condition", "behaviour"]
ABLATION_KEYS = ["event", "gate", "value", "k"]
SWAP_KEYS = ["gate_a", "gate_b"]


def clamp_label(gate: str, value: float) -> str:
    return f"{gate} → {value:g}"


def _solved(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["solved"].astype(bool)] if len(table) else table


def _n_unsolved(runs: pd.DataFrame) -> dict[tuple, int]:
    """Cell (task, arch, init) -> number of unsolved seeds."""
    if runs.empty:
        return {}
    flags = runs.assign(unsolved=~runs["solved"].astype(bool))
    return {key: int(v) for key, v in flags.groupby(CELL_KEYS)["unsolved"].sum().items()}


def _per_seed(frame: pd.DataFrame, keys: list[str], value: str) -> pd.Series:
    """`value` indexed by (phase, *keys, seed), from per-model rows at the two phases."""
    if frame.empty:
        return pd.Series(dtype=float)
    return frame.set_index(["phase", *keys, "seed"])[value].astype(float).sort_index()


def _at(series: pd.Series, phase: str, *keys) -> pd.Series:
    """The per-seed values (indexed by seed) of one (phase, keys) group; empty if absent."""
    try:
        return series.loc[(phase, *keys)]
    except KeyError:
        return pd.Series(dtype=float)


def _row(trained, initial, settings, cell, n_unsolved, **keys) -> dict | None:
    """A prediction row, or None when no seed has the effect at both phases."""
    paired = pd.concat([trained.rename("t"), initial.rename("i")], axis=1).dropna()
    if paired.empty:
        return None
    return stats.prediction_row(trained, initial, +1, settings, claim=CLAIM,
                                n_unsolved=n_unsolved, **dict(zip(CELL_KEYS, cell, strict=True)),
                                **keys)


def matrix_predictions(matrix: pd.DataFrame, settings: stats.Settings,
                       unsolved: dict) -> list[dict]:
    """The (a) and (b) rows of every cell (see the module docstring)."""
    rows = []
    phases = at_phase(_solved(matrix)) if len(matrix) else matrix
    for cell, group in (phases.groupby(CELL_KEYS, sort=True) if len(phases) else []):
        task, arch, _ = cell
        damage = _per_seed(group, MATRIX_KEYS, "damage")
        n_unsolved = unsolved.get(cell, 0)
        for role, (gate, value) in role_off(arch).items():
            others = [(g, v) for g, v, _ in clamps(arch) if g != gate]
            for behaviour in NEEDS.get(task, {}).get(role, ()):
                label = clamp_label(gate, value)
                at = {p: _at(damage, p, gate, value, role, "event", behaviour) for p in PHASES}
                quiet = {p: _at(damage, p, gate, value, role, "control", behaviour)
                         for p in PHASES}
                row = _row(at["trained"] - quiet["trained"], at["initial"] - quiet["initial"],
                           settings, cell, n_unsolved, evidence=EVENTS,
                           prediction=f"{label} at {role} damages {behaviour} more than at "
                                      f"matched quiet steps")
                rows += [row] if row else []
                if not others:
                    continue
                rivals = {p: pd.concat([_at(damage, p, g, v, role, "event", behaviour)
                                        .rename(clamp_label(g, v)) for g, v in others], axis=1)
                          for p in PHASES}
                if rivals["trained"].empty:
                    continue
                strongest = rivals["trained"].idxmax(axis=1).value_counts()
                row = _row(at["trained"] - rivals["trained"].max(axis=1),
                           at["initial"] - rivals["initial"].max(axis=1), settings, cell,
                           n_unsolved, evidence=EVENTS,
                           prediction=f"{label} at {role} damages {behaviour} more than any "
                                      f"other gate clamped at {role}",
                           note="strongest other clamp (trained seeds): " + ", ".join(
                               f"{k} ({v})" for k, v in strongest.items()))
                rows += [row] if row else []
    return rows


def ablation_predictions(ablation: pd.DataFrame, settings: Settings,
                         stats_settings: stats.Settings, unsolved: dict) -> list[dict]:
    """One row per cell x role at `settings.verdict_k`: targeted minus mean random damage."""
    rows = []
    data = ablation[ablation["k"] == settings.verdict_k] if len(ablation) else ablation
    phases = at_phase(_solved(data)) if len(data) else data
    for cell, group in (phases.groupby(CELL_KEYS, sort=True) if len(phases) else []):
        excess = _per_seed(group.assign(excess=group["targeted"] - group["null_mean"]),
                           ["event", "gate", "value"], "excess")
        for (role, gate, value), part in group.groupby(["event", "gate", "value"], sort=False):
            needed = part["behaviours"].iloc[0].replace(" ", ", ")
            k = settings.verdict_k
            row = _row(_at(excess, "trained", role, gate, value),
                       _at(excess, "initial", role, gate, value), stats_settings, cell,
                       unsolved.get(cell, 0), evidence=ABLATION,
                       prediction=f"the {k} {gate} units most locked to {role}, "
                                  f"{clamp_label(gate, value)} at {role}, damage {needed} more "
                                  f"than random groups of {k}")
            rows += [row] if row else []
    return rows


def swap_predictions(swaps: pd.DataFrame, settings: stats.Settings, unsolved: dict
                     ) -> list[dict]:
    """One row per cell x swapped pair: the damage of the swap, trained vs step 0."""
    rows = []
    phases = at_phase(_solved(swaps)) if len(swaps) else swaps
    for cell, group in (phases.groupby(CELL_KEYS, sort=True) if len(phases) else []):
        damage = _per_seed(group, SWAP_KEYS, "damage")
        for (a, b), _ in group.groupby(SWAP_KEYS, sort=False):
            row = _row(_at(damage, "trained", a, b), _at(damage, "initial", a, b), settings,
                       cell, unsolved.get(cell, 0), evidence=SWAP,
                       prediction=f"swapping the {a} and {b} weight blocks breaks the model")
            rows += [row] if row else []
    return rows


def _summary(frame: pd.DataFrame, keys: list[str], values: list[str], confidence: float
             ) -> pd.DataFrame:
    """Mean and t-interval over solved seeds of `values`, per cell x phase x `keys`."""
    columns = CELL_KEYS + ["phase", *keys, "n_seeds"] + [
        f"{v}{s}" for v in values for s in ("", "_ci_low", "_ci_high")]
    phases = at_phase(_solved(frame)) if len(frame) else frame
    if phases.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for key, group in phases.groupby(CELL_KEYS + ["phase", *keys], sort=True):
        row = dict(zip(CELL_KEYS + ["phase", *keys], key, strict=True))
        row["n_seeds"] = int(group["seed"].nunique())
        for v in values:
            row[v], row[f"{v}_ci_low"], row[f"{v}_ci_high"] = stats.mean_ci(group[v],
                                                                             confidence)
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def ablation_summary(ablation: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Per cell x phase x role x k: share of solved seeds with p < 0.05, the mean effect size
    (and its median over seeds: a null without spread, e.g. single units of which almost
    none matters, makes one seed's effect size huge), mean targeted and random damage."""
    base = _summary(ablation, ABLATION_KEYS, ["targeted", "null_mean", "effect_size"],
                    confidence)
    if base.empty:
        return base.assign(effect_size_median=[], share_p05=[], n_p05=[])
    phases = at_phase(_solved(ablation))
    counts = (phases.assign(p05=phases["p_value"] < 0.05)
              .groupby(CELL_KEYS + ["phase", *ABLATION_KEYS])
              .agg(n_p05=("p05", "sum"), n_tests=("p05", "count"),
                   effect_size_median=("effect_size", "median"))
              .reset_index())
    merged = base.merge(counts, on=CELL_KEYS + ["phase", *ABLATION_KEYS], how="left")
    return merged.assign(n_p05=merged["n_p05"].astype(int),
                         share_p05=merged["n_p05"] / merged["n_tests"]).drop(columns="n_tests")


def _phase_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Solved models' rows at step 0 and the last step, with a `phase` column."""
    if table.empty:
        return table.assign(phase=[])
    return at_phase(_solved(table))


def aggregate(tables, runs, settings: Settings, stats_settings: stats.Settings
              ) -> dict[str, pd.DataFrame]:
    unsolved = _n_unsolved(runs)
    confidence = stats_settings.confidence
    rows = (matrix_predictions(tables["matrix"], stats_settings, unsolved)
            + ablation_predictions(tables["ablation"], settings, stats_settings, unsolved)
            + swap_predictions(tables["swaps"], stats_settings, unsolved))
    null = _phase_rows(tables["ablation_null"])
    return {
        "c3": stats.verdict_table(rows, stats_settings),
        "matrix": _summary(tables["matrix"], MATRIX_KEYS, ["damage", "score", "base_score"],
                           confidence),
        "ablation": ablation_summary(tables["ablation"], confidence),
        "ablation_models": _phase_rows(tables["ablation"]),
        "ablation_null": null[RUN_KEYS + ["phase", *ABLATION_KEYS, "group", "damage"]]
        if len(null) else pd.DataFrame(columns=RUN_KEYS + ["phase", *ABLATION_KEYS, "group",
                                                           "damage"]),
        "swaps": _summary(tables["swaps"], SWAP_KEYS + ["metric"],
                          ["score_before", "score_after", "damage", "chance"], confidence),
    }
