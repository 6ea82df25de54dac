"""C5 across seeds: are the gates independent, and are they specialised?

Two questions, two lines of evidence, one verdict table (`c5`):

* **Independence.** Per gate pair (logits, `main_bins` bins): the excess of same-unit MI over
  its sequence-shuffle null, per seed at the last checkpoint (and given the current input).
  `independent` only from an equivalence test (TOST over seeds) with the configured margin;
  `dependent` when the excess is above zero (one-sided t-test over seeds, Holm-adjusted across
  the independence rows); otherwise `not shown`. Absence of evidence is not independence.
* **Specialisation.** Per disentanglement score (MIG, modularity, DCI disentanglement; units and
  gate-level code groups): the score's excess over its shuffled-factor null, decided on the
  per-seed change from step 0 (`stats.prediction_row`, Holm within C5): pure-noise codes score
  modularity ~0.93 against these factor sets, so a raw score means nothing without its null.

Beside them, descriptive tables: every MI summary initial vs trained (`dependence`), every score
with its null (`disent_change`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import stats
from gateroles.study import CELL_KEYS, RUN_KEYS, at_phase

INDEPENDENCE = "independence (same-unit MI vs its null)"
INDEPENDENCE_GIVEN = "independence given the input (same-unit MI vs its null)"
SPECIALISATION = "specialisation (disentanglement vs its null)"
SPECIALISATION_METRICS = ("mig", "modularity", "dci_disentanglement")
INDEPENDENT, DEPENDENT, NOT_SHOWN = "independent", "dependent", "not shown"


def _phase_wide(table: pd.DataFrame, value: str) -> pd.DataFrame:
    """Solved seeds' `value`: rows seed, columns phase (initial, trained)."""
    return table[table["solved"]].pivot_table(index="seed", columns="phase", values=value)


def change_table(table: pd.DataFrame, keys: list[str], value: str, confidence: float
                 ) -> pd.DataFrame:
    """Initial vs trained `value` per cell and group of `keys`, solved seeds only (descriptive).

    Means with t-intervals over seeds at step 0, at the last step, and of the per-seed change;
    `direction` = rises / falls / no clear change by whether that interval excludes 0.
    """
    rows = []
    for group_keys, group in at_phase(table).groupby(CELL_KEYS + keys, sort=True):
        wide = _phase_wide(group, value)
        if not {"initial", "trained"} <= set(wide.columns):
            continue
        row = dict(zip(CELL_KEYS + keys, group_keys, strict=True))
        row["n_unsolved"] = int(group.loc[~group["solved"], "seed"].nunique())
        for name, values in (("initial", wide["initial"]), ("trained", wide["trained"]),
                             ("change", wide["trained"] - wide["initial"])):
            mean, lo, hi = stats.mean_ci(values, confidence)
            row.update({name: mean, f"{name}_ci_low": lo, f"{name}_ci_high": hi})
        diff = (wide["trained"] - wide["initial"]).dropna()
        row.update({"n_seeds": len(diff), "seeds_rising": int((diff > 0).sum()),
                    "direction": ("rises" if row["change_ci_low"] > 0 else "falls"
                                  if row["change_ci_high"] < 0 else "no clear change")})
        rows.append(row)
    columns = CELL_KEYS + keys + ["n_unsolved"] + [
        f"{name}{suffix}" for name in ("initial", "trained", "change")
        for suffix in ("", "_ci_low", "_ci_high")] + ["n_seeds", "seeds_rising", "direction"]
    return pd.DataFrame(rows, columns=columns)


def unit_specific(gate_mi: pd.DataFrame) -> pd.DataFrame:
    """Rows `unit_specific` (same-unit minus different-unit MI) and `unit_specific_given_input`
    (the same given the input): the dependence between a unit's own gates beyond what any two
    units of the network share."""
    pairs = {"unit_specific": ("same_unit", "shifted_unit"),
             "unit_specific_given_input": ("same_unit_given_input", "shifted_unit_given_input")}
    index = RUN_KEYS + ["solved", "step", "final_step", "pair", "representation", "bins"]
    wide = gate_mi.pivot_table(index=index, columns="summary", values="mi").reset_index()
    frames = []
    for name, (same, other) in pairs.items():
        if {same, other} <= set(wide.columns):
            frames.append(wide[index].assign(summary=name, mi=wide[same] - wide[other]))
    return pd.concat(frames, ignore_index=True) if frames else gate_mi.iloc[:0]


