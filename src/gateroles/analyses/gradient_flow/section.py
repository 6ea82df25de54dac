"""The C6 section: gradient norm by lag, e-folding lags per path, and the verdicts.

Every sentence that states a result is written here from the aggregate tables: per line of
evidence (one prediction, P1-P4) its counted verdicts and where they hold, every reversal
said as one (a row whose interval lies wholly below 0 is contradicted, and said so even where
Holm's adjustment leaves it inconclusive), and the direct path's share as measured.
"""

from __future__ import annotations

import pandas as pd

from gateroles import report, stats
from gateroles.analyses.gradient_flow.aggregate import EVIDENCE
from gateroles.report import Inputs, ci, fmt, html_table

STATE_NAMES = {"cell": "dL/dc", "hidden": "dL/dh"}
PATH_NAMES = {"total": "total", "direct": "direct path"}
# The quantity each line's predictions say rises from step 0 (per-seed e-folding lags).
QUANTITY = {EVIDENCE["P1"]: "e(dL/dc) - e(dL/dh)",
            EVIDENCE["P2"]: "e(dL/dc) - e(dL/dc | forget clamped)",
            EVIDENCE["P3"]: "e(gated) - e(tanh RNN)",
            EVIDENCE["P4"]: "e(dL/dh) - e(dL/dh | update clamped)"}
NO_MODELS = "gradient norm by lag"  # the one line when no prediction could be made


def hidden_reversal(row) -> bool:
    """A row whose interval lies wholly against the prediction (contradicted before Holm)
    that Holm's adjustment leaves undecided: said as a reversal all the same."""
    return (row.get("verdict_unadjusted") == stats.CONTRADICTED
            and row["verdict"] != stats.CONTRADICTED)


def verdict_words(c6: pd.DataFrame) -> pd.Series:
    """The verdict as the page shows it: a reversal that Holm hides reads 'contradicted
    (unadjusted)' beside the adjusted verdict."""
    return pd.Series([f"{r['verdict']}; contradicted (unadjusted)" if hidden_reversal(r)
                      else r["verdict"] for _, r in c6.iterrows()], index=c6.index,
                     dtype=object)


