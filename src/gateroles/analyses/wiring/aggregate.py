"""C4 across seeds: the variants' lost abilities, the same blocks in two positions, rewiring.

Every verdict row is `stats.VERDICT_COLUMNS` with claim "C4", in one table, Holm-adjusted
within each line of evidence (`evidence`: variants, two positions, rewiring): each answers
its own question, as C1's two lines (two analyses) are adjusted separately. Scores are
normalised, (score - chance) / (perfect - chance) (1 = perfect, 0 = the best constant
predictor; for MSE (chance - mse) / chance), so every task and metric is on one scale.

**Variants.** Per task and variant, the per-seed difference of its normalised test score from
the full LSTM's (`lstm`/`default`, same task and seed: same data, same batches, same initial
weights in the rows the variant has), over the seeds whose LSTM solved the task (the variant
failing is the outcome, not a reason to drop a seed). Decided on the trained difference
alone: a variant has no step-0 version of "the ability it lost" (both models start at
chance, and the claim is about what training can reach), so the `initial` columns are empty.
Two rows per directional prediction: the score difference (< 0) and the difference in steps
to solve (> 0), each run's steps capped at its budget plus one validation interval ("never"
= the cap): on an easy task both may reach the ceiling, and "degrades" then shows as speed
(the score row is then `untestable`: both runs perfect on every paired seed).
Predictions (`variant_prediction`): no forget gate -> worse where a RESET must erase the
memory (tasks with a reset context pair, `tasks.CONTEXTS`); no input gate -> worse where a
STORE must overwrite it; no output gate -> worse where the memory is read out only at QUERY
(tasks with a query event); the tanh RNN -> worse on every task (all directional, one-sided
t over seeds); coupled input-forget -> costs little: an equivalence (TOST) test of the
difference within +-`wiring.equivalence_margin`, `not shown` unless the interval lies inside.

**Two positions.** Per seed, block f0 (the default run's initial forget rows) and block i0
(its initial input rows); in the `swap_forget_input` run f0 starts in the input position and
i0 in the forget position. From the C2 event effects (a gate's mean activation at an event
minus elsewhere) of both runs: for each block, its reset effect in the forget position minus
in the input position (predicted < 0: it drops at resets where it can erase) and its store
effect in the input position minus in the forget position (> 0); and the position effect
(mean over the two blocks, in the predicted direction) minus the absolute block effect (the
difference between the blocks, averaged over positions) (> 0: the position explains more
than the starting weights). From the C1 attribution of the swap run: the block that started
in the input position (i0) does more of the erasing at resets once trained in the forget
position, and f0 more of the writing at stores in the input position; `untestable` where
the same measure does not show the role in the default run either. Each decided on the
change from step 0 (`stats.prediction_row`), over the seeds where both runs solved the task.

**Rewiring.** Per trained `lstm`/`default` model that solved its task: the normalised score
right after the swap minus before it (< 0: the swap breaks it; decided on this difference
alone), the score at the end of fine-tuning against right after the swap (> 0: it recovers),
the steps to solve after rewiring minus from step 0, both capped at the fine-tuning budget
plus one validation interval ("never" = the cap; < 0: faster than from step 0), and, from
the C2 effects at the fine-tuning checkpoints: the forget position's reset effect and the
input position's store effect move toward their roles (end vs right after the swap), and the
distance of both positions' event effects from the original trained model's effects at the
same positions shrinks (sum of absolute differences over positions and events).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import stats
from gateroles.analyses.wiring import Settings
from gateroles.analyses.wiring.measure import ATTRIBUTION, EFFECT, TERM_POSITION
from gateroles.architectures import order
from gateroles.study import at_phase
from gateroles.tasks import CONTEXTS, EVENTS

CLAIM = "C4"
VARIANTS = "variants lose the ability their missing gate serves"
POSITIONS = "the same initial blocks in two positions: the role follows the position"
REWIRING = "rewired blocks take on their new positions' statistics"
EVIDENCE = (VARIANTS, POSITIONS, REWIRING)

REFERENCE = ("lstm", "default")
SWAP = "swap_forget_input"
# Which block (named by where it starts in the default run) sits in each position of a run.
BLOCK_AT = {("default", "forget"): "f0", ("default", "input"): "i0",
            (SWAP, "forget"): "i0", (SWAP, "input"): "f0"}
# Role events of the two swapped positions: event -> (position with the role, direction).
ROLES = {"reset": ("forget", -1), "store": ("input", +1)}
OTHER = {"forget": "input", "input": "forget"}
TERM_EVENT = {"erase": "reset", "write": "store"}

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
GATE_VARIANTS = ("lstm_nfg", "lstm_nig", "lstm_nog")
TRAINED_ONLY = "decided on the trained difference (no step-0 version)"


def normalised(score, metric, chance) -> np.ndarray:
    """(score - chance) / (perfect - chance): 1 = perfect, 0 = the best constant predictor.
    Accuracy: perfect = 1; MSE (lower is better): (chance - mse) / chance."""
    score, chance = np.asarray(score, dtype=float), np.asarray(chance, dtype=float)
    is_mse = np.asarray(metric) == "mse"
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(is_mse, (chance - score) / chance, (score - chance) / (1.0 - chance))


def variant_prediction(arch: str, task: str) -> tuple[int, str] | None:
    """(direction of the variant-minus-LSTM normalised score, prediction), 0 = equivalence;
    None where C4 predicts nothing for this pair."""
    contexts, events = CONTEXTS.get(task, {}), EVENTS.get(task, {})
    if arch == "lstm_nfg" and "reset" in contexts:
        return -1, "no forget gate: worse where a RESET must erase the memory"
    if arch == "lstm_nig" and "store" in contexts:
        return -1, "no input gate: worse where a STORE must overwrite the memory"
    if arch == "lstm_nog" and "query" in events:
        return -1, "no output gate: worse where the memory is read out only at a QUERY"
    if arch == "rnn":
        return -1, "tanh RNN (no gates): worse"
    if arch == "lstm_cifg":
        return 0, "coupled input-forget (f = 1 - i): costs little"
    return None


# --------------------------------------------------------------------------- helpers


def _series(frame: pd.DataFrame, value: str) -> pd.Series:
    return frame.set_index("seed")[value].astype(float).sort_index()


def trained_only_row(values: pd.Series, direction: int, settings: stats.Settings, **keys
                     ) -> dict:
    """A verdict row decided on `values` alone (no step-0 version): `change` = the values,
    the `initial` columns empty."""
    row = stats.prediction_row(values, pd.Series(0.0, index=values.index), direction,
                               settings, **keys)
    row.update(initial=np.nan, initial_ci_low=np.nan, initial_ci_high=np.nan)
    row["note"] = "; ".join(n for n in (keys.get("note", ""), TRAINED_ONLY) if n)
    return row


def equivalence_row(values: pd.Series, margin: float, settings: stats.Settings, **keys
                    ) -> dict:
    """A verdict row from a TOST equivalence test (`stats.equivalence`): `equivalent` when the
    interval lies inside +-margin, `not equivalent` when beyond it, else `not shown`."""
    x = values.to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    e = stats.equivalence(x, margin, settings.confidence, settings.min_seeds)
    sd = float(np.std(x, ddof=1)) if len(x) > 1 else np.nan
    row = {key: keys.get(key, "") for key in ("claim", "evidence", "prediction")}
    row.update({key: keys[key] for key in ("task", "arch", "init")})
    row.update({"direction": 0, "trained": e["mean"], "trained_ci_low": e["ci_low"],
                "trained_ci_high": e["ci_high"], "initial": np.nan, "initial_ci_low": np.nan,
                "initial_ci_high": np.nan, "change": e["mean"], "change_ci_low": e["ci_low"],
                "change_ci_high": e["ci_high"],
                "cohens_dz": e["mean"] / sd if sd and np.isfinite(sd) else np.nan,
                "p_value": e["p_value"], "p_opposite": np.nan, "n_seeds": e["n_seeds"],
                "seeds_agreeing": int(np.sum(np.abs(x) < margin)),
                "n_unsolved": int(keys.get("n_unsolved", 0)), "verdict": e["verdict"],
                "note": f"equivalence (TOST) within +-{margin:g} normalised score; "
                        f"{TRAINED_ONLY}"})
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


def variant_verdicts(scores: pd.DataFrame, settings: Settings, stats_settings: stats.Settings
                     ) -> list[dict]:
    """Per task and variant with a prediction: a lower normalised test score and (on an easy
    task both may reach the ceiling, where "degrades" shows as speed) more steps to solve;
    for the coupled variant, an equivalence test of the score."""
    rows = []
    for task in settings.tasks:
        for arch in settings.architectures:
            g = scores[(scores["task"] == task) & (scores["arch"] == arch)
                       & (scores["init"] == "default")]
            prediction = variant_prediction(arch, task)
            if g.empty or prediction is None:
                continue
            direction, text = prediction
            ref_solved = g["ref_solved"].astype(bool)
            paired = g[ref_solved]
            d = _series(paired, "difference")
            keys = {"claim": CLAIM, "evidence": VARIANTS, "task": task, "arch": arch,
                    "init": "default", "n_unsolved": int((~ref_solved).sum())}
            if direction == 0:
                rows.append(equivalence_row(d, settings.equivalence_margin, stats_settings,
                                            prediction=text, **keys))
                continue
            rows.append(_untestable_at_ceiling(
                trained_only_row(d, direction, stats_settings, **keys,
                                 prediction=f"{text}: lower test score"), paired))
            cap = int(g["steps"].max()) + settings.eval_every
            rows.append(trained_only_row(
                extra_steps(paired, settings.eval_every), +1, stats_settings, **keys,
                prediction=f"{text}: more steps to solve",
                note=f"steps capped at the budget + {settings.eval_every} (never = {cap})"))
    return rows


def _untestable_at_ceiling(row: dict, paired: pd.DataFrame) -> dict:
    """`untestable` when the variant and the LSTM both score perfectly on every paired seed:
    the score cannot fall below a model that is already at its ceiling, so the difference is
    0 whatever the gate does; the steps to solve decide instead."""
    scores = np.r_[paired["normalised"].to_numpy(float), paired["ref_normalised"].to_numpy(float)]
    if row["verdict"] == stats.INSUFFICIENT or not stats.at_ceiling(scores, 1.0, 0.0):
        return row
    note = ("untestable: the variant and the LSTM both score perfectly on every paired seed "
            "(the score is at its ceiling; the steps to solve decide)")
    return {**row, "verdict": stats.UNTESTABLE, "note": note}


def ranking_table(scores: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Mean drop in normalised score (LSTM minus variant, seeds whose LSTM solved) per
    variant and task, their mean over tasks, the measured rank of the three single-gate
    removals, and what Greff et al. 2017 and Jozefowicz et al. 2015 found."""
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
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return frame.assign(measured_rank=[], measured_rank_steps=[])
    gates = frame[frame["arch"].isin(GATE_VARIANTS)]
    frame["measured_rank"] = gates["mean drop"].rank(ascending=False, method="min").reindex(
        frame.index)
    frame["measured_rank_steps"] = gates["mean extra steps"].rank(
        ascending=False, method="min").reindex(frame.index)
    return frame


