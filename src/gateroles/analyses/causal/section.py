"""The C3 section: clamps at events, unit ablation against random groups, block swaps.

Every sentence that states a result is built here from the tables; the template holds only
the description of the method.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import report
from gateroles.analyses.causal.aggregate import ABLATION, CLAIM, EVENTS, SWAP
from gateroles.report import Inputs, cis, evidence_row, fmt, html_table


def fold(frame: pd.DataFrame, summary: str) -> str:
    """The table's HTML, inside a <details> when it is long (`report.folded`)."""
    return report.folded(html_table(frame), summary, len(frame))


def _count_sentence(rows: pd.DataFrame, what: str) -> str:
    """'supported in a of n predictions (b contradicted, ...)' for `rows` of the verdicts."""
    if rows.empty:
        return f"No prediction on {what} could be decided (no solved models with the gates)."
    counts = rows["verdict"].value_counts()
    others = ", ".join(f"{int(v)} {k}" for k, v in counts.items() if k != "supported")
    return (f"{what}: supported in {int(counts.get('supported', 0))} of {len(rows)} "
            f"predictions" + (f" ({others})." if others else "."))


def _failures(rows: pd.DataFrame, limit: int = 8) -> str:
    """The tested predictions that were not supported, with their change from step 0, and
    the cells without enough solved seeds for a verdict."""
    tested = rows[rows["verdict"].isin(("contradicted", "inconclusive"))]
    items = [f"{r.prediction} ({r.task}, {r.arch}; change {fmt(r.change)}, {r.verdict}"
             + (f"; {r.note}" if isinstance(r.note, str) and r.note else "") + ")"
             for r in tested.head(limit).itertuples()]
    more = f" and {len(tested) - limit} more" if len(tested) > limit else ""
    out = ("Not supported: " + "; ".join(items) + more + ".") if items else ""
    few = rows[rows["verdict"] == "insufficient seeds"]
    if len(few):
        cells = ", ".join(dict.fromkeys(f"{r.task} / {r.arch} / {r.init}"
                                        for r in few.itertuples()))
        out += f" Fewer solved seeds than a verdict needs: {cells}."
    return out.strip()


def matrix_sentences(c3: pd.DataFrame) -> list[str]:
    if c3.empty:
        return ["No prediction could be decided (no solved models with gates)."]
    rows = c3[c3["evidence"] == EVENTS]
    event = rows[rows["prediction"].str.contains("matched quiet steps")]
    diagonal = rows[rows["prediction"].str.contains("any other gate")]
    out = [_count_sentence(event, "The role gate clamped at its events vs at matched quiet "
                                  "steps"),
           _failures(event),
           _count_sentence(diagonal, "The diagonal dominates (the role gate's clamp does "
                                     "more damage than every other gate's at the same events)"),
           _failures(diagonal)]
    return [s for s in out if s]


def ablation_sentences(summary: pd.DataFrame) -> list[str]:
    """Per k, pooled over cells and roles: share of seeds with p < 0.05 and the median over
    cells of the per-cell median effect size, trained vs step 0."""
    if summary.empty:
        return ["No unit ablation to report (no solved models with a role gate)."]
    out = []
    for k, group in summary.groupby("k", sort=True):
        parts = {}
        for phase in ("trained", "initial"):
            sel = group[group["phase"] == phase]
            n = int(sel["n_seeds"].sum())
            share = sel["n_p05"].sum() / n if n else np.nan
            medians = sel["effect_size_median"].dropna()
            parts[phase] = (f"{int(sel['n_p05'].sum())} of {n} model x role tests "
                            f"({fmt(100 * share, 0)}%) with p < 0.05, median effect size "
                            f"{fmt(float(medians.median()) if len(medians) else np.nan, 2)}")
        out.append(f"k = {k}: trained, {parts['trained']}; step 0, {parts['initial']}.")
    return out


def ablation_table(summary: pd.DataFrame) -> pd.DataFrame:
    if summary.empty:
        return pd.DataFrame({"note": ["no solved models with a role gate"]})
    wide = summary.pivot_table(index=["task", "arch", "init", "event", "gate", "value", "k"],
                               columns="phase",
                               values=["share_p05", "effect_size", "effect_size_median",
                                       "targeted", "null_mean"],
                               aggfunc="first").reset_index()

    def col(value, phase):
        key = (value, phase)
        return wide[key] if key in wide.columns else pd.Series(np.nan, index=wide.index)

    return pd.DataFrame({
        "task": wide["task"], "arch": wide["arch"], "init": wide["init"],
        "clamp": [f"{g} → {v:g} at {e}" for g, v, e in
                  zip(wide["gate"], wide["value"], wide["event"], strict=True)],
        "k": wide["k"],
        "p < 0.05, trained": col("share_p05", "trained").map(lambda x: fmt(x, 2)),
        "p < 0.05, step 0": col("share_p05", "initial").map(lambda x: fmt(x, 2)),
        "effect size, trained (mean / median)": [
            f"{fmt(a, 2)} / {fmt(b, 2)}" for a, b in zip(
                col("effect_size", "trained"), col("effect_size_median", "trained"),
                strict=True)],
        "effect size, step 0 (mean / median)": [
            f"{fmt(a, 2)} / {fmt(b, 2)}" for a, b in zip(
                col("effect_size", "initial"), col("effect_size_median", "initial"),
                strict=True)],
        "targeted / random damage, trained": [
            f"{fmt(a)} / {fmt(b)}" for a, b in zip(col("targeted", "trained"),
                                                    col("null_mean", "trained"), strict=True)],
    })


