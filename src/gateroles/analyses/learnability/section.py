"""The C6 learnability section: the longest hold each architecture learns, and the verdicts
(its rows of C6's one verdict table, adjusted with the gradient's as one Holm family).

Every sentence that states a result is written here from the aggregate tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import report
from gateroles.analyses.learnability import EVIDENCE, Settings
from gateroles.report import Inputs, ci, fmt, html_table


def _steps(value) -> str:
    return "none" if not np.isfinite(value) else f"{int(value)}"


def _arm(row) -> str:
    return row["arch"] if row["init"] == "default" else f"{row['arch']} ({row['init']})"


def longest_sentences(longest: pd.DataFrame, holds: pd.DataFrame) -> list[str]:
    """Per task: the holds swept and each architecture's longest hold learned by every seed."""
    out = []
    for task, part in longest.groupby("task", sort=False):
        swept = sorted(holds[holds["task"] == task]["hold"].unique())
        budgets = holds[holds["task"] == task]["budget"].dropna().unique()
        budget = (f"a budget of {int(budgets[0])} steps" if len(budgets) == 1 else
                  f"budgets of {int(min(budgets))} to {int(max(budgets))} steps"
                  if len(budgets) else "no model trained")
        each = "; ".join(f"{_arm(r)} {_steps(r['longest_every_seed'])}"
                         for _, r in part.iterrows())
        out.append(f"{task}, holds {', '.join(str(int(h)) for h in swept)} steps, "
                   f"{budget}: the longest hold every seed learned, {each}.")
    return out


def verdict_sentences(c6: pd.DataFrame) -> list[str]:
    """Each prediction's verdict, its effect and its negative control, in words."""
    out = []
    for _, r in c6.iterrows():
        control = f"negative control {report._control_text(r, 2)}"
        out.append(f"{r['task']}: {r['prediction']}: {r['verdict']} "
                   f"({'counted' if r['counted'] else 'not counted'}); reach of lstm minus "
                   f"the other, {ci(r['change'], r['change_ci_low'], r['change_ci_high'], 2)} "
                   f"positions of the sweep, {int(r['seeds_agreeing'])} of {int(r['n_seeds'])} "
                   f"seeds above 0; {control}.")
    return out


def longest_display(longest: pd.DataFrame) -> pd.DataFrame:
    if longest.empty:
        return pd.DataFrame({"note": ["no learnability sweep in this configuration"]})
    return pd.DataFrame({
        "task": longest["task"], "arch": longest["arch"], "init": longest["init"],
        "longest hold every seed learned": longest["longest_every_seed"].map(_steps),
        "seeds' longest hold learned, shortest to longest": [
            f"{_steps(a)} to {_steps(b)}" for a, b in
            zip(longest["reach_min"], longest["reach_max"], strict=True)],
        "longest hold swept": longest["longest_swept"].map(_steps),
        "seeds": longest["n_seeds"]})


def holds_display(holds: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "task": holds["task"], "arch": holds["arch"], "init": holds["init"],
        "hold": holds["hold"],
        "seeds learned / trained / all": [f"{a} / {b} / {c}" for a, b, c in zip(
            holds["n_learned"], holds["n_trained"], holds["n_seeds"], strict=True)],
        "slowest learner's step": holds["steps_to_solve_max"].map(_steps),
        "budget": holds["budget"].map(_steps),
        "mean test score of those trained": holds["test_score"].map(lambda x: fmt(x, 3))})


def own_rows(claim: pd.DataFrame) -> pd.DataFrame:
    """This section's rows of C6's one verdict table (`c6_verdicts.csv`, written by the
    gradient's aggregate over both analyses' rows: one Holm family)."""
    return claim[claim["evidence"] == EVIDENCE] if len(claim) else claim


def section(inputs: Inputs) -> dict:
    claim = inputs.table("c6")
    c6 = own_rows(claim)
    longest, holds = inputs.table("learnability_longest"), inputs.table("learnability_holds")
    family = report.family_sentence(claim, c6, "the gradient's, above")
    sentences = (longest_sentences(longest, holds)
                 + ([" ".join(filter(None, (report.counts_sentence(c6), family)))]
                    if len(c6) else ["No learnability prediction could be made (the sweep "
                                     "lacks lstm, or both lstm_ffg and rnn)."])
                 + verdict_sentences(c6))
    return {"template": "analyses/learnability/section.html.j2",
            "claims": [report.evidence_row(c6, "C6", EVIDENCE, decimals=2)] if len(c6) else [],
            "sentences": sentences,
            "verdict_table": html_table(report.verdict_table(c6, 2)) if len(c6) else "",
            "longest_table": html_table(longest_display(longest)),
            "holds_table": report.folded(html_table(holds_display(holds)),
                                         "Seeds that learned each hold", len(holds)),
            "figures": inputs.figures("c6_learnability",
                                      settings=Settings.from_config(inputs.config))}
