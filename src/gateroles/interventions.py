"""Interventions on a recurrent model: clamp gates inside the recurrence, swap weight blocks.

`forward` runs the same recurrence as `gates.extract` (`gates.run`) with a clamp
`{gate: (where, value)}`: where `where` is true the gate's activation is replaced by `value`
before it is used, so the change propagates through the recurrence and the read-out. Without a
clamp it is `gates.extract` plus the read-out. `differentiable=True` runs the autograd twin
(`gates.run_differentiable`, tested equal) for gradient-path analyses.

Many conditions in one pass: the recurrence is batched over sequences, so C conditions on the
same N sequences are one run of C * N sequences (the inputs repeated C times, the `where` and
`value` arrays of the conditions stacked along the batch). `forward_conditions` does the
repeat, stacks, runs and splits, a few hundred sequences per pass (the fastest size per
sequence here); `stack_conditions` / `split_conditions` are its halves.
The cost of a clamp is one vectorised `torch.lerp` per clamped gate per step that it touches.

A module on a GPU is read through a CPU copy (`gates.on_cpu`; the recurrence is written for
the CPU) and stays where it is; `differentiable=True` needs it on the CPU.

Gate names are those of `gates.extract` (`models.SPECS[arch].gates`); in the GRU's PyTorch
convention `h = (1 - z) n + z h_prev`, so clamping `update` to 1 keeps the state. On
`lstm_cifg` the forget gate is computed as 1 - input (from the tied rows); a clamp of `input`
or of `forget` replaces only that gate's own use.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from gateroles import gates
from gateroles.models import BLOCKS, spec


def forward(model: nn.Module, inputs, clamp: dict | None = None, *, layer: int = -1,
            preactivations: bool = False, differentiable: bool = False,
            state_offsets: dict | None = None, detach_recurrent: bool = False, h0=None,
            lengths=None, keep_jacobian: float | None = None) -> dict:
    """Run `model` on `inputs` (`[N, T, input_size]` for a batch_first module; any layout and
    option `gates.extract` takes) with gates clamped in layer `layer`.

    `clamp`: `{gate: (where, value)}`, `where` a boolean array broadcastable to the gates'
    shape in the module's layout (`[N, T, H]`; `[N, T, 2 H]` for a bidirectional module),
    `value` a number or an array broadcastable to it. Returns `gates.extract`'s dict (every
    gate as it was used, clamped values included; the states; `<gate>_logit`, the computed
    pre-activations before any clamp, with `preactivations=True`) and `outputs`: a project
    model's read-out of the top layer (`[N, T, n_outputs]`), or a bare module's own output (its
    top layer, which a clamp in a lower layer reaches through the layers above): numpy arrays,
    or with `differentiable=True` torch tensors in the autograd graph, where `state_offsets`,
    `detach_recurrent` and `keep_jacobian` (the keep gate clamped inside the Jacobian only)
    are available (see `gates.run_differentiable`). `h0` (the start
    state as the module's forward takes it) and `lengths` as in `gates.extract`.
    """
    if differentiable:
        if preactivations:
            raise ValueError("preactivations are not returned with differentiable=True")
        return gates.run_differentiable(model, inputs, clamp, layer=layer,
                                        state_offsets=state_offsets,
                                        detach_recurrent=detach_recurrent, readout=True,
                                        h0=h0, lengths=lengths, keep_jacobian=keep_jacobian)
    if state_offsets is not None or detach_recurrent or keep_jacobian is not None:
        raise ValueError("state_offsets, detach_recurrent and keep_jacobian need "
                         "differentiable=True")
    out = gates.run(model, inputs, clamp, layer=layer, preactivations=preactivations,
                    readout=True, h0=h0, lengths=lengths)
    return {name: value.numpy() for name, value in out.items()}


def _batch_axis(model: nn.Module, x: torch.Tensor) -> int:
    """Where the sequences are in `model`'s layout: 0, or 1 for a batch_first=False module."""
    rec = gates.describe(model)
    if x.ndim != 3:
        raise ValueError(f"stacked conditions need batched inputs [N, T, {rec.input_size}] in "
                         f"the module's layout, got {tuple(x.shape)}")
    return 0 if rec.batch_first else 1


def _repeat_options(model: nn.Module, options: dict, copies: int) -> dict:
    """`forward`'s per-sequence options (`lengths`, `h0`) for `copies` stacked conditions."""
    options = dict(options)
    if options.get("lengths") is not None:
        options["lengths"] = np.tile(np.asarray(options["lengths"]), copies)
    h0 = options.get("h0")
    if h0 is not None:
        axis = 0 if gates.describe(model).is_cell else 1  # cells: [N, H]; modules: [L, N, H]
        states = h0 if isinstance(h0, tuple | list) else (h0,)
        repeated = tuple(torch.cat([torch.as_tensor(s)] * copies, dim=axis) for s in states)
        options["h0"] = repeated if isinstance(h0, tuple | list) else repeated[0]
    return options


def stack_conditions(model: nn.Module, inputs, conditions: Sequence[dict | None]
                     ) -> tuple[torch.Tensor, dict]:
    """(inputs repeated C times `[C * N, T, input_size]`, one clamp over the stacked batch).

    Condition c occupies sequences `c * N` to `(c + 1) * N`. Each condition's `where` and
    `value` are broadcast only as far as the conditions need (a per-step mask `[N, T, 1]`
    stays `[C * N, T, 1]`); a gate a condition does not clamp is unclamped there.
    """
    x = torch.as_tensor(inputs, dtype=torch.float32)
    axis = _batch_axis(model, x)
    n = x.shape[axis]
    rec, arch = gates.describe(model), gates.architecture(model)
    shape = (*x.shape[:2], rec.directions * rec.hidden_size)
    one = (n, 1, 1) if axis == 0 else (1, n, 1)
    checked = [gates.clamp_tensors(arch, c, shape) for c in conditions]
    stacked = {}
    for gate in dict.fromkeys(g for c in checked for g in c):
        own = [c[gate] for c in checked if gate in c]
        # the smallest [N, T', H'] every condition's `where` and `value` broadcast to
        mask_shape = torch.broadcast_shapes(one, *(gates.unexpand(m).shape for m, _ in own))
        value_shape = torch.broadcast_shapes(one, *(v.shape for _, v in own))
        masks, values = [], []
        for c in checked:
            mask, value = c.get(gate, (torch.zeros((), dtype=torch.bool), torch.zeros(())))
            masks.append(torch.broadcast_to(gates.unexpand(mask), mask_shape))
            values.append(torch.broadcast_to(value, value_shape))
        stacked[gate] = (torch.cat(masks, dim=axis), torch.cat(values, dim=axis))
    return torch.cat([x] * len(conditions), dim=axis), stacked


def split_conditions(result: dict, n_conditions: int, axis: int = 0) -> list[dict]:
    """Split a run over stacked conditions into one dict per condition (views, not copies);
    `axis`: the batch axis (1 for a batch_first=False module)."""
    parts = [{} for _ in range(n_conditions)]
    for name, value in result.items():
        for c, chunk in enumerate(np.split(value, n_conditions, axis=axis)
                                  if isinstance(value, np.ndarray)
                                  else value.chunk(n_conditions, dim=axis)):
            parts[c][name] = chunk
    return parts


def forward_conditions(model: nn.Module, inputs, conditions: Sequence | Mapping, *,
                       batch_size: int = 512, reduce: Callable | None = None, **options
                       ) -> list | dict:
    """`forward` under each of C conditions (clamp dicts, None for no clamp), stacked.

    `conditions` is a sequence (a list comes back) or a mapping label -> clamp (a dict label ->
    result comes back); every result equals `forward(model, inputs, clamp, **options)`, or,
    with `reduce`, `reduce(that result)`: applied to each condition as soon as its pass is
    done, so that only the reductions are kept (the full results of C conditions on N
    sequences are C times the memory of one pass).
    Conditions are stacked `max(1, batch_size // N)` at a time: on these CPUs the recurrence
    costs least per sequence at a few hundred sequences per pass (LSTM, H=32: 33 us at 400,
    50 at 100, 63 at 2000, where the buffers no longer fit in cache).
    `options` go to `forward` (`lengths` and `h0` repeated for each stacked condition): with
    `differentiable=True`, `state_offsets` must then cover a stacked batch, so pass
    `batch_size` >= C * N there.
    """
    model = gates.on_cpu(model)  # once, not per pass
    labels = list(conditions) if isinstance(conditions, Mapping) else None
    clamps = [conditions[k] for k in labels] if labels is not None else list(conditions)
    axis = _batch_axis(model, torch.as_tensor(inputs))
    per_pass = max(1, batch_size // inputs.shape[axis])
    parts = []
    for start in range(0, len(clamps), per_pass):
        group = clamps[start:start + per_pass]
        x, stacked = stack_conditions(model, inputs, group)
        done = split_conditions(
            forward(model, x, stacked, **_repeat_options(model, options, len(group))),
            len(group), axis)
        parts += [reduce(part) for part in done] if reduce is not None else done
    return dict(zip(labels, parts, strict=True)) if labels is not None else parts


def forward_unit_groups(model: nn.Module, inputs, gate: str, where, groups, value: float, *,
                        batch_size: int = 512, reduce: Callable | None = None, **options
                        ) -> list:
    """`forward` with `gate` clamped to `value` at the steps `where` (`[N, T]` bool) on the
    units of one group, for each of G groups (`groups`, `[G, H]` bool), stacked.

    The same results as `forward_conditions(model, inputs, [{gate: (where[:, :, None] & g,
    value)} for g in groups], ...)` (tested), without its per-condition cost (each condition's
    clamp is checked and broadcast on its own there, ~0.3 ms each): the stacked clamp of a pass
    is built in one operation, so a null of many random unit groups costs what its recurrence
    costs. Returns a list of G results (or `reduce` of each, as in `forward_conditions`).
    """
    model = gates.on_cpu(model)  # once, not per pass
    x = torch.as_tensor(inputs, dtype=torch.float32)
    axis = _batch_axis(model, x)
    steps = torch.as_tensor(np.asarray(where, dtype=bool))  # [N, T] whatever the layout
    units = torch.as_tensor(np.asarray(groups, dtype=bool))
    n, t_len = steps.shape
    per_pass = max(1, batch_size // n)
    parts = []
    for start in range(0, len(units), per_pass):
        chunk = units[start:start + per_pass]
        mask = (steps[None, :, :, None] & chunk[:, None, None, :]).reshape(-1, t_len,
                                                                           chunk.shape[1])
        done = split_conditions(
            forward(model, torch.cat([x] * len(chunk), dim=axis),
                    {gate: (mask.transpose(0, 1) if axis else mask, value)},
                    **_repeat_options(model, options, len(chunk))), len(chunk), axis)
        parts += [reduce(part) for part in done] if reduce is not None else done
    return parts


def swap_blocks(model: nn.Module, gate_a: str, gate_b: str) -> nn.Module:
    """A deep copy of `model` with the rows of `gate_a` and `gate_b` exchanged in weight_ih,
    weight_hh, bias_ih and bias_hh of every layer and direction (a project model, a bare
    module or a cell).

    Only gates the architecture has can be swapped. On `lstm_cifg` the forget rows are minus
    the input rows, so input <-> forget is the only swap there that touches either of them
    (it keeps the tie: the new forget gate is the old input gate and vice versa).
    """
    arch = gates.architecture(model)
    s = spec(arch)
    for gate in (gate_a, gate_b):
        if gate not in s.gates:
            raise ValueError(f"cannot swap {gate!r}: the gates of {arch} are "
                             f"{', '.join(s.gates) or 'none'}")
    if s.coupled and {gate_a, gate_b} & {"input", "forget"} and {gate_a, gate_b} != {
            "input", "forget"}:
        raise ValueError(f"{arch}: forget = 1 - input, so the only swap involving either is "
                         f"input <-> forget")
    swapped = copy.deepcopy(model)
    rnn = gates.recurrent_module(swapped)
    blocks, hidden = BLOCKS[s.cell], rnn.hidden_size
    a, b = (slice(blocks.index(g) * hidden, (blocks.index(g) + 1) * hidden)
            for g in (gate_a, gate_b))
    stacked = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # every layer and direction
    with torch.no_grad():
        for name, param in rnn.named_parameters():
            if name.startswith(stacked):
                rows_a = param[a].clone()
                param[a] = param[b]
                param[b] = rows_a
    return swapped
