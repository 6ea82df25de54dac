"""The saturation section."""

from __future__ import annotations

import pandas as pd

from gateroles.analyses.saturation import Settings
from gateroles.report import Inputs, cis, folded, html_table


def saturation_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per task x arch x init x gate; initial and trained side by side."""
    keys = ["task", "arch", "init", "gate"]
    rows = []
    for key, group in summary.groupby(keys, sort=True):
        row = dict(zip(keys, key, strict=True))
        for phase in ("initial", "trained"):
            part = group[group["phase"] == phase]
            for side in ("left", "right"):
                row[f"{side}, {phase} [CI]"] = (
                    cis(part, [side, f"{side}_ci_low", f"{side}_ci_high"])[0]
                    if len(part) else "–")
        row["seeds"] = int(group["n_seeds"].max())
        rows.append(row)
    return pd.DataFrame(rows)



def section(inputs: Inputs) -> dict:
    settings = Settings.from_config(inputs.config)
    table = saturation_table(inputs.table("saturation_summary"))
    return {"template": "analyses/saturation/section.html.j2", "claims": [],
            "saturation_table": folded(html_table(table), "Saturation per task, architecture "
                                       "and gate", len(table)),
            "low": settings.low, "high": settings.high,
            "figures": inputs.figures("saturation", settings=settings)}