def gap_table(scores: pd.DataFrame, settings: Settings, stats_settings: stats.Settings
              ) -> pd.DataFrame:
    """The LSTM-GRU gap with PyTorch's default init and with a forget bias of 1, per task of
    `forget_bias_tasks`: GRU minus LSTM normalised score, and LSTM minus GRU steps to solve
    (positive: the GRU is better / faster), paired by seed (t-intervals)."""
    columns = ["task", "lstm_init", "lstm_normalised", "gru_normalised", "lstm_solved",
               "gru_solved", "n_seeds", "score_gap", "score_gap_ci_low", "score_gap_ci_high",
               "steps_gap", "steps_gap_ci_low", "steps_gap_ci_high", "n_steps_pairs"]
    rows = []
    for task in settings.forget_bias_tasks:
        here = scores[scores["task"] == task]
        gru = here[(here["arch"] == "gru") & (here["init"] == "default")]
        for init in ("default", "forget_bias_1"):
            lstm = here[(here["arch"] == "lstm") & (here["init"] == init)]
            if gru.empty or lstm.empty:
                continue
            both = lstm.merge(gru, on="seed", suffixes=("_lstm", "_gru"))
            gap = both["normalised_gru"] - both["normalised_lstm"]
            steps = (both["steps_to_solve_lstm"].astype(float)
                     - both["steps_to_solve_gru"].astype(float))
            g, g_lo, g_hi = stats.mean_ci(gap, stats_settings.confidence)
            s, s_lo, s_hi = stats.mean_ci(steps, stats_settings.confidence)
            rows.append({"task": task, "lstm_init": init,
                         "lstm_normalised": float(both["normalised_lstm"].mean()),
                         "gru_normalised": float(both["normalised_gru"].mean()),
                         "lstm_solved": int(both["solved_lstm"].sum()),
                         "gru_solved": int(both["solved_gru"].sum()), "n_seeds": len(both),
                         "score_gap": g, "score_gap_ci_low": g_lo, "score_gap_ci_high": g_hi,
                         "steps_gap": s, "steps_gap_ci_low": s_lo, "steps_gap_ci_high": s_hi,
                         "n_steps_pairs": int(np.isfinite(steps).sum())})
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- two positions


