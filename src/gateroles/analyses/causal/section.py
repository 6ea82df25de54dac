"""The C3 section: matched interchanges and unit ablation (primary, each beside its negative
control), role-off clamps and block swaps (sanity, apart).

Every sentence that states a result is built here from the tables; the template holds only
the description of the method.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import report, stats
from gateroles.analyses.causal import Settings
from gateroles.analyses.causal.aggregate import (
    ABLATION,
    CLAIM,
    CLAMPS,
    INTERCHANGES,
    KINDS,
    SWAP,
    VS_OTHERS,
    VS_QUIET,
)
from gateroles.analyses.roles.section import role_answer
from gateroles.report import Inputs, ci, cis, evidence_row, fmt, html_table

# A swap "does almost nothing" when the upper end of its trained damage interval is below this
# share of the trained model's margin over chance (score before the swap minus chance).
SMALL_SWAP = 0.1


def fold(frame: pd.DataFrame, summary: str) -> str:
    """The table's HTML, inside a <details> when it is long (`report.folded`)."""
    return report.folded(html_table(frame), summary, len(frame))


def _kind(rows: pd.DataFrame, kind: str) -> pd.DataFrame:
    return rows[rows["prediction"].str.endswith(KINDS[kind])] if len(rows) else rows


def _count_sentence(rows: pd.DataFrame, what: str) -> str:
    """'what: supported in a of n counted primary predictions (b contradicted, ...); m more
    not counted (...)' for primary `rows` of the verdict table."""
    if rows.empty:
        return f"{what}: no prediction could be made (no solved models with the gates)."
    counted = rows[rows["counted"].astype(bool)]
    counts = counted["verdict"].value_counts()
    others = ", ".join(f"{int(v)} {k}" for k, v in counts.items() if k != "supported")
    out = (f"{what}: supported in {int(counts.get('supported', 0))} of {len(counted)} counted "
           f"primary predictions" + (f" ({others})" if others else ""))
    uncounted = rows[~rows["counted"].astype(bool)]
    if len(uncounted):
        passed = int((uncounted["control_verdict"] == stats.SUPPORTED).sum())
        reasons = [f"{passed} pass their negative control (not a test)"] if passed else []
        if len(uncounted) - passed:
            reasons.append(f"{len(uncounted) - passed} without a negative control that ran")
        out += f"; {len(uncounted)} more not counted ({', '.join(reasons)})"
    return out + "."


def _effect(r) -> str:
    return ci(r.change, r.change_ci_low, r.change_ci_high)


def _failures(rows: pd.DataFrame, limit: int = 8) -> str:
    """The counted predictions that were not supported, with the tested effect and what the
    rival did (the note); no seed in the predicted direction said plainly."""
    tested = rows[rows["counted"].astype(bool)
                  & rows["verdict"].isin((stats.CONTRADICTED, stats.INCONCLUSIVE))]
    items = []
    for r in tested.head(limit).itertuples():
        plain = (f"; no seed in the predicted direction (0 of {int(r.n_seeds)})"
                 if r.seeds_agreeing == 0 and r.n_seeds else "")
        note = f"; {r.note}" if isinstance(r.note, str) and r.note else ""
        items.append(f"{r.prediction} ({r.task}, {r.arch}): {_effect(r)}, {r.verdict}"
                     f"{plain}{note}")
    more = f" and {len(tested) - limit} more" if len(tested) > limit else ""
    out = ("Not supported: " + "; ".join(items) + more + ".") if items else ""
    few = rows[rows["verdict"] == stats.INSUFFICIENT]
    if len(few):
        cells = ", ".join(dict.fromkeys(f"{r.task} / {r.arch} / {r.init}"
                                        for r in few.itertuples()))
        out += f" Fewer solved seeds than a verdict needs: {cells}."
    return out.strip()


def control_sentence(rows: pd.DataFrame) -> str:
    """How the primary predictions' negative controls came out (from the table)."""
    ran = rows[rows["control_verdict"].fillna("") != ""] if len(rows) else rows
    if ran.empty:
        return "No negative control ran: no primary prediction is counted."
    counts = ran["control_verdict"].value_counts()
    parts = ", ".join(f"{int(n)} {v}" for v, n in counts.items())
    passed = ran[ran["control_verdict"] == stats.SUPPORTED]
    out = (f"Negative controls (the same prediction where the gate is held constant in "
           f"training) of {len(ran)} primary predictions: {parts}.")
    if len(passed):
        out += (" Passing their control, so not a test: " + "; ".join(
            f"{r.prediction} ({r.task}, {r.arch}; control {r.control})"
            for r in passed.itertuples()) + ".")
    return out


def interchange_sentences(c3: pd.DataFrame) -> list[str]:
    rows = c3[(c3["evidence"] == INTERCHANGES) & (c3["test"] == stats.PRIMARY)] if len(c3) \
        else c3
    if rows.empty:
        return ["No prediction could be decided (no solved models with gates)."]
    out = []
    for kind, what in ((VS_OTHERS, "(a) The role gate's interchange at its events damages "
                                   "the behaviour more than every other gate's there"),
                       (VS_QUIET, "(b) The role gate's interchange at its events damages "
                                  "the behaviour more than its own at lag-matched quiet "
                                  "steps")):
        part = _kind(rows, kind)
        out += [_count_sentence(part, what), _failures(part)]
    out.append(control_sentence(rows))
    return [s for s in out if s]


