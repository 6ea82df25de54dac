"""The C8 section: where the memory lives at each hold length, and the trend verdicts of the
keep gate's role at resets.

Every sentence that states a result is written here from the aggregate tables (`by_hold`, the
verdict table `c8`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import report
from gateroles.analyses.holds import Settings
from gateroles.analyses.holds.aggregate import EVIDENCE, MEASURES, TESTED
from gateroles.architectures import SPECS
from gateroles.report import Inputs, ci, fmt, html_table

NO_TREND = "the keep gate's role at resets against hold length"  # the line without rows
def claims(c8: pd.DataFrame) -> list[dict]:
    """The section's lines of the answer table, one per line of evidence present."""
    if c8.empty:
        return [report.evidence_row(c8, "C8", NO_TREND)]
    return [report.evidence_row(c8[c8["evidence"] == evidence], "C8", evidence)
            for evidence in EVIDENCE.values() if (c8["evidence"] == evidence).any()]


def _value(frame: pd.DataFrame, measure: str, phase: str = "trained") -> float:
    part = frame[(frame["measure"] == measure) & (frame["phase"] == phase)]
    return float(part["mean"].iloc[0]) if len(part) else np.nan


def _hold_label(task: str, hold: float, steps: float) -> str:
    if np.isfinite(hold):
        return f"H = {hold:g}"
    return f"{task} (holds of {fmt(steps, 1)} steps on average)"


def memory_sentences(by_hold: pd.DataFrame, threshold: float) -> list[str]:
    """Per task and architecture with a learned keep gate (solved seeds; the memory-carrying
    units), at each hold length: the keep gate's saturation and the direct path's share of the
    query's gradient at the store, trained with step 0 beside them, and the product of keep
    gates across a hold with no erase and with one, against a constant 0.5's (trained). The
    negative controls and variants are in the table and the figure."""
    if by_hold.empty:
        return []
    data = by_hold[(by_hold["cells"] == TESTED)
                   & by_hold["arch"].map(lambda a: SPECS[a].keep_gate is not None)]
    out = []
    for (base, arch), rows in data.groupby(["base", "arch"], sort=True):
        parts = []
        for (hold, task), here in rows.groupby(["hold", "task"], sort=True, dropna=False):
            if not (here["measure"] == "saturated").any():
                continue
            seeds = int(here.loc[here["measure"] == "saturated", "n_seeds"].max())
            text = (f"{_hold_label(task, hold, _value(here, 'hold_steps'))}: saturated "
                    f"{_pair(here, 'saturated')}, log10 product across a hold "
                    f"{fmt(_value(here, 'log10_product_keep'), 1)} with no erase and "
                    f"{fmt(_value(here, 'log10_product_erase'), 1)} with one (a constant 0.5: "
                    f"{fmt(_value(here, 'log10_half'), 1)})")
            if (here["measure"] == "direct_share").any():
                text += f", direct path's share at the store {_pair(here, 'direct_share')}"
            parts.append(f"{text} [{seeds} solved seed{'s' if seeds != 1 else ''}]")
        if parts:
            out.append(f"{base}, {arch} (trained, step 0 in brackets; keep gate above "
                       f"{threshold:g}): " + "; ".join(parts) + ".")
    return out


def _pair(here: pd.DataFrame, measure: str) -> str:
    """'trained (step 0)' of one measure, two decimals."""
    return f"{fmt(_value(here, measure), 2)} ({fmt(_value(here, measure, 'initial'), 2)})"


def trend_sentences(c8: pd.DataFrame) -> list[str]:
    """Every trend row: its verdict, the effect it was decided on with its interval, d_z, the
    seeds agreeing, the trained and step-0 slopes, and its negative control."""
    out = []
    for _, r in c8.iterrows():
        slopes = (f"trained {ci(r['trained'], r['trained_ci_low'], r['trained_ci_high'])}, "
                  f"step 0 {ci(r['initial'], r['initial_ci_low'], r['initial_ci_high'])}")
        if r["decided_on"] == "change from step 0":
            tested = (f"change from step 0 "
                      f"{ci(r['change'], r['change_ci_low'], r['change_ci_high'])} (slopes: "
                      f"{slopes})")
        else:
            tested = f"trained slope against 0 ({slopes})"
        out.append(
            f"{r['task']}, {r['arch']}: {r['prediction']}: {r['verdict']}"
            f"{'' if r['counted'] else ' (not counted)'}. Per doubling of the hold, {tested}, "
            f"d_z {fmt(r['cohens_dz'], 1)}, {int(r['seeds_agreeing'])} of {int(r['n_seeds'])} "
            f"seeds in the predicted direction; negative control "
            f"{report._control_text(r, 3)}.")
    return out


def _interval(phase: dict, which: str) -> str:
    row = phase.get(which)
    return "–" if row is None else ci(row["mean"], row["ci_low"], row["ci_high"])


def hold_table(by_hold: pd.DataFrame) -> pd.DataFrame:
    """One row per task x architecture x cells x measure: trained and step-0 mean [CI]."""
    if by_hold.empty:
        return pd.DataFrame({"note": ["no task with store-to-query intervals"]})
    rows = []
    keys = ["base", "hold", "task", "arch", "cells", "measure"]
    for key, group in by_hold.groupby(keys, sort=True, dropna=False):
        row = dict(zip(keys, key, strict=True))
        phase = {p: g.iloc[0] for p, g in group.groupby("phase")}

        rows.append({"task": row["task"], "arch": row["arch"],
                     "cells": row["cells"], "measure": MEASURES.get(row["measure"],
                                                                     row["measure"]),
                     "trained [CI]": _interval(phase, "trained"),
                     "step 0 [CI]": _interval(phase, "initial"),
                     "seeds": int(group["n_seeds"].max()),
                     "unsolved": int(group["n_unsolved"].max())})
    return pd.DataFrame(rows)


def section(inputs: Inputs) -> dict:
    c8 = inputs.table("c8")
    by_hold = inputs.table("holds_by_hold")
    table = hold_table(by_hold)
    settings = Settings.from_config(inputs.config)
    return {"template": "analyses/holds/section.html.j2",
            "claims": claims(c8),
            "saturation": settings.saturation,
            "memory_units": settings.memory_units,
            "n_holds": int(by_hold["hold"].nunique()) if len(by_hold) else 0,
            "memory_sentences": memory_sentences(by_hold, settings.saturation),
            "count_sentence": report.counts_sentence(c8, "trend predictions"),
            "trend_sentences": trend_sentences(c8),
            "verdict_table": report.folded(html_table(report.verdict_table(c8)),
                                           "C8 predictions", len(c8)),
            "hold_table": report.folded(html_table(table), "Measures by hold length",
                                        len(table), fold_above=0),
            "figures": inputs.figures("holds_memory", "holds_roles", settings=settings)}


def answer(claims: list[dict]) -> report.Sentence | None:
    """Claim C8 in the report's answer: the question, then each line's verdict in words."""
    return report.asked("Do the roles sharpen as the memory must be held longer?", claims)


ANSWERS = {"C8": answer}  # claim -> its sentence in the report's answer
