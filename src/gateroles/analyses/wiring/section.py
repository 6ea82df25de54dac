"""The C4 section: the variants behaviour by behaviour (double dissociations), selective
writing, the descriptive comparisons with the published studies, the same blocks in two
positions, rewiring; every sentence generated from the tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import report, stats
from gateroles.analyses.roles.section import role_answer
from gateroles.analyses.wiring import Settings
from gateroles.analyses.wiring.aggregate import (
    DISSOCIATION,
    DISSOCIATIONS,
    EVIDENCE,
    GATE_REMOVED,
    REWIRING,
    TWO_POSITIONS,
    WRITING,
)
from gateroles.report import Inputs, ci, fmt, html_table

SHORT = {"lstm": "LSTM", "lstm_nfg": "no forget gate", "lstm_nig": "no input gate",
         "lstm_nog": "no output gate", "lstm_cifg": "coupled input-forget",
         "rnn": "tanh RNN"}
# What a verdict of "costs little" (TOST) says, in words.
EQUIVALENCE_WORDS = {
    "equivalent": "equivalent: the interval lies inside the margin",
    "not equivalent": "not equivalent: the interval lies beyond the margin",
    "not shown": "not shown either way: the interval crosses the margin",
    "untestable": "untestable: every paired seed has the same difference (both at the "
                  "ceiling), so no difference could have shown",
    "insufficient seeds": "too few solved seeds to decide"}


def _seeds(row) -> str:
    return f"{int(row.seeds_agreeing)} of {int(row.n_seeds)} seeds" if row.n_seeds else "no seeds"


def primary_sentence(row) -> str:
    """A primary prediction's effect and verdict beside its negative control's, and whether
    it counts."""
    text = (f"{row.task}: {ci(row.change, row.change_ci_low, row.change_ci_high)} "
            f"({row.verdict}, {_seeds(row)})")
    if row.control_verdict:
        text += (f"; negative control, {row.control}: "
                 f"{ci(row.control_change, row.control_ci_low, row.control_ci_high)} "
                 f"({row.control_verdict})")
    else:
        text += f"; negative control: {row.control}"
    if row.counted:
        return text + "."
    if row.control_verdict == stats.SUPPORTED:
        return text + ". Not a test: it passes on its negative control too, so it is not counted."
    return text + ". Not counted: its negative control did not run with enough seeds."


def primary_sentences(c4: pd.DataFrame, evidence: str) -> list[dict]:
    """Per primary prediction of one line of evidence: its words and one sentence per task."""
    rows = c4[(c4["evidence"] == evidence) & (c4["test"] == stats.PRIMARY)] if len(c4) else c4
    out = []
    for prediction, g in rows.groupby("prediction", sort=False) if len(rows) else ():
        out.append({"prediction": prediction, "rival": g["rival"].iloc[0],
                    "decided_on": g["decided_on"].iloc[0],
                    "tasks": [primary_sentence(r) for r in g.itertuples()]})
    return out


def behaviour_table(summary: pd.DataFrame) -> pd.DataFrame:
    if summary.empty:
        return pd.DataFrame({"note": ["no behaviour scores"]})
    return pd.DataFrame({
        "task": summary["task"], "variant": summary["arch"], "behaviour": summary["behaviour"],
        "when": summary["phase"].replace({"final": "at the last checkpoint"}),
        "scored steps per model": summary["n_scored"],
        "LSTM normalised": summary["ref_normalised"].map(fmt),
        "variant normalised": summary["normalised"].map(fmt),
        "drop (LSTM minus variant) [CI]": report.cis(
            summary, ["drop", "drop_ci_low", "drop_ci_high"]),
        "seeds": summary["n_seeds"]})


def sets_sentences(tasks) -> list[str]:
    """Which behaviours each dissociation compares, per task (from `DISSOCIATIONS`)."""
    out = []
    for arch, d in DISSOCIATIONS.items():
        sets = {task: d.sets[task] for task in tasks if task in d.sets}
        per_task = "; ".join(f"{task}: {' + '.join(s)} vs {' + '.join(o)}"
                             for task, (s, o) in sets.items())
        if per_task:
            out.append(f"{SHORT[arch]} ({arch}): {d.served} vs {d.other} ({per_task}); "
                       f"negative control: the same contrast on {d.control} "
                       f"({SHORT[d.control]}).")
    return out


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
            gap, ["steps_gap", "steps_gap_ci_low", "steps_gap_ci_high"], 0),
        "change of the score gap from the default init [CI]": report.cis(
            gap, ["score_change", "score_change_ci_low", "score_change_ci_high"]),
        "change of the steps gap [CI]": report.cis(
            gap, ["steps_change", "steps_change_ci_low", "steps_change_ci_high"], 0)})


def descriptive_sentences(variants: pd.DataFrame) -> list[str]:
    """Per gate-removal variant: solved seeds and the overall difference from the LSTM, per
    task (descriptive: no verdict)."""
    sentences = []
    for arch in dict.fromkeys(variants["arch"]) if len(variants) else ():
        if arch not in GATE_REMOVED or arch in ("rnn", "lstm_cifg"):
            continue
        v = variants[(variants["arch"] == arch) & (variants["init"] == "default")]
        parts = [f"{r.task}: {r.n_solved}/{r.n_seeds} solved, "
                 f"{ci(r.difference, r.difference_ci_low, r.difference_ci_high)}"
                 for r in v.itertuples()]
        sentences.append(f"{SHORT[arch]} ({arch}), normalised test score minus the LSTM's: "
                         + "; ".join(parts) + ".")
    return sentences


def cifg_sentence(c4: pd.DataFrame, margin: float) -> str:
    rows = c4[(c4["arch"] == "lstm_cifg") & (c4["evidence"] == DISSOCIATION)] if len(c4) else c4
    if rows.empty:
        return ""
    per_task = "; ".join(f"{r.task}: {ci(r.change, r.change_ci_low, r.change_ci_high, 3)}, "
                         f"{EQUIVALENCE_WORDS.get(r.verdict, r.verdict)}"
                         for r in rows.itertuples())
    return (f"Greff et al. 2017 found coupling the input and forget gates (CIFG) not "
            f"significantly different from the full LSTM; here its difference from the LSTM, "
            f"tested for equivalence within +-{margin:g} normalised score (a sanity check, "
            f"not counted): {per_task}.")


def _excludes_zero(lo: float, hi: float) -> bool:
    return bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))


def gap_change_words(before: float, before_lo: float, before_hi: float, after: float,
                     after_lo: float, after_hi: float, change_lo: float, change_hi: float
                     ) -> str:
    """What the forget bias does to one LSTM-GRU gap, in words decided by the intervals: the
    gap at the default init (`before`), with the forget bias (`after`) and the per-seed
    change; 'narrows' / 'widens' / 'reverses' only where the change's interval excludes 0."""
    if not (np.isfinite(change_lo) and np.isfinite(change_hi)):
        return "no change could be estimated"
    if not _excludes_zero(change_lo, change_hi):
        return "no change is shown (the interval of the per-seed change includes 0)"
    if not _excludes_zero(before_lo, before_hi):
        return ("it moves, but with the default init there is no gap to close (its interval "
                "includes 0)")
    if _excludes_zero(after_lo, after_hi) and np.sign(after) != np.sign(before):
        return "it reverses the gap"
    shrinks = np.sign(change_hi) != np.sign(before)  # the whole change opposes the gap
    return "it narrows the gap" if shrinks else "it widens the gap"


