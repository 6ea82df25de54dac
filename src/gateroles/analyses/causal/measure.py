"""The interventions of claim C3 on one model, at its last checkpoint and at step 0.

Every clamp runs inside the recurrence (`interventions.forward_conditions`: all conditions of
one model stacked into a few passes, a few hundred sequences each), so a clamped gate changes
everything after it. Damage is measured as the increase of the mean per-step error on the
scored steps of one behaviour against the unclamped model on the same sequences: the 0/1 error
for classification (= accuracy lost) and the squared error for regression (= MSE gained), so
positive = worse on both. Tables (one row per condition and behaviour; `step`, `final_step`):

* `matrix`: gate x clamp value x event role x {event, control} x behaviour;
* `ablation`: per role x group size k, the targeted units' damage, the random groups' mean and
  sd, the permutation p-value and the effect size; `ablation_null`: every random group's damage;
* `swaps`: task score on every scored step before and after each block swap.
"""

from __future__ import annotations

import zlib
from functools import partial

import numpy as np
import pandas as pd
import torch

from gateroles import interventions
from gateroles.analyses.causal import NEEDS, Settings, clamps, role_off, swaps
from gateroles.information import permutation_p_value
from gateroles.models import models_from_payload
from gateroles.study import Run

# Sequences per stacked pass (`interventions.forward_conditions`): the recurrence costs least
# per sequence at a few hundred.
BATCH_SIZE = 512

MATRIX_COLUMNS = ["step", "gate", "value", "event", "condition", "behaviour", "metric",
                  "n_clamped", "n_scored", "base_score", "score", "damage", "final_step"]
ABLATION_COLUMNS = ["step", "event", "gate", "value", "k", "behaviours", "metric",
                    "n_sequences", "n_scored", "units", "targeted", "null_mean", "null_sd",
                    "n_random", "p_value", "effect_size", "final_step"]
NULL_COLUMNS = ["step", "event", "gate", "value", "k", "group", "damage", "final_step"]
SWAP_COLUMNS = ["step", "gate_a", "gate_b", "metric", "chance", "n_scored", "score_before",
                "score_after", "damage", "final_step"]


class Data:
    """The gate file's sequences as the interventions need them.

    `events`: role -> `[N, T]` bool, only roles with at least one event in the sample;
    `behaviours`: behaviour -> `[N, T]` bool (its factor and the mask), only behaviours with at
    least one scored step; `quiet`: the steps with no event of any role.
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
        self.quiet = ~np.any(list(all_events.values()), axis=0) if all_events else \
            np.ones(self.mask.shape, dtype=bool)
        self.events = {role: e for role, e in all_events.items() if e.any()}
        self.behaviours = {}
        for behaviour, factor in meta.get("behaviours", {}).items():
            scored = np.asarray(factors[factor]).astype(bool) & self.mask
            if scored.any():
                self.behaviours[behaviour] = scored

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


def matched_control(events: np.ndarray, quiet: np.ndarray, rng: np.random.Generator
                    ) -> np.ndarray:
    """`[N, T]` bool: in each sequence, as many random quiet steps as it has events (all its
    quiet steps if it has fewer)."""
    keys = np.where(quiet, rng.random(events.shape), np.inf)
    ranks = keys.argsort(axis=1).argsort(axis=1)
    return quiet & (ranks < events.sum(axis=1, keepdims=True))


def clamp_matrix(model, data: Data, arch: str, controls: dict[str, np.ndarray]
                 ) -> tuple[pd.DataFrame, np.ndarray]:
    """The matrix rows of one model (no `step`), and its unclamped per-step errors."""
    conditions: dict = {"base": None}
    for gate, value, _ in clamps(arch):
        for role, events in data.events.items():
            conditions[gate, value, role, "event"] = {gate: (events[:, :, None], value)}
            conditions[gate, value, role, "control"] = {gate: (controls[role][:, :, None],
                                                               value)}
    errors = run_errors(model, data, conditions)
    base = errors.pop("base")
    rows = []
    for (gate, value, role, condition), err in errors.items():
        where = data.events[role] if condition == "event" else controls[role]
        for behaviour, scored in data.behaviours.items():
            before, after = base[scored].mean(), err[scored].mean()
            rows.append({"gate": gate, "value": value, "event": role, "condition": condition,
                         "behaviour": behaviour, "metric": data.metric,
                         "n_clamped": int(where.sum()), "n_scored": int(scored.sum()),
                         "base_score": data.score(before), "score": data.score(after),
                         "damage": float(after - before)})
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS[1:-1]), base


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


def unit_ablation(model, activations: dict[str, np.ndarray], data: Data, arch: str,
                  settings: Settings, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Targeted vs random unit groups of each role gate (no `step`): `ablation`, `null` rows.

    Units are chosen on sequences [0, N/2) from `activations` (the gate file's, of this
    checkpoint) and clamped at the event steps of the next `settings.ablation_sequences`.
    """
    n_seq = data.inputs.shape[0]
    half = n_seq // 2
    select, test = slice(0, half), slice(half, half + min(settings.ablation_sequences,
                                                          n_seq - half))
    rows, null_rows = [], []
    for role, (gate, value) in role_off(arch).items():
        needed = [b for b in NEEDS.get(data.task, {}).get(role, ()) if b in data.behaviours]
        if role not in data.events or not needed:
            continue
        scored = np.any([data.behaviours[b][test] for b in needed], axis=0)
        at_select, at_test = data.events[role][select], data.events[role][test]
        if not (scored.any() and at_select.any() and at_test.any()):
            continue
        response = event_response(activations[gate][select], at_select)
        n_units = response.size
        members, groups_of = [], {}
        for k in settings.unit_k:
            if k >= n_units:
                continue  # no random group other than the targeted one
            targeted = targeted_units(response, k, _rng(seed, role, k, "tie"))
            groups = random_groups(n_units, k, settings.n_random, targeted,
                                   _rng(seed, role, k, "groups"))
            groups_of[k] = (targeted, groups, len(members))
            members += [targeted, *groups]
        if not members:
            continue
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
    return (pd.DataFrame(rows, columns=ABLATION_COLUMNS[1:-1]),
            pd.DataFrame(null_rows, columns=NULL_COLUMNS[1:-1]))


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


