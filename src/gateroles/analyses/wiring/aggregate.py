"""C4 across seeds: variants as double dissociations, selective writing, the same blocks in
two positions, rewiring.

Every verdict row is `stats.VERDICT_COLUMNS` with claim "C4", in one table
(`stats.verdict_table`: the counted primary predictions of the claim are one Holm family).
Scores are normalised, (score - chance) / (perfect - chance) (1 = perfect, 0 = the best
constant predictor; for MSE (chance - mse) / chance), with the task's chance, so every task,
metric and behaviour is on one scale. Seeds whose `lstm` / default model did not solve the
task are left out (a variant failing is the outcome, not a reason to drop a seed) and counted.

**Double dissociations (primary).** Each model of a C4 cell is scored on each behaviour of its
task apart at every checkpoint (`behaviour.measure`). Per variant, seed, checkpoint and
behaviour, the *drop*: the LSTM's normalised score minus the variant's (same task and seed:
the same data, batches and initial weights in the rows the variant has), and its mean over the
checkpoints after step 0 (*over training*: on these tasks every variant ends near the ceiling,
so a behaviour learnt later must count, not only one never learnt; the drop at the last
checkpoint is shown beside it). Removing a gate should hurt the behaviours its position serves
more than the others (`DISSOCIATIONS`): without the forget gate, the answers after a RESET
(EMPTY: the memory erased) lose more than the same answers before anything was stored (nothing
to erase); without the output gate, the answers that read out a held value lose more than those
answered EMPTY (count 0). The
contrast per seed: the drop over training on the served behaviours minus that on the others
(each set pooled over its scored steps), > 0. Rival: any gate in any position would do, every
removal hurts every behaviour alike (contrast 0). Negative control: the same contrast on the
crossed variant, whose removed gate does not serve those behaviours (the other half of the
double dissociation: the no-forget contrast on `lstm_nig`, the no-output contrast on
`lstm_nfg`); it must not come out supported. This also guards against a bias of the
measure: behaviours answered EMPTY are right early in training by the default answer, so any
slower learner loses more on the behaviours that read out a value. Decided on the contrast
against 0 (`stats.reference_row`): a difference between two models has no step-0 version of
what training reaches (both start untrained); the same contrast at step 0 is shown beside it.

**Selective writing (primary).** Without an input gate the cell still writes (i = 1); what it
can lose is writing only at stores. Per seed: the LSTM's write selectivity minus the no-input
variant's (`behaviour.write_selectivity`: the write term's share at STOREs against quiet
steps, in the memory units, in [0, 1]), > 0, decided on the change from step 0 (both models
have a step-0 selectivity). Rival: any gate in any position would do (removing any gate lowers
write selectivity alike). Control: the same difference against `lstm_nog` (the output gate
does not write).

**Sanity and description.** The overall test score and steps to solve of every variant are
descriptive (`variants`, `ranking`: the rival predicts a loss from any removal too); the tanh
RNN doing worse than the LSTM is a sanity check; "coupled input-forget costs little" (TOST
within +-`equivalence_margin`; every seed at the ceiling is `untestable`, never
`equivalent`) is a published anchor (Greff et al. 2017), shown as a sanity row.

**Two positions (sanity).** With i.i.d. initialisation the forget and input blocks are
exchangeable: the `swap_forget_input` run is distributed exactly as a default run, so "each
block takes the role of its position" follows from C2 on each run by symmetry and cannot fail
unless C2 does. From the C2 event effects of both runs: each block's reset effect in the forget
position minus in the input position (< 0), its store effect in the input position minus in
the forget position (> 0), and the position effect minus the absolute block effect (> 0).
Change from step 0, seeds where both runs solved.

**Rewiring.** Each trained `lstm` / default model that solved its task, with its forget and
input blocks swapped, fine-tuned for `rewire.steps` steps (at most half the task's training
budget), and again with the moved blocks frozen (the control). Sanity: the swap breaks the
model. Primary (1): the mean normalised validation score over the fine-tuning steps, minus that
of the original run from step 0 over the same steps (same seed, same batches), > 0; control:
the frozen run minus the same. Primary (2): the moved blocks' approach to their new positions'
statistics, the **fraction of the distance closed**, (distance right after the swap - distance
at the end) / distance right after the swap, where the distance sums, over both swapped
positions and the task's events, |event effect - the original trained model's effect at that
position| (1 = the original statistics reached, 0 = no change, < 0 = further away), > 0;
control: the same fraction with the moved blocks frozen. Rival of both: roles come from the
weights, the moved blocks keep their old statistics. Decided against 0 (`reference_row`): the
from-step-0 run is the reference of (1), and (2) is itself a change since the swap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gateroles import stats, tasks
from gateroles.analyses.wiring import Settings
from gateroles.analyses.wiring.measure import EFFECT, FROZEN, POSITIONS, SCRATCH, TUNED
from gateroles.architectures import order
from gateroles.study import at_phase

CLAIM = "C4"
DISSOCIATION = "removing a gate hurts the behaviours its position serves more than the others"
WRITING = "without an input gate, writing is less selective"
TWO_POSITIONS = "the same initial blocks in two positions (a symmetry demonstration)"
REWIRING = "rewired blocks move toward their new positions' statistics"
EVIDENCE = (DISSOCIATION, WRITING, TWO_POSITIONS, REWIRING)

REFERENCE = ("lstm", "default")
SWAP = "swap_forget_input"
# Which block (named by where it starts in the default run) sits in each position of a run.
BLOCK_AT = {("default", "forget"): "f0", ("default", "input"): "i0",
            (SWAP, "forget"): "i0", (SWAP, "input"): "f0"}
# Role events of the two swapped positions: event -> (position with the role, direction).
ROLES = {"reset": ("forget", -1), "store": ("input", +1)}
OTHER = {"forget": "input", "input": "forget"}

GATE_REMOVED = {"lstm_nfg": "forget gate", "lstm_nig": "input gate",
                "lstm_nog": "output gate", "lstm_cifg": "separate forget gate (f = 1 - i)",
                "rnn": "every gate (tanh RNN)"}
# What the published studies found for the same change (SCIENCE.md, "Published anchors").
GREFF = {"lstm_nfg": "critical: removing it significantly impairs performance",
         "lstm_nig": "not among the two most critical components",
         "lstm_nog": "not among the two most critical components",
         "lstm_cifg": "not significantly different from the full LSTM",
         "rnn": "not studied"}
JOZEFOWICZ = {"lstm_nfg": 1, "lstm_nig": 2, "lstm_nog": 3}

RIVAL_VARIANTS = ("any gate in any position would do: every removal hurts every behaviour "
                  "alike (contrast 0)")
RIVAL_WRITING = ("any gate in any position would do: removing any gate lowers the write "
                 "selectivity alike")
RIVAL_REWIRING = "roles come from the weights: the moved blocks keep their old statistics"
NO_STEP0 = ("a variant minus the LSTM has no step-0 version of what training reaches (both "
            "start untrained); the same contrast at step 0 is shown")
SYMMETRY = ("a symmetry demonstration, not evidence: with i.i.d. initialisation the two "
            "blocks are exchangeable, so the swapped run is distributed as a default run and "
            "this follows from C2 on each run")


@dataclass(frozen=True)
class Dissociation:
    """The prediction for one gate-removal variant: which behaviours (per task) its position
    serves, which ones they are compared with, and the crossed variant that is its control."""

    gate: str
    served: str  # the served behaviours, in words
    other: str  # the compared behaviours, in words
    sets: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]  # task -> (served, other)
    control: str  # the variant whose removed gate serves the other side
    control_role: str  # what the control's removed gate's position serves instead


DISSOCIATIONS = {
    # Each task declares the behaviours of each side (`TaskSpec.dissociations`, in its module):
    # for the forget gate both sides are answered EMPTY (count 0), so a default answer helps
    # both alike and only the served side needs a held value erased; a task without such a
    # pair (every EMPTY answer follows an erasure) has no forget dissociation.
    "lstm_nfg": Dissociation(
        "forget", "the answers after a RESET (EMPTY, count 0: the memory erased)",
        "the same answers before anything was stored (nothing to erase)",
        tasks.dissociations("forget"),
        control="lstm_nig", control_role="writing, not erasing"),
    "lstm_nog": Dissociation(
        "output", "the answers that read out a held value (a stored value, a count above 0)",
        "the answers EMPTY (count 0)",
        tasks.dissociations("output"),
        control="lstm_nfg", control_role="erasing, not the read-out"),
}
WRITING_VARIANT, WRITING_CONTROL = "lstm_nig", "lstm_nog"


def normalised(score, metric, chance) -> np.ndarray:
    """(score - chance) / (perfect - chance): 1 = perfect, 0 = the best constant predictor.
    Accuracy: perfect = 1; MSE (lower is better): (chance - mse) / chance."""
    score, chance = np.asarray(score, dtype=float), np.asarray(chance, dtype=float)
    is_mse = np.asarray(metric) == "mse"
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(is_mse, (chance - score) / chance, (score - chance) / (1.0 - chance))


GATE_VARIANTS = ("lstm_nfg", "lstm_nig", "lstm_nog")
# The behaviour scores' phases: step 0, the last checkpoint, the mean over the checkpoints
# after step 0.
INITIAL, FINAL, OVER_TRAINING = "initial", "final", "over training"


# --------------------------------------------------------------------------- helpers


def _series(frame: pd.DataFrame, value: str) -> pd.Series:
    return frame.set_index("seed")[value].astype(float).sort_index()


def _solved_lstm(runs: pd.DataFrame) -> pd.DataFrame:
    """task, seed, solved of the lstm / default runs."""
    ref = runs[(runs["arch"] == REFERENCE[0]) & (runs["init"] == REFERENCE[1])]
    return ref[["task", "seed", "solved"]].assign(solved=ref["solved"].astype(bool))


def equivalence_row(values: pd.Series, margin: float, settings: stats.Settings, **keys
                    ) -> dict:
    """A sanity row from a TOST equivalence test (`stats.equivalence`): `equivalent` when the
    interval lies inside +-margin, `not equivalent` when beyond it, `untestable` when every
    seed has the same value (e.g. both models at the ceiling), else `not shown`."""
    x = values.to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    e = stats.equivalence(x, margin, settings.confidence, settings.min_seeds)
    row = stats.reference_row(values, 0.0, +1, settings, test=stats.SANITY,
                              why=f"equivalence (TOST) within +-{margin:g}", **keys)
    sd = float(np.std(x, ddof=1)) if len(x) > 1 else np.nan
    row.update({"direction": 0, "p_value": e["p_value"], "p_opposite": np.nan,
                "change_ci_low": e["ci_low"], "change_ci_high": e["ci_high"],
                "cohens_dz": e["mean"] / sd if sd and np.isfinite(sd) else np.nan,
                "seeds_agreeing": int(np.sum(np.abs(x) < margin)), "verdict": e["verdict"]})
    return row


# --------------------------------------------------------------------------- variants


def scores_table(runs: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Per seed: every C4 run's normalised score beside the lstm / default run of the same
    task and seed (`ref_*`), and their difference."""
    r = runs.assign(normalised=normalised(runs["test_score"], runs["metric"], runs["chance"]))
    if "steps_to_solve" not in r:
        r["steps_to_solve"] = np.nan
    ref = r[(r["arch"] == REFERENCE[0]) & (r["init"] == REFERENCE[1])]
    ref = ref[["task", "seed", "normalised", "solved", "steps_to_solve"]].rename(
        columns={"normalised": "ref_normalised", "solved": "ref_solved",
                 "steps_to_solve": "ref_steps_to_solve"})
    pairs = {REFERENCE, (REFERENCE[0], SWAP), ("lstm", "forget_bias_1"), ("gru", "default")}
    pairs |= {(arch, "default") for arch in settings.architectures}
    tasks = set(settings.tasks) | set(settings.forget_bias_tasks)
    wanted = np.array([(a, i) in pairs for a, i in zip(r["arch"], r["init"], strict=True)],
                      dtype=bool)
    keep = r["task"].isin(tasks).to_numpy() & wanted
    out = r[keep].merge(ref, on=["task", "seed"], how="left")
    out["difference"] = out["normalised"] - out["ref_normalised"]
    columns = ["task", "arch", "init", "seed", "metric", "chance", "threshold", "test_score",
               "normalised", "solved", "steps", "steps_to_solve", "ref_normalised",
               "ref_solved", "ref_steps_to_solve", "difference"]
    return out[columns].sort_values(["task", "arch", "init", "seed"], ignore_index=True)


