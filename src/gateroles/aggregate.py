"""Across seeds: the study's tables, confidence intervals and the C2 verdicts.

Models that did not solve their task are kept in every table (column `solved`) but left out of
the verdicts, which say how many seeds they rest on: a claim about a trained gate's role is
only meaningful for a model that learned the task.
"""

from __future__ import annotations

import pandas as pd

from gateroles import stats, storage
from gateroles.events import PREDICTIONS, SIGMOID_GATES
from gateroles.tasks import EVENTS

RUN_KEYS = ["task", "arch", "init", "seed"]
GROUP_KEYS = ["task", "arch", "init"]


def runs_table(test_paths: list[str]) -> pd.DataFrame:
    """One row per model: its test score, chance, threshold and `solved` flag."""
    rows = [storage.read_json(p) for p in test_paths]
    return pd.DataFrame(rows).sort_values(RUN_KEYS, ignore_index=True)


def concat(paths: list[str], runs: pd.DataFrame) -> pd.DataFrame:
    """Stack per-model tables and attach each model's `solved` flag."""
    table = pd.concat([storage.read_csv(p) for p in paths], ignore_index=True)
    return table.merge(runs[RUN_KEYS + ["solved"]], on=RUN_KEYS, how="left")


def solved_by_task(runs: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
    rows = []
    for keys, group in runs.groupby(GROUP_KEYS, sort=True):
        mean, lo, hi = stats.bootstrap_ci(group["test_score"], n_boot, confidence)
        rows.append({**dict(zip(GROUP_KEYS, keys, strict=True)), "metric": group["metric"].iloc[0],
                     "chance": group["chance"].mean(), "threshold": group["threshold"].iloc[0],
                     "n_seeds": len(group), "n_solved": int(group["solved"].sum()),
                     "test_score": mean, "ci_low": lo, "ci_high": hi,
                     "unsolved_seeds": " ".join(map(str, group.loc[~group["solved"], "seed"]))})
    return pd.DataFrame(rows)


def at_phase(table: pd.DataFrame) -> pd.DataFrame:
    """Rows at step 0 (`phase` = initial) and at each model's last step (`phase` = trained)."""
    initial = table[table["step"] == 0].assign(phase="initial")
    trained = table[table["step"] == table["final_step"]].assign(phase="trained")
    return pd.concat([initial, trained], ignore_index=True)


def saturation_summary(saturation: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
    """Mean left/right saturated fraction per gate, initial vs trained, CI over solved seeds."""
    per_seed = (at_phase(saturation[saturation["solved"]])
                .groupby(GROUP_KEYS + ["seed", "phase", "gate"], as_index=False)[["left", "right"]]
                .mean())
    rows = []
    for keys, group in per_seed.groupby(GROUP_KEYS + ["phase", "gate"], sort=True):
        row = dict(zip(GROUP_KEYS + ["phase", "gate"], keys, strict=True))
        for side in ("left", "right"):
            mean, lo, hi = stats.bootstrap_ci(group[side], n_boot, confidence)
            row.update({side: mean, f"{side}_ci_low": lo, f"{side}_ci_high": hi})
        rows.append({**row, "n_seeds": len(group)})
    columns = GROUP_KEYS + ["phase", "gate"] + [f"{side}{suffix}" for side in ("left", "right")
                                                 for suffix in ("", "_ci_low", "_ci_high")]
    return pd.DataFrame(rows, columns=columns + ["n_seeds"])


C2_COLUMNS = GROUP_KEYS + [
    "event", "gate", "predicted", "effect", "ci_low", "ci_high", "cohens_d", "d_ci_low",
    "d_ci_high", "n_seeds", "seeds_agreeing", "verdict", "effect_at_init", "init_ci_low",
    "init_ci_high", "verdict_at_init", "change_from_init", "change_ci_low", "change_ci_high"]


def c2_verdicts(contrast: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
    """Claim C2 per task x arch x init x predicted (event, gate, direction).

    Effect = mean gate activation at the event minus at all other steps (activation units),
    per seed at the last checkpoint; also Cohen's d, the same effect at initialisation, and
    the change from initialisation. Only solved seeds count.
    """
    phases = at_phase(contrast[contrast["solved"]])
    rows = []
    for (task, arch, init), group in phases.groupby(GROUP_KEYS, sort=True):
        for event, gate, direction in PREDICTIONS[arch]:
            sel = group[(group["event"] == event) & (group["gate"] == gate)]
            if sel.empty:
                continue  # this task has no such event
            wide = sel.pivot_table(index="seed", columns="phase", values=["difference", "cohens_d"])
            trained = wide[("difference", "trained")]
            initial = wide[("difference", "initial")]
            verdict = stats.directional_verdict(trained, direction, n_boot, confidence)
            at_init = stats.directional_verdict(initial, direction, n_boot, confidence)
            change = stats.bootstrap_ci(trained - initial, n_boot, confidence)
            d_mean, d_lo, d_hi = stats.bootstrap_ci(wide[("cohens_d", "trained")], n_boot,
                                                    confidence)
            rows.append({
                "task": task, "arch": arch, "init": init, "event": event, "gate": gate,
                "predicted": "rises" if direction > 0 else "drops",
                "effect": verdict["mean"], "ci_low": verdict["ci_low"],
                "ci_high": verdict["ci_high"], "cohens_d": d_mean, "d_ci_low": d_lo,
                "d_ci_high": d_hi, "n_seeds": verdict["n_seeds"],
                "seeds_agreeing": verdict["seeds_agreeing"], "verdict": verdict["verdict"],
                "effect_at_init": at_init["mean"], "init_ci_low": at_init["ci_low"],
                "init_ci_high": at_init["ci_high"], "verdict_at_init": at_init["verdict"],
                "change_from_init": change[0], "change_ci_low": change[1],
                "change_ci_high": change[2],
            })
    return pd.DataFrame(rows, columns=C2_COLUMNS)


# Claim C1: event role -> the gate predicted to carry that role's variable (`tasks.EVENTS` maps
# each task's roles to its binary factors). GRU translation (PyTorch convention, z near 1 keeps
# the state): the update gate z carries both reset and store (it alone decides to overwrite);
# the GRU has no output gate, so no query prediction.
C1_ROLES = {"lstm": {"reset": "forget", "store": "input", "query": "output"},
            "gru": {"reset": "update", "store": "update"}}


def _seed_wide(phases: pd.DataFrame, variable: str) -> pd.DataFrame:
    """Selectivity of one variable, rows (phase, seed), columns source."""
    sel = phases[phases["variable"] == variable]
    return sel.pivot_table(index=["phase", "seed"], columns="source", values="selectivity")


def c1_ranking(probes: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
    """Per task x arch x init x phase x variable: the most selective source and its margin.

    Solved seeds only. The best and runner-up sources are ranked by mean selectivity over seeds;
    `margin` is best minus runner-up per seed (CI over seeds); `seeds_best` counts the seeds in
    which the best source is the most selective of all sources.
    """
    phases = at_phase(probes[probes["solved"]])
    rows = []
    for (task, arch, init, variable), group in phases.groupby(GROUP_KEYS + ["variable"],
                                                              sort=True):
        wide = _seed_wide(group, variable)
        for phase in ("initial", "trained"):
            if phase not in wide.index.get_level_values("phase"):
                continue
            per_seed = wide.loc[phase].dropna(axis=1, how="all")
            order = per_seed.mean().sort_values(ascending=False).index
            best, second = order[0], order[1]
            b = stats.bootstrap_ci(per_seed[best], n_boot, confidence)
            r = stats.bootstrap_ci(per_seed[second], n_boot, confidence)
            m = stats.bootstrap_ci(per_seed[best] - per_seed[second], n_boot, confidence)
            base = per_seed.get("input_window")
            rows.append({
                "task": task, "arch": arch, "init": init, "variable": variable,
                "phase": phase, "best_source": best, "best": b[0], "best_ci_low": b[1],
                "best_ci_high": b[2], "runner_up": second, "runner_up_selectivity": r[0],
                "margin": m[0], "margin_ci_low": m[1], "margin_ci_high": m[2],
                "seeds_best": int((per_seed.idxmax(axis=1) == best).sum()),
                "n_seeds": len(per_seed),
                "input_window": float(base.mean()) if base is not None else float("nan"),
            })
    # Columns even without rows (no solved model), so the table can be read back.
    return pd.DataFrame(rows, columns=None if rows else GROUP_KEYS + ["variable", "phase"])


def c1_verdicts(probes: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
    """Claim C1 per task x arch x init x role: does the predicted gate carry the role's variable
    more selectively than every other sigmoid gate?

    Effect per seed = selectivity of the predicted gate minus the best of the other sigmoid
    gates, at the last checkpoint (`supported` if the CI over solved seeds is above zero); the
    same effect at step 0 is the symmetry control (no gate should be preferred before training).
    `n_unsolved` counts the seeds left out.
    """
    unsolved = (probes[~probes["solved"]].groupby(GROUP_KEYS)["seed"].nunique())
    phases = at_phase(probes[probes["solved"]])
    rows = []
    for (task, arch, init), group in phases.groupby(GROUP_KEYS, sort=True):
        for role, gate in C1_ROLES[arch].items():
            variable = EVENTS[task].get(role)
            if variable is None:
                continue  # this task has no such event
            wide = _seed_wide(group, variable)
            others = [g for g in SIGMOID_GATES[arch] if g != gate]
            effect = wide[gate] - wide[others].max(axis=1)
            best_other = wide[others].idxmax(axis=1)
            trained, initial = effect.xs("trained"), effect.xs("initial")
            verdict = stats.directional_verdict(trained, +1, n_boot, confidence)
            at_init = stats.directional_verdict(initial, +1, n_boot, confidence)
            change = stats.bootstrap_ci(trained - initial.reindex(trained.index), n_boot,
                                        confidence)
            sel = stats.bootstrap_ci(wide[gate].xs("trained"), n_boot, confidence)
            rows.append({
                "task": task, "arch": arch, "init": init, "role": role, "variable": variable,
                "gate": gate, "other_gates": " ".join(others),
                "best_other_trained": best_other.xs("trained").mode().iloc[0],
                "selectivity": sel[0], "sel_ci_low": sel[1], "sel_ci_high": sel[2],
                "effect": verdict["mean"], "ci_low": verdict["ci_low"],
                "ci_high": verdict["ci_high"], "n_seeds": verdict["n_seeds"],
                "seeds_agreeing": verdict["seeds_agreeing"], "verdict": verdict["verdict"],
                "effect_at_init": at_init["mean"], "init_ci_low": at_init["ci_low"],
                "init_ci_high": at_init["ci_high"], "verdict_at_init": at_init["verdict"],
                "change_from_init": change[0], "change_ci_low": change[1],
                "change_ci_high": change[2],
                "n_unsolved": int(unsolved.get((task, arch, init), 0)),
            })
    return pd.DataFrame(rows, columns=None if rows else GROUP_KEYS + ["role", "verdict"])


# --------------------------------------------------------------------------------------------
# C5: dependence between gates and disentanglement (gateroles.gate_information)
# --------------------------------------------------------------------------------------------
CHANGE = {"supported": "rises", "contradicted": "falls", "inconclusive": "no clear change"}


def change_table(table: pd.DataFrame, keys: list[str], value: str, n_boot: int,
                 confidence: float) -> pd.DataFrame:
    """Initial vs trained `value` per group of `keys` (+ GROUP_KEYS), solved seeds only.

    Per seed: the value at step 0 and at the last step, and trained minus initial; means with
    bootstrap CIs over seeds; `change` = rises / falls / no clear change (CI of the
    difference excludes zero or not); `n_unsolved` counts the seeds left out.
    """
    rows = []
    phases = at_phase(table)
    for group_keys, group in phases.groupby(GROUP_KEYS + keys, sort=True):
        row = dict(zip(GROUP_KEYS + keys, group_keys, strict=True))
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
    columns = GROUP_KEYS + keys + ["n_unsolved"] + [
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
    for group_keys, group in trained.groupby(GROUP_KEYS + keys, sort=True):
        excess = group["mi"] - group["null_mean"]
        mean, lo, hi = stats.bootstrap_ci(excess, n_boot, confidence)
        extra.append({**dict(zip(GROUP_KEYS + keys, group_keys, strict=True)),
                      "excess": mean, "excess_ci_low": lo, "excess_ci_high": hi,
                      "null_q95": group["null_q95"].mean(),
                      "seeds_above_null": int((group["p_value"] < 1 - confidence).sum()),
                      "p_max": group["p_value"].max()})
    if extra:
        out = out.merge(pd.DataFrame(extra), on=GROUP_KEYS + keys, how="left")
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


def c1_controls(probes: pd.DataFrame) -> pd.DataFrame:
    """The two control definitions side by side, per task x arch x init x phase x variable.

    Means over solved seeds and over the recurrent sources (every gate and state; the input
    window separately): control score and selectivity with the token-window control (the one
    the verdicts use) and with Hewitt & Liang's single-token control (`*_token`).
    """
    phases = at_phase(probes[probes["solved"]])
    if "control_score_token" not in phases or phases.empty:
        return pd.DataFrame(columns=GROUP_KEYS + ["phase", "variable", "group"])
    phases = phases.assign(group=phases["source"].where(phases["source"] == "input_window",
                                                        "recurrent"))
    columns = ["task_score", "control_score", "selectivity", "control_score_token",
               "selectivity_token"]
    table = (phases.groupby(GROUP_KEYS + ["phase", "variable", "group"], sort=True)[columns]
             .mean().reset_index())
    spread = (phases[phases["group"] == "recurrent"]
              .groupby(GROUP_KEYS + ["phase", "variable", "seed"])[["selectivity",
                                                                     "selectivity_token"]]
              .agg(lambda s: s.max() - s.min())
              .groupby(GROUP_KEYS + ["phase", "variable"]).mean()
              .add_suffix("_spread").reset_index().assign(group="recurrent"))
    return table.merge(spread, on=GROUP_KEYS + ["phase", "variable", "group"], how="left")
