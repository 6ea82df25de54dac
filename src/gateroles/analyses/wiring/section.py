"""The C4 section: variants, the published rankings beside the measured one, the same blocks in
two positions, rewiring; every sentence generated from the tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import report
from gateroles.analyses.wiring.aggregate import (
    EVIDENCE,
    GATE_REMOVED,
    GATE_VARIANTS,
    JOZEFOWICZ,
    POSITIONS,
    REWIRING,
    VARIANTS,
    variant_prediction,
)
from gateroles.report import Inputs, ci, fmt, html_table

# An equivalence verdict is what the prediction "costs little" asks for: in the answer table
# it counts as the prediction's verdict (the C4 table keeps the test's own words).
AS_PREDICTION = {"equivalent": "supported", "not equivalent": "contradicted",
                 "not shown": "inconclusive"}
SHORT = {"lstm_nfg": "no forget gate", "lstm_nig": "no input gate",
         "lstm_nog": "no output gate", "lstm_cifg": "coupled input-forget", "rnn": "tanh RNN"}


def for_answer(verdicts: pd.DataFrame) -> pd.DataFrame:
    if verdicts.empty:
        return verdicts
    return verdicts.assign(verdict=verdicts["verdict"].replace(AS_PREDICTION))


def variants_table(variants: pd.DataFrame) -> pd.DataFrame:
    if variants.empty:
        return pd.DataFrame({"note": ["no C4 runs"]})
    decimals = np.where(variants["metric"] == "mse", 4, 3)
    return pd.DataFrame({
        "task": variants["task"], "arch": variants["arch"], "init": variants["init"],
        "solved seeds": [f"{s} / {n}" for s, n in zip(variants["n_solved"], variants["n_seeds"],
                                                      strict=True)],
        "steps to solve (per seed)": variants["steps_to_solve"].fillna("").astype(str),
        f"test {variants['metric'].iloc[0]} [CI]" if variants["metric"].nunique() == 1
        else "test score [CI]": [ci(*row, decimals=d) for row, d in zip(
            variants[["test_score", "test_score_ci_low", "test_score_ci_high"]].to_numpy(),
            decimals, strict=True)],
        "normalised score": variants["normalised"].map(lambda x: fmt(x)),
        "minus the LSTM's, paired by seed [CI]": report.cis(
            variants, ["difference", "difference_ci_low", "difference_ci_high"]),
        "paired seeds": variants["n_paired"]})


def ranking_table(ranking: pd.DataFrame) -> pd.DataFrame:
    if ranking.empty:
        return pd.DataFrame({"note": ["no variants"]})
    drops = [c for c in ranking.columns if c.startswith("drop ")]
    out = pd.DataFrame({"variant": ranking["arch"], "what is removed": ranking["removed"]})
    for column in drops:
        out[f"mean drop, {column.removeprefix('drop ')}"] = ranking[column].map(fmt)
    out["mean drop over tasks"] = ranking["mean drop"].map(fmt)
    out["mean extra steps to solve"] = ranking["mean extra steps"].map(lambda x: fmt(x, 0))
    for column, label in (("measured_rank", "measured rank by drop"),
                          ("measured_rank_steps", "measured rank by extra steps")):
        out[label] = ranking[column].map(lambda r: "–" if not np.isfinite(r) else f"{int(r)}")
    out["Jozefowicz et al. 2015 rank"] = ranking["jozefowicz_2015_rank"].map(
        lambda r: "–" if not np.isfinite(r) else f"{int(r)}")
    out["Greff et al. 2017"] = ranking["greff_2017"]
    return out


def gap_table(gap: pd.DataFrame) -> pd.DataFrame:
    if gap.empty:
        return pd.DataFrame({"note": ["no forget-bias comparison in this run"]})
    return pd.DataFrame({
        "task": gap["task"], "LSTM init": gap["lstm_init"],
        "solved (LSTM / GRU)": [f"{a} / {b} of {n}" for a, b, n in zip(
            gap["lstm_solved"], gap["gru_solved"], gap["n_seeds"], strict=True)],
        "GRU minus LSTM, normalised score [CI]": report.cis(
            gap, ["score_gap", "score_gap_ci_low", "score_gap_ci_high"]),
        "LSTM minus GRU, steps to solve [CI]": report.cis(
            gap, ["steps_gap", "steps_gap_ci_low", "steps_gap_ci_high"], 0)})


def _verdict_phrase(rows: pd.DataFrame) -> str:
    counts = rows["verdict"].value_counts()
    return ", ".join(f"{int(n)} {v}" for v, n in counts.items())


def _measure(prediction: str, direction: int) -> str:
    return prediction.rpartition(": ")[2] if direction else "difference"


def _decimals(prediction: str) -> int:
    return 0 if prediction.endswith("steps to solve") else 3


def variant_sentences(c4: pd.DataFrame, variants: pd.DataFrame) -> list[str]:
    """One sentence per variant: per task, solved seeds and each tested difference from the
    LSTM with its verdict."""
    sentences = []
    rows = c4[c4["evidence"] == VARIANTS] if len(c4) else c4
    for arch in dict.fromkeys(variants["arch"]) if len(variants) else ():
        if arch not in SHORT:
            continue
        v = variants[(variants["arch"] == arch) & (variants["init"] == "default")]
        parts = []
        for r in v.itertuples():
            mine = rows[(rows["arch"] == arch) & (rows["task"] == r.task)] if len(rows) else rows
            tests = [f"{_measure(p.prediction, p.direction)} "
                     f"{ci(p.change, p.change_ci_low, p.change_ci_high, _decimals(p.prediction))}"
                     f" ({p.verdict})" for p in mine.itertuples()]
            parts.append(f"{r.task}: {r.n_solved}/{r.n_seeds} solved"
                         + (", " + ", ".join(tests) if tests else ", no prediction"))
        predicted = [p for p in (variant_prediction(arch, t) for t in v["task"]) if p]
        claim = f", predicted {predicted[0][1].partition(': ')[2]}" if predicted else ""
        sentences.append(f"{SHORT[arch]} ({arch}){claim}: " + "; ".join(parts) + ".")
    return sentences


def ranking_sentences(ranking: pd.DataFrame) -> list[str]:
    """The measured order of the single-gate removals against Jozefowicz et al.'s, and the
    forget gate and coupling against Greff et al.'s findings."""
    if ranking.empty:
        return []
    sentences = []
    for column, what, decimals in (
            ("mean drop", "mean drop in normalised score", 2),
            ("mean extra steps", "mean extra steps to solve", 0)):
        gates = ranking[ranking["arch"].isin(GATE_VARIANTS)].sort_values(column,
                                                                        ascending=False)
        if len(gates) < 2:
            continue
        measured = list(gates["arch"])
        order = " > ".join(f"{GATE_REMOVED[a].removesuffix(' gate')} ({fmt(d, decimals)})"
                           for a, d in zip(gates["arch"], gates[column], strict=True))
        published = sorted((a for a in measured if a in JOZEFOWICZ), key=JOZEFOWICZ.get)
        agree = "agrees with" if measured == published else "differs from"
        ties = gates[column].round(decimals).duplicated().any()
        sentences.append(
            f"Measured importance of the single gates by {what} when the gate is removed "
            f"(over tasks, largest first): {order}; this order {agree} Jozefowicz et al. 2015 "
            f"(forget > input > output)"
            + (" (some values are equal at this precision, so the order between them is not "
               "meaningful)" if ties else "") + ".")
    nfg = ranking[ranking["arch"] == "lstm_nfg"]
    if len(nfg):
        largest = ranking.loc[ranking["mean drop"].idxmax(), "arch"]
        sentences.append(
            f"Greff et al. 2017 found the forget gate critical: removing it here costs "
            f"{fmt(nfg['mean drop'].iloc[0], 2)} of the normalised score on average, "
            + ("the largest drop of any variant" if largest == "lstm_nfg"
               else f"less than {largest} ({fmt(ranking['mean drop'].max(), 2)})") + ".")
    return sentences