def _steps_text(steps: pd.Series) -> str:
    return ", ".join("never" if not np.isfinite(s) else str(int(s)) for s in steps)


def variant_summary(scores: pd.DataFrame, settings: stats.Settings) -> pd.DataFrame:
    """One row per task x arch x init: solved seeds, steps to solve per seed, the test score
    and the paired difference from the LSTM (seeds whose LSTM solved the task)."""
    rows = []
    for (task, arch, init), g in scores.groupby(["task", "arch", "init"], sort=True):
        g = g.sort_values("seed")
        paired = g[g["ref_solved"].astype(bool)]
        mean, lo, hi = stats.mean_ci(g["test_score"], settings.confidence)
        d, d_lo, d_hi = stats.mean_ci(paired["difference"], settings.confidence)
        rows.append({"task": task, "arch": arch, "init": init, "metric": g["metric"].iloc[0],
                     "n_seeds": len(g), "n_solved": int(g["solved"].sum()),
                     "steps_to_solve": _steps_text(g["steps_to_solve"].astype(float)),
                     "test_score": mean, "test_score_ci_low": lo, "test_score_ci_high": hi,
                     "normalised": float(g["normalised"].mean()),
                     "difference": d, "difference_ci_low": d_lo, "difference_ci_high": d_hi,
                     "n_paired": len(paired)})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    rank = {a: k for k, a in enumerate(order(set(frame["arch"])))}
    frame["_order"] = [(rank[a], i != "default") for a, i in zip(frame["arch"], frame["init"],
                                                                   strict=True)]
    return frame.sort_values(["task", "_order"], ignore_index=True).drop(columns="_order")