def swap_table(swaps: pd.DataFrame, c3: pd.DataFrame) -> pd.DataFrame:
    if swaps.empty:
        return pd.DataFrame({"note": ["no solved models with two gates to swap"]})
    trained = swaps[swaps["phase"] == "trained"].set_index(["task", "arch", "init", "gate_a",
                                                            "gate_b", "metric"])
    initial = swaps[swaps["phase"] == "initial"].set_index(trained.index.names)
    initial = initial.reindex(trained.index)
    verdicts = {}
    for r in c3[c3["evidence"] == SWAP].itertuples() if len(c3) else []:
        verdicts[r.task, r.arch, r.init, r.prediction] = r.verdict
    rows = []
    for key, t in trained.iterrows():
        i = initial.loc[key]
        task, arch, init, a, b, metric = key
        prediction = f"swapping the {a} and {b} weight blocks breaks the model"
        rows.append({
            "task": task, "arch": arch, "init": init, "swap": f"{a} ↔ {b}", "metric": metric,
            "score before → after, trained": f"{fmt(t['score_before'])} → "
                                             f"{fmt(t['score_after'])}",
            "score before → after, step 0": f"{fmt(i['score_before'])} → "
                                            f"{fmt(i['score_after'])}",
            "chance": fmt(t["chance"]),
            "damage, trained [CI]": cis(pd.DataFrame([t]), ["damage", "damage_ci_low",
                                                            "damage_ci_high"])[0],
            "damage, step 0 [CI]": cis(pd.DataFrame([i]), ["damage", "damage_ci_low",
                                                           "damage_ci_high"])[0],
            "seeds": int(t["n_seeds"]),
            "verdict": verdicts.get((task, arch, init, prediction), "–"),
        })
    return pd.DataFrame(rows)


def swap_sentences(swaps: pd.DataFrame) -> list[str]:
    if swaps.empty:
        return []
    out = []
    units = {"accuracy": "accuracy lost", "mse": "MSE gained"}
    for (a, b, metric), group in swaps.groupby(["gate_a", "gate_b", "metric"], sort=False):
        t = group[group["phase"] == "trained"]["damage"]
        i = group[group["phase"] == "initial"]["damage"]
        cells = f"{len(t)} task x architecture cell{'s' if len(t) != 1 else ''}"
        out.append(f"Swapping {a} ↔ {b} ({units.get(metric, metric)}): mean damage "
                   f"{_span(t)} trained ({cells}), {_span(i)} at step 0.")
    return out


def _span(values: pd.Series) -> str:
    """'lo to hi', or the one value when there is one."""
    lo, hi = fmt(values.min()), fmt(values.max())
    return lo if lo == hi else f"{lo} to {hi}"


def section(inputs: Inputs) -> dict:
    c3 = inputs.table("c3")
    ablation = inputs.table("causal_ablation")
    swaps = inputs.table("causal_swaps")
    settings = inputs.config["causal"]
    by = {e: c3[c3["evidence"] == e] if len(c3) else c3 for e in (EVENTS, ABLATION, SWAP)}
    return {
        "template": "analyses/causal/section.html.j2",
        "claims": [evidence_row(by[EVENTS], CLAIM, EVENTS),
                   evidence_row(by[ABLATION], CLAIM, ABLATION),
                   evidence_row(by[SWAP], CLAIM, SWAP)],
        "settings": settings,
        "matrix_sentences": matrix_sentences(c3),
        "ablation_sentences": ablation_sentences(ablation),
        "swap_sentences": swap_sentences(swaps),
        "verdict_table": fold(report.verdict_table(c3), "All C3 predictions"),
        "ablation_table": fold(ablation_table(ablation), "Unit ablation per role and k"),
        "swap_table": fold(swap_table(swaps, c3), "Block swaps"),
        "figures": inputs.figures("causal_matrix", "causal_null"),
    }
