"""C2 across seeds: the event-locked effect of each predicted gate, trained vs step 0."""

from __future__ import annotations

import pandas as pd

from gateroles import stats
from gateroles.architectures import ROLE_GATES
from gateroles.study import CELL_KEYS, at_phase

C2_COLUMNS = CELL_KEYS + [
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
    for (task, arch, init), group in phases.groupby(CELL_KEYS, sort=True):
        for event, (gate, direction) in ROLE_GATES[arch].items():
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


def aggregate(tables, runs, settings, stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    n_boot, confidence = stats_settings.bootstrap_samples, stats_settings.confidence
    return {"contrast": tables["contrast"], "aligned": tables["aligned"],
            "c2": c2_verdicts(tables["contrast"], n_boot, confidence)}