def gap_sentences(gap: pd.DataFrame) -> list[str]:
    sentences = []
    for task, g in gap.groupby("task", sort=False) if len(gap) else ():
        by = {r.lstm_init: r for r in g.itertuples()}
        if {"default", "forget_bias_1"} - set(by):
            continue
        d, f = by["default"], by["forget_bias_1"]
        parts = []
        for what, unit, decimals in (("score", "normalised score", 3),
                                     ("steps", "steps to solve", 0)):
            words = gap_change_words(
                getattr(d, f"{what}_gap"), getattr(d, f"{what}_gap_ci_low"),
                getattr(d, f"{what}_gap_ci_high"), getattr(f, f"{what}_gap"),
                getattr(f, f"{what}_gap_ci_low"), getattr(f, f"{what}_gap_ci_high"),
                getattr(f, f"{what}_change_ci_low"), getattr(f, f"{what}_change_ci_high"))
            side = "GRU minus LSTM" if what == "score" else "LSTM minus GRU"
            parts.append(
                f"the {unit} gap ({side}) is "
                f"{ci(getattr(d, f'{what}_gap'), getattr(d, f'{what}_gap_ci_low'), getattr(d, f'{what}_gap_ci_high'), decimals)}"  # noqa: E501
                f" with PyTorch's default init and "
                f"{ci(getattr(f, f'{what}_gap'), getattr(f, f'{what}_gap_ci_low'), getattr(f, f'{what}_gap_ci_high'), decimals)}"  # noqa: E501
                f" with a forget bias of 1, a per-seed change of "
                f"{ci(getattr(f, f'{what}_change'), getattr(f, f'{what}_change_ci_low'), getattr(f, f'{what}_change_ci_high'), decimals)}"  # noqa: E501
                f": {words}")
        sentences.append(f"Jozefowicz et al. 2015: a forget bias of 1 closes most of the "
                         f"LSTM-GRU gap. On {task}, " + "; ".join(parts) + ".")
    return sentences


