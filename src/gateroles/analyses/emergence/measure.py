"""C7 per model: the push each gate receives at its events, at every checkpoint and over the
replayed first steps of training; the units' early pushes and fates; C1's outcome shares.

Tables (`step`, `final_step` on each):

* `push`: per checkpoint x role event x sigmoid gate: the gate's mean pre-activation gradient
  at the event steps and at lag-matched quiet steps, the `push` toward the role (event minus
  quiet, signed so that positive moves the gate the way the event's role asks; mean over
  units, and `magnitude`, the mean of its size per unit), and the gate's mean activation at
  both;
* `updates`: per replayed step (1..E) x role event x gate block x kind (`gradient`: the
  optimiser's gradient, `update`: Adam's actual change), projected on the event token's input
  direction, signed toward the role: this step's mean over units (`value`, and
  `step_magnitude` the mean of its size per unit) and the window's so far (`cumulative`,
  `magnitude`);
* `units`: per unit x role event: the role gate's summed early gradient and update (toward
  the role) on the event token's column, its push at step 0 (event minus quiet), and the
  unit's memory score at step 0 and at the end (`memory_unit`: among the top share);
* `outcome`: C1's attribution shares (LSTM family) at step 0 and at the last checkpoint;
* `replay`: the replayed window and how far its weights are from the saved checkpoint.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch
from torch import nn

from gateroles import interventions
from gateroles.analyses.causal.measure import lag_matched, lag_to_next
from gateroles.analyses.emergence import Settings, cell_roles, early_checkpoint
from gateroles.analyses.roles.measure import (
    memory_score,
    memory_state,
    quiet_steps,
    share_rows,
)
from gateroles.architectures import SPECS, measured_gates
from gateroles.gatefile import with_held
from gateroles.models import gate_rows, models_from_payload
from gateroles.study import Run

PUSH_COLUMNS = ["step", "event", "gate", "role_gate", "direction", "at_event", "quiet", "push",
                "magnitude", "activation", "activation_quiet", "n_events", "n_quiet"]
UPDATE_COLUMNS = ["step", "event", "gate", "role_gate", "direction", "kind", "value",
                  "cumulative", "magnitude", "step_magnitude"]
UNIT_COLUMNS = ["unit", "event", "gate", "direction", "early_gradient", "early_update",
                "initial_push", "memory_initial", "memory_final", "memory_unit"]
OUTCOME_COLUMNS = ["step", "event", "gate", "other", "own_excess", "other_excess", "share"]
REPLAY_COLUMNS = ["early_steps", "budget", "checked_step", "max_abs_diff"]
GRADIENT, UPDATE = "gradient", "update"


def previous(state: torch.Tensor) -> torch.Tensor:
    """`[N, T, H]` state at t-1 (the zero start state before the first step)."""
    return torch.cat([torch.zeros_like(state[:, :1]), state[:, :-1]], dim=1)


def scored_loss(outputs: torch.Tensor, targets, mask, kind: str) -> torch.Tensor:
    """The task's own loss summed over the scored steps (`mask`): cross-entropy for
    classification, squared error for regression."""
    mask = torch.as_tensor(np.asarray(mask, dtype=bool))
    targets = torch.as_tensor(np.asarray(targets))
    if kind == "classification":
        return nn.functional.cross_entropy(outputs[mask], targets[mask].long(), reduction="sum")
    return ((outputs[..., 0][mask] - targets[mask].float()) ** 2).sum()


def gate_gradients(model: nn.Module, inputs, targets, mask, kind: str
                   ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(activations, dL/d pre-activation) of every sigmoid gate of `model`'s cell, `[N, T, H]`
    each, from one forward and one backward pass of the differentiable recurrence.

    The backward pass gives the total derivative of the loss (`scored_loss`) with respect to
    each state (zero offsets added to it, `gates.run_differentiable`); each gate's gradient is
    then what its output multiplies, times the sigmoid's slope a (1 - a). LSTM: forget
    dL/dc_t c_{t-1}, input dL/dc_t g_t, output dL/dh_t tanh(c_t). GRU (h = (1 - z) n + z h_prev):
    update dL/dh_t (h_{t-1} - n_t), reset dL/dh_t (1 - z_t)(1 - n_t^2)(W_hn h_{t-1} + b_hn).
    A gate the architecture removed (held at 1) has activation 1 and gradient 0; one held at a
    constant in training keeps its position, so its gradient is what that position receives.
    """
    arch = model.arch
    s = SPECS[arch]
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    n, t_len = x.shape[:2]
    hidden = model.rnn.hidden_size
    offsets = {state: torch.zeros(n, t_len, hidden, requires_grad=True) for state in s.states}
    out = interventions.forward(model, x, differentiable=True, state_offsets=offsets)
    loss = scored_loss(out["outputs"], targets, mask, kind)
    grads = dict(zip(s.states, torch.autograd.grad(loss, list(offsets.values())),
                     strict=True))
    with torch.no_grad():
        one = torch.ones(n, t_len, hidden)
        acts = {g: out[g].detach() if g in out else one for g in measured_gates(arch)}
        slope = {g: a * (1 - a) for g, a in acts.items()}
        if s.cell == "lstm":
            dc, dh = grads["cell"], grads["hidden"]
            c = out["cell"].detach()
            multiplies = {"forget": dc * previous(c),
                          "input": dc * out["cell_candidate"].detach(),
                          "output": dh * torch.tanh(c)}
        elif s.cell == "gru":
            dh = grads["hidden"]
            h_prev = previous(out["hidden"].detach())
            z, cand = acts["update"], out["candidate"].detach()
            w_hn = model.rnn.weight_hh_l0[2 * hidden:].detach()
            b_hn = model.rnn.bias_hh_l0[2 * hidden:].detach()
            multiplies = {"update": dh * (h_prev - cand),
                          "reset": dh * (1 - z) * (1 - cand ** 2) * (h_prev @ w_hn.T + b_hn)}
        else:
            multiplies = {}
        gradients = {g: multiplies[g] * slope[g] for g in acts}
    return acts, gradients