def extra_steps(g: pd.DataFrame, eval_every: int) -> pd.Series:
    """Per seed: the variant's steps to solve minus the LSTM's, each capped at the budget plus
    one validation interval ("never" counts as that cap)."""
    cap = g["steps"].astype(float) + eval_every
    mine = np.minimum(g["steps_to_solve"].astype(float).fillna(cap), cap)
    ref = np.minimum(g["ref_steps_to_solve"].astype(float).fillna(cap), cap)
    return pd.Series((mine - ref).to_numpy(), index=g["seed"].to_numpy()).sort_index()


def variant_sanity(scores: pd.DataFrame, settings: Settings, stats_settings: stats.Settings
                   ) -> list[dict]:
    """Sanity rows: the tanh RNN scores lower and solves later than the LSTM; the coupled
    input-forget variant costs little (TOST). Neither tests a role: any account predicts a
    network without gates to do worse, and the coupling is a published anchor."""
    rows = []
    for task in settings.tasks:
        for arch in ("rnn", "lstm_cifg"):
            g = scores[(scores["task"] == task) & (scores["arch"] == arch)
                       & (scores["init"] == "default")]
            if arch not in settings.architectures or g.empty:
                continue
            ref_solved = g["ref_solved"].astype(bool)
            paired = g[ref_solved]
            keys = {"claim": CLAIM, "evidence": DISSOCIATION, "task": task, "arch": arch,
                    "init": "default", "n_unsolved": int((~ref_solved).sum())}
            d = _series(paired, "difference")
            if arch == "lstm_cifg":
                rows.append(equivalence_row(
                    d, settings.equivalence_margin, stats_settings, **keys,
                    prediction="coupled input-forget (f = 1 - i) costs little (normalised "
                               "score minus the LSTM's)",
                    note="a published anchor (Greff et al. 2017), not a role test: the role "
                         "hypothesis and its rival both allow it"))
                continue
            why = "a difference between two models (no step-0 version)"
            rows.append(_untestable_at_ceiling(stats.reference_row(
                d, 0.0, -1, stats_settings, test=stats.SANITY, why=why, **keys,
                prediction="the tanh RNN (no gates) scores lower than the LSTM",
                note="sanity: a network without gates doing worse is predicted by every "
                     "account"), paired))
            cap = int(g["steps"].max()) + settings.eval_every
            rows.append(stats.reference_row(
                extra_steps(paired, settings.eval_every), 0.0, +1, stats_settings,
                test=stats.SANITY, why=why, **keys,
                prediction="the tanh RNN (no gates) needs more steps to solve than the LSTM",
                note=f"sanity: predicted by every account; steps capped at the budget + "
                     f"{settings.eval_every} (never = {cap})"))
    return rows


def _untestable_at_ceiling(row: dict, paired: pd.DataFrame) -> dict:
    """`untestable` when the variant and the LSTM both score perfectly on every paired seed:
    the score cannot fall below a model that is already at its ceiling."""
    scores = np.r_[paired["normalised"].to_numpy(float), paired["ref_normalised"].to_numpy(float)]
    if row["verdict"] == stats.INSUFFICIENT or not stats.at_ceiling(scores, 1.0, 0.0):
        return row
    note = (f"{row['note']}; untestable: both score perfectly on every paired seed (the "
            "score is at its ceiling)")
    return {**row, "verdict": stats.UNTESTABLE, "note": note}


