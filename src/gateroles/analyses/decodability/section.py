"""The C1 probes section: decodability with control tasks."""

from __future__ import annotations

import pandas as pd

from gateroles.report import Inputs, cis, fmt, html_table


def c1_table(c1: pd.DataFrame) -> pd.DataFrame:
    if c1.empty:
        return pd.DataFrame({"note": ["no solved models: nothing to decide"]})
    return pd.DataFrame({
        "task": c1["task"], "arch": c1["arch"], "init": c1["init"],
        "prediction": [f"{g} carries {v} ({r})" for g, v, r in
                       zip(c1["gate"], c1["variable"], c1["role"], strict=True)],
        "selectivity of predicted gate [CI]": cis(c1, ["selectivity", "sel_ci_low",
                                                       "sel_ci_high"]),
        "vs best other gate, trained [CI]": cis(c1, ["effect", "ci_low", "ci_high"]),
        "seeds agreeing": [f"{a} / {n}" for a, n in zip(c1["seeds_agreeing"], c1["n_seeds"],
                                                        strict=True)],
        "verdict": c1["verdict"],
        "same at step 0 [CI]": cis(c1, ["effect_at_init", "init_ci_low", "init_ci_high"]),
        "preference at step 0": c1["verdict_at_init"].map(
            {"supported": "predicted gate ahead", "contradicted": "another gate ahead",
             "inconclusive": "none (CI spans 0)"}),
        "unsolved seeds left out": c1["n_unsolved"],
    })



def c1_ranking_table(ranking: pd.DataFrame) -> pd.DataFrame:
    if ranking.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    ranking = ranking.sort_values(["task", "arch", "init", "variable", "phase"])
    return pd.DataFrame({
        "task": ranking["task"], "arch": ranking["arch"], "init": ranking["init"],
        "variable": ranking["variable"], "phase": ranking["phase"],
        "most selective source": ranking["best_source"],
        "its selectivity [CI]": cis(ranking, ["best", "best_ci_low", "best_ci_high"]),
        "runner-up": ranking["runner_up"],
        "margin over runner-up [CI]": cis(ranking, ["margin", "margin_ci_low",
                                                    "margin_ci_high"]),
        "seeds where best": [f"{a} / {n}" for a, n in zip(ranking["seeds_best"],
                                                          ranking["n_seeds"], strict=True)],
        "input window": ranking["input_window"].map(fmt),
    })



def c1_controls_table(controls: pd.DataFrame) -> pd.DataFrame:
    """Single-token vs token-window control, trained phase, one row per task x arch x variable."""
    if controls.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    rows = []
    keys = ["task", "arch", "init", "variable"]
    trained = controls[controls["phase"] == "trained"]
    for key, group in trained.groupby(keys, sort=True):
        rec = group[group["group"] == "recurrent"].iloc[0]
        win = group[group["group"] == "input_window"]
        win = win.iloc[0] if len(win) else None
        rows.append({
            **dict(zip(keys, key, strict=True)), "task score": fmt(rec["task_score"]),
            "control, 1 token": fmt(rec["control_score_token"]),
            "selectivity, 1 token": fmt(rec["selectivity_token"]),
            "control, window": fmt(rec["control_score"]),
            "selectivity, window": fmt(rec["selectivity"]),
            "spread across sources, window": fmt(rec["selectivity_spread"]),
            "input window: selectivity 1 token / window":
                "–" if win is None else f"{fmt(win['selectivity_token'])} / "
                                        f"{fmt(win['selectivity'])}",
        })
    return pd.DataFrame(rows)



def c1_claim_rows(c1: pd.DataFrame) -> list[dict]:
    name = "C1 role emergence (probes)"
    if c1.empty:
        return [{"claim": name, "verdict": "not decided", "css": "", "basis": "no solved models"}]
    counts = c1["verdict"].value_counts()
    n = len(c1)
    supported, contradicted = int(counts.get("supported", 0)), int(counts.get("contradicted", 0))
    overall = ("supported" if supported == n else "not supported" if supported == 0 else "mixed")
    at_init = int((c1["verdict_at_init"] != "inconclusive").sum())
    basis = (f"{supported} of {n} role predictions supported (predicted gate more selective "
             f"than every other gate after training), {contradicted} contradicted, "
             f"{n - supported - contradicted} inconclusive; largest trained effect "
             f"{c1['effect'].max():+.3f}; at step 0, {at_init} of {n} already show a "
             f"preference of either sign (table below)")
    css = {"supported": "supported", "not supported": "contradicted"}.get(overall,
                                                                          "inconclusive")
    return [{"claim": name, "verdict": overall, "css": css, "basis": basis}]



def c1_findings(c1: pd.DataFrame, ranking: pd.DataFrame, controls: pd.DataFrame) -> dict:
    """Numbers the C1 text quotes (all read from the aggregate tables)."""
    if c1.empty or ranking.empty or controls.empty:
        return {}
    recurrent = controls[controls["group"] == "recurrent"]
    events = recurrent[recurrent["variable"].str.startswith("is_")]
    states = recurrent[~recurrent["variable"].str.startswith("is_")]
    trained = ranking[ranking["phase"] == "trained"]
    kinds = trained["best_source"].map(
        lambda s: "state" if s in ("hidden", "cell") else "input window"
        if s == "input_window" else "gate")
    return {
        "event_task_initial": fmt(events.loc[events["phase"] == "initial", "task_score"].min()),
        "event_task_trained": fmt(events.loc[events["phase"] == "trained", "task_score"].min()),
        "n_rows": len(trained), "best_state": int((kinds == "state").sum()),
        "best_gate": int((kinds == "gate").sum()),
        "best_window": int((kinds == "input window").sum()),
        "max_margin": fmt(trained["margin"].max()),
        "effect_low": fmt(c1["effect"].min()), "effect_high": fmt(c1["effect"].max()),
        "n_supported": int((c1["verdict"] == "supported").sum()),
        "n_contradicted": int((c1["verdict"] == "contradicted").sum()), "n_pred": len(c1),
        "n_init_pref": int((c1["verdict_at_init"] != "inconclusive").sum()),
        "sel_low": fmt(c1["selectivity"].min()), "sel_high": fmt(c1["selectivity"].max()),
        "small": bool(c1["effect"].abs().max() < 0.05),
        "state_initial": fmt(states.loc[states["phase"] == "initial", "selectivity"].mean()),
        "state_trained": fmt(states.loc[states["phase"] == "trained", "selectivity"].mean()),
    }



def section(inputs: Inputs) -> dict:
    c1 = inputs.table("c1")
    probes = inputs.config["probes"]
    ranking, controls = inputs.table("c1_ranking"), inputs.table("c1_controls")
    return {"template": "analyses/decodability/section.html.j2", "claims": c1_claim_rows(c1),
            "findings": c1_findings(c1, ranking, controls),
            "c1_table": html_table(c1_table(c1)),
            "ranking_table": html_table(c1_ranking_table(ranking)),
            "controls_table": html_table(c1_controls_table(controls)),
            "control_window": probes["control_window"], "input_window": probes["input_window"],
            "n_sequences": probes["n_sequences"],
            "figures": inputs.figures("c1_selectivity_heatmap", "c1_emergence",
                                      "c1_task_vs_control")}

