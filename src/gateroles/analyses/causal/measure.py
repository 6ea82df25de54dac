"""The interventions of claim C3 on one model, at its last checkpoint and at step 0.

Every perturbation runs inside the recurrence (`interventions.forward_conditions`: all
conditions of one model stacked into a few passes, a few hundred sequences each), so a
perturbed gate changes everything after it. Damage is the increase of the mean per-step error
on the scored steps of one behaviour against the free (unperturbed) run on the same sequences:
the 0/1 error for classification (= accuracy lost) and the squared error for regression (= MSE
gained), so positive = worse on both. Tables (one row per condition and behaviour; `step`,
`final_step`, and `control_only`: the cell is only a negative control):

* `matrix`: the interchange of every gate at every measured role's events (scored on every
  behaviour), the role gate's interchange at lag-matched quiet steps (scored on the behaviour
  it is matched to), and the role-off clamps at the events (sanity; not on control cells);
  with the number of perturbed steps (`n_perturbed`; `n_lagged`: those with a scored step of
  the row's behaviour after them, which alone can damage it), the perturbation's size (mean
  |change| of the gate's activation) and their mean lag to the next scored step;
* `ablation` (last checkpoint only): per role x group size k, the targeted units' damage, the
  random groups' mean and sd, the permutation p-value and the effect size; `ablation_null`:
  every random group's damage;
* `swaps` (sanity; not on control cells): task score on every scored step before and after
  each block swap.

A negative-control cell (`Settings.control_only`) measures only the roles it controls
(`controlled_roles`), only the primary measures (interchange, lag-matched control, the unit
ablation at `verdict_k`), at its last checkpoint only. The unit ablation runs on the last
checkpoint only: at step 0 the model is at chance, so every group's damage is ~0 (the
negative control of the ablation is the held-gate cell), and its 100-odd passes per role
would cost what the whole interchange matrix costs.
"""

from __future__ import annotations

import zlib
from functools import partial

import numpy as np
import pandas as pd
import torch

from gateroles import interventions
from gateroles.analyses.causal import (
    CLAMP,
    EVENT,
    INTERCHANGE,
    NEEDS,
    QUIET,
    Settings,
    interchange_gates,
    measured_roles,
    swaps,
)
from gateroles.architectures import SPECS
from gateroles.information import permutation_p_value
from gateroles.models import RecurrentModel, models_from_payload
from gateroles.study import Run

# Sequences per stacked pass (`interventions.forward_conditions`): the recurrence costs least
# per sequence at a few hundred.
BATCH_SIZE = 512

MATRIX_COLUMNS = ["step", "control_only", "intervention", "gate", "value", "event",
                  "condition", "behaviour", "metric", "n_perturbed", "n_lagged", "size",
                  "mean_lag", "n_scored", "base_score", "score", "damage", "final_step"]
ABLATION_COLUMNS = ["step", "control_only", "event", "gate", "value", "k", "behaviours",
                    "metric", "n_sequences", "n_scored", "units", "targeted", "null_mean",
                    "null_sd", "n_random", "p_value", "effect_size", "final_step"]
NULL_COLUMNS = ["step", "control_only", "event", "gate", "value", "k", "group", "damage",
                "final_step"]
SWAP_COLUMNS = ["step", "gate_a", "gate_b", "metric", "chance", "n_scored", "score_before",
                "score_after", "damage", "final_step"]


def quiet_source(quiet: np.ndarray) -> np.ndarray:
    """`[N, T]` int: for every step, the quiet step whose activation an interchange puts there:
    the nearest quiet step strictly before it, else the nearest one after it, else -1 (the
    sequence has no other quiet step)."""
    n, t_len = quiet.shape
    steps = np.broadcast_to(np.arange(t_len), (n, t_len))
    last = np.maximum.accumulate(np.where(quiet, steps, -1), axis=1)  # last quiet <= t
    before = np.concatenate([np.full((n, 1), -1), last[:, :-1]], axis=1)
    first = np.minimum.accumulate(np.where(quiet, steps, t_len)[:, ::-1], axis=1)[:, ::-1]
    after = np.concatenate([first[:, 1:], np.full((n, 1), t_len)], axis=1)
    return np.where(before >= 0, before, np.where(after < t_len, after, -1))