def ranking_table(scores: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Descriptive: mean drop in normalised score (LSTM minus variant, seeds whose LSTM
    solved) per variant and task, its mean over tasks and the mean extra steps to solve, next
    to what Greff et al. 2017 and Jozefowicz et al. 2015 found. No order among the variants is
    tested (the rival predicts a loss from any removal too)."""
    rows = []
    for arch in order(settings.architectures):
        g = scores[(scores["arch"] == arch) & (scores["init"] == "default")
                   & scores["task"].isin(settings.tasks) & scores["ref_solved"].astype(bool)]
        if g.empty:
            continue
        per_task = (-g.groupby("task")["difference"].mean()).to_dict()
        steps = {task: float(extra_steps(part, settings.eval_every).mean())
                 for task, part in g.groupby("task")}
        rows.append({"arch": arch, "removed": GATE_REMOVED[arch],
                     **{f"drop {task}": per_task.get(task, np.nan) for task in settings.tasks},
                     "mean drop": float(np.nanmean(list(per_task.values()))),
                     "mean extra steps": float(np.nanmean(list(steps.values()))),
                     "greff_2017": GREFF[arch],
                     "jozefowicz_2015_rank": JOZEFOWICZ.get(arch, np.nan)})
    columns = ["arch", "removed", *[f"drop {task}" for task in settings.tasks], "mean drop",
               "mean extra steps", "greff_2017", "jozefowicz_2015_rank"]
    return pd.DataFrame(rows, columns=columns)


def gap_table(scores: pd.DataFrame, settings: Settings, stats_settings: stats.Settings
              ) -> pd.DataFrame:
    """The LSTM-GRU gap with PyTorch's default init and with a forget bias of 1, per task of
    `forget_bias_tasks`: GRU minus LSTM normalised score, and LSTM minus GRU steps to solve
    (positive: the GRU is better / faster), paired by seed (t-intervals); on the
    `forget_bias_1` row, `*_change`: the per-seed change of each gap from the default init's
    (forget bias 1 minus default, the same seeds)."""
    columns = ["task", "lstm_init", "lstm_normalised", "gru_normalised", "lstm_solved",
               "gru_solved", "n_seeds", "score_gap", "score_gap_ci_low", "score_gap_ci_high",
               "steps_gap", "steps_gap_ci_low", "steps_gap_ci_high", "n_steps_pairs",
               "score_change", "score_change_ci_low", "score_change_ci_high",
               "steps_change", "steps_change_ci_low", "steps_change_ci_high"]
    rows = []
    for task in settings.forget_bias_tasks:
        here = scores[scores["task"] == task]
        gru = here[(here["arch"] == "gru") & (here["init"] == "default")]
        per_seed = {}
        for init in ("default", "forget_bias_1"):
            lstm = here[(here["arch"] == "lstm") & (here["init"] == init)]
            if gru.empty or lstm.empty:
                continue
            both = lstm.merge(gru, on="seed", suffixes=("_lstm", "_gru"))
            gap = pd.Series((both["normalised_gru"] - both["normalised_lstm"]).to_numpy(),
                            index=both["seed"])
            steps = pd.Series((both["steps_to_solve_lstm"].astype(float)
                               - both["steps_to_solve_gru"].astype(float)).to_numpy(),
                              index=both["seed"])
            per_seed[init] = (gap, steps)
            g, g_lo, g_hi = stats.mean_ci(gap, stats_settings.confidence)
            s, s_lo, s_hi = stats.mean_ci(steps, stats_settings.confidence)
            row = {"task": task, "lstm_init": init,
                   "lstm_normalised": float(both["normalised_lstm"].mean()),
                   "gru_normalised": float(both["normalised_gru"].mean()),
                   "lstm_solved": int(both["solved_lstm"].sum()),
                   "gru_solved": int(both["solved_gru"].sum()), "n_seeds": len(both),
                   "score_gap": g, "score_gap_ci_low": g_lo, "score_gap_ci_high": g_hi,
                   "steps_gap": s, "steps_gap_ci_low": s_lo, "steps_gap_ci_high": s_hi,
                   "n_steps_pairs": int(np.isfinite(steps).sum())}
            if init == "forget_bias_1" and "default" in per_seed:
                for k, name in enumerate(("score", "steps")):
                    change = per_seed[init][k] - per_seed["default"][k]
                    row.update(zip([f"{name}_change", f"{name}_change_ci_low",
                                    f"{name}_change_ci_high"],
                                   stats.mean_ci(change, stats_settings.confidence),
                                   strict=True))
            rows.append(row)
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- behaviours


def behaviour_table(behaviours: pd.DataFrame | None) -> pd.DataFrame:
    """Per task, arch, seed, checkpoint and behaviour: the normalised score beside the lstm /
    default model's of the same task, seed and checkpoint (`ref_*`; checkpoints both have) and
    the drop (the LSTM's minus this model's); `ref_solved`: the seed's LSTM solved the task.
    `phase`: initial (step 0), final (the last checkpoint) or "" (in between)."""
    columns = ["task", "arch", "seed", "step", "final_step", "phase", "behaviour", "n_scored",
               "normalised", "ref_normalised", "ref_solved", "drop"]
    if behaviours is None or behaviours.empty:
        return pd.DataFrame(columns=columns)
    b = behaviours[behaviours["init"] == "default"]
    b = b.assign(normalised=normalised(b["score"], b["metric"], b["chance"]),
                 phase=np.select([b["step"] == 0, b["step"] == b["final_step"]],
                                 [INITIAL, FINAL], ""))
    ref = b[b["arch"] == REFERENCE[0]][["task", "seed", "step", "behaviour", "normalised",
                                        "solved"]]
    ref = ref.rename(columns={"normalised": "ref_normalised", "solved": "ref_solved"})
    out = b.merge(ref, on=["task", "seed", "step", "behaviour"], how="inner")
    out["ref_solved"] = out["ref_solved"].astype(bool)
    out["drop"] = out["ref_normalised"] - out["normalised"]
    rank = {a: k for k, a in enumerate(order(set(out["arch"])))}
    out = out.assign(_order=out["arch"].map(rank))
    return out.sort_values(["task", "_order", "behaviour", "seed", "step"],
                           ignore_index=True)[columns]


def behaviour_phases(table: pd.DataFrame) -> pd.DataFrame:
    """Per task, arch, seed and behaviour: the drop (and the scores) at step 0 (`initial`),
    at the last checkpoint (`final`) and **over training** (`over training`: the mean over the
    checkpoints after step 0, log-spaced, so a behaviour learnt later counts as well as one
    never learnt)."""
    keys = ["task", "arch", "seed", "behaviour"]
    values = ["n_scored", "normalised", "ref_normalised", "drop"]
    ends = table[table["phase"] != ""]
    during = (table[table["step"] > 0].groupby(keys, as_index=False)
              .agg({**dict.fromkeys(values, "mean"), "ref_solved": "first"})
              .assign(phase=OVER_TRAINING))
    return pd.concat([ends[keys + ["phase", "ref_solved", *values]], during],
                     ignore_index=True)


def pooled_drop(table: pd.DataFrame, behaviours: tuple[str, ...]) -> pd.DataFrame:
    """Per seed and phase: the drop on the scored steps of `behaviours` together (each
    behaviour weighted by its number of scored steps); NaN where none of them was scored."""
    part = table[table["behaviour"].isin(behaviours)]
    weighted = part.assign(w=part["n_scored"] * part["drop"])
    g = weighted.groupby(["seed", "phase"])[["w", "n_scored"]].sum()
    return (g["w"] / g["n_scored"].where(g["n_scored"] > 0)).rename("drop")


def dissociation_contrast(phases: pd.DataFrame, task: str, arch: str, sets
                          ) -> tuple[pd.Series, pd.Series]:
    """(over training, step 0) per seed: the drop on the served behaviours minus the drop on
    the others, for variant `arch` on `task` (seeds whose LSTM solved; `behaviour_phases`)."""
    here = phases[(phases["task"] == task) & (phases["arch"] == arch)
                  & phases["ref_solved"].astype(bool)]
    served, other = sets
    contrast = (pooled_drop(here, served) - pooled_drop(here, other)).unstack("phase")
    empty = pd.Series(dtype=float)
    return (contrast.get(OVER_TRAINING, empty).sort_index(),
            contrast.get(INITIAL, empty).sort_index())


def dissociation_rows(table: pd.DataFrame, runs: pd.DataFrame, settings: Settings,
                      stats_settings: stats.Settings) -> list[dict]:
    """The primary double-dissociation predictions (`behaviour_table` in), each with its
    crossed control, decided on the contrast over training."""
    rows = []
    solved = _solved_lstm(runs)
    table = behaviour_phases(table)
    for arch, d in DISSOCIATIONS.items():
        if arch not in settings.architectures:
            continue
        for task in settings.tasks:
            if task not in d.sets or table[(table["task"] == task)
                                           & (table["arch"] == arch)].empty:
                continue
            served, other = d.sets[task]
            keys = {"claim": CLAIM, "evidence": DISSOCIATION, "task": task, "arch": arch,
                    "init": "default", "rival": RIVAL_VARIANTS,
                    "n_unsolved": int((~solved.loc[solved["task"] == task, "solved"]).sum())}
            words = (f"{' + '.join(served)} minus {' + '.join(other)}")
            trained, initial = dissociation_contrast(table, task, arch, d.sets[task])
            row = stats.reference_row(
                trained, 0.0, +1, stats_settings, initial=initial, why=NO_STEP0, **keys,
                prediction=f"no {d.gate} gate: over training, {d.served} lose more than "
                           f"{d.other}",
                note=f"drop in normalised score (LSTM minus {arch}), mean over the "
                     f"checkpoints after step 0: {words}")
            control = None
            if d.control in settings.architectures and not table[
                    (table["task"] == task) & (table["arch"] == d.control)].empty:
                c_trained, c_initial = dissociation_contrast(table, task, d.control,
                                                             d.sets[task])
                control = stats.reference_row(c_trained, 0.0, +1, stats_settings,
                                              initial=c_initial, why=NO_STEP0,
                                              **{**keys, "arch": d.control})
            rows.append(stats.with_control(
                row, control, f"{d.control}: the same contrast without the "
                              f"{GATE_REMOVED[d.control]} (its position serves "
                              f"{d.control_role})"))
    return rows


def behaviour_summary(table: pd.DataFrame, settings: stats.Settings) -> pd.DataFrame:
    """Descriptive: per task, arch and behaviour, over training and at the last checkpoint,
    the normalised score, the LSTM's, and the drop with its t-interval over the seeds whose
    LSTM solved the task."""
    columns = ["task", "arch", "behaviour", "phase", "n_seeds", "n_scored", "normalised",
               "ref_normalised", "drop", "drop_ci_low", "drop_ci_high"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    phases = behaviour_phases(table)
    rows = []
    keep = phases["phase"].isin([OVER_TRAINING, FINAL]) & phases["ref_solved"].astype(bool)
    for (task, arch, behaviour, phase), g in phases[keep].groupby(
            ["task", "arch", "behaviour", "phase"], sort=False):
        d, lo, hi = stats.mean_ci(g["drop"], settings.confidence)
        rows.append({"task": task, "arch": arch, "behaviour": behaviour, "phase": phase,
                     "n_seeds": int(g["seed"].nunique()),
                     "n_scored": int(round(g["n_scored"].mean())),
                     "normalised": float(g["normalised"].mean()),
                     "ref_normalised": float(g["ref_normalised"].mean()),
                     "drop": d, "drop_ci_low": lo, "drop_ci_high": hi})
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- writing


def writing_table(writing: pd.DataFrame | None, runs: pd.DataFrame) -> pd.DataFrame:
    """Per task, arch, seed and phase: the write selectivity, with `ref_solved`."""
    columns = ["task", "arch", "seed", "phase", "at_store", "quiet", "selectivity",
               "ref_solved"]
    if writing is None or writing.empty:
        return pd.DataFrame(columns=columns)
    w = at_phase(writing[writing["init"] == "default"])
    w = w.merge(_solved_lstm(runs).rename(columns={"solved": "ref_solved"}),
                on=["task", "seed"], how="left")
    w["ref_solved"] = w["ref_solved"].eq(True)
    return w[columns].sort_values(["task", "arch", "seed", "phase"], ignore_index=True)


def _selectivity_gap(table: pd.DataFrame, task: str, arch: str
                     ) -> tuple[pd.Series, pd.Series]:
    """(trained, step 0) per seed: the LSTM's write selectivity minus `arch`'s."""
    here = table[(table["task"] == task) & table["ref_solved"]]
    wide = here.pivot_table(index=["seed", "phase"], columns="arch", values="selectivity")
    if REFERENCE[0] not in wide or arch not in wide:
        return pd.Series(dtype=float), pd.Series(dtype=float)
    gap = (wide[REFERENCE[0]] - wide[arch]).unstack("phase")
    empty = pd.Series(dtype=float)
    return gap.get("trained", empty).sort_index(), gap.get("initial", empty).sort_index()


def writing_rows(table: pd.DataFrame, runs: pd.DataFrame, settings: Settings,
                 stats_settings: stats.Settings) -> list[dict]:
    """The primary prediction of the input gate's role: writing only at stores."""
    rows = []
    if WRITING_VARIANT not in settings.architectures or table.empty:
        return rows
    solved = _solved_lstm(runs)
    for task in settings.tasks:
        if table[(table["task"] == task) & (table["arch"] == WRITING_VARIANT)].empty:
            continue
        keys = {"claim": CLAIM, "evidence": WRITING, "task": task, "arch": WRITING_VARIANT,
                "init": "default", "rival": RIVAL_WRITING,
                "n_unsolved": int((~solved.loc[solved["task"] == task, "solved"]).sum())}
        trained, initial = _selectivity_gap(table, task, WRITING_VARIANT)
        row = stats.prediction_row(
            trained, initial, +1, stats_settings, **keys,
            prediction="no input gate: the cell writes less selectively at stores (the LSTM's "
                       "write selectivity minus the variant's)",
            note="write selectivity = the write term's mean size at STOREs / (at STOREs + at "
                 "quiet steps), memory units; 0.5 = none")
        control = None
        if not table[(table["task"] == task) & (table["arch"] == WRITING_CONTROL)].empty:
            c_trained, c_initial = _selectivity_gap(table, task, WRITING_CONTROL)
            control = stats.prediction_row(c_trained, c_initial, +1, stats_settings,
                                           **{**keys, "arch": WRITING_CONTROL})
        rows.append(stats.with_control(
            row, control, f"{WRITING_CONTROL}: the same difference without the output gate "
                          "(its position serves the read-out, not writing)"))
    return rows


# --------------------------------------------------------------------------- two positions


def positions_table(contrast: pd.DataFrame | None) -> pd.DataFrame:
    """Tidy per seed: each block's event effects in each position of each run, at step 0 and
    trained: `task, seed, phase, init, position, block, measure, event, value`, with `solved`
    (the seed's default and swap runs both solved)."""
    columns = ["task", "seed", "phase", "init", "position", "block", "measure", "event",
               "value", "solved"]
    if contrast is None or contrast.empty:
        return pd.DataFrame(columns=columns)
    c = at_phase(contrast[(contrast["arch"] == "lstm")
                          & contrast["gate"].isin(["forget", "input"])
                          & contrast["init"].isin(["default", SWAP])])
    t = c.assign(position=c["gate"], measure=EFFECT, value=c["difference"])
    if t.empty:
        return pd.DataFrame(columns=columns)
    t["block"] = [BLOCK_AT[key] for key in zip(t["init"], t["position"], strict=True)]
    solved = t.groupby(["task", "seed"])["solved"].agg(lambda s: bool(s.astype(bool).all()))
    inits = t.groupby(["task", "seed"])["init"].nunique()
    both = (solved & (inits == 2)).rename("pair_solved")
    t = t.drop(columns="solved").merge(both.reset_index(), on=["task", "seed"])
    t = t.rename(columns={"pair_solved": "solved"})
    return t[columns].sort_values(["task", "measure", "event", "seed", "phase", "init",
                                   "position"], ignore_index=True)


def _per_phase(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    wide = values.unstack("phase")
    return (wide.get("trained", pd.Series(dtype=float)),
            wide.get("initial", pd.Series(dtype=float)))


def position_verdicts(positions: pd.DataFrame, stats_settings: stats.Settings) -> list[dict]:
    """Sanity rows of the symmetry demonstration (module docstring)."""
    rows = []
    for task, t in positions.groupby("task", sort=True):
        n_unsolved = int(t.loc[~t["solved"].astype(bool), "seed"].nunique())
        t = t[t["solved"].astype(bool)]
        keys = {"claim": CLAIM, "evidence": TWO_POSITIONS, "task": task, "arch": "lstm",
                "init": f"default + {SWAP}", "n_unsolved": n_unsolved, "note": SYMMETRY,
                "test": stats.SANITY}
        for event, (role, direction) in ROLES.items():
            eff = t[(t["measure"] == EFFECT) & (t["event"] == event)]
            x = eff.pivot_table(index=["seed", "phase"], columns=["block", "position"],
                                values="value")
            if eff.empty or x.shape[1] < 4:
                continue
            verb = "drops" if direction < 0 else "rises"
            within = {}
            for block in ("f0", "i0"):
                within[block] = x[(block, role)] - x[(block, OTHER[role])]
                trained, initial = _per_phase(within[block])
                rows.append(stats.prediction_row(
                    trained, initial, direction, stats_settings, **keys,
                    prediction=f"block {block} {verb} more at {event}s in the {role} position "
                               f"than in the {OTHER[role]} position"))
            position = direction * (within["f0"] + within["i0"]) / 2
            block = ((x[("f0", role)] + x[("f0", OTHER[role])])
                     - (x[("i0", role)] + x[("i0", OTHER[role])])) / 2
            trained, initial = _per_phase(position - block.abs())
            rows.append(stats.prediction_row(
                trained, initial, +1, stats_settings, **keys,
                prediction=f"at {event}s the position ({role} {verb}) explains more than the "
                           f"starting block"))
    return rows


# --------------------------------------------------------------------------- rewiring


def rewire_summary(scores: pd.DataFrame | None, curve: pd.DataFrame | None,
                   distance: pd.DataFrame | None, runs: pd.DataFrame, settings: Settings
                   ) -> pd.DataFrame:
    """One row per task and seed: the normalised test scores (original, right after the swap,
    at the end, with the moved blocks frozen), the mean normalised validation score over the
    fine-tuning steps of each run and of the original run from step 0 over the same steps,
    the fraction of the distance closed (both positions, and each), and steps to solve."""
    columns = ["task", "seed", "solved", "score_original", "score_swapped", "score_final",
               "score_frozen", "mean_tuned", "mean_frozen", "mean_scratch", "n_evals",
               "distance_swapped", "distance_tuned", "distance_frozen", "fraction",
               "fraction_frozen", "fraction_forget", "fraction_input", "steps_to_solve_again",
               "steps_to_solve_frozen", "steps_to_solve_scratch"]
    if scores is None or scores.empty:
        return pd.DataFrame(columns=columns)
    first = scores.sort_values("step").groupby(["task", "seed"], as_index=False).first()
    norm = {name: normalised(first[f"score_{name}"], first["metric"], first["chance"])
            for name in ("original", "swapped", "final", "frozen")}
    out = first[["task", "seed", "solved", "metric", "chance"]].assign(
        **{f"score_{k}": v for k, v in norm.items()},
        steps_to_solve_again=first["steps_to_solve_again"],
        steps_to_solve_frozen=first["steps_to_solve_frozen"])
    ref = runs[(runs["arch"] == REFERENCE[0]) & (runs["init"] == REFERENCE[1])]
    out = out.merge(ref[["task", "seed", "steps_to_solve"]].rename(
        columns={"steps_to_solve": "steps_to_solve_scratch"}), on=["task", "seed"], how="left")
    if curve is not None and len(curve):
        out = out.merge(curve_means(curve, out, settings.rewire.steps), on=["task", "seed"],
                        how="left")
    if distance is not None and len(distance):
        out = out.merge(fractions(distance), on=["task", "seed"], how="left")
    return out.reindex(columns=columns).sort_values(["task", "seed"], ignore_index=True)


def curve_means(curve: pd.DataFrame, tests: pd.DataFrame, steps: int) -> pd.DataFrame:
    """Per task and seed: the mean normalised validation score of each run (fine-tuned,
    frozen, from step 0) over the validation checks in (0, `steps`] that all three have."""
    c = curve.merge(tests[["task", "seed", "metric", "chance"]], on=["task", "seed"])
    c = c[(c["step"] > 0) & (c["step"] <= steps)]
    c = c.assign(value=normalised(c["val_score"], c["metric"], c["chance"]))
    wide = c.pivot_table(index=["task", "seed", "step"], columns="kind", values="value")
    kinds = {TUNED: "mean_tuned", FROZEN: "mean_frozen", SCRATCH: "mean_scratch"}
    wide = wide.reindex(columns=list(kinds)).dropna()
    means = wide.groupby(["task", "seed"]).mean().rename(columns=kinds)
    means["n_evals"] = wide.groupby(["task", "seed"]).size()
    return means.reset_index()


def fractions(distance: pd.DataFrame) -> pd.DataFrame:
    """Per task and seed: the distance right after the swap, at the end of fine-tuning and at
    the end of the frozen control, and the fraction of it closed, (before - after) / before
    (both swapped positions together, and each apart for the fine-tuned run)."""
    d = distance[distance["step"] == 0]
    start = d[d["run"] == TUNED].pivot_table(index=["task", "seed"], columns="position",
                                             values="distance")
    ends = {}
    for run in (TUNED, FROZEN):
        part = distance[distance["run"] == run]
        part = part[part["step"] == part.groupby(["task", "seed"])["step"].transform("max")]
        ends[run] = part.pivot_table(index=["task", "seed"], columns="position",
                                     values="distance")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "distance_swapped": start.sum(axis=1), "distance_tuned": ends[TUNED].sum(axis=1),
            "distance_frozen": ends[FROZEN].sum(axis=1)})
        for name, end in (("fraction", "distance_tuned"), ("fraction_frozen",
                                                           "distance_frozen")):
            out[name] = (out["distance_swapped"] - out[end]) / out["distance_swapped"]
        for position in POSITIONS:
            if position in start and position in ends[TUNED]:
                out[f"fraction_{position}"] = ((start[position] - ends[TUNED][position])
                                               / start[position])
    return out.replace([np.inf, -np.inf], np.nan).reset_index()


