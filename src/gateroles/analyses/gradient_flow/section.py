"""The C6 section: gradient norm by lag, e-folding lags per path, and the verdicts.

Every sentence that states a result is written here from the aggregate tables.
"""

from __future__ import annotations

import pandas as pd

from gateroles import report
from gateroles.report import Inputs, ci, cis, fmt, html_table

STATE_NAMES = {"cell": "dL/dc", "hidden": "dL/dh"}
PATH_NAMES = {"total": "total", "direct": "direct path"}


def verdict_table(c6: pd.DataFrame) -> pd.DataFrame:
    if c6.empty:
        return pd.DataFrame({"note": ["no solved models: nothing to decide"]})
    return pd.DataFrame({
        "task": c6["task"], "arch": c6["arch"], "init": c6["init"],
        "prediction": c6["prediction"],
        "change from step 0 [CI]": cis(c6, ["change", "change_ci_low", "change_ci_high"], 1),
        "trained [CI]": cis(c6, ["trained", "trained_ci_low", "trained_ci_high"], 1),
        "step 0 [CI]": cis(c6, ["initial", "initial_ci_low", "initial_ci_high"], 1),
        "seeds agreeing": [f"{int(a)} / {int(n)}" for a, n in
                           zip(c6["seeds_agreeing"], c6["n_seeds"], strict=True)],
        "unsolved": c6["n_unsolved"],
        "p (Holm)": [fmt(p, 4) for p in c6["p_adjusted"]],
        "verdict": c6["verdict"],
    })


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
            "direct share, trained": (fmt(phase["trained"]["direct_share"], 2)
                                      if "trained" in phase else "–"),
            "direct share, step 0": (fmt(phase["initial"]["direct_share"], 2)
                                     if "initial" in phase else "–"),
            "solved seeds": int(group["n_seeds"].max()),
        })
    return pd.DataFrame(rows)


def result_sentences(c6: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """The findings in words, each from a row of the tables."""
    if c6.empty:
        return ["No model solved its task, so no C6 prediction could be decided."]
    counts = c6["verdict"].value_counts()
    parts = ", ".join(f"{int(n)} {v}" for v, n in counts.items())
    out = [f"Of {len(c6)} C6 predictions, {parts} (Holm-adjusted within C6)."]
    for _, r in c6.iterrows():
        head = f"{r['task']}, {r['arch']} ({r['init']}): {r['prediction']}: {r['verdict']}"
        left_out = f", {int(r['n_unsolved'])} unsolved left out" if r["n_unsolved"] else ""
        if not r["n_seeds"]:
            out.append(f"{head}; no solved seed to measure{left_out}.")
            continue
        out.append(
            f"{head}; change from step 0 "
            f"{ci(r['change'], r['change_ci_low'], r['change_ci_high'], 1)} steps, trained "
            f"{ci(r['trained'], r['trained_ci_low'], r['trained_ci_high'], 1)}, step 0 "
            f"{ci(r['initial'], r['initial_ci_low'], r['initial_ci_high'], 1)}; "
            f"{int(r['seeds_agreeing'])} of {int(r['n_seeds'])} solved seeds agree{left_out}.")
    direct = summary[(summary["path"] == "direct") & (summary["condition"] == "free")
                     & (summary["phase"] == "trained")] if len(summary) else summary
    for _, r in direct.iterrows():
        share = r["direct_share"]
        cancel = (" (above 1: the paths through h point against the direct path and partly "
                  "cancel it)" if share > 1 else
                  " (below 0: the total points against the direct path: the paths through h "
                  "outweigh it in the opposite direction)" if share < 0 else "")
        seeds = int(r["n_seeds"])
        out.append(
            f"Trained {r['arch']} on {r['task']} ({r['init']}): the direct path's share of the "
            f"squared {STATE_NAMES[r['state']]} norm, averaged over lags 1 to "
            f"{int(r['max_lag'])}, is {fmt(share, 2)}{cancel} (mean over {seeds} solved "
            f"seed{'s' if seeds != 1 else ''}).")
    return out


def section(inputs: Inputs) -> dict:
    c6 = inputs.table("c6")
    summary = inputs.table("c6_efold")
    gradients = inputs.config["gradients"]
    efold = efold_table(summary, gradients["clamp_value"])
    return {"template": "analyses/gradient_flow/section.html.j2",
            "claims": [report.evidence_row(c6, "C6", "gradient norm by lag")],
            "max_lag": int(summary["max_lag"].max()) if len(summary) else gradients["max_lag"],
            "burn_in": gradients["burn_in"], "clamp_value": gradients["clamp_value"],
            "n_sequences": gradients["n_sequences"],
            "picks": gradients["picks_per_sequence"],
            "sentences": result_sentences(c6, summary),
            "verdict_table": html_table(verdict_table(c6)), "n_verdicts": len(c6),
            "efold_table": html_table(efold), "n_efold": len(efold),
            "figures": inputs.figures("c6_gradient_by_lag", "c6_gradient_paths")}
