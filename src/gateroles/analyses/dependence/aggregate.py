"""C5 across seeds: dependence between gates (MI against its null, initial vs trained) and
disentanglement scores (initial vs trained), with the C5 verdict rows."""

from __future__ import annotations

import pandas as pd

from gateroles import stats
from gateroles.study import CELL_KEYS, RUN_KEYS, at_phase

# --------------------------------------------------------------------------------------------
# C5: dependence between gates and disentanglement (gateroles.gate_information)
# --------------------------------------------------------------------------------------------
CHANGE = {"supported": "rises", "contradicted": "falls", "inconclusive": "no clear change"}


def change_table(table: pd.DataFrame, keys: list[str], value: str, n_boot: int,
                 confidence: float) -> pd.DataFrame:
    """Initial vs trained `value` per group of `keys` (+ CELL_KEYS), solved seeds only.

    Per seed: the value at step 0 and at the last step, and trained minus initial; means with
    bootstrap CIs over seeds; `change` = rises / falls / no clear change (CI of the
    difference excludes zero or not); `n_unsolved` counts the seeds left out.
    """
    rows = []
    phases = at_phase(table)
    for group_keys, group in phases.groupby(CELL_KEYS + keys, sort=True):
        row = dict(zip(CELL_KEYS + keys, group_keys, strict=True))
        row["n_unsolved"] = int(group.loc[~group["solved"], "seed"].nunique())
        wide = group[group["solved"]].pivot_table(index="seed", columns="phase", values=value)
        if not {"initial", "trained"} <= set(wide.columns):
            continue
        diff = wide["trained"] - wide["initial"]
        verdict = stats.directional_verdict(diff, +1, n_boot, confidence)
        for phase in ("initial", "trained"):
            mean, lo, hi = stats.bootstrap_ci(wide[phase], n_boot, confidence)
            row.update({phase: mean, f"{phase}_ci_low": lo, f"{phase}_ci_high": hi})
        row.update({"change": verdict["mean"], "change_ci_low": verdict["ci_low"],
                    "change_ci_high": verdict["ci_high"], "n_seeds": verdict["n_seeds"],
                    "seeds_rising": int((diff > 0).sum()),
                    "direction": CHANGE[verdict["verdict"]]})
        rows.append(row)
    columns = CELL_KEYS + keys + ["n_unsolved"] + [
        f"{phase}{suffix}" for phase in ("initial", "trained")
        for suffix in ("", "_ci_low", "_ci_high")] + [
        "change", "change_ci_low", "change_ci_high", "n_seeds", "seeds_rising", "direction"]
    return pd.DataFrame(rows, columns=columns)