def rewire_table(scores: pd.DataFrame | None, distance: pd.DataFrame | None,
                 effects: pd.DataFrame | None) -> pd.DataFrame:
    """Tidy per seed and fine-tuning checkpoint, for the figure: `quantity`, `run`, `step`,
    `value`: the normalised test score, each swapped position's (and both positions')
    distance from the original model's statistics over the same distance right after the swap
    (the remaining distance: 1 = as far as right after the swap, 0 = reached; one minus the
    fraction closed), and the swapped positions' role effects (the
    forget position at resets, the input position at stores) with the original model's
    (`target`) and the moved block's before the swap (`source`)."""
    columns = ["task", "seed", "solved", "quantity", "run", "step", "final_step", "value",
               "target", "source"]
    frames = []
    if scores is not None and len(scores):
        frames.append(scores.assign(
            quantity="normalised test score", run=TUNED,
            value=normalised(scores["score"], scores["metric"], scores["chance"]),
            target=normalised(scores["score_original"], scores["metric"], scores["chance"])))
    if distance is not None and len(distance):
        total = (distance.groupby(["task", "seed", "solved", "run", "step", "final_step"],
                                  as_index=False)["distance"].sum().assign(position="both"))
        d = pd.concat([distance, total], ignore_index=True)
        start = d[(d["run"] == TUNED) & (d["step"] == 0)][["task", "seed", "position",
                                                           "distance"]]
        d = d.merge(start.rename(columns={"distance": "start"}),
                    on=["task", "seed", "position"])
        where = d["position"].map(lambda p: "both positions" if p == "both" else f"{p} position")
        frames.append(d.assign(quantity="remaining distance, " + where,
                               value=d["distance"] / d["start"]))
    if effects is not None and len(effects):
        original = effects[effects["run"] == "original"].pivot_table(
            index=["task", "seed", "event"], columns="gate", values="value")
        for event, (role, _) in ROLES.items():
            part = effects[(effects["run"] != "original") & (effects["gate"] == role)
                           & (effects["event"] == event)]
            if part.empty or role not in original:
                continue
            o = original.reset_index()
            o = o[o["event"] == event][["task", "seed", role, OTHER[role]]]
            part = part.merge(o.rename(columns={role: "target", OTHER[role]: "source"}),
                              on=["task", "seed"], how="left")
            frames.append(part.assign(quantity=f"{role} position at {event}s"))
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat([f.reindex(columns=columns) for f in frames], ignore_index=True)
    return out.sort_values(["task", "quantity", "run", "seed", "step"], ignore_index=True)