def event_masks(factors: dict[str, np.ndarray], meta: dict, mask: np.ndarray, arch: str
                ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Role event -> (event steps, lag-matched quiet steps), `[N, T]` bool each, for the role
    events of `arch`'s cell that the task has. Only events with a scored step at or after
    them count (the loss cannot reach the others); the quiet steps (no event of any role, no
    context token) are matched to them in lag to the next scored step, each used once."""
    quiet = quiet_steps(factors, meta)
    reachable = np.isfinite(lag_to_next(mask))
    out = {}
    for event in cell_roles(arch):
        factor = meta["events"].get(event)
        if factor is None:
            continue
        at = factors[factor].astype(bool) & reachable
        out[event] = (at, lag_matched(at, quiet, mask))
    return out


def push_rows(acts: dict[str, torch.Tensor], grads: dict[str, torch.Tensor],
              masks: dict[str, tuple[np.ndarray, np.ndarray]], arch: str) -> list[dict]:
    """Per role event x gate: the push toward the event's role (event minus lag-matched
    quiet steps), its mean over units (`push`) and the mean of its size per unit
    (`magnitude`, >= |push|: units pushed in opposite directions do not cancel there), the
    gradient at both kinds of step and the activation at both."""
    roles = cell_roles(arch)
    rows = []
    for event, (at, quiet) in masks.items():
        role_gate, direction = roles[event]
        if not at.any() or not quiet.any():
            continue
        at_t, quiet_t = torch.as_tensor(at), torch.as_tensor(quiet)
        for gate in grads:
            g = grads[gate].double()
            per_unit = -direction * (g[at_t].mean(dim=0) - g[quiet_t].mean(dim=0))
            a = acts[gate].double().mean(dim=-1)
            rows.append({"event": event, "gate": gate, "role_gate": gate == role_gate,
                         "direction": direction, "at_event": float(g[at_t].mean()),
                         "quiet": float(g[quiet_t].mean()), "push": float(per_unit.mean()),
                         "magnitude": float(per_unit.abs().mean()),
                         "activation": float(a[at_t].mean()),
                         "activation_quiet": float(a[quiet_t].mean()),
                         "n_events": int(at.sum()), "n_quiet": int(quiet.sum())})
    return rows


def unit_push(grads: dict[str, torch.Tensor], masks: dict, arch: str) -> dict[str, np.ndarray]:
    """Role event -> `[H]`: the role gate's push per unit (event minus lag-matched quiet)."""
    roles = cell_roles(arch)
    out = {}
    for event, (at, quiet) in masks.items():
        gate, direction = roles[event]
        if gate not in grads or not at.any() or not quiet.any():
            continue
        g = grads[gate].double()
        out[event] = (-direction * (g[torch.as_tensor(at)].mean(dim=0)
                                    - g[torch.as_tensor(quiet)].mean(dim=0))).numpy()
    return out


