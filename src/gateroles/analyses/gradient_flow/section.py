"""The C6 section: the gradient across hold intervals and its verdicts, and the descriptive
gradient norm by lag from scored steps.

Every sentence that states a result is written here from the aggregate tables: per line of
evidence (one prediction, P1-P4) its counted verdicts and where they hold, every reversal
said as one (a row whose interval lies wholly below 0 is contradicted, and said so even where
Holm's adjustment leaves it inconclusive), and the direct path's share at the store as
measured.
"""

from __future__ import annotations

import pandas as pd

from gateroles import report, stats
from gateroles.analyses.gradient_flow import ALL_UNITS, JACOBIAN, KEEP, Settings
from gateroles.analyses.gradient_flow.aggregate import EVIDENCE
from gateroles.report import Inputs, ci, fmt, html_table

STATE_NAMES = {"cell": "dL/dc", "hidden": "dL/dh"}
PATH_NAMES = {"total": "total", "direct": "direct path"}
# The quantity each line's predictions say rises from step 0 (per seed, decades).
QUANTITY = {EVIDENCE["P1"]: "kept(dc) - kept(dh)",
            EVIDENCE["P2"]: "log10 |dc at the store|, free minus forget clamped in the Jacobian",
            EVIDENCE["P3"]: "kept(gated) - kept(tanh RNN)",
            EVIDENCE["P4"]: "log10 |dh at the store|, free minus update clamped in the Jacobian"}
NO_MODELS = "the gradient across holds"  # the one line when no prediction could be made


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
        return [report.evidence_row(c6, "C6", NO_MODELS, decimals=2)]
    out = []
    for evidence, rows in by_line.items():
        line = report.evidence_row(rows, "C6", evidence, decimals=2)
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
            f"change from step 0 {ci(r['change'], r['change_ci_low'], r['change_ci_high'], 2)} "
            f"decades, wholly below 0; {int(r['seeds_agreeing'])} of {int(r['n_seeds'])} solved "
            f"seeds in the predicted direction; trained "
            f"{ci(r['trained'], r['trained_ci_low'], r['trained_ci_high'], 2)}, step 0 "
            f"{ci(r['initial'], r['initial_ci_low'], r['initial_ci_high'], 2)}.")
    return out


def share_sentence(intervals: pd.DataFrame) -> list[str]:
    """The range of the direct path's share at the store (of the two paths' squared norms, on
    the intervals with no erase, all units) over the cells measured, trained and at step 0."""
    if intervals.empty:
        return []
    direct = intervals[(intervals["path"] == "direct") & (intervals["condition"] == "free")
                       & (intervals["kind"] == KEEP) & (intervals["units"] == ALL_UNITS)]
    out = []
    for phase, label in (("trained", "Trained"), ("initial", "At step 0")):
        part = direct[direct["phase"] == phase].dropna(subset=["share_store"])
        if len(part):
            low, high = part.loc[part["share_store"].idxmin()], part.loc[
                part["share_store"].idxmax()]
            out.append(f"{label}, the direct path carries {fmt(low['share_store'], 2)} "
                       f"({low['task']}, {low['arch']}) to {fmt(high['share_store'], 2)} "
                       f"({high['task']}, {high['arch']}) of the squared norm of the two paths "
                       f"(direct and through h) at the store, on intervals with no erase (mean "
                       f"over solved seeds; {len(part)} architecture x task cells).")
    return out


def own_rows(c6: pd.DataFrame) -> pd.DataFrame:
    """The rows of C6's verdict table this section shows: its own lines of evidence (the
    table also holds the learnability sweep's rows, one Holm family with these)."""
    return c6[c6["evidence"].isin(EVIDENCE.values())] if len(c6) else c6


def result_sentences(c6: pd.DataFrame, intervals: pd.DataFrame,
                     claim: pd.DataFrame | None = None) -> list[str]:
    """The findings in words, each from a row of the tables. `c6`: this section's rows
    (`own_rows`) of C6's verdict table `claim` (default: `c6` is the whole table)."""
    if c6.empty:
        return ["No model solved its task, so no C6 prediction could be decided."]
    family = report.family_sentence(c6 if claim is None else claim, c6,
                                    "the learnability sweep's, below")
    out = [" ".join(filter(None, (report.counts_sentence(c6), family)))]
    out += line_sentences(c6) + reversal_sentences(c6)
    unsolved = c6[c6["n_seeds"] == 0]
    if len(unsolved):
        out.append(f"No solved seed to measure: {_where(unsolved)}.")
    return out + share_sentence(intervals)


def _efold_text(row) -> str:
    """'mean [CI]', with how many seeds were censored (counted as K); '> K' when all were."""
    n, censored = int(row["n_seeds"]), int(row["n_censored"])
    if n and censored == n:
        return f"> {int(row['max_lag'])} (all {n} censored)"
    text = ci(row["efold"], row["ci_low"], row["ci_high"], 1)
    return f"{text}, {censored} censored (as {int(row['max_lag'])})" if censored else text