def c5_dependence(gate_mi: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Every MI summary between gate types, initial vs trained (descriptive), with the excess
    over the permutation null at the last step where the null was computed."""
    keys = ["pair", "representation", "bins", "summary"]
    with_specific = pd.concat([gate_mi, unit_specific(gate_mi)], ignore_index=True)
    out = change_table(with_specific, keys, "mi", confidence)
    if out.empty:
        return out
    nulled = gate_mi[gate_mi["p_value"].notna()].assign(excess=lambda t: t["mi"] - t["null_mean"])
    excess = change_table(nulled, keys, "excess", confidence)
    excess = excess[CELL_KEYS + keys + ["trained", "trained_ci_low", "trained_ci_high"]].rename(
        columns=lambda c: c.replace("trained", "excess"))
    return out.merge(excess, on=CELL_KEYS + keys, how="left")


def c5_disentanglement(scores: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Every disentanglement score, initial vs trained, and its excess over its null."""
    keys = ["metric", "level"]
    out = change_table(scores, keys, "value", confidence)
    nulled = scores[scores["null_mean"].notna()].assign(
        excess=lambda t: t["value"] - t["null_mean"])
    if out.empty or nulled.empty:
        return out
    excess = change_table(nulled, keys, "excess", confidence)
    renamed = excess[CELL_KEYS + keys + [c for c in excess.columns if c.startswith(
        ("initial", "trained", "change"))]].rename(columns=lambda c: f"excess_{c}"
                                                   if c not in CELL_KEYS + keys else c)
    null = (nulled[nulled["solved"] & (nulled["step"] == nulled["final_step"])]
            .groupby(CELL_KEYS + keys)["null_mean"].mean().rename("null_trained").reset_index())
    return out.merge(renamed, on=CELL_KEYS + keys, how="left").merge(
        null, on=CELL_KEYS + keys, how="left")


def _independence_rows(gate_mi: pd.DataFrame, settings, stats_settings: stats.Settings
                       ) -> list[dict]:
    if gate_mi.empty:
        return []
    sel = gate_mi[(gate_mi["representation"] == "logit") & (gate_mi["bins"] == settings.main_bins)
                  & gate_mi["summary"].isin(["same_unit", "same_unit_given_input"])
                  & gate_mi["p_value"].notna()]
    sel = at_phase(sel.assign(excess=sel["mi"] - sel["null_mean"]))
    rows = []
    for (task, arch, init, pair, summary), group in sel.groupby(
            CELL_KEYS + ["pair", "summary"], sort=True):
        wide = _phase_wide(group, "excess")
        trained = wide.get("trained", pd.Series(dtype=float))
        initial = wide.get("initial", pd.Series(dtype=float)).reindex(trained.index)
        given = summary == "same_unit_given_input"
        row = stats.prediction_row(
            trained, initial, +1, stats_settings, claim="C5",
            evidence=INDEPENDENCE_GIVEN if given else INDEPENDENCE, task=task, arch=arch,
            init=init, prediction=f"{pair}: excess MI over the null" + (
                " given the input" if given else ""),
            n_unsolved=int(group.loc[~group["solved"], "seed"].nunique()))
        dependent = stats.directional_verdict(trained, +1, confidence=stats_settings.confidence,
                                              min_seeds=stats_settings.min_seeds)
        equivalent = stats.equivalence(trained, settings.independence_margin,
                                       stats_settings.confidence, stats_settings.min_seeds)
        # The verdict is on the trained network; the change from step 0 is reported beside it.
        row.update(p_value=dependent["p_value"], p_opposite=dependent["p_opposite"],
                   seeds_agreeing=int((trained > 0).sum()),
                   cohens_dz=dependent["cohens_dz"],
                   verdict=(stats.INSUFFICIENT if equivalent["verdict"] == stats.INSUFFICIENT
                            else INDEPENDENT if equivalent["verdict"] == stats.EQUIVALENT
                            else "pending"),
                   note=f"equivalence margin +-{settings.independence_margin:g} nats; "
                        f"TOST interval [{equivalent['ci_low']:.3g}, "
                        f"{equivalent['ci_high']:.3g}]")
        rows.append(row)
    # `dependent` where the trained excess is above zero after Holm across these rows.
    p = np.array([r["p_value"] if r["verdict"] == "pending" else np.nan for r in rows])
    adjusted = stats.holm(p) if len(p) else p
    alpha = (1 - stats_settings.confidence) / 2
    for row, p_adj in zip(rows, adjusted, strict=True):
        if row["verdict"] == "pending":
            row["verdict"] = DEPENDENT if p_adj < alpha else NOT_SHOWN
            row["p_adjusted"] = p_adj
    return rows


def _specialisation_rows(scores: pd.DataFrame, stats_settings: stats.Settings) -> list[dict]:
    if scores.empty:
        return []
    sel = scores[scores["metric"].isin(SPECIALISATION_METRICS) & scores["null_mean"].notna()]
    sel = at_phase(sel.assign(excess=sel["value"] - sel["null_mean"]))
    rows = []
    for (task, arch, init, metric, level), group in sel.groupby(
            CELL_KEYS + ["metric", "level"], sort=True):
        wide = _phase_wide(group, "excess")
        if not {"initial", "trained"} <= set(wide.columns):
            continue
        rows.append(stats.prediction_row(
            wide["trained"], wide["initial"], +1, stats_settings, claim="C5",
            evidence=SPECIALISATION, task=task, arch=arch, init=init,
            prediction=f"{metric} ({level}s) above its null rises",
            n_unsolved=int(group.loc[~group["solved"], "seed"].nunique())))
    return rows


def c5_verdicts(gate_mi: pd.DataFrame, scores: pd.DataFrame, settings,
                stats_settings: stats.Settings) -> pd.DataFrame:
    """The C5 verdict table: independence rows (their own verdicts) and specialisation rows
    (Holm-adjusted among themselves)."""
    special = stats.verdict_table(_specialisation_rows(scores, stats_settings), stats_settings)
    independence = pd.DataFrame(_independence_rows(gate_mi, settings, stats_settings))
    if len(independence):
        independence = independence.assign(verdict_unadjusted=independence["verdict"])
    table = pd.concat([t for t in (independence, special) if len(t)], ignore_index=True)
    return table if len(table) else special


def aggregate(tables, runs, settings, stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    gate_mi, scores = tables["gate_mi"], tables["disentanglement"]
    confidence = stats_settings.confidence
    return {"gate_mi": gate_mi, "unit_factor": tables["unit_factor"],
            "disentanglement": scores, "dependence": c5_dependence(gate_mi, confidence),
            "disent_change": c5_disentanglement(scores, confidence),
            "c5": c5_verdicts(gate_mi, scores, settings, stats_settings)}
