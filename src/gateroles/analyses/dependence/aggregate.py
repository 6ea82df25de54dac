"""C5 across seeds: are the gates independent, and are they specialised?

Two questions, three lines of evidence, one verdict table (`c5`). Every row is a primary
prediction beside its negative control, the same test run on the held-out draw of its own
permutation null (`null_draw - null_mean`, `measure.held_out`), where the structure is absent
by construction and the test must not come out supported; the counted ones (their control
ran and did not come out supported) are one Holm family, claim C5 (`stats.verdict_table`).

* **Independence** (given the input too). Per gate pair (logits, `main_bins` bins): the
  excess of same-unit MI over its sequence-shuffle null (gate b's sequences shuffled against
  gate a's), per seed at the last checkpoint. Decided on the trained network, not on the
  change from step 0 (`stats.reference_row`, against 0; step 0 shown): dependence is a
  property of the trained gates, and at step 0 they already share their input. The words:
  `dependent` where the one-sided t-test of "excess above 0" is supported after Holm (the
  claim's family); `independent` only from an equivalence test (TOST over seeds, margin
  `independence_margin`), its p-value Holm-adjusted across the same rows' equivalence tests;
  `independent` takes precedence (an excess shown to lie within the margin is independent even
  if above 0); otherwise `not shown`: absence of evidence is not independence. Rival of
  "dependent": the gates are independent (the excess within the margin); given the input:
  the shared input token explains the dependence.
* **Specialisation.** Per disentanglement score (MIG, modularity, DCI disentanglement; units
  and gate-level code groups): the score's excess over its shuffled-factor null (the factors'
  sequences shuffled against the codes), decided on the per-seed change from step 0
  (`stats.prediction_row`): pure-noise codes score modularity ~0.93 against these factor
  sets, so a raw score means nothing without its null. Rival: training makes the gate units
  no more selective for the task variables than at initialisation. With a null of one draw
  (DCI's default `fitted_null_permutations`) there is no draw to hold out: its control did not
  run and the row is shown, not counted.

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
TRAINED_WHY = ("whether the trained gates are dependent, not whether training made them more "
               "so (step 0 shown)")
RIVALS = {INDEPENDENCE: "the gates are statistically independent: the excess MI lies within "
                        "the equivalence margin",
          INDEPENDENCE_GIVEN: "the shared input token explains the dependence: no excess MI "
                              "given the input",
          SPECIALISATION: "training makes the gate units no more selective for the task "
                          "variables than at initialisation"}
# The negative controls: the same test on the held-out draw of the row's own permutation null.
NULL_DRAW = {"independence": "held-out null draw (gate b's sequences shuffled against gate "
                             "a's)",
             "specialisation": "held-out null draw (the factors' sequences shuffled against "
                               "the codes)"}


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


def _control(trained: pd.Series, initial: pd.Series, reference: bool,
             settings: stats.Settings, **keys) -> dict | None:
    """The negative control's row: the same test on the held-out null draw (None when no seed
    has one: the null had a single draw)."""
    if trained.dropna().empty:
        return None
    if reference:
        return stats.reference_row(trained, 0.0, +1, settings, initial=initial,
                                   why=TRAINED_WHY, **keys)
    return stats.prediction_row(trained, initial, +1, settings, **keys)


def _per_seed(group: pd.DataFrame, value: str) -> tuple[pd.Series, pd.Series]:
    """Solved seeds' trained and initial `value` (initial on the trained seeds)."""
    wide = _phase_wide(group, value)
    trained = wide.get("trained", pd.Series(dtype=float))
    return trained, wide.get("initial", pd.Series(dtype=float)).reindex(trained.index)


def _independence_rows(gate_mi: pd.DataFrame, settings, stats_settings: stats.Settings
                       ) -> list[dict]:
    """Independence rows (`verdict`: the directional test of 'excess above 0', re-worded by
    `_independence_words` once adjusted), each beside its control and carrying its TOST
    (`tost_p`, `tost_verdict`, not verdict columns)."""
    if gate_mi.empty:
        return []
    sel = gate_mi[(gate_mi["representation"] == "logit") & (gate_mi["bins"] == settings.main_bins)
                  & gate_mi["summary"].isin(["same_unit", "same_unit_given_input"])
                  & gate_mi["p_value"].notna()]
    draw = sel["null_draw"] if "null_draw" in sel else np.nan
    sel = at_phase(sel.assign(excess=sel["mi"] - sel["null_mean"],
                              control=draw - sel["null_mean"]))
    rows = []
    for (task, arch, init, pair, summary), group in sel.groupby(
            CELL_KEYS + ["pair", "summary"], sort=True):
        trained, initial = _per_seed(group, "excess")
        given = summary == "same_unit_given_input"
        keys = {"claim": "C5", "evidence": INDEPENDENCE_GIVEN if given else INDEPENDENCE,
                "task": task, "arch": arch, "init": init,
                "prediction": f"{pair}: excess MI over the null" + (
                    " given the input" if given else ""),
                "rival": RIVALS[INDEPENDENCE_GIVEN if given else INDEPENDENCE],
                "n_unsolved": int(group.loc[~group["solved"], "seed"].nunique())}
        row = stats.reference_row(trained, 0.0, +1, stats_settings, initial=initial,
                                  why=TRAINED_WHY, **keys)
        equivalent = stats.equivalence(trained, settings.independence_margin,
                                       stats_settings.confidence, stats_settings.min_seeds)
        row.update(tost_p=equivalent["p_value"], tost_verdict=equivalent["verdict"],
                   note=f"equivalence margin +-{settings.independence_margin:g} nats; "
                        f"TOST interval [{equivalent['ci_low']:.3g}, "
                        f"{equivalent['ci_high']:.3g}], p = {equivalent['p_value']:.3g} "
                        f"before Holm")
        control = _control(*_per_seed(group, "control"), True, stats_settings, **keys)
        rows.append(stats.with_control(row, control, NULL_DRAW["independence"]))
    return rows


