"""The C1 probes section: decodability with control tasks."""

from __future__ import annotations

import pandas as pd

from gateroles import report
from gateroles.analyses.decodability import Settings
from gateroles.analyses.decodability.aggregate import EVIDENCE
from gateroles.report import Inputs, cis, fmt, html_table
from gateroles.tasks import EVENTS

# Binary event variables (functions of the current token in every task here).
EVENT_VARIABLES = {variable for roles in EVENTS.values() for variable in roles.values()}


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



def findings(c1: pd.DataFrame, ranking: pd.DataFrame, controls: pd.DataFrame,
             probes: pd.DataFrame) -> dict:
    """Numbers the C1 decodability text quotes (all read from the aggregate tables)."""
    if c1.empty or ranking.empty or controls.empty:
        return {}
    recurrent = controls[controls["group"] == "recurrent"]
    event_vars = {v for v in EVENT_VARIABLES if v in set(recurrent["variable"])}
    events = recurrent[recurrent["variable"].isin(event_vars)]
    states = recurrent[~recurrent["variable"].isin(event_vars)]
    trained = ranking[ranking["phase"] == "trained"]
    kinds = trained["best_source"].map(
        lambda s: "state" if s in ("hidden", "cell") else "input window"
        if s == "input_window" else "gate")
    types = probes.groupby("task")[["n_token_types", "n_control_types"]].median()
    return {
        "event_task_initial": fmt(events.loc[events["phase"] == "initial", "task_score"].min()),
        "event_task_trained": fmt(events.loc[events["phase"] == "trained", "task_score"].min()),
        "n_rows": len(trained), "best_state": int((kinds == "state").sum()),
        "best_gate": int((kinds == "gate").sum()),
        "best_window": int((kinds == "input window").sum()),
        "n_untestable": int((c1["verdict"] == "untestable").sum()), "n_pred": len(c1),
        "state_initial": fmt(states.loc[states["phase"] == "initial", "selectivity"].mean()),
        "state_trained": fmt(states.loc[states["phase"] == "trained", "selectivity"].mean()),
        "types": "; ".join(f"{task}: {int(r.n_token_types)} token types, "
                           f"{int(r.n_control_types)} control types"
                           for task, r in types.iterrows()),
    }


def section(inputs: Inputs) -> dict:
    c1 = inputs.table("c1")
    settings = Settings.from_config(inputs.config)
    ranking, controls = inputs.table("c1_ranking"), inputs.table("c1_controls")
    probes = inputs.table("probes", usecols=["task", "n_token_types", "n_control_types"])
    return {"template": "analyses/decodability/section.html.j2",
            "claims": [report.evidence_row(c1, "C1", EVIDENCE)],
            "sentence": report.counts_sentence(c1, "role predictions"),
            "findings": findings(c1, ranking, controls, probes),
            "c1_table": report.folded(html_table(report.verdict_table(c1)),
                                      "Decodability predictions", len(c1)),
            "ranking_table": report.folded(html_table(c1_ranking_table(ranking)),
                                           "Most selective source per variable", len(ranking)),
            "controls_table": report.folded(html_table(c1_controls_table(controls)),
                                            "Single-token vs token-window control",
                                            len(controls)),
            "control_window": settings.control_window,
            "input_window": settings.input_window, "n_sequences": settings.n_sequences,
            "figures": inputs.figures("c1_selectivity_heatmap", "c1_emergence",
                                      "c1_task_vs_control", settings=settings)}