def positions_table(contrast: pd.DataFrame | None, attribution: pd.DataFrame | None
                    ) -> pd.DataFrame:
    """Tidy per seed: each block's statistics in each position of each run, at step 0 and
    trained: `task, seed, phase, init, position, block, measure, event, value`, with `solved`
    (the seed's default and swap runs both solved)."""
    frames = []
    if contrast is not None and len(contrast):
        c = at_phase(contrast[(contrast["arch"] == "lstm")
                              & contrast["gate"].isin(["forget", "input"])])
        frames.append(c.assign(position=c["gate"], measure=EFFECT, value=c["difference"]))
    if attribution is not None and len(attribution):
        a = at_phase(attribution[attribution["arch"] == "lstm"])
        # C1's attribution measure: where the term's work concentrates (log of its mean
        # magnitude at the event over elsewhere; the share alone is high at every step).
        frames.append(a.assign(position=a["term"].map(TERM_POSITION), measure=ATTRIBUTION,
                               value=a["concentration"]))
    columns = ["task", "seed", "phase", "init", "position", "block", "measure", "event",
               "value", "solved"]
    if not frames:
        return pd.DataFrame(columns=columns)
    t = pd.concat(frames, ignore_index=True)
    t = t[t["init"].isin(["default", SWAP])]
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
    rows = []
    for task, t in positions.groupby("task", sort=True):
        n_unsolved = int(t.loc[~t["solved"].astype(bool), "seed"].nunique())
        t = t[t["solved"].astype(bool)]
        keys = {"claim": CLAIM, "evidence": POSITIONS, "task": task, "arch": "lstm",
                "n_unsolved": n_unsolved}
        for event, (role, direction) in ROLES.items():
            eff = t[(t["measure"] == EFFECT) & (t["event"] == event)]
            if eff.empty:
                continue
            x = eff.pivot_table(index=["seed", "phase"], columns=["block", "position"],
                                values="value")
            if x.shape[1] < 4:
                continue
            verb = "drops" if direction < 0 else "rises"
            within = {}
            for block in ("f0", "i0"):
                within[block] = x[(block, role)] - x[(block, OTHER[role])]
                trained, initial = _per_phase(within[block])
                rows.append(stats.prediction_row(
                    trained, initial, direction, stats_settings, **keys,
                    init=f"default + {SWAP}",
                    prediction=f"block {block} {verb} more at {event}s in the {role} position "
                               f"than in the {OTHER[role]} position"))
            position = direction * (within["f0"] + within["i0"]) / 2
            block = ((x[("f0", role)] + x[("f0", OTHER[role])])
                     - (x[("i0", role)] + x[("i0", OTHER[role])])) / 2
            trained, initial = _per_phase(position - block.abs())
            rows.append(stats.prediction_row(
                trained, initial, +1, stats_settings, **keys, init=f"default + {SWAP}",
                prediction=f"at {event}s the position ({role} {verb}) explains more than the "
                           f"starting block"))
        attribution = t[t["measure"] == ATTRIBUTION]
        for term, event in TERM_EVENT.items():
            here = attribution[(attribution["event"] == event)
                               & (attribution["position"] == TERM_POSITION[term])]
            swap, default = here[here["init"] == SWAP], here[here["init"] == "default"]
            if swap.empty:
                continue
            block = swap["block"].iloc[0]
            trained, initial = _per_phase(swap.set_index(["seed", "phase"])["value"])
            row = stats.prediction_row(
                trained, initial, +1, stats_settings, **keys, init=SWAP,
                prediction=f"block {block}, trained in the {TERM_POSITION[term]} position, "
                           f"does more of the {'erasing' if term == 'erase' else 'writing'} "
                           f"at {event}s than elsewhere")
            rows.append(_unless_shown_by_default(row, default, stats_settings))
    return rows