def lines(c6: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of each line of evidence present (P1-P4 order)."""
    if c6.empty:
        return {}
    return {ev: c6[c6["evidence"] == ev] for ev in EVIDENCE.values()
            if (c6["evidence"] == ev).any()}


def claims(c6: pd.DataFrame) -> list[dict]:
    """The section's lines of the answer table, one per prediction, decided by their counted
    primary rows (`report.evidence_row`); a counted reversal that Holm leaves undecided is
    added to the line's basis in words."""
    by_line = lines(c6)
    if not by_line:
        return [report.evidence_row(c6, "C6", NO_MODELS, decimals=1)]
    out = []
    for evidence, rows in by_line.items():
        line = report.evidence_row(rows, "C6", evidence, decimals=1)
        hidden = [r for _, r in rows[rows["counted"].astype(bool)].iterrows()
                  if hidden_reversal(r)]
        if hidden:
            line["basis"] += (f"; {len(hidden)} of them contradicted before Holm (the interval "
                              f"wholly below 0)")
        out.append(line)
    return out


def _where(rows: pd.DataFrame) -> str:
    """'task (arch)' of each row, the init named where it is not the default."""
    return ", ".join(f"{r['task']} ({r['arch']}"
                     + ("" if r["init"] == "default" else f", {r['init']}") + ")"
                     for _, r in rows.iterrows())


def line_sentences(c6: pd.DataFrame) -> list[str]:
    """Per line of evidence: its counted rows by verdict, with where each holds."""
    out = []
    for evidence, rows in lines(c6).items():
        counted = rows[rows["counted"].astype(bool)]
        parts = [f"{verdict} on {_where(group)}"
                 for verdict, group in counted.groupby("verdict", sort=True)]
        left = len(rows) - len(counted)
        text = (f"{evidence[0].upper()}{evidence[1:]} ({QUANTITY[evidence]} rises from step "
                f"0): " + ("; ".join(parts) if parts else "no counted prediction"))
        if left:
            text += (f"; {left} more not counted (negative control supported or not run: "
                     f"{_where(rows[~rows['counted'].astype(bool)])})")
        out.append(text + ".")
    return out


def reversal_sentences(c6: pd.DataFrame) -> list[str]:
    """Every row whose interval lies wholly below 0, said as the reversal it is."""
    out = []
    if c6.empty:
        return out
    for _, r in c6[c6["verdict_unadjusted"] == stats.CONTRADICTED].iterrows():
        status = ("contradicted" if r["verdict"] == stats.CONTRADICTED else
                  f"contradicted before Holm ({r['verdict']} after)")
        counted = "counted" if r["counted"] else "not counted"
        out.append(
            f"{r['task']}, {r['arch']} ({r['init']}): {r['evidence']}: {status}, {counted}. "
            f"{QUANTITY[r['evidence']]} fell with training, the opposite of the prediction: "
            f"change from step 0 {ci(r['change'], r['change_ci_low'], r['change_ci_high'], 1)} "
            f"steps, wholly below 0; {int(r['seeds_agreeing'])} of {int(r['n_seeds'])} solved "
            f"seeds in the predicted direction; trained "
            f"{ci(r['trained'], r['trained_ci_low'], r['trained_ci_high'], 1)}, step 0 "
            f"{ci(r['initial'], r['initial_ci_low'], r['initial_ci_high'], 1)}.")
    return out


def share_sentence(summary: pd.DataFrame) -> list[str]:
    """The range of the direct path's share (of the two paths' squared norms, lags 1..K) over
    the cells measured, trained and at step 0, gates free."""
    if summary.empty:
        return []
    direct = summary[(summary["path"] == "direct") & (summary["condition"] == "free")]
    out = []
    for phase, label in (("trained", "Trained"), ("initial", "At step 0")):
        part = direct[direct["phase"] == phase]["direct_share"].dropna()
        if len(part):
            out.append(f"{label}, the direct path carries {fmt(part.min(), 2)} to "
                       f"{fmt(part.max(), 2)} of the squared norm of the two paths (direct and "
                       f"through h; mean over lags 1 to {int(direct['max_lag'].max())} and "
                       f"solved seeds; {len(part)} architecture x task cells, each in the "
                       f"table of e-folding lags).")
    return out


def result_sentences(c6: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """The findings in words, each from a row of the tables."""
    if c6.empty:
        return ["No model solved its task, so no C6 prediction could be decided."]
    out = [report.counts_sentence(c6) + " The counted ones are one Holm family."]
    out += line_sentences(c6) + reversal_sentences(c6)
    unsolved = c6[c6["n_seeds"] == 0]
    if len(unsolved):
        out.append(f"No solved seed to measure: {_where(unsolved)}.")
    return out + share_sentence(summary)


def _efold_text(row) -> str:
    """'mean [CI]', with how many seeds were censored (counted as K); '> K' when all were."""
    n, censored = int(row["n_seeds"]), int(row["n_censored"])
    if n and censored == n:
        return f"> {int(row['max_lag'])} (all {n} censored)"
    text = ci(row["efold"], row["ci_low"], row["ci_high"], 1)
    return f"{text}, {censored} censored (as {int(row['max_lag'])})" if censored else text


def efold_table(summary: pd.DataFrame, clamp_value: float) -> pd.DataFrame:
    """One row per cell x condition x state x path: trained and step-0 e-folding lags."""
    if summary.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    keys = ["task", "arch", "init", "condition", "clamped_gate", "state", "path"]
    order = {"cell": 0, "hidden": 1, "total": 0, "direct": 1, "free": 0, "clamped": 1}
    ranked = summary.assign(**{f"_{k}": summary[k].map(order) for k in
                               ("state", "path", "condition")})
    ranked = ranked.sort_values(["task", "arch", "init", "_state", "_condition", "_path"])
    rows = []
    for values, group in ranked.groupby(keys, sort=False, dropna=False):
        key = dict(zip(keys, values, strict=True))
        phase = {p: g.iloc[0] for p, g in group.groupby("phase")}
        rows.append({
            "task": key["task"], "arch": key["arch"], "init": key["init"],
            "gradient": f"{STATE_NAMES[key['state']]}, {PATH_NAMES[key['path']]}",
            "gates": (f"{key['clamped_gate']} = {clamp_value:g}" if key["condition"] == "clamped"
                      else "free"),
            "e-fold trained [CI]": _efold_text(phase["trained"]) if "trained" in phase else "–",
            "e-fold step 0 [CI]": _efold_text(phase["initial"]) if "initial" in phase else "–",
            "direct path's share, trained": (fmt(phase["trained"]["direct_share"], 2)
                                             if "trained" in phase else "–"),
            "direct path's share, step 0": (fmt(phase["initial"]["direct_share"], 2)
                                            if "initial" in phase else "–"),
            "solved seeds": int(group["n_seeds"].max()),
        })
    return pd.DataFrame(rows)


def section(inputs: Inputs) -> dict:
    c6 = inputs.table("c6")
    summary = inputs.table("c6_efold")
    gradients = inputs.config["gradients"]
    efold = efold_table(summary, gradients["clamp_value"])
    shown = c6.assign(verdict=verdict_words(c6)) if len(c6) else c6
    return {"template": "analyses/gradient_flow/section.html.j2",
            "claims": claims(c6),
            "max_lag": int(summary["max_lag"].max()) if len(summary) else gradients["max_lag"],
            "burn_in": gradients["burn_in"], "clamp_value": gradients["clamp_value"],
            "n_sequences": gradients["n_sequences"],
            "picks": gradients["picks_per_sequence"],
            "sentences": result_sentences(c6, summary),
            "verdict_table": report.folded(html_table(report.verdict_table(shown, 1)),
                                           "C6 predictions", len(c6)),
            "efold_table": html_table(efold), "n_efold": len(efold),
            "figures": inputs.figures("c6_gradient_by_lag", "c6_gradient_paths")}
