"""The C5 section: are the gates independent, are they specialised? Generated reading."""

from __future__ import annotations

import pandas as pd

from gateroles import report, stats
from gateroles.analyses.dependence import Settings
from gateroles.analyses.dependence.aggregate import (
    DEPENDENT,
    INDEPENDENCE,
    INDEPENDENCE_GIVEN,
    INDEPENDENT,
    NOT_SHOWN,
    SPECIALISATION,
)
from gateroles.report import Inputs, ci, fmt, html_table

LABELS = {"mig": "MIG", "modularity": "modularity", "dci_disentanglement": "DCI disentanglement",
          "dci_completeness": "DCI completeness", "dci_informativeness": "DCI informativeness",
          "sap": "SAP"}


def c5_bins_table(dependence: pd.DataFrame) -> pd.DataFrame:
    """Same-unit MI change (trained − initial [CI]) for every representation x bin count."""
    sel = dependence[dependence["summary"] == "same_unit"] if len(dependence) else dependence
    if sel.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    rows = []
    for key, group in sel.groupby(["task", "arch", "init", "pair"], sort=True):
        row = dict(zip(["task", "arch", "init", "pair"], key, strict=True))
        for rep, label in (("activation_equal_width", "activation, equal-width"),
                           ("activation", "activation"), ("logit", "logit")):
            for r in group[group["representation"] == rep].sort_values("bins").itertuples():
                row[f"{label}, {r.bins} bins"] = ci(r.change, r.change_ci_low,
                                                    r.change_ci_high, 2)
        rows.append(row)
    return pd.DataFrame(rows)




def c5_baseline_table(dependence: pd.DataFrame, bins: int) -> pd.DataFrame:
    """Same unit (also given the input) vs different units (logits) vs population means
    (activations), and the excess over the permutation null."""
    if dependence.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    # Population means on the activations: a mean of logits is dominated by a few large ones.
    sel = dependence[(dependence["bins"] == bins) & (
        ((dependence["representation"] == "logit") & (dependence["summary"] != "population"))
        | ((dependence["representation"] == "activation")
           & (dependence["summary"] == "population")))]
    rows = []
    for key, group in sel.groupby(["task", "arch", "init", "pair"], sort=True):
        by = {r.summary: r for r in group.itertuples()}
        row = dict(zip(["task", "arch", "init", "pair"], key, strict=True))
        for summary, label in (("same_unit", "same unit"),
                               ("shifted_unit", "different units"),
                               ("same_unit_given_input", "same unit given input"),
                               ("shifted_unit_given_input", "different units given input"),
                               ("population", "population means")):
            r = by.get(summary)
            row[f"{label}: initial → trained"] = ("–" if r is None else
                                                   f"{fmt(r.initial)} → {fmt(r.trained)}")
        for summary, label in (("unit_specific", "unit-specific"),
                               ("unit_specific_given_input", "unit-specific given input")):
            r = by.get(summary)
            if r is not None:
                row[f"{label} (same − different), trained [CI]"] = ci(
                    r.trained, r.trained_ci_low, r.trained_ci_high, 2)
        for summary, label in (("same_unit", "same unit"),
                               ("same_unit_given_input", "given input")):
            r = by.get(summary)
            if r is not None and "excess" in group.columns:
                row[f"{label}: excess over null, trained [CI]"] = ci(
                    r.excess, r.excess_ci_low, r.excess_ci_high, 3)
        rows.append(row)
    return pd.DataFrame(rows)




def scores_table(disent: pd.DataFrame) -> pd.DataFrame:
    """Every disentanglement score beside its null: step 0 -> trained, and the trained null."""
    if disent.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    return pd.DataFrame({
        "task": disent["task"], "arch": disent["arch"], "init": disent["init"],
        "score": disent["metric"].map(lambda m: LABELS.get(m, m)), "level": disent["level"],
        "step 0 → trained": [f"{fmt(a, 2)} → {fmt(b, 2)}" for a, b in
                             zip(disent["initial"], disent["trained"], strict=True)],
        "null (factors shuffled), trained": disent["null_trained"].map(lambda v: fmt(v, 2)),
        "excess over null: step 0 → trained": [
            f"{fmt(a, 3)} → {fmt(b, 3)}" for a, b in
            zip(disent["excess_initial"], disent["excess_trained"], strict=True)],
        "change of the excess [CI]": [
            ci(m, lo, hi, 3) for m, lo, hi in zip(disent["excess_change"],
                                                  disent["excess_change_ci_low"],
                                                  disent["excess_change_ci_high"], strict=True)],
        "seeds": disent["n_seeds"]})


def _which(plain: dict) -> str:
    """What the counted independence rows say, in words."""
    n, dep, ind = plain["n"], plain["dependent"], plain["independent"]
    if not n:
        return "no independence row is counted"
    if dep == n:
        return "the gates are statistically dependent in every counted gate pair"
    if ind == n:
        return "the gates are statistically independent in every counted gate pair"
    if not ind:
        return f"the gates are dependent in {dep} of {n} counted gate pairs, independent in none"
    if not dep:
        return f"the gates are independent in {ind} of {n} counted gate pairs, dependent in none"
    return f"the gates are dependent in {dep} and independent in {ind} of {n} counted gate pairs"