def _unless_shown_by_default(row: dict, default: pd.DataFrame, stats_settings: stats.Settings
                             ) -> dict:
    """`untestable` unless the same measure shows the role in the default run (the other
    block in the same position, change from step 0 supported at the unadjusted level): a
    measure that does not show the role where PyTorch put the block cannot tell whether the
    moved block took it on."""
    trained, initial = _per_phase(default.set_index(["seed", "phase"])["value"])
    reference = stats.change_from_init(trained, initial, +1,
                                       confidence=stats_settings.confidence,
                                       min_seeds=stats_settings.min_seeds)
    if reference["verdict"] == stats.SUPPORTED or row["verdict"] == stats.INSUFFICIENT:
        return row
    note = (f"untestable: in the default run this measure does not show the role either "
            f"(change from step 0 {reference['mean']:.3f} [{reference['ci_low']:.3f}, "
            f"{reference['ci_high']:.3f}], {reference['verdict']})")
    return {**row, "verdict": stats.UNTESTABLE, "note": note}


# --------------------------------------------------------------------------- rewiring


def _original_effects(contrast: pd.DataFrame | None) -> pd.DataFrame:
    """The trained lstm / default models' event effects: task, seed, gate, event, value."""
    if contrast is None or contrast.empty:
        return pd.DataFrame(columns=["task", "seed", "gate", "event", "value"])
    c = contrast[(contrast["arch"] == REFERENCE[0]) & (contrast["init"] == REFERENCE[1])
                 & (contrast["step"] == contrast["final_step"])]
    return c[["task", "seed", "gate", "event", "difference"]].rename(
        columns={"difference": "value"})