def _independence_words(table: pd.DataFrame, rows: list[dict], confidence: float
                        ) -> pd.DataFrame:
    """The independence rows of the adjusted `table` (in the order of `rows`, first) worded
    dependent / independent / not shown: `independent` where the TOST p, Holm-adjusted
    across the independence rows of the same family (counted or not), is below alpha;
    `dependent` where the adjusted test of 'excess above 0' is supported; insufficient seeds
    and untestable rows (every seed the same value, e.g. all at a ceiling) keep their verdict.
    `verdict_unadjusted` gets the same words from the unadjusted p-values."""
    alpha = (1 - confidence) / 2
    n = len(rows)
    if not n:
        return table
    part = table.iloc[:n].copy()
    tost = pd.Series([r["tost_p"] for r in rows], index=part.index, dtype=float)
    constant = pd.Series([r["tost_verdict"] == stats.UNTESTABLE for r in rows], index=part.index)
    adjusted = pd.Series(np.nan, index=part.index)
    for _, family in part.groupby(["test", "counted"]).groups.items():
        adjusted[family] = stats.holm(tost[family].to_numpy())

    def words(verdict: str, equivalent_p: float, is_constant: bool) -> str:
        if verdict == stats.INSUFFICIENT:
            return verdict
        if is_constant or verdict == stats.UNTESTABLE:
            return stats.UNTESTABLE
        if equivalent_p < alpha:
            return INDEPENDENT
        return DEPENDENT if verdict == stats.SUPPORTED else NOT_SHOWN

    part["verdict"] = [words(v, p, c) for v, p, c in
                       zip(part["verdict"], adjusted, constant, strict=True)]
    part["verdict_unadjusted"] = [words(v, p, c) for v, p, c in
                                  zip(part["verdict_unadjusted"], tost, constant, strict=True)]
    return pd.concat([part, table.iloc[n:]])


def _specialisation_rows(scores: pd.DataFrame, stats_settings: stats.Settings) -> list[dict]:
    if scores.empty:
        return []
    sel = scores[scores["metric"].isin(SPECIALISATION_METRICS) & scores["null_mean"].notna()]
    draw = sel["null_draw"] if "null_draw" in sel else np.nan
    sel = at_phase(sel.assign(excess=sel["value"] - sel["null_mean"],
                              control=draw - sel["null_mean"]))
    rows = []
    for (task, arch, init, metric, level), group in sel.groupby(
            CELL_KEYS + ["metric", "level"], sort=True):
        wide = _phase_wide(group, "excess")
        if not {"initial", "trained"} <= set(wide.columns):
            continue
        keys = {"claim": "C5", "evidence": SPECIALISATION, "task": task, "arch": arch,
                "init": init, "prediction": f"{metric} ({level}s) above its null rises",
                "rival": RIVALS[SPECIALISATION],
                "n_unsolved": int(group.loc[~group["solved"], "seed"].nunique())}
        row = stats.prediction_row(wide["trained"], wide["initial"], +1, stats_settings, **keys)
        control = _control(*_per_seed(group, "control"), False, stats_settings, **keys)
        name = NULL_DRAW["specialisation"] + ("" if control is not None else
                                              " (a null of one draw: none to hold out)")
        rows.append(stats.with_control(row, control, name))
    return rows


def c5_verdicts(gate_mi: pd.DataFrame, scores: pd.DataFrame, settings,
                stats_settings: stats.Settings) -> pd.DataFrame:
    """The C5 verdict table: the independence rows (first) and the specialisation rows, each
    beside its negative control, the counted ones Holm-adjusted as one family; the
    independence rows then worded (`_independence_words`)."""
    independence = _independence_rows(gate_mi, settings, stats_settings)
    rows = independence + _specialisation_rows(scores, stats_settings)
    table = stats.verdict_table(rows, stats_settings)
    return _independence_words(table, independence, stats_settings.confidence).reset_index(
        drop=True)


def aggregate(tables, runs, settings, stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    gate_mi, scores = tables["gate_mi"], tables["disentanglement"]
    confidence = stats_settings.confidence
    return {"gate_mi": gate_mi, "unit_factor": tables["unit_factor"],
            "disentanglement": scores, "dependence": c5_dependence(gate_mi, confidence),
            "disent_change": c5_disentanglement(scores, confidence),
            "c5": c5_verdicts(gate_mi, scores, settings, stats_settings)}