def _specialised(n: int, up: int) -> str:
    """What the counted specialisation rows say, in words."""
    rows = "task x architecture x score rows"
    if not n:
        return "no specialisation row is counted"
    if up == n:
        return f"they become more specialised with training in every counted one ({n} {rows})"
    if not up:
        return f"they become more specialised with training in none of {n} counted {rows}"
    return f"they become more specialised with training in {up} of {n} counted {rows}"


def reading(c5: pd.DataFrame) -> dict:
    """Counts and ranges the section's sentences quote, from the counted rows of the verdict
    table (generated; the uncounted ones are named by `report.counts_sentence`)."""
    counted = c5[c5["counted"].astype(bool)]
    out = {"counts": report.counts_sentence(c5, "rows")}
    for key, evidence in (("plain", INDEPENDENCE), ("given", INDEPENDENCE_GIVEN)):
        rows = counted[counted["evidence"] == evidence]
        out[key] = {"n": len(rows), **{v.replace(" ", "_"): int((rows["verdict"] == v).sum())
                                       for v in (DEPENDENT, INDEPENDENT, NOT_SHOWN)},
                    "lo": fmt(rows["trained"].min(), 3), "hi": fmt(rows["trained"].max(), 3)}
    special = counted[counted["evidence"] == SPECIALISATION]
    out["special"] = [
        {"score": LABELS.get(metric, metric), "level": level, "n": len(g),
         "supported": int((g["verdict"] == "supported").sum()),
         "contradicted": int((g["verdict"] == "contradicted").sum()),
         # wholly below 0 before Holm, undecided after: a reversal all the same
         "hidden": int(((g["verdict"] != "contradicted")
                        & (g["verdict_unadjusted"] == "contradicted")).sum()),
         "trained_lo": fmt(g["trained"].min(), 3), "trained_hi": fmt(g["trained"].max(), 3)}
        for (metric, level), g in special.assign(
            metric=special["prediction"].str.split(" ").str[0],
            level=special["prediction"].str.extract(r"\((\w+)s\)")[0]).groupby(
                ["metric", "level"], sort=False)]
    out["which"] = _which(out["plain"])
    out["specialised"] = _specialised(len(special),
                                      int((special["verdict"] == "supported").sum()))
    return out


def independence_line(rows: pd.DataFrame, label: str) -> dict:
    """An independence line of the answer table: `report.evidence_row` on its counted rows,
    the verdict in the rows' own words (dependent / independent / not shown; 'dependent in
    part' where some are dependent and none independent, and so on)."""
    line = report.evidence_row(rows, "C5", label)
    if not line["n_tested"]:
        return line
    counted = rows[rows["counted"].astype(bool)]
    words = set(counted["verdict"]) - {stats.UNTESTABLE, stats.INSUFFICIENT}
    if len(words) == 1:
        line["verdict"] = words.pop()
    elif DEPENDENT in words and INDEPENDENT in words:
        line["verdict"] = "dependent in part, independent in part"
    else:
        line["verdict"] = f"{DEPENDENT if DEPENDENT in words else INDEPENDENT} in part"
    return line


def section(inputs: Inputs) -> dict:
    c5 = inputs.table("c5")
    dependence = inputs.table("c5_dependence")
    info = Settings.from_config(inputs.config)
    lines = ((INDEPENDENCE, "independence of gate pairs"),
             (INDEPENDENCE_GIVEN, "independence given the input"),
             (SPECIALISATION, "specialisation vs null"))
    rows = {evidence: c5[c5["evidence"] == evidence] if len(c5) else c5
            for evidence, _ in lines}
    claims = [report.evidence_row(rows[evidence], "C5", label) if evidence == SPECIALISATION
              else independence_line(rows[evidence], label) for evidence, label in lines]
    return {"template": "analyses/dependence/section.html.j2", "claims": claims,
            "reading": reading(c5) if len(c5) else {},
            "verdict_table": report.folded(html_table(report.verdict_table(c5)),
                                           "All C5 rows", len(c5)),
            "bins_table": report.folded(html_table(c5_bins_table(dependence)),
                                        "MI change by estimator and bin count",
                                        dependence["pair"].nunique() if len(dependence) else 0,
                                        fold_above=0),
            "baseline_table": report.folded(
                html_table(c5_baseline_table(dependence, info.main_bins)),
                "Baselines: different units, given the input, population means", 99,
                fold_above=0),
            "scores_table": report.folded(html_table(scores_table(inputs.table("c5_scores"))),
                                          "Disentanglement scores with their nulls", 99,
                                          fold_above=0),
            "info": info,
            "figures": inputs.figures("c5_gate_mi", "c5_disentanglement",
                                      "c5_unit_factor_mi", settings=info)}


def answer(claims: list[dict]) -> report.Sentence | None:
    """Claim C5 in the report's answer: the question, then each line's verdict in words."""
    return report.asked("Are the gates' functions disentangled?", claims)


ANSWERS = {"C5": answer}  # claim -> its sentence in the report's answer