def rewire_table(scores: pd.DataFrame | None, effects: pd.DataFrame | None,
                 contrast: pd.DataFrame | None, runs: pd.DataFrame, settings: Settings
                 ) -> pd.DataFrame:
    """Per seed and fine-tuning checkpoint (tidy: `quantity`, `value`): the normalised test
    score, the forget position's reset effect, the input position's store effect and the
    distance of both positions' effects from the original trained model's at the same
    positions; `target` = the original trained model's value of the same quantity (the same
    position), `source` = its value at the other position (where the block came from)."""
    columns = ["task", "seed", "step", "final_step", "solved", "quantity", "value", "target",
               "source"]
    if scores is None or scores.empty:
        return pd.DataFrame(columns=columns)
    frames = []
    s = scores.assign(value=normalised(scores["score"], scores["metric"], scores["chance"]),
                      target=normalised(scores["score_original"], scores["metric"],
                                        scores["chance"]), source=np.nan,
                      quantity="normalised test score")
    frames.append(s)
    original = _original_effects(contrast)
    if effects is not None and len(effects):
        e = effects[effects["measure"] == EFFECT]
        for event, (role, _) in ROLES.items():
            part = e[(e["gate"] == role) & (e["event"] == event)]
            if part.empty:
                continue
            o = original[original["event"] == event].pivot_table(
                index=["task", "seed"], columns="gate", values="value")
            part = part.merge(o.reset_index(), on=["task", "seed"], how="left")
            frames.append(part.assign(quantity=f"{role} position at {event}s",
                                      target=part.get(role, np.nan),
                                      source=part.get(OTHER[role], np.nan)))
        both = e[e["gate"].isin(["forget", "input"])].merge(
            original.rename(columns={"value": "original"}),
            on=["task", "seed", "gate", "event"], how="inner")
        dist = (both.assign(gap=(both["value"] - both["original"]).abs())
                .groupby(["task", "seed", "step", "final_step", "solved"], as_index=False)
                ["gap"].sum())
        frames.append(dist.rename(columns={"gap": "value"}).assign(
            quantity="distance from the positions' trained effects", target=0.0,
            source=np.nan))
    out = pd.concat([f.reindex(columns=columns) for f in frames], ignore_index=True)
    return out.sort_values(["task", "quantity", "seed", "step"], ignore_index=True)


def _capped_steps(values, cap: float) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return np.where(np.isfinite(x), np.minimum(x, cap), cap)