def cifg_sentence(c4: pd.DataFrame, margin: float) -> str:
    rows = c4[(c4["arch"] == "lstm_cifg") & (c4["evidence"] == VARIANTS)] if len(c4) else c4
    if rows.empty:
        return ""
    per_task = "; ".join(f"{r.task}: {ci(r.change, r.change_ci_low, r.change_ci_high, 3)}, "
                         f"{r.verdict}" for r in rows.itertuples())
    return (f"Greff et al. 2017 found coupling the input and forget gates (CIFG) not "
            f"significantly different from the full LSTM; here its difference from the LSTM "
            f"(equivalence within +-{margin:g} normalised score): {per_task}.")


def gap_sentences(gap: pd.DataFrame) -> list[str]:
    sentences = []
    for task, g in gap.groupby("task", sort=False) if len(gap) else ():
        by = {r.lstm_init: r for r in g.itertuples()}
        if {"default", "forget_bias_1"} - set(by):
            continue
        d, f = by["default"], by["forget_bias_1"]
        text = (f"On {task}, GRU minus LSTM in normalised score: "
                f"{ci(d.score_gap, d.score_gap_ci_low, d.score_gap_ci_high, 3)} with PyTorch's "
                f"default init, {ci(f.score_gap, f.score_gap_ci_low, f.score_gap_ci_high, 3)} "
                f"with a forget bias of 1; LSTM minus GRU in steps to solve: "
                f"{ci(d.steps_gap, d.steps_gap_ci_low, d.steps_gap_ci_high, 0)} and "
                f"{ci(f.steps_gap, f.steps_gap_ci_low, f.steps_gap_ci_high, 0)}.")
        parts = []
        for what, lo, hi, a, b in (
                ("score", d.score_gap_ci_low, d.score_gap_ci_high, d.score_gap, f.score_gap),
                ("speed", d.steps_gap_ci_low, d.steps_gap_ci_high, d.steps_gap, f.steps_gap)):
            if not (np.isfinite(lo) and np.isfinite(hi)):
                parts.append(f"no {what} gap could be estimated")
            elif lo <= 0 <= hi:
                parts.append(f"there is no {what} gap to close with the default init (its "
                             f"interval includes 0)")
            else:
                share = 1 - b / a if a else np.nan
                parts.append(f"the forget bias changes the {what} gap by "
                             f"{fmt(100 * share, 0)}% of its default-init size "
                             f"({'smaller' if abs(b) < abs(a) else 'not smaller'})")
        sentences.append(text + " Jozefowicz et al. 2015: a forget bias of 1 closes most of "
                         "the LSTM-GRU gap; here " + "; ".join(parts) + ".")
    return sentences