def empty_tables() -> dict[str, pd.DataFrame]:
    return {"matrix": pd.DataFrame(columns=MATRIX_COLUMNS),
            "ablation": pd.DataFrame(columns=ABLATION_COLUMNS),
            "ablation_null": pd.DataFrame(columns=NULL_COLUMNS),
            "swaps": pd.DataFrame(columns=SWAP_COLUMNS)}


def measure_models(models: dict, gates, arch: str, settings: Settings, seed: int
                   ) -> dict[str, pd.DataFrame]:
    """Every intervention on `models` (step -> model: step 0 and the last) with the data and
    activations of the gate file `gates`."""
    if not clamps(arch):
        return empty_tables()  # no sigmoid gates (rnn)
    data = Data.from_gatefile(gates)
    # The same control steps for every gate, value and checkpoint of this model.
    controls = {role: matched_control(events, data.quiet, _rng(seed, role, "control"))
                for role, events in data.events.items()}
    final = {"final_step": gates.final_step}
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in empty_tables()}
    for step, model in models.items():
        matrix, base = clamp_matrix(model, data, arch, controls)
        ablation, null = unit_ablation(model, gates.gates(step), data, arch, settings, seed)
        swapped = block_swaps(model, data, arch, base)
        for name, table in (("matrix", matrix), ("ablation", ablation),
                            ("ablation_null", null), ("swaps", swapped)):
            parts[name].append(table.assign(step=step))
    columns = {"matrix": MATRIX_COLUMNS, "ablation": ABLATION_COLUMNS,
               "ablation_null": NULL_COLUMNS, "swaps": SWAP_COLUMNS}
    return {name: pd.concat(frames, ignore_index=True).assign(**final)[columns[name]]
            for name, frames in parts.items()}


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """`matrix`, `ablation`, `ablation_null` and `swaps` of one model, at step 0 and at its
    last checkpoint (`step`, `final_step` columns)."""
    gates = inputs.gates
    if not clamps(run.arch):
        return empty_tables()
    models = models_from_payload(inputs.checkpoints)
    steps = dict.fromkeys((0, gates.final_step))
    missing = [s for s in steps if s not in models or s not in gates.steps]
    if missing:
        raise ValueError(f"causal: checkpoints {missing} are missing from the checkpoint or "
                         f"gate file of {run.path} (step 0 and the last are needed)")
    return measure_models({s: models[s] for s in steps}, gates, run.arch, settings, run.seed)