def rewire_verdicts(rewire: pd.DataFrame, scores: pd.DataFrame | None, runs: pd.DataFrame,
                    settings: Settings, stats_settings: stats.Settings) -> list[dict]:
    rows = []
    if rewire.empty or scores is None:
        return rows
    cap = settings.rewire_steps + settings.eval_every
    ref = runs[(runs["arch"] == REFERENCE[0]) & (runs["init"] == REFERENCE[1])]
    for task, r in rewire.groupby("task", sort=True):
        n_unsolved = int(r.loc[~r["solved"].astype(bool), "seed"].nunique())
        r = r[r["solved"].astype(bool)]
        keys = {"claim": CLAIM, "evidence": REWIRING, "task": task, "arch": "lstm",
                "init": "default, forget <-> input swapped", "n_unsolved": n_unsolved}
        score = r[r["quantity"] == "normalised test score"]
        start = score[score["step"] == 0].set_index("seed")
        end = score[score["step"] == score["final_step"]].set_index("seed")
        rows.append(trained_only_row(
            (start["value"] - start["target"]).sort_index(), -1, stats_settings, **keys,
            prediction="the swap breaks the trained model (normalised score after minus "
                       "before)"))
        rows.append(stats.prediction_row(
            end["value"].sort_index(), start["value"].sort_index(), +1, stats_settings,
            **keys, prediction="fine-tuning recovers the task (end vs right after the swap)",
            note="step 0 = right after the swap"))
        s = scores[(scores["task"] == task) & (scores["step"] == 0)].set_index("seed")
        s = s.loc[s.index.isin(start.index)]
        scratch = ref[ref["task"] == task].set_index("seed")["steps_to_solve"]
        again = pd.Series(_capped_steps(s["steps_to_solve_again"], cap), index=s.index)
        first = pd.Series(_capped_steps(scratch.reindex(s.index), cap), index=s.index)
        rows.append(trained_only_row(
            (again - first).sort_index(), -1, stats_settings, **keys,
            prediction="solved again sooner than from step 0 (steps to solve, after the swap "
                       "minus from step 0)",
            note=f"steps capped at {cap} (never = {cap})"))
        for event, (role, direction) in ROLES.items():
            q = r[r["quantity"] == f"{role} position at {event}s"]
            if q.empty:
                continue
            verb = "drops" if direction < 0 else "rises"
            trained = q[q["step"] == q["final_step"]].set_index("seed")["value"].sort_index()
            initial = q[q["step"] == 0].set_index("seed")["value"].sort_index()
            rows.append(stats.prediction_row(
                trained, initial, direction, stats_settings, **keys,
                prediction=f"the gate in the {role} position (the former {OTHER[role]} gate) "
                           f"moves toward its role: {verb} at {event}s",
                note="step 0 = right after the swap"))
        q = r[r["quantity"] == "distance from the positions' trained effects"]
        if len(q):
            trained = q[q["step"] == q["final_step"]].set_index("seed")["value"].sort_index()
            initial = q[q["step"] == 0].set_index("seed")["value"].sort_index()
            rows.append(stats.prediction_row(
                trained, initial, -1, stats_settings, **keys,
                prediction="the positions' event effects move toward the original model's at "
                           "the same positions (distance shrinks)",
                note="step 0 = right after the swap"))
    return rows


def curves_table(curve: pd.DataFrame | None, scratch: pd.DataFrame | None) -> pd.DataFrame:
    """Validation score by step: fine-tuning after the swap and training from step 0."""
    columns = ["task", "seed", "kind", "step", "val_score", "solved"]
    frames = [frame.assign(kind=kind) for kind, frame in
              (("after the swap", curve), ("from step 0", scratch))
              if frame is not None and len(frame)]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat([f.reindex(columns=columns) for f in frames], ignore_index=True)


# --------------------------------------------------------------------------- entry point


def aggregate(tables, runs, settings: Settings, stats_settings: stats.Settings
              ) -> dict[str, pd.DataFrame]:
    scores = scores_table(runs, settings)
    positions = positions_table(tables.get("contrast"),
                                tables.get("attribution"))
    rewire = rewire_table(tables.get("rewire_scores"), tables.get("rewire_effects"),
                          tables.get("contrast"), runs, settings)
    rows = (variant_verdicts(scores, settings, stats_settings)
            + position_verdicts(positions, stats_settings)
            + rewire_verdicts(rewire, tables.get("rewire_scores"), runs, settings,
                              stats_settings))
    table = pd.DataFrame(rows, columns=stats.VERDICT_COLUMNS)
    c4 = stats.adjust_verdicts(table, stats_settings.confidence, by=["claim", "evidence"])
    return {"scores": scores, "variants": variant_summary(scores, stats_settings),
            "ranking": ranking_table(scores, settings),
            "gap": gap_table(scores, settings, stats_settings),
            "positions": positions, "rewire": rewire,
            "curves": curves_table(tables.get("rewire_curve"), tables.get("scratch_log")),
            "c4": c4}
