"""The C7 section: the first push and the first updates at each event, whether early pushes
predict the trained roles, where the push goes on the controls; every sentence that states a
result is generated here from the aggregate tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import report, stats
from gateroles.analyses.emergence.aggregate import PREDICTS, PUSH, UPDATES
from gateroles.report import Inputs, fmt, html_table

LINES = (PUSH, UPDATES, PREDICTS)
# What each control architecture's descriptive rows say (config `controls`).
CONTROL_WORDS = {"lstm_nfg": "without a forget gate", "lstm_ffg": "with f held at 0.5",
                 "lstm_nig": "without an input gate", "lstm_nog": "without an output gate",
                 "gru_fug": "with z held at 0.5"}


def _where(rows: pd.DataFrame) -> str:
    return ", ".join(f"{r['task']} {r['arch']}"
                     + ("" if r["init"] == "default" else f" ({r['init']})")
                     + (f" {r['role_gate']}" if isinstance(r.get("role_gate"), str) else "")
                     for _, r in rows.iterrows())


def line_sentences(c7: pd.DataFrame) -> list[str]:
    """Per line: its counted primary predictions by verdict and where each verdict holds,
    with the typical effect; the uncounted ones named apart."""
    out = []
    for line in LINES:
        rows = c7[c7["evidence"] == line] if len(c7) else c7
        if rows.empty:
            continue
        primary = rows[rows["test"] == stats.PRIMARY]
        counted = primary[primary["counted"].astype(bool)]
        parts = []
        for verdict, group in counted.groupby("verdict", sort=False):
            where = "; ".join(f"{r['prediction']} ({r['task']}, {r['arch']}): "
                              f"{report.ci(r['change'], r['change_ci_low'], r['change_ci_high'])}"
                              for _, r in group.iterrows())
            parts.append(f"{len(group)} {verdict} [{where}]")
        text = f"{line.capitalize()}: " + (
            f"of {len(counted)} counted predictions, " + "; ".join(parts)
            if len(counted) else "no prediction counted")
        uncounted = primary[~primary["counted"].astype(bool)]
        if len(uncounted):
            text += (f". {len(uncounted)} more shown and not counted (their negative control "
                     f"came out supported, did not run, or there is none: "
                     f"{_where(uncounted)})")
        out.append(text + ".")
    return out


def control_sentences(controls: pd.DataFrame) -> list[str]:
    """Where the push goes on each control architecture: per task and event, the gates'
    parts of the positive push (step-0 gradient and first updates)."""
    out = []
    if controls.empty:
        return out
    for (task, arch, event, source), group in controls[controls["arch"].isin(
            CONTROL_WORDS)].groupby(["task", "arch", "event", "source"], sort=True):
        parts = ", ".join(f"{r['gate']} {fmt(r['part'], 2)}" for _, r in
                          group.sort_values("part", ascending=False).iterrows())
        out.append(f"{arch} ({CONTROL_WORDS[arch]}), {task}, {event}s, {source}: the parts of "
                   f"the push toward the role go {parts}.")
    return out


def replay_sentence(replay: pd.DataFrame) -> str:
    """How exactly the replay reproduced the saved checkpoints."""
    if replay.empty:
        return "no run replayed"
    checked = replay[np.isfinite(replay["checked_step"].astype(float))]
    if checked.empty:
        return "no replay window ended on a saved checkpoint, so none was compared"
    worst = float(checked["max_abs_diff"].max())
    return (f"{len(checked)} of {len(replay)} replays ended on a saved checkpoint and "
            f"reproduced its weights to a largest difference of {worst:.2g}")


def claims(c7: pd.DataFrame) -> list[dict]:
    lines = [line for line in LINES if len(c7) and (c7["evidence"] == line).any()]
    extra = [e for e in (c7["evidence"].unique() if len(c7) else []) if e not in LINES]
    if not lines and not extra:
        return [report.evidence_row(c7, "C7", PUSH)]
    return [report.evidence_row(c7[c7["evidence"] == line], "C7", line)
            for line in lines + extra]


def section(inputs: Inputs) -> dict:
    c7 = inputs.table("c7")
    controls = inputs.table("c7_controls")
    replay = inputs.table("c7_replay")
    config = inputs.config["emergence"]
    table = controls.assign(
        **{"mean [CI]": report.cis(controls, ["mean", "ci_low", "ci_high"], 4)}
    )[["task", "arch", "init", "event", "gate", "source", "mean [CI]", "part",
       "n_seeds"]] if len(controls) else controls
    return {"template": "analyses/emergence/section.html.j2",
            "claims": claims(c7),
            "sentences": [report.counts_sentence(c7)] + line_sentences(c7)
            + control_sentences(controls),
            "table": report.folded(html_table(report.verdict_table(c7)), "All C7 predictions",
                                   len(c7)),
            "controls_table": html_table(table), "n_controls": len(table),
            "replay_sentence": replay_sentence(replay),
            "n_sequences": config["n_sequences"], "early_steps": config["early_steps"],
            "n_shuffles": config["n_shuffles"],
            "memory_units": inputs.config["roles"]["memory_units"],
            "figures": inputs.figures("c7_mechanism")}