def efold_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per cell x state x path (gates free, scored steps): trained and step-0
    e-folding lags counted from lag 1 (descriptive)."""
    if summary.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    keys = ["task", "arch", "init", "state", "path"]
    order = {"cell": 0, "hidden": 1, "total": 0, "direct": 1}
    ranked = summary.assign(**{f"_{k}": summary[k].map(order) for k in ("state", "path")})
    ranked = ranked.sort_values(["task", "arch", "init", "_state", "_path"])
    rows = []
    for values, group in ranked.groupby(keys, sort=False, dropna=False):
        key = dict(zip(keys, values, strict=True))
        phase = {p: g.iloc[0] for p, g in group.groupby("phase")}
        rows.append({
            "task": key["task"], "arch": key["arch"], "init": key["init"],
            "gradient": f"{STATE_NAMES[key['state']]}, {PATH_NAMES[key['path']]}",
            "e-fold trained [CI]": _efold_text(phase["trained"]) if "trained" in phase else "–",
            "e-fold step 0 [CI]": _efold_text(phase["initial"]) if "initial" in phase else "–",
            "direct path's share, trained": (fmt(phase["trained"]["direct_share"], 2)
                                             if "trained" in phase else "–"),
            "direct path's share, step 0": (fmt(phase["initial"]["direct_share"], 2)
                                            if "initial" in phase else "–"),
            "solved seeds": int(group["n_seeds"].max()),
        })
    return pd.DataFrame(rows)


def _value(phase: dict, which: str, value: str) -> str:
    """'mean [CI]' of `value` in the summary row of phase `which` ('–' without one)."""
    if which not in phase:
        return "–"
    row = phase[which]
    return ci(row[value], row[f"{value}_ci_low"], row[f"{value}_ci_high"], 2)


def interval_table(intervals: pd.DataFrame, clamp_value: float) -> pd.DataFrame:
    """One row per cell x interval kind x gradient (all units): log10 of the norm at the store,
    the decades kept from lag 1 to the store, the direct path's share at the store, trained
    and at step 0, with the mean store lag."""
    if intervals.empty:
        return pd.DataFrame({"note": ["no solved model on a task with store-to-query "
                                      "intervals"]})
    part = intervals[intervals["units"] == ALL_UNITS]
    keys = ["task", "arch", "init", "kind", "state", "condition"]
    rows = []
    for values, group in part.groupby(keys, sort=True):
        key = dict(zip(keys, values, strict=True))
        total = group[group["path"] == "total"]
        direct = group[group["path"] == "direct"]
        phase = {p: g.iloc[0] for p, g in total.groupby("phase")}
        share = {p: g.iloc[0]["share_store"] for p, g in direct.groupby("phase")}
        gate = "forget" if key["state"] == "cell" else "update"
        gradient = STATE_NAMES[key["state"]].replace("dL", "d logit")
        if key["condition"] == JACOBIAN:
            gradient += f", {gate} = {clamp_value:g} in the Jacobian"

        rows.append({
            "task": key["task"], "arch": key["arch"], "init": key["init"],
            "intervals": "no erase" if key["kind"] == KEEP else "across an erase",
            "gradient": gradient,
            "store lag": fmt(group["store_lag"].mean(), 1),
            "log10 at the store, trained": _value(phase, "trained", "log10_store"),
            "log10 at the store, step 0": _value(phase, "initial", "log10_store"),
            "kept from lag 1, trained": _value(phase, "trained", "kept_decades"),
            "kept from lag 1, step 0": _value(phase, "initial", "kept_decades"),
            "direct share at the store, trained / step 0": (
                f"{fmt(share.get('trained', float('nan')), 2)} / "
                f"{fmt(share.get('initial', float('nan')), 2)}" if share else "–"),
            "solved seeds": int(group["n_seeds"].max()),
        })
    return pd.DataFrame(rows)


def section(inputs: Inputs) -> dict:
    claim = inputs.table("c6")  # C6's one verdict table: these lines and the learnability's
    c6 = own_rows(claim)
    summary = inputs.table("c6_efold")
    intervals = inputs.table("c6_intervals")
    settings = Settings.from_config(inputs.config)
    efold = efold_table(summary)
    table = interval_table(intervals, settings.clamp_value)
    shown = c6.assign(verdict=verdict_words(c6)) if len(c6) else c6
    return {"template": "analyses/gradient_flow/section.html.j2",
            "claims": claims(c6),
            "max_lag": int(summary["max_lag"].max()) if len(summary) else settings.max_lag,
            "burn_in": settings.burn_in, "clamp_value": settings.clamp_value,
            "n_sequences": settings.n_sequences,
            "picks": settings.picks_per_sequence,
            "interval_picks": settings.interval_picks,
            "memory_units": settings.memory_units,
            "sentences": result_sentences(c6, intervals, claim),
            "verdict_table": report.folded(html_table(report.verdict_table(shown, 2)),
                                           "C6 predictions", len(c6)),
            "interval_table": report.folded(html_table(table), "Gradients across holds",
                                            len(table)),
            "efold_table": html_table(efold), "n_efold": len(efold),
            "figures": inputs.figures("c6_interval_gradients", "c6_gradient_by_lag",
                                      "c6_gradient_paths", settings=settings)}


def answer(claims: list[dict]) -> report.Sentence | None:
    """Claim C6 in the report's answer (this section's lines and the learnability sweep's):
    the question, then each line's verdict in words."""
    return report.asked("Is the cell state a gradient highway?", claims)


ANSWERS = {"C6": answer}  # claim -> its sentence in the report's answer
