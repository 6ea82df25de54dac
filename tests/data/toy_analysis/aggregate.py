"""Gate means across solved seeds, at step 0 and trained."""

from __future__ import annotations

import pandas as pd

from gateroles.study import CELL_KEYS, at_phase


def aggregate(tables, runs, settings, stats_settings) -> dict[str, pd.DataFrame]:
    solved = at_phase(tables["means"][tables["means"]["solved"]])
    means = (solved.groupby(CELL_KEYS + ["phase", "gate"], as_index=False)
             .agg(mean=("mean", "mean"), n_seeds=("seed", "nunique")))
    return {"means": means}