def rewire_verdicts(summary: pd.DataFrame, settings: Settings, stats_settings: stats.Settings
                    ) -> list[dict]:
    """The swap breaks the model (sanity); relearning beats training from step 0 and the moved
    blocks close part of the distance to their new positions' statistics (primary, each with
    the frozen-blocks control)."""
    rows = []
    frozen = "the same with the moved blocks frozen during fine-tuning"
    for task, r in summary.groupby("task", sort=True):
        n_unsolved = int((~r["solved"].astype(bool)).sum())
        r = r[r["solved"].astype(bool)].set_index("seed").sort_index()
        keys = {"claim": CLAIM, "evidence": REWIRING, "task": task, "arch": "lstm",
                "init": "default, forget <-> input swapped", "n_unsolved": n_unsolved}
        rows.append(stats.reference_row(
            r["score_swapped"] - r["score_original"], 0.0, -1, stats_settings,
            test=stats.SANITY, why="the trained model before the swap is the reference",
            **keys, prediction="the swap breaks the trained model (normalised score after "
                               "minus before)",
            note="sanity: exchanging two trained weight blocks breaks any trained network"))
        why = ("the original run from step 0 (same seed, batches and steps) is the reference; "
               f"mean over the validation checks of the first {settings.rewire.steps} steps")
        row = stats.reference_row(
            r["mean_tuned"] - r["mean_scratch"], 0.0, +1, stats_settings, why=why, **keys,
            rival=f"{RIVAL_REWIRING}, so relearning is no faster than with them frozen",
            prediction="after the swap, fine-tuning learns faster than training from step 0 "
                       "(mean normalised validation score, fine-tuned minus from step 0)")
        control = stats.reference_row(r["mean_frozen"] - r["mean_scratch"], 0.0, +1,
                                      stats_settings, why=why, **keys)
        rows.append(stats.with_control(row, control, frozen))
        why = ("a fraction of the distance right after the swap (0: the moved blocks keep "
               "their statistics)")
        row = stats.reference_row(
            r["fraction"], 0.0, +1, stats_settings, why=why, **keys, rival=RIVAL_REWIRING,
            prediction="the moved blocks close part of the distance to their new positions' "
                       "statistics (fraction of the distance closed)",
            note="distance: sum over both swapped positions and the events of |event effect "
                 "- the original trained model's at that position|; 1 = reached, < 0 = "
                 "further away")
        control = stats.reference_row(r["fraction_frozen"], 0.0, +1, stats_settings,
                                      why=why, **keys)
        rows.append(stats.with_control(row, control, frozen))
    return rows


