"""The C7 section: the first push and the first updates at each event, whether early pushes
predict the trained roles, where the push goes on the controls; every sentence that states a
result is generated here from the aggregate tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import report, stats
from gateroles.analyses.emergence import PLURAL, Settings
from gateroles.analyses.emergence.aggregate import PREDICTS, PUSH, PUSH_EARLY, UPDATES
from gateroles.report import Inputs, fmt, html_table

LINES = (PUSH, PUSH_EARLY, UPDATES, PREDICTS)
# What each control architecture's descriptive rows say (config `controls`).
CONTROL_WORDS = {"lstm_nfg": "without a forget gate", "lstm_ffg": "with f held at 0.5",
                 "lstm_nig": "without an input gate", "lstm_nog": "without an output gate",
                 "gru_fug": "with z held at 0.5"}


def _uncounted_words(rows: pd.DataFrame) -> str:
    """Why primary rows are not counted, in counts: no control, control not run (or too few
    seeds), control passed."""
    passed = rows["control_verdict"].eq(stats.SUPPORTED)
    ran = rows["control_verdict"].isin(stats.CONTROL_FAILS) | passed
    none = rows["control"].fillna("").str.startswith("no control")
    parts = [(int(passed.sum()), "pass their negative control: not a test"),
             (int(none.sum()), "have no negative control"),
             (int((~ran & ~none).sum()), "have a control that did not run or had too few "
                                         "seeds")]
    return "; ".join(f"{n} {what}" for n, what in parts if n)


def line_sentences(c7: pd.DataFrame) -> list[str]:
    """Per line: its counted primary predictions by verdict, each with its effect, and the
    uncounted ones counted apart with the reason."""
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
        text = f"{line[0].upper()}{line[1:]}: " + (
            f"of {len(counted)} counted predictions, " + "; ".join(parts)
            if len(counted) else "no prediction counted")
        uncounted = primary[~primary["counted"].astype(bool)]
        if len(uncounted):
            text += f". Not counted: {_uncounted_words(uncounted)}"
        out.append(text + ".")
    return out


def control_sentences(controls: pd.DataFrame) -> list[str]:
    """Where the push goes at resets on the architectures without a forget gate or with f
    held (and the GRU's with z held): the gates' parts of the positive push toward the role
    (step-0 gradient and first updates), mean over seeds."""
    out = []
    if controls.empty:
        return out
    shown = controls[controls["arch"].isin(CONTROL_WORDS) & (controls["event"] == "reset")]
    for (task, arch, source), group in shown.groupby(["task", "arch", "source"], sort=True):
        known = group[np.isfinite(group["part"].astype(float))]
        if known.empty:
            out.append(f"{arch} ({CONTROL_WORDS[arch]}), {task}, at resets, {source}: no gate "
                       f"is pushed toward the role.")
            continue
        parts = ", ".join(f"{r['gate']} {fmt(r['part'], 2)}" for _, r in
                          known.sort_values("part", ascending=False).iterrows())
        out.append(f"{arch} ({CONTROL_WORDS[arch]}), {task}, at resets, {source}: of the push "
                   f"toward closing, {parts}.")
    return out


def onset_sentences(by_step: pd.DataFrame) -> list[str]:
    """Per LSTM / GRU cell and event: the first checkpoint at which the role gate's share of
    the push has its interval above one half (descriptive: the push at every checkpoint)."""
    out = []
    main = by_step[by_step["arch"].isin(("lstm", "gru"))] if len(by_step) else by_step
    for (task, arch, init, event, gate), group in main.groupby(
            ["task", "arch", "init", "event", "gate"], sort=True):
        group = group.sort_values("step")
        above = group[group["ci_low"].astype(float) > 0.5]
        arm = "" if init == "default" else f", {init}"
        where = (f"from step {int(above['step'].iloc[0])} on (share "
                 f"{report.ci(*above[['share', 'ci_low', 'ci_high']].iloc[0].astype(float))})"
                 if len(above) else "at no checkpoint")
        out.append(f"{task} ({arch}{arm}), {PLURAL.get(event, event)}: the push favours "
                   f"{gate} (share's interval above one half) {where}.")
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
    by_step = inputs.table("c7_by_step")
    settings = Settings.from_config(inputs.config)
    table = controls.assign(
        **{"mean [CI]": report.cis(controls, ["mean", "ci_low", "ci_high"], 4)}
    )[["task", "arch", "init", "event", "gate", "source", "mean [CI]", "part",
       "n_seeds"]] if len(controls) else controls
    return {"template": "analyses/emergence/section.html.j2",
            "claims": claims(c7),
            "sentences": [report.counts_sentence(c7)] + line_sentences(c7)
            + onset_sentences(by_step) + control_sentences(controls),
            "table": report.folded(html_table(report.verdict_table(c7)), "All C7 predictions",
                                   len(c7)),
            "controls_table": html_table(table), "n_controls": len(table),
            "replay_sentence": replay_sentence(replay),
            "n_sequences": settings.n_sequences, "early_steps": settings.early_steps,
            "n_shuffles": settings.n_shuffles,
            "memory_units": settings.memory_units,
            "figures": inputs.figures("c7_mechanism", settings=settings)}


def answer(claims: list[dict]) -> report.Sentence | None:
    """Claim C7 in the report's answer: the question, then each line's verdict in words."""
    return report.asked("Does the position decide which gate the error pushes, from the "
                        "first updates?", claims)


ANSWERS = {"C7": answer}  # claim -> its sentence in the report's answer
