"""C8 across seeds: where the memory lives and how strong the keep gate's role at resets is, at
each hold length, and the verdicts on "the role grows with hold length".

Inputs: this analysis's `keep` tables, `gradient_flow`'s `interval_store` tables (the direct
path's share of the query's gradient at the store, the decades kept from lag 1), and the
per-model tables of the primary C1 and C3 measures on the hold tasks: `roles`' `shares` and
`context`, `causal`'s `matrix`, of the analysis cells and (`control_*`) of the negative
controls' cells.

`values` (one row per model x phase x measure, `MEASURES`) is summarised per task x hold x
architecture (`by_hold`: the mean and t-interval over solved seeds). The trend of a role
measure (`ROLE_MEASURES`) over the hold lengths of one task (`name@H`, at least two of them) is
the per-seed least-squares slope against log2 H, over the hold lengths that seed solved (at
least two; a control cell's every seed: the role is absent there either way); each is a
primary prediction (+1: the role grows with the hold), decided on the slope's change from step
0 (the interchange, whose step-0 model is at chance, on the trained slope against 0), beside
its negative control (`stats.attach_controls`: the same trend on the architecture that holds
the gate constant in training). The counted ones are one Holm family (claim C8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import stats, tasks
from gateroles.analyses.gradient_flow import DIRECT_STATE
from gateroles.analyses.holds import ALL_UNITS, ERASE, KEEP, MEMORY_UNITS, Settings
from gateroles.architectures import ROLE_GATES, SPECS
from gateroles.study import CELL_KEYS, at_phase

CLAIM = "C8"
# Per-model measures: name -> what it is (the section's and figures' words).
MEASURES = {
    "hold_steps": "steps between store and query (mean over intervals with no erase)",
    "saturated": "keep gate above the saturation threshold during holds (share)",
    "mean_keep": "mean keep gate during holds",
    "log10_product_keep": "log10 product of keep gates across holds with no erase",
    "log10_product_best_keep": "the same, best memory unit",
    "log10_product_erase": "log10 product of keep gates across holds with an erase",
    "log10_half": "log10 0.5^H (a constant 0.5 over the same holds)",
    "direct_share": "direct path's share of the query's gradient at the store",
    "kept_cell": "decades of dc kept from lag 1 to the store",
    "kept_hidden": "decades of dh kept from lag 1 to the store",
    "erasure_share": "forget term's share of the extra erasure at resets",
    "context": "role gate's armed-vs-unarmed RESET contrast (memory units)",
    "interchange": "role gate's interchange damage at resets minus the largest other gate's",
}
# The role measures whose trend against hold length is a prediction, with the line of evidence
# each decides and what the competing account predicts.
ROLE_MEASURES = ("erasure_share", "context", "interchange")
EVIDENCE = {
    "erasure_share": "the forget term's share of the erasure at resets grows with the hold",
    "context": "the role gate's armed-vs-unarmed contrast grows with the hold",
    "interchange": "the role gate's matched perturbation at resets gains on the other gates' "
                   "with the hold",
}
RIVAL = ("the role is set by the event token whatever the hold (or memory stays in the "
         "hidden-state loop as the hold grows): the measure does not rise with hold length")
INTERCHANGE_WHY = ("at step 0 the model is at chance: nothing to damage, so the trend of the "
                   "trained damage is its change")
VALUE_COLUMNS = ["task", "base", "hold", "arch", "init", "seed", "phase", "solved", "measure",
                 "value"]
# `by_hold`'s `cells`: the models a measure is summarised over, the solved seeds of the tested
# cells (and of every cell's memory measures), every seed of a negative control's role measures.
TESTED, CONTROL = "tested", "control"
BY_HOLD_COLUMNS = ["task", "base", "hold", "arch", "init", "cells", "measure", "phase", "mean",
                   "ci_low", "ci_high", "n_seeds", "n_unsolved"]



def _long(frame: pd.DataFrame, measure: str, value: str) -> pd.DataFrame:
    """Rows of `frame` (per model, with `phase`) as `values` rows of one measure."""
    if frame.empty:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    holds = {t: tasks.hold_of(t) for t in frame["task"].unique()}
    return pd.DataFrame({
        "task": frame["task"], "base": frame["task"].map(lambda t: holds[t][0]),
        "hold": frame["task"].map(lambda t: holds[t][1]), "arch": frame["arch"],
        "init": frame["init"], "seed": frame["seed"], "phase": frame["phase"],
        "solved": frame["solved"].astype(bool), "measure": measure,
        "value": frame[value].astype(float)})[VALUE_COLUMNS]


def _phases(table: pd.DataFrame | None) -> pd.DataFrame:
    return at_phase(table) if table is not None and len(table) else pd.DataFrame(
        columns=[*CELL_KEYS, "seed", "phase", "solved"])


def memory_values(keep: pd.DataFrame | None, store: pd.DataFrame | None) -> pd.DataFrame:
    """`values` rows of where the memory lives: the keep gate (memory units where the task has
    a memory variable, else all units) and the gradient at the store."""
    parts = []
    phases = _phases(keep)
    if len(phases):
        units = MEMORY_UNITS if (phases["units"] == MEMORY_UNITS).any() else ALL_UNITS
        own = phases[phases["units"] == units]
        kept, erased = own[own["kind"] == KEEP], own[own["kind"] == ERASE]
        parts += [_long(kept, "hold_steps", "hold_steps"),
                  _long(kept, "saturated", "saturated"), _long(kept, "mean_keep", "mean_keep"),
                  _long(kept, "log10_product_keep", "log10_product"),
                  _long(kept, "log10_product_best_keep", "log10_product_best"),
                  _long(erased, "log10_product_erase", "log10_product"),
                  _long(kept, "log10_half", "log10_half")]
    phases = _phases(store)
    if len(phases):
        free = phases[(phases["kind"] == KEEP) & (phases["condition"] == "free")]
        direct = free[(free["path"] == "direct") & (free["units"] == MEMORY_UNITS)
                      & (free["state"] == free["arch"].map(
                          lambda a: DIRECT_STATE[SPECS[a].cell]))]
        total = free[(free["path"] == "total") & (free["units"] == ALL_UNITS)]
        parts += [_long(direct, "direct_share", "share_store"),
                  _long(total[total["state"] == "cell"], "kept_cell", "kept_decades"),
                  _long(total[total["state"] == "hidden"], "kept_hidden", "kept_decades")]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=VALUE_COLUMNS)


def _reset_gate(arch: str) -> tuple[str, int] | None:
    """(the plain cell's role gate at resets, its direction) of `arch`: a negative control is
    measured on the gate it holds."""
    return ROLE_GATES[SPECS[arch].cell].get("reset")


def role_values(shares: pd.DataFrame | None, context: pd.DataFrame | None,
                matrix: pd.DataFrame | None) -> pd.DataFrame:
    """`values` rows of the keep gate's role at resets: the forget term's share of the extra
    erasure (`roles`' shares), the role gate's armed-vs-unarmed contrast in its role's direction
    (`roles`' context), its interchange damage minus the largest other gate's on the behaviours
    that need the reset (`causal`'s matrix, the mean over those behaviours)."""
    from gateroles.analyses.causal import NEEDS
    from gateroles.analyses.causal.aggregate import VS_OTHERS, interchange_effects

    parts = []
    phases = _phases(shares)
    if len(phases):
        parts.append(_long(phases[phases["event"] == "reset"], "erasure_share", "share"))
    phases = _phases(context)
    if len(phases):
        reset = phases[phases["event"] == "reset"]
        direction = reset["arch"].map(lambda a: (_reset_gate(a) or (None, np.nan))[1])
        parts.append(_long(reset.assign(strength=direction * reset["difference"]), "context",
                           "strength"))
    phases = _phases(matrix)
    rows = []
    for (task, arch, init, phase), group in (phases.groupby(CELL_KEYS + ["phase"], sort=True)
                                             if len(phases) else []):
        role = _reset_gate(arch)
        needed = NEEDS.get(task, {}).get("reset", ())
        if role is None or not needed:
            continue
        per_behaviour = [interchange_effects(group, arch, "reset", role[0], b) for b in needed]
        effects = [e[VS_OTHERS] for e in per_behaviour if e is not None and len(e[VS_OTHERS])]
        if not effects:
            continue
        mean = pd.concat(effects, axis=1).mean(axis=1)
        solved = group.groupby("seed")["solved"].first().astype(bool)
        rows.append(pd.DataFrame({"task": task, "arch": arch, "init": init, "seed": mean.index,
                                  "phase": phase, "solved": solved.reindex(mean.index).values,
                                  "advantage": mean.values}))
    if rows:
        parts.append(_long(pd.concat(rows, ignore_index=True), "interchange", "advantage"))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=VALUE_COLUMNS)


def by_hold(values: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Per task x architecture x init x cells x measure x phase: mean and t-interval over the
    solved seeds (`cells` = tested) or every seed (a negative control's role measures), with
    the seeds that did not solve the task."""
    if values.empty:
        return pd.DataFrame(columns=BY_HOLD_COLUMNS)
    keys = ["task", "base", "hold", "arch", "init", "cells", "measure", "phase"]
    rows = []
    for key, group in values.groupby(keys, sort=True, dropna=False):
        solved = group[group["solved"].astype(bool) | (group["cells"] == CONTROL)]
        mean, lo, hi = stats.mean_ci(solved["value"], confidence)
        rows.append({**dict(zip(keys, key, strict=True)), "mean": mean, "ci_low": lo,
                     "ci_high": hi, "n_seeds": int(solved["value"].notna().sum()),
                     "n_unsolved": int((~group["solved"]).sum())})
    return pd.DataFrame(rows, columns=BY_HOLD_COLUMNS)


def slopes(values: pd.DataFrame, solved_only: bool = True) -> pd.Series:
    """Per seed: the least-squares slope of `value` against log2 `hold` over the hold lengths
    where the seed has a finite value (and solved the task, with `solved_only`); NaN for a seed
    with fewer than two hold lengths."""
    part = values[np.isfinite(values["value"].astype(float))]
    if solved_only:
        part = part[part["solved"].astype(bool)]
    out = {}
    for seed, group in part.groupby("seed", sort=True):
        x = np.log2(group["hold"].to_numpy(dtype=float))
        y = group["value"].to_numpy(dtype=float)
        if np.unique(x).size < 2:
            out[seed] = np.nan
            continue
        dx = x - x.mean()
        out[seed] = float((dx * (y - y.mean())).sum() / (dx ** 2).sum())
    return pd.Series(out, dtype=float)


def _prediction(measure: str, gate: str) -> str:
    what = {"erasure_share": "the forget term's share of the extra erasure at resets",
            "context": f"the {gate} gate's armed-vs-unarmed RESET contrast",
            "interchange": f"the {gate} gate's interchange damage at resets minus the largest "
                           f"other gate's"}[measure]
    return f"{what} rises with the hold (slope per doubling > 0)"


def trend_rows(values: pd.DataFrame, settings: stats.Settings, control: bool = False
               ) -> list[dict]:
    """One prediction row per registered task x architecture x init x role measure with at
    least two hold lengths (`control`: the rows of the negative controls' cells, every seed)."""
    part = values[values["measure"].isin(ROLE_MEASURES) & values["hold"].notna()]
    rows = []
    for (base, arch, init, measure), group in part.groupby(["base", "arch", "init", "measure"],
                                                           sort=True):
        holds = sorted(group["hold"].unique())
        role = _reset_gate(arch)
        if len(holds) < 2 or role is None:
            continue
        gate = "forget" if measure == "erasure_share" else role[0]
        trained = slopes(group[group["phase"] == "trained"], solved_only=not control)
        initial = slopes(group[group["phase"] == "initial"], solved_only=not control)
        models = group[group["phase"] == "trained"]
        unsolved = 0 if control else int(
            models.groupby("seed")["solved"].apply(lambda s: (~s.astype(bool)).any()).sum())
        keys = {"claim": CLAIM, "evidence": EVIDENCE[measure], "task": base, "arch": arch,
                "init": init, "n_unsolved": unsolved, "role_gate": gate, "rival": RIVAL,
                "prediction": _prediction(measure, gate),
                "note": (f"holds {', '.join(f'{h:g}' for h in holds)}; per-seed slope against "
                         f"log2 H over the holds the seed solved (at least two); "
                         f"{MEASURES[measure]}")}
        if measure == "interchange":
            rows.append(stats.reference_row(trained, 0.0, +1, settings,
                                            initial=initial if len(initial) else None,
                                            why=INTERCHANGE_WHY, **keys))
        else:
            rows.append(stats.prediction_row(trained, initial, +1, settings, **keys))
    return rows


def c8_verdicts(values: pd.DataFrame, control_values: pd.DataFrame | None,
                settings: stats.Settings) -> pd.DataFrame:
    """The C8 verdict table: every trend beside its negative control (None: not run)."""
    rows = trend_rows(values, settings)
    controls = (trend_rows(control_values, settings, control=True)
                if control_values is not None and len(control_values) else [])
    return stats.verdict_table(stats.attach_controls(rows, controls), settings)


def aggregate(tables, runs, settings: Settings, stats_settings: stats.Settings
              ) -> dict[str, pd.DataFrame]:
    memory = memory_values(tables.get("keep"), tables.get("interval_store"))
    roles = role_values(tables.get("shares"), tables.get("context"), tables.get("matrix"))
    controls = role_values(tables.get("control_shares"), tables.get("control_context"),
                           tables.get("control_matrix"))
    values = pd.concat([memory.assign(cells=TESTED), roles.assign(cells=TESTED),
                        controls.assign(cells=CONTROL)], ignore_index=True)
    return {"values": values, "by_hold": by_hold(values, stats_settings.confidence),
            "c8": c8_verdicts(roles, controls, stats_settings)}