def curves_table(curve: pd.DataFrame | None) -> pd.DataFrame:
    """Validation score by step: fine-tuning after the swap (and with the moved blocks
    frozen) and training from step 0, every seed."""
    columns = ["task", "seed", "kind", "step", "val_score", "solved"]
    if curve is None or curve.empty:
        return pd.DataFrame(columns=columns)
    return curve.reindex(columns=columns)


# --------------------------------------------------------------------------- entry point


def aggregate(tables, runs, settings: Settings, stats_settings: stats.Settings
              ) -> dict[str, pd.DataFrame]:
    scores = scores_table(runs, settings)
    behaviours = behaviour_table(tables.get("behaviours"))
    writing = writing_table(tables.get("writing"), runs)
    positions = positions_table(tables.get("contrast"))
    summary = rewire_summary(tables.get("rewire_scores"), tables.get("rewire_curve"),
                             tables.get("rewire_distance"), runs, settings)
    rows = (dissociation_rows(behaviours, runs, settings, stats_settings)
            + writing_rows(writing, runs, settings, stats_settings)
            + variant_sanity(scores, settings, stats_settings)
            + position_verdicts(positions, stats_settings)
            + rewire_verdicts(summary, settings, stats_settings))
    return {"scores": scores, "variants": variant_summary(scores, stats_settings),
            "behaviours": behaviours,
            "behaviour_summary": behaviour_summary(behaviours, stats_settings),
            "writing": writing, "ranking": ranking_table(scores, settings),
            "gap": gap_table(scores, settings, stats_settings),
            "positions": positions, "rewire_summary": summary,
            "rewire": rewire_table(tables.get("rewire_scores"), tables.get("rewire_distance"),
                                   tables.get("rewire_effects")),
            "curves": curves_table(tables.get("rewire_curve")),
            "c4": stats.verdict_table(rows, stats_settings)}
