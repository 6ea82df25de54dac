"""Statistics across seeds: bootstrap confidence intervals and directional verdicts.

Seeds are the unit of replication: every number in the report is a mean over seeds with a
percentile bootstrap CI over seeds, and each verdict says in how many seeds the effect had the
predicted sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def bootstrap_ci(values, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
                 ) -> tuple[float, float, float]:
    """Mean of `values` and its percentile bootstrap CI (NaNs dropped; NaN if none left).

    With a single value the interval collapses onto it: one seed carries no spread.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(x.mean()), float(lo), float(hi)


def directional_verdict(values, direction: int, n_boot: int = 2000, confidence: float = 0.95,
                        seed: int = 0) -> dict:
    """Does the effect have the predicted sign? `direction` is +1 or -1.

    `supported` when the CI excludes zero on the predicted side; `contradicted` when it
    excludes zero on the other side; otherwise `inconclusive`. Fewer than 2 finite seeds is
    always inconclusive.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    mean, lo, hi = bootstrap_ci(x, n_boot, confidence, seed)
    agree = int(np.sum(np.sign(x) == direction))
    if x.size < 2:
        verdict = "inconclusive"
    elif (lo > 0 and direction > 0) or (hi < 0 and direction < 0):
        verdict = "supported"
    elif (lo > 0 and direction < 0) or (hi < 0 and direction > 0):
        verdict = "contradicted"
    else:
        verdict = "inconclusive"
    return {"mean": mean, "ci_low": lo, "ci_high": hi, "n_seeds": int(x.size),
            "seeds_agreeing": agree, "verdict": verdict}


@dataclass(frozen=True)
class Settings:
    """The `analysis` section: how intervals and verdicts across seeds are computed."""

    bootstrap_samples: int
    confidence: float

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return cls(**config["analysis"])
