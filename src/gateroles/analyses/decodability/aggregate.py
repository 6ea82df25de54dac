"""C1 by probes across seeds: the most selective source per variable, and whether the gate
each role predicts carries that role's variable more selectively than the other gates."""

from __future__ import annotations

import pandas as pd

from gateroles import stats
from gateroles.architectures import ROLE_GATES, SIGMOID_GATES
from gateroles.study import CELL_KEYS, at_phase
from gateroles.tasks import EVENTS


def _seed_wide(phases: pd.DataFrame, variable: str) -> pd.DataFrame:
    """Selectivity of one variable, rows (phase, seed), columns source."""
    sel = phases[phases["variable"] == variable]
    return sel.pivot_table(index=["phase", "seed"], columns="source", values="selectivity")


def c1_ranking(probes: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
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
            b = stats.bootstrap_ci(per_seed[best], n_boot, confidence)
            r = stats.bootstrap_ci(per_seed[second], n_boot, confidence)
            m = stats.bootstrap_ci(per_seed[best] - per_seed[second], n_boot, confidence)
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


def c1_verdicts(probes: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
    """Claim C1 per task x arch x init x role: does the predicted gate carry the role's variable
    more selectively than every other sigmoid gate?

    Effect per seed = selectivity of the predicted gate minus the best of the other sigmoid
    gates, at the last checkpoint (`supported` if the CI over solved seeds is above zero); the
    same effect at step 0 is the symmetry control (no gate should be preferred before training).
    `n_unsolved` counts the seeds left out.
    """
    unsolved = (probes[~probes["solved"]].groupby(CELL_KEYS)["seed"].nunique())
    phases = at_phase(probes[probes["solved"]])
    rows = []
    for (task, arch, init), group in phases.groupby(CELL_KEYS, sort=True):
        for role, (gate, _) in ROLE_GATES[arch].items():
            variable = EVENTS[task].get(role)
            if variable is None:
                continue  # this task has no such event
            wide = _seed_wide(group, variable)
            others = [g for g in SIGMOID_GATES[arch] if g != gate]
            effect = wide[gate] - wide[others].max(axis=1)
            best_other = wide[others].idxmax(axis=1)
            trained, initial = effect.xs("trained"), effect.xs("initial")
            verdict = stats.directional_verdict(trained, +1, n_boot, confidence)
            at_init = stats.directional_verdict(initial, +1, n_boot, confidence)
            change = stats.bootstrap_ci(trained - initial.reindex(trained.index), n_boot,
                                        confidence)
            sel = stats.bootstrap_ci(wide[gate].xs("trained"), n_boot, confidence)
            rows.append({
                "task": task, "arch": arch, "init": init, "role": role, "variable": variable,
                "gate": gate, "other_gates": " ".join(others),
                "best_other_trained": best_other.xs("trained").mode().iloc[0],
                "selectivity": sel[0], "sel_ci_low": sel[1], "sel_ci_high": sel[2],
                "effect": verdict["mean"], "ci_low": verdict["ci_low"],
                "ci_high": verdict["ci_high"], "n_seeds": verdict["n_seeds"],
                "seeds_agreeing": verdict["seeds_agreeing"], "verdict": verdict["verdict"],
                "effect_at_init": at_init["mean"], "init_ci_low": at_init["ci_low"],
                "init_ci_high": at_init["ci_high"], "verdict_at_init": at_init["verdict"],
                "change_from_init": change[0], "change_ci_low": change[1],
                "change_ci_high": change[2],
                "n_unsolved": int(unsolved.get((task, arch, init), 0)),
            })
    return pd.DataFrame(rows, columns=None if rows else CELL_KEYS + ["role", "verdict"])


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
    n_boot, confidence = stats_settings.bootstrap_samples, stats_settings.confidence
    return {"probes": probes, "ranking": c1_ranking(probes, n_boot, confidence),
            "c1": c1_verdicts(probes, n_boot, confidence), "controls": c1_controls(probes)}
