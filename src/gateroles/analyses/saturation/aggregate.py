"""Saturation across seeds: mean left/right fractions per gate, initial vs trained."""

from __future__ import annotations

import pandas as pd

from gateroles import stats
from gateroles.study import CELL_KEYS, at_phase


def saturation_summary(saturation: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
    """Mean left/right saturated fraction per gate, initial vs trained, CI over solved seeds."""
    per_seed = (at_phase(saturation[saturation["solved"]])
                .groupby(CELL_KEYS + ["seed", "phase", "gate"], as_index=False)[["left", "right"]]
                .mean())
    rows = []
    for keys, group in per_seed.groupby(CELL_KEYS + ["phase", "gate"], sort=True):
        row = dict(zip(CELL_KEYS + ["phase", "gate"], keys, strict=True))
        for side in ("left", "right"):
            mean, lo, hi = stats.bootstrap_ci(group[side], n_boot, confidence)
            row.update({side: mean, f"{side}_ci_low": lo, f"{side}_ci_high": hi})
        rows.append({**row, "n_seeds": len(group)})
    columns = CELL_KEYS + ["phase", "gate"] + [f"{side}{suffix}" for side in ("left", "right")
                                                for suffix in ("", "_ci_low", "_ci_high")]
    return pd.DataFrame(rows, columns=columns + ["n_seeds"])


def aggregate(tables, runs, settings, stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    saturation = tables["saturation"]
    return {"saturation": saturation,
            "summary": saturation_summary(saturation, stats_settings.bootstrap_samples,
                                          stats_settings.confidence)}