def input_directions(inputs: np.ndarray, factors: dict[str, np.ndarray], meta: dict,
                     events) -> dict[str, np.ndarray]:
    """Event -> `[input_size]`: the event token's input direction, the mean input at the
    event steps minus at the quiet steps (for one-hot tokens, the event token's column minus
    the quiet tokens' mean column; for `adding`, the marker column)."""
    x = np.asarray(inputs, dtype=np.float64)
    quiet = quiet_steps(factors, meta)
    out = {}
    for event in events:
        at = factors[meta["events"][event]].astype(bool)
        if at.any() and quiet.any():
            out[event] = x[at].mean(axis=0) - x[quiet].mean(axis=0)
    return out


def replay(run: Run, settings: Settings, directions: dict[str, np.ndarray],
           saved: dict | None = None) -> tuple[list[dict], dict, dict]:
    """Replay the first `settings.early_steps` steps of the run's training from step 0
    (`training.train` with the run's own settings: the same initial weights, batches and
    Adam) and record every step's gradient (as the optimiser used it, after clipping) and
    Adam's update of `weight_ih`, projected on each event's input direction, per gate block.

    Returns (`updates` rows: mean over units, signed toward the event's role; per event, the
    role gate's per-unit sums over the window `{"early_gradient", "early_update"}` (`[H]`
    each); the `replay` row: the window, the budget, and the largest weight difference from
    the saved checkpoint `saved` {step: state_dict} at the window's end, NaN where none is).
    """
    from gateroles.training import DataSettings, train, train_settings

    config = settings.replay
    base = train_settings(config, run.task, run.arch)
    steps = min(settings.early_steps, base.steps)
    events = list(directions)
    d = torch.as_tensor(np.stack([directions[e] for e in events], axis=1), dtype=torch.float32)
    record = []

    def observe(step: int, model: nn.Module) -> None:
        w = model.rnn.weight_ih_l0
        record.append((step, w.grad.detach() @ d, w.detach().clone()))

    result = train(DataSettings.from_config(config).splits(run.task, run.seed), run.arch,
                   run.init, run.seed,
                   replace(base, steps=steps, checkpoints=(0, steps), early_stop=False,
                           device="cpu", eval_every=steps),
                   progress=_Quiet(), observe=observe)
    hidden = result.model.rnn.hidden_size
    roles = cell_roles(run.arch)
    blocks = {g: gate_rows(run.arch, g, hidden) for g in measured_gates(run.arch)}
    start = result.checkpoints[0]["rnn.weight_ih_l0"].float()
    sign = torch.as_tensor([roles[e][1] for e in events], dtype=torch.float64)
    before, rows = start, []
    summed = torch.zeros(start.shape[0], len(events), dtype=torch.float64)
    for step, grad, weight in record:
        update = (weight - before) @ d
        before = weight
        summed += grad.double()
        moved = (weight - start) @ d
        # per unit, signed toward each event's role: this step's and the window's so far
        parts = {GRADIENT: (-sign * grad.double(), -sign * summed),
                 UPDATE: (sign * update.double(), sign * moved.double())}
        for k, event in enumerate(events):
            role_gate, direction = roles[event]
            for gate, block in blocks.items():
                for kind, (now, so_far) in parts.items():
                    rows.append({"step": step, "event": event, "gate": gate,
                                 "role_gate": gate == role_gate, "direction": direction,
                                 "kind": kind, "value": float(now[block, k].mean()),
                                 "cumulative": float(so_far[block, k].mean()),
                                 "magnitude": float(so_far[block, k].abs().mean()),
                                 "step_magnitude": float(now[block, k].abs().mean())})
    moved = (before - start) @ d
    units = {}
    for k, event in enumerate(events):
        gate, direction = roles[event]
        units[event] = {"early_gradient": (-direction * summed[blocks[gate], k]).double().numpy(),
                        "early_update": (direction * moved[blocks[gate], k]).double().numpy()}
    check = {"early_steps": steps, "budget": base.steps, "checked_step": np.nan,
             "max_abs_diff": np.nan}
    if saved is not None and steps in saved:
        replayed = result.checkpoints[steps]
        check["checked_step"] = steps
        check["max_abs_diff"] = max(float((replayed[k].float() - saved[steps][k].float())
                                          .abs().max()) for k in replayed)
    return rows, units, check


