"""The C2 section: event-locked effects with verdicts."""

from __future__ import annotations

import pandas as pd

from gateroles.report import Inputs, cis, html_table


def c2_table(c2: pd.DataFrame) -> pd.DataFrame:
    if c2.empty:
        return pd.DataFrame({"note": ["no solved models: nothing to decide"]})
    return pd.DataFrame({
        "task": c2["task"], "arch": c2["arch"], "init": c2["init"],
        "prediction": [f"{g} {p} at {e}" for g, p, e in
                       zip(c2["gate"], c2["predicted"], c2["event"], strict=True)],
        "effect, trained [CI]": cis(c2, ["effect", "ci_low", "ci_high"]),
        "Cohen's d [CI]": cis(c2, ["cohens_d", "d_ci_low", "d_ci_high"], 2),
        "seeds agreeing": [f"{a} / {n}" for a, n in zip(c2["seeds_agreeing"], c2["n_seeds"],
                                                        strict=True)],
        "verdict": c2["verdict"],
        "effect at init [CI]": cis(c2, ["effect_at_init", "init_ci_low", "init_ci_high"]),
        "sign at init": c2["verdict_at_init"],
    })



def claim_rows(c2: pd.DataFrame) -> list[dict]:
    """One summary line per claim decided so far."""
    if c2.empty:
        return [{"claim": "C2 event-locked dynamics", "verdict": "not decided", "css": "",
                 "basis": "no solved models"}]
    counts = c2["verdict"].value_counts()
    n = len(c2)
    supported = int(counts.get("supported", 0))
    overall = ("supported" if supported == n else
               "contradicted" if counts.get("contradicted", 0) == n else "mixed")
    basis = (f"{supported} of {n} predictions supported, "
             f"{int(counts.get('contradicted', 0))} contradicted, "
             f"{int(counts.get('inconclusive', 0))} inconclusive (table below)")
    css = {"supported": "supported", "contradicted": "contradicted"}.get(overall, "inconclusive")
    return [{"claim": "C2 event-locked dynamics", "verdict": overall, "css": css, "basis": basis}]



def section(inputs: Inputs) -> dict:
    c2 = inputs.table("c2")
    return {"template": "analyses/event_locking/section.html.j2", "claims": claim_rows(c2),
            "c2_table": html_table(c2_table(c2)), "figures": inputs.figures("event_averages")}

