"""Across seeds: the study's tables, confidence intervals and the C2 verdicts.

Models that did not solve their task are kept in every table (column `solved`) but left out of
the verdicts, which say how many seeds they rest on: a claim about a trained gate's role is
only meaningful for a model that learned the task.
"""

from __future__ import annotations

import pandas as pd

from gateroles import stats, storage
from gateroles.events import PREDICTIONS

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
    return pd.DataFrame(rows)


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
    return pd.DataFrame(rows)