class _Quiet:
    """A progress stream that drops the replay's validation line."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """Every table of one model (see the module docstring)."""
    data = inputs.gates
    payload = inputs.checkpoints
    saved_steps = sorted(int(s) for s in payload["steps"])
    final = saved_steps[-1]
    early = early_checkpoint(saved_steps, settings.early_steps)
    chosen = (saved_steps if settings.every_checkpoint
              else [saved_steps[0]] + ([early] if early is not None else []))
    models = models_from_payload({"meta": payload["meta"],
                                  "steps": {str(s): payload["steps"][str(s)] for s in chosen}})
    n = min(settings.n_sequences, len(data.inputs))
    factors = {k: v[:n] for k, v in data.factors.items()}
    meta, mask, kind = data.meta, np.asarray(data.mask[:n], dtype=bool), data.meta["kind"]
    masks = event_masks(factors, meta, mask, run.arch)

    push, initial_push = [], {}
    for step, model in models.items():
        for param in model.parameters():
            param.requires_grad_(False)  # gradients with respect to the states only
        acts, grads = gate_gradients(model, data.inputs[:n], data.targets[:n], mask, kind)
        push += [{**r, "step": step} for r in push_rows(acts, grads, masks, run.arch)]
        if step == saved_steps[0]:
            initial_push = unit_push(grads, masks, run.arch)

    directions = input_directions(data.inputs, data.factors, meta, masks)
    saved = {s: payload["steps"][str(s)] for s in saved_steps}
    updates, early, check = replay(run, settings, directions, saved)

    memory = meta.get("memory")
    scores = {}
    if memory in data.factors:
        for label, step in (("initial", saved_steps[0]), ("final", final)):
            state = memory_state(with_held(data.gates(step), run.arch), run.arch)
            scores[label] = memory_score(state, data.factors[memory])
    units = []
    hidden = int(payload["meta"]["hidden_size"])
    is_memory = np.zeros(hidden, dtype=bool)
    if "final" in scores:
        k = max(1, int(round(settings.memory_units * hidden)))
        is_memory[np.argsort(-scores["final"], kind="stable")[:k]] = True
    roles = cell_roles(run.arch)
    for event, sums in early.items():
        gate, direction = roles[event]
        units.append(pd.DataFrame({
            "unit": np.arange(hidden), "event": event, "gate": gate, "direction": direction,
            **sums, "initial_push": initial_push.get(event, np.full(hidden, np.nan)),
            "memory_initial": scores.get("initial", np.full(hidden, np.nan)),
            "memory_final": scores.get("final", np.full(hidden, np.nan)),
            "memory_unit": is_memory if "final" in scores else np.nan}))

    outcome = []
    for step in (saved_steps[0], final):
        acts = with_held(data.gates(step), run.arch)
        outcome += [{**r, "step": step} for r in share_rows(acts, data.factors, meta, run.arch,
                                                            settings.memory_units)]
    extra = {"final_step": final}
    return {"push": pd.DataFrame(push, columns=PUSH_COLUMNS).assign(**extra),
            "updates": pd.DataFrame(updates, columns=UPDATE_COLUMNS).assign(**extra),
            "units": (pd.concat(units, ignore_index=True) if units
                      else pd.DataFrame(columns=UNIT_COLUMNS)).assign(step=0, **extra),
            "outcome": pd.DataFrame(outcome).reindex(columns=OUTCOME_COLUMNS).assign(**extra),
            "replay": pd.DataFrame([check], columns=REPLAY_COLUMNS).assign(step=0, **extra)}
