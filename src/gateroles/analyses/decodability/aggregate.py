"""C1 by probes across seeds: the most selective source per variable, and whether the gate
each role predicts carries that role's variable more selectively than the other gates.

The probe rows are sanity checks, shown apart and never counted: a gate that only reads its
input decodes the token too (`NOT_EVIDENCE`)."""

from __future__ import annotations

import pandas as pd

from gateroles import stats
from gateroles.architectures import ROLE_GATES, SIGMOID_GATES
from gateroles.study import CELL_KEYS, at_phase
from gateroles.tasks import EVENTS

EVIDENCE = "decodability (linear probes)"
# Why decodability is shown apart and never counted (SCIENCE.md, C1).
NOT_EVIDENCE = ("every gate is sigmoid(W x + U h + b), so any gate decodes any function of the "
                "current token through its input weights: a gate that only reads its input "
                "passes too")


def _seed_wide(phases: pd.DataFrame, variable: str) -> pd.DataFrame:
    """Selectivity of one variable, rows (phase, seed), columns source."""
    sel = phases[phases["variable"] == variable]
    return sel.pivot_table(index=["phase", "seed"], columns="source", values="selectivity")


def c1_ranking(probes: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Per task x arch x init x phase x variable: the most selective source and its margin.

    Solved seeds only. The best and runner-up sources are ranked by mean selectivity over seeds;
    `margin` is best minus runner-up per seed (CI over seeds); `seeds_best` counts the seeds in
    which the best source is the most selective of all sources.
    """
    phases = at_phase(probes[probes["solved"]])
    rows = []
    for (task, arch, init, variable), group in phases.groupby(CELL_KEYS + ["variable"],
                                                              sort=True):
        wide = _seed_wide(group, variable)
        for phase in ("initial", "trained"):
            if phase not in wide.index.get_level_values("phase"):
                continue
            per_seed = wide.loc[phase].dropna(axis=1, how="all")
            order = per_seed.mean().sort_values(ascending=False).index
            best, second = order[0], order[1]
            b = stats.mean_ci(per_seed[best], confidence)
            r = stats.mean_ci(per_seed[second], confidence)
            m = stats.mean_ci(per_seed[best] - per_seed[second], confidence)
            base = per_seed.get("input_window")
            rows.append({
                "task": task, "arch": arch, "init": init, "variable": variable,
                "phase": phase, "best_source": best, "best": b[0], "best_ci_low": b[1],
                "best_ci_high": b[2], "runner_up": second, "runner_up_selectivity": r[0],
                "margin": m[0], "margin_ci_low": m[1], "margin_ci_high": m[2],
                "seeds_best": int((per_seed.idxmax(axis=1) == best).sum()),
                "n_seeds": len(per_seed),
                "input_window": float(base.mean()) if base is not None else float("nan"),
            })
    # Columns even without rows (no solved model), so the table can be read back.
    return pd.DataFrame(rows, columns=None if rows else CELL_KEYS + ["variable", "phase"])


CEILING = 0.99  # a task score this high from every gate: decodability cannot tell them apart


def c1_verdicts(probes: pd.DataFrame, settings: stats.Settings) -> pd.DataFrame:
    """Claim C1 by decodability, per task x arch x init x role: does the gate the role
    predicts carry the role's variable more selectively than the other sigmoid gates?

    Effect per seed = selectivity of the predicted gate minus the *mean* of the other sigmoid
    gates' (not their maximum: under exchangeable gates E[X1 - max(X2, X3)] < 0, a biased
    symmetry control), at the last checkpoint and at step 0; decided on the change from step 0.
    `untestable` where every sigmoid gate decodes the variable at ceiling (task score >=
    CEILING) in every solved seed, at step 0 and trained: the probe cannot tell the gates
    apart, and differences in selectivity then come from the control task only.
    """
    unsolved = (probes[~probes["solved"]].groupby(CELL_KEYS)["seed"].nunique())
    phases = at_phase(probes[probes["solved"]])
    rows = []
    for (task, arch, init), group in phases.groupby(CELL_KEYS, sort=True):
        for role, (gate, _) in ROLE_GATES[arch].items():
            variable = EVENTS[task].get(role)
            others = [g for g in SIGMOID_GATES[arch] if g != gate]
            if variable is None or not others:
                continue  # this task has no such event, or there is no other gate
            wide = _seed_wide(group, variable)
            effect = wide[gate] - wide[others].mean(axis=1)
            row = stats.prediction_row(
                effect.xs("trained"), effect.xs("initial"), +1, settings, claim="C1",
                evidence=EVIDENCE, task=task, arch=arch, init=init, test=stats.SANITY,
                prediction=f"{gate} carries {variable} ({role}) more selectively",
                n_unsolved=int(unsolved.get((task, arch, init), 0)), note=NOT_EVIDENCE)
            scores = group[(group["variable"] == variable)
                           & group["source"].isin(SIGMOID_GATES[arch])]["task_score"]
            if len(scores) and stats.at_ceiling(scores, 1.0, 1.0 - CEILING):
                row.update(verdict=stats.UNTESTABLE,
                           note=f"every gate decodes {variable} at ceiling (>= {CEILING}, step 0 "
                                f"and trained): the probe cannot tell the gates apart; "
                                f"{NOT_EVIDENCE}")
            rows.append(row)
    return stats.verdict_table(rows, settings)


def c1_controls(probes: pd.DataFrame) -> pd.DataFrame:
    """The two control definitions side by side, per task x arch x init x phase x variable.

    Means over solved seeds and over the recurrent sources (every gate and state; the input
    window separately): control score and selectivity with the token-window control (the one
    the verdicts use) and with Hewitt & Liang's single-token control (`*_token`).
    """
    phases = at_phase(probes[probes["solved"]])
    if "control_score_token" not in phases or phases.empty:
        return pd.DataFrame(columns=CELL_KEYS + ["phase", "variable", "group"])
    phases = phases.assign(group=phases["source"].where(phases["source"] == "input_window",
                                                        "recurrent"))
    columns = ["task_score", "control_score", "selectivity", "control_score_token",
               "selectivity_token"]
    table = (phases.groupby(CELL_KEYS + ["phase", "variable", "group"], sort=True)[columns]
             .mean().reset_index())
    spread = (phases[phases["group"] == "recurrent"]
              .groupby(CELL_KEYS + ["phase", "variable", "seed"])[["selectivity",
                                                                     "selectivity_token"]]
              .agg(lambda s: s.max() - s.min())
              .groupby(CELL_KEYS + ["phase", "variable"]).mean()
              .add_suffix("_spread").reset_index().assign(group="recurrent"))
    return table.merge(spread, on=CELL_KEYS + ["phase", "variable", "group"], how="left")



def aggregate(tables, runs, settings, stats_settings: stats.Settings) -> dict[str, pd.DataFrame]:
    probes = tables["probes"]
    return {"probes": probes, "ranking": c1_ranking(probes, stats_settings.confidence),
            "c1": c1_verdicts(probes, stats_settings), "controls": c1_controls(probes)}