def half_words(lo: float, hi: float) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "its interval could not be estimated"
    if hi < 0.5:
        return "the interval lies below one half: less than half the distance is closed"
    if lo > 0.5:
        return "the interval lies above one half: more than half the distance is closed"
    return "whether more or less than half is closed is not shown (the interval includes 0.5)"


def rewire_sentences(summary: pd.DataFrame, steps: int, confidence: float) -> list[str]:
    """Per task: the scores around the swap, the mean validation scores over the fine-tuning
    steps, and the fraction of the distance closed, per position and with the blocks frozen."""
    sentences = []
    data = summary[summary["solved"].astype(bool)] if len(summary) else summary
    for task, t in data.groupby("task", sort=False) if len(data) else ():
        def m(column, decimals=3, t=t):
            return ci(*stats.mean_ci(t[column], confidence), decimals)

        text = (f"On {task} ({len(t)} solved seeds), the normalised test score is "
                f"{m('score_original')} before the swap, {m('score_swapped')} right after it, "
                f"{m('score_final')} after {steps} steps of fine-tuning and "
                f"{m('score_frozen')} after as many with the moved blocks frozen; over those "
                f"steps the mean normalised validation score is {m('mean_tuned')} fine-tuned, "
                f"{m('mean_frozen')} frozen and {m('mean_scratch')} for the same model's "
                f"training from step 0. The moved blocks close {m('fraction')} of the "
                f"distance to their new positions' statistics (the block in the forget "
                f"position {m('fraction_forget')}, in the input position "
                f"{m('fraction_input')}; with the blocks frozen {m('fraction_frozen')})")
        _, lo, hi = stats.mean_ci(t["fraction"], confidence)
        sentences.append(text + f": {half_words(lo, hi)}.")
    return sentences


def section(inputs: Inputs) -> dict:
    c4 = inputs.table("c4")
    if len(c4):  # a control that did not run is an empty string, NaN once read back
        c4[["control", "control_verdict"]] = c4[["control", "control_verdict"]].fillna("")
    variants = inputs.table("c4_summary", dtype={"steps_to_solve": str})
    behaviours = inputs.table("c4_behaviour_summary")
    ranking = inputs.table("c4_ranking")
    gap = inputs.table("c4_gap")
    rewire = inputs.table("c4_rewire_summary")
    settings = Settings.from_config(inputs.config)
    confidence = stats.Settings.from_config(inputs.config).confidence
    lines = {ev: (c4[c4["evidence"] == ev] if len(c4) else c4) for ev in EVIDENCE}
    figures = [name for name in ("c4_behaviours", "c4_variants", "c4_two_positions",
                                 "c4_rewire") if name in inputs.figure_paths]
    return {"template": "analyses/wiring/section.html.j2",
            "claims": [report.evidence_row(rows, "C4", ev) for ev, rows in lines.items()
                       if len(rows)],
            "dissociations": primary_sentences(c4, DISSOCIATION),
            "sets_sentences": sets_sentences(settings.tasks),
            "writing": primary_sentences(c4, WRITING),
            "rewiring": primary_sentences(c4, REWIRING),
            "behaviour_table": report.folded(html_table(behaviour_table(behaviours)),
                                             "Every behaviour of every variant", len(behaviours),
                                             20),
            "descriptive_sentences": descriptive_sentences(variants),
            "cifg_sentence": cifg_sentence(c4, settings.equivalence_margin),
            "gap_sentences": gap_sentences(gap),
            "rewire_sentences": rewire_sentences(rewire, settings.rewire.steps, confidence),
            "variants_table": report.folded(html_table(variants_table(variants)),
                                            "Every C4 run, per task", len(variants), 40),
            "ranking_table": html_table(ranking_table(ranking)),
            "gap_table": html_table(gap_table(gap)),
            "c4_table": report.folded(html_table(report.verdict_table(c4)),
                                      "All C4 predictions and sanity checks", len(c4)),
            "margin": settings.equivalence_margin, "rewire_steps": settings.rewire.steps,
            "two_positions": bool(len(lines[TWO_POSITIONS])),
            "counts": {ev: report.counts_sentence(rows[rows["test"] == stats.PRIMARY],
                                                  "primary predictions") if len(rows) else ""
                       for ev, rows in lines.items()},
            "evidence": {"dissociation": DISSOCIATION, "writing": WRITING,
                         "positions": TWO_POSITIONS, "rewiring": REWIRING},
            "figures": inputs.figures(*figures, settings=settings)}


ANSWERS = {"C4": role_answer}  # answered with the other role claims, in one sentence