def lag_to_next(scored: np.ndarray) -> np.ndarray:
    """`[N, T]` float: steps from each step to the next scored step at or after it (0 on a
    scored step), inf where none follows."""
    t_len = scored.shape[1]
    steps = np.arange(t_len)
    following = np.minimum.accumulate(np.where(scored, steps, t_len)[:, ::-1], axis=1)[:, ::-1]
    return np.where(following < t_len, following - steps, np.inf)


def lag_matched(events: np.ndarray, candidates: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """`[N, T]` bool: for every event with a scored step after it, one candidate (quiet) step
    of the same sequence at the same lag to its next scored step (`lag_to_next`): the nearest
    lag, then the nearest in time, each candidate used once (an event whose candidates are all
    taken gets none).

    Vectorised over events: each round every unmatched event takes its best open candidate, the
    cheapest claim on a step wins it, and the step closes for the other events of its sequence;
    the rounds are at most the events of one sequence.
    """
    lag = lag_to_next(scored)
    chosen = np.zeros(events.shape, dtype=bool)
    rows, steps = np.nonzero(events & np.isfinite(lag))
    if not rows.size:
        return chosen
    t_len = events.shape[1]
    own = lag[rows]  # [M, T]: the lags of every step of each event's sequence
    with np.errstate(invalid="ignore"):
        cost = (np.abs(own - lag[rows, steps][:, None]) * (t_len + 1)
                + np.abs(np.arange(t_len) - steps[:, None]))
    cost = np.where((candidates & np.isfinite(lag))[rows], cost, np.inf)
    pending = np.ones(rows.size, dtype=bool)
    while True:
        best = cost.argmin(axis=1)
        best_cost = cost[np.arange(rows.size), best]
        claim = np.flatnonzero(pending & np.isfinite(best_cost))
        if not claim.size:
            return chosen
        key = rows[claim] * t_len + best[claim]
        order = np.lexsort((claim, best_cost[claim], key))
        first = np.ones(order.size, dtype=bool)
        first[1:] = key[order][1:] != key[order][:-1]
        won = claim[order[first]]
        chosen[rows[won], best[won]] = True
        pending[won] = False
        cost[chosen[rows]] = np.inf


class Data:
    """The gate file's sequences as the interventions need them.

    `events`: role -> `[N, T]` bool, only roles with at least one event in the sample;
    `behaviours`: behaviour -> `[N, T]` bool (its factor and the mask), only behaviours with at
    least one scored step; `quiet`: the steps with no event of any role and no other marked
    token (no `is_*` factor holds: a distractor); `source`: each step's interchange source
    (`quiet_source`).
    """

    def __init__(self, inputs, targets, mask, factors: dict, meta: dict):
        self.inputs = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
        self.targets = np.asarray(targets)
        self.mask = np.asarray(mask, dtype=bool)
        self.kind, self.task = meta["kind"], meta["task"]
        self.chance = float(meta.get("chance", np.nan))
        self.metric = "accuracy" if self.kind == "classification" else "mse"
        all_events = {role: np.asarray(factors[f]).astype(bool)
                      for role, f in meta["events"].items()}
        marked = [np.asarray(v).astype(bool) for k, v in factors.items() if k.startswith("is_")]
        self.quiet = ~np.logical_or.reduce([*all_events.values(), *marked,
                                            np.zeros(self.mask.shape, dtype=bool)])
        self.source = quiet_source(self.quiet)
        self.events = {role: e for role, e in all_events.items() if e.any()}
        self.behaviours = {}
        for behaviour, factor in meta.get("behaviours", {}).items():
            scored = np.asarray(factors[factor]).astype(bool) & self.mask
            if scored.any():
                self.behaviours[behaviour] = scored
        self.lags = {b: lag_to_next(s) for b, s in self.behaviours.items()}

    @classmethod
    def from_gatefile(cls, gates) -> Data:
        return cls(gates.inputs, gates.targets, gates.mask, gates.factors, gates.meta)

    def errors(self, outputs, rows: slice = slice(None)) -> np.ndarray:
        """Per-step error `[n, T]` of `outputs` against the targets of sequences `rows`: 0/1
        (classification) or squared (regression)."""
        targets = self.targets[rows]
        if self.kind == "classification":
            return (outputs.argmax(-1) != targets).astype(np.float64)
        return (outputs[..., 0].astype(np.float64) - targets) ** 2

    def score(self, mean_error: float) -> float:
        """Accuracy (1 - mean 0/1 error) or MSE (the mean squared error)."""
        return 1.0 - mean_error if self.kind == "classification" else mean_error

    def needed(self, role: str) -> list[str]:
        """The behaviours (with scored steps) that need `role` (`NEEDS`)."""
        return [b for b in NEEDS.get(self.task, {}).get(role, ()) if b in self.behaviours]


def as_plain_cell(model: RecurrentModel) -> RecurrentModel:
    """`model` as its plain cell (`lstm` / `gru`) when it removes gates: the same weights, a
    removed gate a constant-1 gate (its rows 0, its bias at a sigmoid of exactly 1), so it can
    be interchanged and clamped like the others; other models unchanged."""
    if not SPECS[model.arch].removed:
        return model
    rnn = model.rnn
    plain = RecurrentModel(SPECS[model.arch].cell, rnn.input_size, rnn.hidden_size,
                           model.readout.out_features, rnn.num_layers)
    plain.load_state_dict(model.state_dict())
    return plain.eval()


def run_errors(model, data: Data, conditions: dict, rows: slice = slice(None)) -> dict:
    """label -> per-step errors `[n, T]` of each condition (a clamp or None), all stacked."""
    return interventions.forward_conditions(
        model, data.inputs[rows], conditions, batch_size=BATCH_SIZE,
        reduce=lambda out: data.errors(out["outputs"], rows))


def _mean_error(data: Data, rows: slice, scored: np.ndarray, out: dict) -> float:
    return data.errors(out["outputs"], rows)[scored].mean()


def _rng(*keys) -> np.random.Generator:
    """A generator seeded by integers and strings (strings through crc32)."""
    return np.random.default_rng([zlib.crc32(k.encode()) if isinstance(k, str) else int(k)
                                  for k in keys])


def conditions(data: Data, arch: str, roles: dict, free: dict, sanity: bool = True
               ) -> list[dict]:
    """Every perturbation of one model whose free run (`interventions.forward`) is `free`:
    per condition its `intervention`, `gate`, `value`, `event`, `condition`, the steps it
    perturbs (`where`, `[N, T]`), what it puts there (`values`), the behaviours it is scored
    on, its `size` (the mean |change| of the gate's activation at `where`; NaN where it
    perturbs no step) and its `clamp` for `interventions.forward` (None for a perturbation
    that changes no activation: the interchange of a constant gate, a clamp to the value a
    gate is held at, or no step to perturb)."""
    interchanged = {g: np.take_along_axis(free[g], np.maximum(data.source, 0)[:, :, None],
                                          axis=1) for g in interchange_gates(arch)}
    has_source = data.source >= 0
    out = []
    for role, (role_gate, off) in roles.items():
        if role not in data.events:
            continue
        events = data.events[role]
        for gate in interchange_gates(arch):
            out.append({"intervention": INTERCHANGE, "gate": gate, "value": np.nan,
                        "event": role, "condition": EVENT, "where": events & has_source,
                        "values": interchanged[gate], "behaviours": list(data.behaviours)})
        for behaviour in data.needed(role):
            quiet = lag_matched(events, data.quiet & has_source, data.behaviours[behaviour])
            out.append({"intervention": INTERCHANGE, "gate": role_gate, "value": np.nan,
                        "event": role, "condition": QUIET, "where": quiet,
                        "values": interchanged[role_gate], "behaviours": [behaviour]})
        if sanity:
            out.append({"intervention": CLAMP, "gate": role_gate, "value": off, "event": role,
                        "condition": EVENT, "where": events, "values": np.float32(off),
                        "behaviours": list(data.behaviours)})
    for c in out:
        moved = np.abs(np.broadcast_to(c["values"], free[c["gate"]].shape)
                       - free[c["gate"]])[c["where"]]
        c["size"] = float(moved.mean()) if moved.size else np.nan
        c["clamp"] = ({c["gate"]: (c["where"][:, :, None], c["values"])}
                      if moved.size and moved.any() else None)
    return out


def perturbation_matrix(model, data: Data, arch: str, roles: dict, sanity: bool = True
                        ) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The matrix rows of one model (no `step`, `control_only`), its free run's per-step errors
    and its free run (`interventions.forward`). `model` runs as its plain cell
    (`as_plain_cell`). A perturbation that changes no activation (the interchange of a
    constant gate, a clamp to the value a gate is held at) is not run: its damage is exactly 0.
    """
    free = interventions.forward(model, data.inputs)
    base = data.errors(free["outputs"])
    perturbations = conditions(data, arch, roles, free, sanity)
    to_run = {k: c["clamp"] for k, c in enumerate(perturbations) if c["clamp"] is not None}
    errors = run_errors(model, data, to_run) if to_run else {}
    rows = []
    for k, c in enumerate(perturbations):
        err = errors.get(k, base)
        for behaviour in c["behaviours"]:
            scored, lag = data.behaviours[behaviour], data.lags[behaviour][c["where"]]
            lagged = lag[np.isfinite(lag)]
            before, after = base[scored].mean(), err[scored].mean()
            rows.append({key: c[key] for key in ("intervention", "gate", "value", "event",
                                                 "condition")}
                        | {"behaviour": behaviour, "metric": data.metric,
                           "n_perturbed": int(c["where"].sum()), "n_lagged": lagged.size,
                           "size": c["size"],
                           "mean_lag": float(lagged.mean()) if lagged.size else np.nan,
                           "n_scored": int(scored.sum()), "base_score": data.score(before),
                           "score": data.score(after), "damage": float(after - before)})
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS[2:-1]), base, free


def event_response(activation: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Per unit `[H]`: |mean activation at the event steps - mean at the other steps|."""
    a = np.asarray(activation, dtype=np.float64)
    return np.abs(a[events].mean(axis=0) - a[~events].mean(axis=0))


def targeted_units(response: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """The `k` units of largest `response` (ties broken at random), sorted."""
    order = np.lexsort((rng.random(response.size), -response))
    return np.sort(order[:k])


def random_groups(n_units: int, k: int, n: int, exclude: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """`[n, k]`: `n` random groups of `k` distinct units, none equal to the group `exclude`."""
    groups = np.sort(rng.random((n, n_units)).argsort(axis=1)[:, :k], axis=1)
    same = (groups == np.sort(exclude)).all(axis=1)
    while same.any():
        groups[same] = np.sort(rng.random((int(same.sum()), n_units)).argsort(axis=1)[:, :k],
                               axis=1)
        same = (groups == np.sort(exclude)).all(axis=1)
    return groups


def effect_size(targeted: float, null: np.ndarray) -> float:
    """(targeted - mean null) / sd null (ddof 1); 0 when all equal, NaN when only the sd is 0."""
    mean, sd = float(np.mean(null)), float(np.std(null, ddof=1)) if null.size > 1 else 0.0
    if sd > 0:
        return (targeted - mean) / sd
    return 0.0 if targeted == mean else float("nan")


def unit_ablation(model, activations: dict[str, np.ndarray], data: Data, roles: dict,
                  settings: Settings, seed: int, ks=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Targeted vs random unit groups of each role gate (no `step`, `control_only`):
    `ablation`, `null` rows, for the group sizes `ks` (default `settings.unit_k`).

    Units are chosen on sequences [0, N/2) from `activations` (the free run's, of this
    checkpoint) and clamped at the event steps of the next `settings.ablation_sequences`. A
    gate already at the role-off value wherever it would be clamped (a gate held there) is not
    run: every group's damage is exactly 0.
    """
    n_seq = data.inputs.shape[0]
    half = n_seq // 2
    select, test = slice(0, half), slice(half, half + min(settings.ablation_sequences,
                                                          n_seq - half))
    rows, null_rows = [], []
    for role, (gate, value) in roles.items():
        needed = data.needed(role)
        if role not in data.events or not needed:
            continue
        scored = np.any([data.behaviours[b][test] for b in needed], axis=0)
        at_select, at_test = data.events[role][select], data.events[role][test]
        if not (scored.any() and at_select.any() and at_test.any()):
            continue
        response = event_response(activations[gate][select], at_select)
        n_units = response.size
        members, groups_of = [], {}
        for k in settings.unit_k if ks is None else ks:
            if k >= n_units:
                continue  # no random group other than the targeted one
            targeted = targeted_units(response, k, _rng(seed, role, k, "tie"))
            groups = random_groups(n_units, k, settings.n_random, targeted,
                                   _rng(seed, role, k, "groups"))
            groups_of[k] = (targeted, groups, len(members))
            members += [targeted, *groups]
        if not members:
            continue
        if (activations[gate][test][at_test] == value).all():
            damage = np.zeros(len(members))  # clamped to where it is held: nothing changes
        else:
            units = np.zeros((len(members), n_units), dtype=bool)
            for row, group in enumerate(members):
                units[row, group] = True
            before = run_errors(model, data, [None], test)[0][scored].mean()
            damage = np.array(interventions.forward_unit_groups(
                model, data.inputs[test], gate, at_test, units, value, batch_size=BATCH_SIZE,
                reduce=partial(_mean_error, data, test, scored))) - before
        for k, (targeted, groups, first) in groups_of.items():
            hit, null = damage[first], damage[first + 1:first + 1 + len(groups)]
            rows.append({"event": role, "gate": gate, "value": value, "k": k,
                         "behaviours": " ".join(needed), "metric": data.metric,
                         "n_sequences": test.stop - test.start, "n_scored": int(scored.sum()),
                         "units": " ".join(map(str, targeted)), "targeted": float(hit),
                         "null_mean": float(null.mean()),
                         "null_sd": float(null.std(ddof=1)) if null.size > 1 else np.nan,
                         "n_random": int(null.size),
                         "p_value": permutation_p_value(hit, null),
                         "effect_size": effect_size(hit, null)})
            null_rows += [{"event": role, "gate": gate, "value": value, "k": k, "group": g,
                           "damage": float(d)} for g, d in enumerate(null)]
    return (pd.DataFrame(rows, columns=ABLATION_COLUMNS[2:-1]),
            pd.DataFrame(null_rows, columns=NULL_COLUMNS[2:-1]))


def block_swaps(model, data: Data, arch: str, base: np.ndarray) -> pd.DataFrame:
    """Task score on every scored step before and after each swap (no `step`)."""
    before = base[data.mask].mean()
    rows = []
    for a, b in swaps(arch):
        out = interventions.forward(interventions.swap_blocks(model, a, b), data.inputs)
        after = data.errors(out["outputs"])[data.mask].mean()
        rows.append({"gate_a": a, "gate_b": b, "metric": data.metric, "chance": data.chance,
                     "n_scored": int(data.mask.sum()), "score_before": data.score(before),
                     "score_after": data.score(after), "damage": float(after - before)})
    return pd.DataFrame(rows, columns=SWAP_COLUMNS[1:-1])


COLUMNS = {"matrix": MATRIX_COLUMNS, "ablation": ABLATION_COLUMNS,
           "ablation_null": NULL_COLUMNS, "swaps": SWAP_COLUMNS}


def empty_tables() -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(columns=columns) for name, columns in COLUMNS.items()}


def measure_models(models: dict, gates, arch: str, settings: Settings, seed: int
                   ) -> dict[str, pd.DataFrame]:
    """Every intervention on `models` (step -> model: step 0 and the last, or the last alone
    on a control cell) with the data of the gate file `gates`."""
    if not interchange_gates(arch):
        return empty_tables()  # no sigmoid gates (rnn)
    data = Data.from_gatefile(gates)
    control_only = settings.control_only
    roles = measured_roles(arch, control_only)
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in COLUMNS}
    for step, model in models.items():
        runner = as_plain_cell(model)
        matrix, base, free = perturbation_matrix(runner, data, arch, roles,
                                                 sanity=not control_only)
        parts["matrix"].append(matrix.assign(step=step))
        if step == gates.final_step:
            ablation, null = unit_ablation(runner, free, data, roles, settings, seed,
                                           ks=(settings.verdict_k,) if control_only else None)
            parts["ablation"].append(ablation.assign(step=step))
            parts["ablation_null"].append(null.assign(step=step))
        if not control_only:
            parts["swaps"].append(block_swaps(model, data, arch, base).assign(step=step))
    out = {}
    for name, columns in COLUMNS.items():
        frames = [f for f in parts[name] if len(f)]
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=[c for c in columns if c not in ("control_only", "final_step")])
        out[name] = table.assign(final_step=gates.final_step)
        if "control_only" in columns:
            out[name] = out[name].assign(control_only=control_only)
        out[name] = out[name][columns]
    return out


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """`matrix`, `ablation`, `ablation_null` and `swaps` of one model, at step 0 and at its
    last checkpoint (the last alone on a control cell) (`step`, `final_step` columns)."""
    if not interchange_gates(run.arch):
        return empty_tables()
    gates = inputs.gates
    models = models_from_payload(inputs.checkpoints)
    steps = [gates.final_step] if settings.control_only else list(
        dict.fromkeys((0, gates.final_step)))
    missing = [s for s in steps if s not in models]
    if missing:
        raise ValueError(f"causal: checkpoints {missing} are missing from the checkpoint file "
                         f"of {run.path} (step 0 and the last are needed)")
    return measure_models({s: models[s] for s in steps}, gates, run.arch, settings, run.seed)
