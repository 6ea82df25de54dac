"""The runs table (one row per model, with its `solved` flag; its own rule, read by every
aggregate), solved seeds per task, and the training curves of every seed."""

from __future__ import annotations

import pandas as pd

from gateroles import stats, storage
from gateroles.study import CELL_KEYS, RUN_KEYS


def runs_table(test_paths: list[str]) -> pd.DataFrame:
    """One row per model: its test score, chance, threshold and `solved` flag."""
    rows = [storage.read_json(p) for p in test_paths]
    return pd.DataFrame(rows).sort_values(RUN_KEYS, ignore_index=True)


def solved_by_task(runs: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
    rows = []
    for keys, group in runs.groupby(CELL_KEYS, sort=True):
        mean, lo, hi = stats.bootstrap_ci(group["test_score"], n_boot, confidence)
        rows.append({**dict(zip(CELL_KEYS, keys, strict=True)), "metric": group["metric"].iloc[0],
                     "chance": group["chance"].mean(), "threshold": group["threshold"].iloc[0],
                     "n_seeds": len(group), "n_solved": int(group["solved"].sum()),
                     "steps": int(group["steps"].max()),
                     "steps_to_solve_max": group.get("steps_to_solve",
                                                     pd.Series(dtype=float)).max(),
                     "test_score": mean, "ci_low": lo, "ci_high": hi,
                     "unsolved_seeds": " ".join(map(str, group.loc[~group["solved"], "seed"]))})
    return pd.DataFrame(rows)


def aggregate(tables, runs, settings, stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    """The training curves of every seed, flagged solved or not. (The runs table and the
    solved counts are the `runs_table` rule's: every other aggregate waits on them.)"""
    return {"training": tables["train_log"]}