def c5_dependence(gate_mi: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
    """MI between gate types, initial vs trained, and its excess over the permutation null.

    One row per task x arch x init x pair x representation x bins x summary. Where the null
    was computed: `excess` = MI minus the null's mean at the last step (CI over seeds), and
    `seeds_above_null` = seeds with permutation p below 1 - confidence (with 20
    permutations p >= 1/21, so that means MI above every shuffled value).
    """
    keys = ["pair", "representation", "bins", "summary"]
    gate_mi = pd.concat([gate_mi, unit_specific(gate_mi)], ignore_index=True)
    out = change_table(gate_mi, keys, "mi", n_boot, confidence)
    if out.empty:
        return out
    trained = at_phase(gate_mi[gate_mi["solved"]])
    trained = trained[(trained["phase"] == "trained") & trained["p_value"].notna()]
    extra = []
    for group_keys, group in trained.groupby(CELL_KEYS + keys, sort=True):
        excess = group["mi"] - group["null_mean"]
        mean, lo, hi = stats.bootstrap_ci(excess, n_boot, confidence)
        extra.append({**dict(zip(CELL_KEYS + keys, group_keys, strict=True)),
                      "excess": mean, "excess_ci_low": lo, "excess_ci_high": hi,
                      "null_q95": group["null_q95"].mean(),
                      "seeds_above_null": int((group["p_value"] < 1 - confidence).sum()),
                      "p_max": group["p_value"].max()})
    if extra:
        out = out.merge(pd.DataFrame(extra), on=CELL_KEYS + keys, how="left")
    return out


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


def c5_disentanglement(scores: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
    """MIG, modularity, DCI and SAP, initial vs trained, per task x arch x init x metric."""
    return change_table(scores, ["metric"], "value", n_boot, confidence)


SPECIALISATION_METRICS = ("mig", "modularity", "dci_disentanglement")


def _c5_row(r, question: str, measure: str, seeds_agreeing: int, verdict: str) -> dict:
    """One C5 verdict row from a `change_table` row (a namedtuple)."""
    return {"task": r.task, "arch": r.arch, "init": r.init, "question": question,
            "measure": measure, "trained": r.trained, "trained_ci_low": r.trained_ci_low,
            "trained_ci_high": r.trained_ci_high, "initial": r.initial, "change": r.change,
            "change_ci_low": r.change_ci_low, "change_ci_high": r.change_ci_high,
            "direction": r.direction, "n_seeds": r.n_seeds, "seeds_agreeing": seeds_agreeing,
            "verdict": verdict}


def c5_verdicts(dependence: pd.DataFrame, disent: pd.DataFrame, main_bins: int
                ) -> pd.DataFrame:
    """The C5 headline per task x arch x init: two questions, one row per measure.

    * `independent`: same-unit MI between two gate types on the logits (no saturation loss)
      at `main_bins` bins; `independent given input`: the same, conditional on the current
      input's type (the dependence not explained by the shared input token). `dependent`
      when its excess over the permutation null has a CI above zero and every solved seed
      beats the null; `independent` when the excess CI
      contains zero; otherwise `unclear`. `direction` says whether it rose or fell with
      training.
    * `specialised`: MIG, modularity and DCI disentanglement, trained vs initial; `more
      specialised` / `less specialised` when the CI of the change excludes zero.
    """
    rows = []
    questions = {"same_unit": "independent", "same_unit_given_input": "independent given input"}
    if not dependence.empty:
        sel = dependence[(dependence["representation"] == "logit")
                         & (dependence["bins"] == main_bins)
                         & dependence["summary"].isin(list(questions))]
        for r in sel.itertuples(index=False):
            if r.excess_ci_low > 0 and r.seeds_above_null == r.n_seeds:
                verdict = "dependent"
            elif r.excess_ci_low <= 0 <= r.excess_ci_high:
                verdict = "independent"
            else:
                verdict = "unclear"
            rows.append(_c5_row(r, questions[r.summary], f"MI {r.pair}",
                                r.seeds_above_null, verdict))
    if not disent.empty:
        sel = disent[disent["metric"].isin(SPECIALISATION_METRICS)]
        for r in sel.itertuples(index=False):
            verdict = {"rises": "more specialised", "falls": "less specialised"}.get(
                r.direction, "no clear change")
            rows.append(_c5_row(r, "specialised", r.metric, r.seeds_rising, verdict))
    columns = ["task", "arch", "init", "question", "measure", "trained", "trained_ci_low",
               "trained_ci_high", "initial", "change", "change_ci_low", "change_ci_high",
               "direction", "n_seeds", "seeds_agreeing", "verdict"]
    return pd.DataFrame(rows, columns=columns)



def aggregate(tables, runs, settings, stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    n_boot, confidence = stats_settings.bootstrap_samples, stats_settings.confidence
    gate_mi, scores = tables["gate_mi"], tables["disentanglement"]
    dependence = c5_dependence(gate_mi, n_boot, confidence)
    disent = c5_disentanglement(scores, n_boot, confidence)
    return {"gate_mi": gate_mi, "unit_factor": tables["unit_factor"],
            "disentanglement": scores, "dependence": dependence, "disent_change": disent,
            "c5": c5_verdicts(dependence, disent, settings.main_bins)}