def ablation_sentences(c3: pd.DataFrame, summary: pd.DataFrame, verdict_k: int) -> list[str]:
    """The prediction's counts, then per k the share of seeds with p < 0.05 and the median
    over cells of the per-cell median effect size (the trained models)."""
    rows = c3[(c3["evidence"] == ABLATION) & (c3["test"] == stats.PRIMARY)] if len(c3) else c3
    out = [_count_sentence(rows, f"Targeted minus random damage at k = {verdict_k}")]
    out += [s for s in (_failures(rows), control_sentence(rows)) if s] if len(rows) else []
    if summary.empty:
        return out + ["No unit ablation to report (no solved models with a role gate)."]
    for k, sel in summary[summary["phase"] == "trained"].groupby("k", sort=True):
        n = int(sel["n_seeds"].sum())
        medians = sel["effect_size_median"].dropna()
        median = float(medians.median()) if len(medians) else np.nan
        out.append(f"k = {k}: {int(sel['n_p05'].sum())} of {n} model x role tests "
                   f"({fmt(100 * sel['n_p05'].sum() / n, 0)}%) with p < 0.05, median effect "
                   f"size {fmt(median, 2)}.")
    return out


def ablation_table(summary: pd.DataFrame) -> pd.DataFrame:
    if summary.empty:
        return pd.DataFrame({"note": ["no solved models with a role gate"]})
    t = summary[summary["phase"] == "trained"]
    return pd.DataFrame({
        "task": t["task"], "arch": t["arch"], "init": t["init"],
        "clamp": [f"{g} → {v:g} at {e}" for g, v, e in
                  zip(t["gate"], t["value"], t["event"], strict=True)],
        "k": t["k"], "seeds": t["n_seeds"],
        "share of seeds with p < 0.05": t["share_p05"].map(lambda x: fmt(x, 2)),
        "effect size (mean / median)": [f"{fmt(a, 2)} / {fmt(b, 2)}" for a, b in zip(
            t["effect_size"], t["effect_size_median"], strict=True)],
        "targeted / random damage": [f"{fmt(a)} / {fmt(b)}" for a, b in zip(
            t["targeted"], t["null_mean"], strict=True)],
    })


def clamp_sentences(c3: pd.DataFrame) -> list[str]:
    rows = c3[c3["evidence"] == CLAMPS] if len(c3) else c3
    if rows.empty:
        return []
    counts = rows["verdict"].value_counts()
    return [f"Role-off clamps at the events: {int(counts.get('supported', 0))} of {len(rows)} "
            f"damage the behaviour more than at step 0 ("
            + ", ".join(f"{int(n)} {v}" for v, n in counts.items()) + ")."]


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
    """Per swapped pair, the range of mean damage over cells, trained and at step 0; then, for
    each pair whose exchange does almost nothing somewhere (the upper end of the trained damage
    interval below `SMALL_SWAP` of the model's margin over chance), that finding said plainly."""
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
    trained = swaps[swaps["phase"] == "trained"]
    margin = (trained["score_before"] - trained["chance"]).abs()
    small = trained[trained["damage_ci_high"] < SMALL_SWAP * margin]
    for (a, b), group in small.groupby(["gate_a", "gate_b"], sort=False):
        where = "; ".join(f"{r.task} / {r.arch}: "
                          f"{ci(r.damage, r.damage_ci_low, r.damage_ci_high)}"
                          for r in group.itertuples())
        out.append(f"Swapping {a} ↔ {b} does almost nothing in {len(group)} of "
                   f"{int(((trained['gate_a'] == a) & (trained['gate_b'] == b)).sum())} cells "
                   f"({where}; each interval below {fmt(100 * SMALL_SWAP, 0)}% of the trained "
                   f"model's margin over chance): there the two blocks can be exchanged at "
                   f"almost no cost, which argues against distinct {a} and {b} roles.")
    return out


def _span(values: pd.Series) -> str:
    """'lo to hi', or the one value when there is one."""
    lo, hi = fmt(values.min()), fmt(values.max())
    return lo if lo == hi else f"{lo} to {hi}"


def section(inputs: Inputs) -> dict:
    c3 = inputs.table("c3")
    ablation = inputs.table("causal_ablation")
    swaps = inputs.table("causal_swaps")
    settings = Settings.from_config(inputs.config)
    by = {e: c3[c3["evidence"] == e] if len(c3) else c3
          for e in (INTERCHANGES, ABLATION, CLAMPS, SWAP)}
    # The sanity checks travel with the interchange line (listed apart, never counted).
    sanity = pd.concat([by[INTERCHANGES], by[CLAMPS], by[SWAP]])
    return {
        "template": "analyses/causal/section.html.j2",
        "claims": [evidence_row(sanity, CLAIM, INTERCHANGES),
                   evidence_row(by[ABLATION], CLAIM, ABLATION)],
        "settings": settings,
        "interchange_sentences": interchange_sentences(c3),
        "ablation_sentences": ablation_sentences(c3, ablation, settings.verdict_k),
        "clamp_sentences": clamp_sentences(c3),
        "swap_sentences": swap_sentences(swaps),
        "verdict_table": fold(report.verdict_table(c3), "All C3 predictions and checks"),
        "ablation_table": fold(ablation_table(ablation), "Unit ablation per role and k"),
        "swap_table": fold(swap_table(swaps, c3), "Block swaps"),
        "figures": inputs.figures("causal_matrix", "causal_null", settings=settings),
    }


ANSWERS = {CLAIM: role_answer}  # answered with the other role claims, in one sentence