def rewire_sentences(rewire: pd.DataFrame, c4: pd.DataFrame) -> list[str]:
    if rewire.empty:
        return []
    sentences = []
    data = rewire[rewire["solved"].astype(bool)]
    for task, t in data.groupby("task", sort=False):
        s = t[t["quantity"] == "normalised test score"]
        if s.empty:
            continue
        start, end = s[s["step"] == 0], s[s["step"] == s["final_step"]]
        rows = c4[(c4["evidence"] == REWIRING) & (c4["task"] == task)]
        steps = rows[rows["prediction"].str.startswith("solved again")]
        step_text = ""
        if len(steps):
            r = steps.iloc[0]
            step_text = (f"; steps to solve after the swap minus from step 0: "
                         f"{ci(r.change, r.change_ci_low, r.change_ci_high, 0)} ({r.verdict})")
        sentences.append(
            f"On {task} ({s['seed'].nunique()} solved seeds), the normalised test score is "
            f"{fmt(start['target'].mean(), 3)} before the swap, {fmt(start['value'].mean(), 3)} "
            f"right after it and {fmt(end['value'].mean(), 3)} after "
            f"{int(end['step'].max())} steps of fine-tuning{step_text}.")
    return sentences


def section(inputs: Inputs) -> dict:
    c4 = inputs.table("c4")
    variants = inputs.table("c4_summary", dtype={"steps_to_solve": str})
    ranking = inputs.table("c4_ranking")
    gap = inputs.table("c4_gap")
    rewire = inputs.table("c4_rewiring")
    margin = inputs.config["wiring"]["equivalence_margin"]
    lines = {ev: (c4[c4["evidence"] == ev] if len(c4) else c4) for ev in EVIDENCE}
    return {"template": "analyses/wiring/section.html.j2",
            "claims": [report.evidence_row(for_answer(rows), "C4", ev)
                       for ev, rows in lines.items()],
            "counts": {ev: report.counts_sentence(rows) for ev, rows in lines.items()},
            "variant_sentences": variant_sentences(c4, variants),
            "ranking_sentences": ranking_sentences(ranking)
            + [s for s in [cifg_sentence(c4, margin)] if s],
            "gap_sentences": gap_sentences(gap),
            "rewire_sentences": rewire_sentences(rewire, c4),
            "variants_table": report.folded(html_table(variants_table(variants)),
                                            "Every C4 run, per task", len(variants), 40),
            "ranking_table": html_table(ranking_table(ranking)),
            "gap_table": html_table(gap_table(gap)),
            "c4_table": report.folded(html_table(report.verdict_table(c4)),
                                      "All C4 predictions", len(c4)),
            "margin": margin, "rewire_steps": inputs.config["wiring"]["rewire"]["steps"],
            "evidence": {"variants": VARIANTS, "positions": POSITIONS, "rewiring": REWIRING},
            "figures": inputs.figures("c4_variants", "c4_two_positions", "c4_rewire")}
