"""Recompute gate activations from a recurrent module's own weights, optionally with clamps.

PyTorch's fused `nn.LSTM`/`nn.GRU`/`nn.RNN` never expose their gates, so we run the same
equations again from the module's parameters. The recomputed hidden states must equal the
module's outputs to float tolerance: that equality (tested for every architecture and every
module option) is what makes the extracted gates the real ones. Gate names and which gates an
architecture has come from `gateroles.architectures.SPECS`; a gate an architecture lacks is
absent from the output.

LSTM (gate order i, f, g, o in PyTorch's stacked weights)::

    i, f, o = sigmoid(.), g = tanh(.),  c = f * c_prev + i * g,  h = o * tanh(c)
    (with proj_size: h = W_hr (o * tanh(c)))

The LSTM variants run the same equations on their own weights: a removed gate's logit is a
constant at which the sigmoid is exactly 1.0, and the coupled variant's forget rows are minus
its input rows (f = sigmoid(-z_i) = 1 - i); `models.RecurrentModel.check_constraints` is
checked first.

GRU (gate order r, z, n)::

    r, z = sigmoid(.),  n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h = (1 - z) * n + z * h_prev

so in PyTorch's convention an update gate z near 1 *keeps* the state. Plain RNN:
`h = tanh(W_ih x + b_ih + W_hh h_prev + b_hh)` (or relu).

Every option of torch's recurrent modules (`describe` reads them; anything else is an error
naming what is supported):
- `nn.LSTM`, `nn.GRU`, `nn.RNN` with `batch_first` either way: inputs and every returned array
  are in the module's own layout (`[N, T, .]` or `[T, N, .]`; an unbatched `[T, input_size]`
  gives `[T, .]`), and so are clamp masks;
- `bidirectional`: the directions are concatenated on the last axis in torch's order (forward
  units, then reverse units), so `hidden` equals the module's output; a clamp's last axis
  covers both directions (`[.., 2 H]`, or 1 for both);
- `num_layers > 1`: `layer=` picks the layer returned and clamped; with `readout` the layers
  above run on the clamped layer's output;
- `proj_size` (LSTM): gates and `cell` have `hidden_size` units, `hidden` has `proj_size`;
- `bias=False`; a start state as torch's forward takes it (`h0=`: a tensor
  `[D * num_layers, N, H_out]`, or the tuple `(h0, c0)` for an LSTM);
- a `PackedSequence` or `lengths=` (`[N]`): padded steps are neither computed into the state
  (each sequence's reverse direction starts at its own last step) nor reported (0 in every
  array, as `pad_packed_sequence` pads);
- `nn.LSTMCell` / `nn.GRUCell` / `nn.RNNCell` passed directly run over a sequence `[N, T,
  input_size]` as one layer (start state as the cell takes it: `[N, H]` or `(h, c)`).
The module must hold float32 parameters, and a multi-layer module with dropout must be in
eval mode (dropout is random in training mode, so no recomputation can equal it).

Two implementations of one layer's recurrence, tested equal to each other and to the fused
modules, driven by one loop over layers and directions (`recurrence`):
- `run` (behind `extract` and `interventions.forward`): no autograd, arranged for speed (the
  loop over time is per-operation-overhead bound). It writes into preallocated buffers with
  `out=` and keeps rescaled states (`2c`, `h / 2`, `(h + 1) / 2`), which autograd cannot follow;
  the two directions of a bidirectional layer run in the same loop (one batched product per
  step). A clamp replaces a gate's activation at the chosen (sequence, step, unit)s right after
  it is computed, before it is used, so the change propagates; without a clamp the loop does
  nothing extra. Per-step hooks (`gateroles.lens`) see and may replace any gate or state.
- `run_differentiable`: the textbook equations with autograd (slower), with the same clamps,
  additive zero probes on the states and optional detaching of the recurrent matrix products
  (for gradient-path analyses).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

# SIGMOID_GATES (arch -> sigmoid gates, whose pre-activations can be returned) is re-exported.
from gateroles.architectures import SIGMOID_GATES, SPECS, spec  # noqa: F401

LSTM_OUTPUTS = SPECS["lstm"].outputs
GRU_OUTPUTS = SPECS["gru"].outputs

MODULES = (nn.LSTM, nn.GRU, nn.RNN)
CELLS = (nn.LSTMCell, nn.GRUCell, nn.RNNCell)
SUPPORTED = ("nn.LSTM, nn.GRU, nn.RNN (any batch_first, bidirectional, num_layers, proj_size, "
             "bias), nn.LSTMCell, nn.GRUCell, nn.RNNCell, or a model holding one as `.rnn`")


def recurrent_module(model: nn.Module) -> nn.Module:
    """The recurrent module inside a project model (`.rnn`), or the module itself."""
    rnn = getattr(model, "rnn", model)
    if not isinstance(rnn, MODULES + CELLS):
        given = type(model).__name__ + (f" (its .rnn is a {type(rnn).__name__})"
                                        if rnn is not model else "")
        raise TypeError(f"cannot read gates from a {given}: expected {SUPPORTED}")
    return rnn


@dataclass(frozen=True)
class Recurrence:
    """What a torch recurrent module computes: its kind and options, and its parameters."""

    module: nn.Module
    cell: str  # lstm, gru, rnn
    input_size: int
    hidden_size: int
    proj_size: int
    num_layers: int
    directions: int
    batch_first: bool
    nonlinearity: str
    is_cell: bool

    @property
    def out_size(self) -> int:
        """Width of one direction's hidden state (`proj_size` when the LSTM projects)."""
        return self.proj_size or self.hidden_size

    def params(self, layer: int, direction: int) -> tuple:
        """(w_ih, w_hh, b_ih, b_hh, w_hr or None) of one layer and direction; missing
        biases are zeros."""
        suffix = "" if self.is_cell else f"_l{layer}" + ("_reverse" if direction else "")
        w_ih = getattr(self.module, "weight_ih" + suffix)
        w_hh = getattr(self.module, "weight_hh" + suffix)
        b_ih, b_hh = (getattr(self.module, name + suffix, None) for name in ("bias_ih", "bias_hh"))
        w_hr = getattr(self.module, "weight_hr" + suffix) if self.proj_size else None
        return (w_ih, w_hh, torch.zeros(w_ih.shape[0]) if b_ih is None else b_ih,
                torch.zeros(w_hh.shape[0]) if b_hh is None else b_hh, w_hr)


def describe(model: nn.Module) -> Recurrence:
    """The `Recurrence` of a project model's `.rnn` or of a torch recurrent module or cell.

    An unsupported module, a parameter dtype other than float32, or a multi-layer module with
    dropout in training mode is an error naming what was given and what is supported.
    """
    rnn = recurrent_module(model)
    kind = ("lstm" if isinstance(rnn, nn.LSTM | nn.LSTMCell) else
            "gru" if isinstance(rnn, nn.GRU | nn.GRUCell) else "rnn")
    dtypes = {p.dtype for p in rnn.parameters()}
    if dtypes - {torch.float32}:
        raise TypeError(f"{type(rnn).__name__} has {', '.join(sorted(map(str, dtypes)))} "
                        f"parameters; gate extraction supports float32 (call .float() first)")
    is_cell = isinstance(rnn, CELLS)
    if is_cell:
        layers, directions, batch_first, proj = 1, 1, True, 0
    else:
        layers, directions = rnn.num_layers, 2 if rnn.bidirectional else 1
        batch_first, proj = rnn.batch_first, getattr(rnn, "proj_size", 0)
        if rnn.training and rnn.dropout > 0 and layers > 1:
            raise ValueError(f"{type(rnn).__name__} has dropout={rnn.dropout} between its "
                             f"layers and is in training mode, where dropout is random: call "
                             f".eval() first")
    return Recurrence(rnn, kind, rnn.input_size, rnn.hidden_size, proj, layers, directions,
                      batch_first, getattr(rnn, "nonlinearity", "tanh"), is_cell)


def architecture(model: nn.Module) -> str:
    """The architecture name (`models.ARCHITECTURES`): a project model's `arch`, else 'lstm',
    'gru' or 'rnn' for a bare module or cell."""
    rnn = recurrent_module(model)
    arch = getattr(model, "arch", None)
    if arch is not None and rnn is not model:
        return arch
    return ("lstm" if isinstance(rnn, nn.LSTM | nn.LSTMCell) else
            "gru" if isinstance(rnn, nn.GRU | nn.GRUCell) else "rnn")


def on_cpu(model: nn.Module) -> nn.Module:
    """`model` itself when its parameters are on the CPU, else a copy of it on the CPU.

    `run` is written for the CPU (a loop of small in-place operations into buffers it allocates
    there), so a module trained on a GPU is read through a CPU copy: the same weights, hence the
    same gates; the caller's module stays where it is.
    """
    return model if _is_on_cpu(model) else copy.deepcopy(model).cpu()


def _is_on_cpu(model: nn.Module) -> bool:
    return all(p.device.type == "cpu" for p in model.parameters())


def gate_names(arch: str) -> tuple[str, ...]:
    """The keys of `extract` for `arch`: its gates in use, then its states."""
    return spec(arch).outputs


class Batch:
    """One call's inputs as the recurrence reads them: `x` time-major `[T, N, F]`, `lengths`
    (`[N]`, None when every sequence has all T steps), the start state (`h` `[L, D, N,
    H_out]`, `c` `[L, D, N, H]`, or None) and the module's layout ('batch_first',
    'time_first' or 'unbatched'), with the conversions between the layout and the loop's
    order (reverse directions run their sequences backwards)."""

    def __init__(self, rec: Recurrence, inputs, lengths=None, h0=None):
        self.packed = inputs if isinstance(inputs, PackedSequence) else None
        self.hint = ""  # what the error says besides the shape
        if self.packed is not None:
            if lengths is not None:
                raise ValueError("give either a PackedSequence or lengths=, not both")
            x, lengths = pad_packed_sequence(inputs)
            self.layout = "batch_first" if rec.batch_first else "time_first"
        else:
            x = torch.as_tensor(inputs)
            self.hint = "" if x.is_floating_point() else \
                f" of {x.dtype} (token ids? embed them first)"
            x = x.to(torch.float32)
            if x.ndim == 2:
                self.layout, x = "unbatched", x[:, None]
            elif x.ndim == 3:
                self.layout = "batch_first" if rec.batch_first else "time_first"
                x = x.transpose(0, 1) if rec.batch_first else x
            else:
                raise ValueError(f"inputs must be {self._expected(rec)}, got "
                                 f"{tuple(x.shape)}{self.hint}")
        if x.shape[-1] != rec.input_size:
            raise ValueError(f"inputs must be {self._expected(rec)}, got "
                             f"{tuple(self.to_module(x).shape)}{self.hint}")
        self.x = x
        self.t_len, self.n = x.shape[:2]
        self.lengths = self._lengths(lengths)
        if self.lengths is not None:
            steps = torch.arange(self.t_len)[:, None]
            self.pad = steps >= self.lengths[None, :]  # [T, N]
            # reverse direction: step t of sequence n reads step L_n - 1 - t (padding stays)
            self.rev = torch.where(self.pad, steps, self.lengths[None, :] - 1 - steps)
        self.h, self.c = self._start_state(rec, h0)

    def _expected(self, rec: Recurrence) -> str:
        if rec.is_cell:
            return f"[N, T, {rec.input_size}] (a cell runs over a sequence, batch first) or " \
                   f"[T, {rec.input_size}]"
        return (f"[N, T, {rec.input_size}] (batch_first)" if rec.batch_first else
                f"[T, N, {rec.input_size}] (batch_first=False)") + \
            f" or unbatched [T, {rec.input_size}]"

    def _lengths(self, lengths) -> torch.Tensor | None:
        if lengths is None:
            return None
        if self.layout == "unbatched":
            raise ValueError("lengths= needs batched inputs")
        ell = torch.as_tensor(np.asarray(lengths)).reshape(-1)
        if ell.is_floating_point() or ell.is_complex() or ell.dtype == torch.bool:
            raise TypeError(f"lengths must be integers, got {ell.dtype}")
        ell = ell.to(torch.int64)
        if ell.shape != (self.n,) or ell.min() < 1 or ell.max() > self.t_len:
            raise ValueError(f"lengths must be {self.n} integers in 1..{self.t_len} (one per "
                             f"sequence), got shape {tuple(ell.shape)} with values "
                             f"{int(ell.min())}..{int(ell.max())}")
        return None if bool((ell == self.t_len).all()) else ell

    def _start_state(self, rec: Recurrence, h0):
        if h0 is None:
            return None, None
        name = type(rec.module).__name__
        if rec.cell == "lstm":
            if not (isinstance(h0, tuple | list) and len(h0) == 2):
                raise TypeError(f"an {name}'s start state is the tuple (h0, c0), as its forward "
                                f"takes it; got {type(h0).__name__}")
            parts = [(h0[0], rec.out_size, "h0"), (h0[1], rec.hidden_size, "c0")]
        else:
            if isinstance(h0, tuple | list):
                raise TypeError(f"a {name}'s start state is one tensor h0, as its forward takes "
                                f"it; got a {type(h0).__name__}")
            parts = [(h0, rec.out_size, "h0")]
        states = []
        lead = () if rec.is_cell else (rec.directions * rec.num_layers,)
        for value, width, label in parts:
            value = torch.as_tensor(value, dtype=torch.float32)
            batched = lead + ((self.n,) if self.layout != "unbatched" else ()) + (width,)
            if tuple(value.shape) != batched:
                raise ValueError(f"{label} must be {list(batched)} for this {name} and input, "
                                 f"got {list(value.shape)}")
            value = value.reshape(rec.num_layers, rec.directions, self.n, width)
            states.append(value)
        return states[0], (states[1] if len(states) > 1 else None)

    def module_shape(self, width: int) -> tuple[int, ...]:
        """The shape of a `[.., width]` array of this call in the module's layout."""
        return {"batch_first": (self.n, self.t_len, width),
                "time_first": (self.t_len, self.n, width),
                "unbatched": (self.t_len, width)}[self.layout]

    def to_module(self, t: torch.Tensor) -> torch.Tensor:
        """Time-major `[T, N, X]` -> the module's layout (a view)."""
        return {"batch_first": lambda: t.transpose(0, 1), "time_first": lambda: t,
                "unbatched": lambda: t[:, 0]}[self.layout]()

    def to_batch_first(self, t: torch.Tensor) -> torch.Tensor:
        """An array broadcast to `module_shape` -> `[N, T, X]` (a view)."""
        return {"batch_first": lambda: t, "time_first": lambda: t.transpose(0, 1),
                "unbatched": lambda: t[None]}[self.layout]()

    def reverse(self, t: torch.Tensor, time_axis: int = 0) -> torch.Tensor:
        """Each sequence's steps in reverse order (its padding left in place); `t` is `[T, N,
        X]` (time_axis 0) or `[N, T, X]` (time_axis 1) with all N sequences."""
        if self.lengths is None:
            return t.flip(time_axis)
        index = self.rev if time_axis == 0 else self.rev.T
        return t.gather(time_axis, index[..., None].expand(*index.shape, t.shape[-1]))

    def directional(self, t: torch.Tensor, directions: int, width: int) -> torch.Tensor:
        """A per-unit array `[N, T', X']` (broadcastable to `[N, T, D * width]`) -> the loop's
        rows `[D * N, T', X']` (broadcastable to `[D * N, T, width]`): direction d's units,
        its sequences reversed for the reverse direction."""
        if directions == 1:
            return t
        parts = []
        for d in range(directions):
            part = t[..., d * width:(d + 1) * width] if t.shape[-1] == directions * width else t
            part = part.expand(self.n, -1, -1)
            if d and part.shape[1] > 1:
                part = self.reverse(part.expand(-1, self.t_len, -1), time_axis=1)
            parts.append(part)
        return torch.cat(parts)

    def assemble(self, t: torch.Tensor, directions: int) -> torch.Tensor:
        """The loop's `[T, D * N, X]` -> `[T, N, D * X]` in original time (directions
        concatenated), padded steps 0."""
        if directions == 2:
            t = torch.cat([t[:, :self.n], self.reverse(t[:, self.n:])], dim=-1)
        if self.lengths is not None:
            t = t.masked_fill_(self.pad[..., None], 0.0)
        return t

    def last(self, t: torch.Tensor, directions: int) -> torch.Tensor:
        """The loop's state `[T, D * N, X]` at each sequence's last step -> `[D, N, X]`."""
        if self.lengths is None:
            return t[-1].reshape(directions, self.n, -1)
        index = (self.lengths - 1).repeat(directions)
        return t.gather(0, index[None, :, None].expand(1, -1, t.shape[-1]))[0].reshape(
            directions, self.n, -1)


def _prepare(model: nn.Module, inputs, lengths=None, h0=None
             ) -> tuple[Recurrence, str, Batch]:
    rec, arch = describe(model), architecture(model)
    if hasattr(model, "check_constraints"):
        model.check_constraints()  # a variant's removed rows at 0, the coupled tie synced
    return rec, arch, Batch(rec, inputs, lengths, h0)


def _layer_index(rec: Recurrence, layer: int) -> int:
    try:
        return range(rec.num_layers)[layer]
    except (IndexError, TypeError):
        raise ValueError(f"layer={layer!r}: the {type(rec.module).__name__} has "
                         f"{rec.num_layers} layer(s): 0..{rec.num_layers - 1} (or -1)") from None


def clamp_tensors(arch: str, clamp: dict | None, shape: tuple[int, ...]
                  ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Check a clamp `{gate: (where, value)}` and return `{gate: (mask, value)}` as tensors.

    `where` must be boolean and broadcastable to `shape` (the gates' shape in the module's
    layout, e.g. `[N, T, H]`); it is returned broadcast (a view). `value` (a number or an array
    broadcastable to `shape`) is returned as a float32 tensor not yet broadcast. An unknown
    gate, or one `arch` lacks, is a ValueError naming the allowed gates.
    """
    if not clamp:
        return {}
    allowed = spec(arch).gates
    out = {}
    for gate, pair in clamp.items():
        if gate not in allowed:
            raise ValueError(f"cannot clamp {gate!r}: the gates of {arch} are "
                             f"{', '.join(allowed) or 'none'}")
        where, value = pair
        mask = torch.as_tensor(where)
        if mask.dtype != torch.bool:
            raise ValueError(f"clamp of {gate!r}: `where` must be boolean, got {mask.dtype}")
        value = torch.as_tensor(value, dtype=torch.float32)
        try:
            mask = torch.broadcast_to(mask, shape)
            torch.broadcast_shapes(value.shape, shape)
        except RuntimeError as exc:
            raise ValueError(f"clamp of {gate!r}: `where` {tuple(mask.shape)} and `value` "
                             f"{tuple(value.shape)} must broadcast to {shape}") from exc
        out[gate] = (mask, value)
    return out


def loop_clamps(rec: Recurrence, batch: Batch, clamps: dict) -> dict:
    """Checked clamps (`clamp_tensors`, module layout) -> the loop's rows `[D * N, T, H]`."""
    out = {}
    for gate, (mask, value) in clamps.items():
        full = batch.module_shape(rec.directions * rec.hidden_size)
        value = torch.broadcast_to(value, full)
        out[gate] = tuple(batch.directional(unexpand(batch.to_batch_first(t)), rec.directions,
                                            rec.hidden_size) for t in (mask, value))
    return out


@torch.no_grad()
def extract(model: nn.Module, inputs, layer: int = -1, preactivations: bool = False, *,
            h0=None, lengths=None) -> dict[str, np.ndarray]:
    """Gate activations and states of one layer, each float32 in the module's layout.

    Keys: `gate_names(architecture(model))` (LSTM: input, forget, cell_candidate, output, cell,
    hidden; GRU: reset, update, candidate, hidden; RNN: hidden; a variant omits the gates it
    lacks), each `[N, T, D * H]` for a batch_first module (`[T, N, D * H]` otherwise). With
    `preactivations=True` the sigmoid gates' logits are added as `<gate>_logit` (mutual
    information on logits does not suffer from saturation). `inputs`: a float tensor or array
    in the module's layout, or a PackedSequence; `lengths` (`[N]`) marks padded steps; `h0`
    the start state as the module's forward takes it (zero by default).
    """
    return {name: value.numpy() for name, value in
            run(model, inputs, layer=layer, preactivations=preactivations, h0=h0,
                lengths=lengths).items()}


@torch.no_grad()
def run(model: nn.Module, inputs, clamp: dict | None = None, layer: int = -1,
        preactivations: bool = False, readout: bool = False, *, h0=None, lengths=None
        ) -> dict[str, torch.Tensor]:
    """The fast recurrence (no autograd): `extract`'s dict as tensors, with `clamp` applied.

    `clamp`: `{gate: (where, value)}` (see `clamp_tensors`; the module's layout), applied in
    layer `layer`; gates are returned as used (clamped values included); `<gate>_logit` are the
    computed pre-activations (before any clamp). With `readout=True` the layers above `layer`
    run too, and `outputs` is added: a project model's read-out of the top layer
    (`[N, T, n_outputs]`), or a bare module's own output (its top layer's `hidden`).
    A module on another device (a GPU) is read through a CPU copy (`on_cpu`).
    """
    model = on_cpu(model)
    rec, arch, batch = _prepare(model, inputs, lengths, h0)
    layer = _layer_index(rec, layer)
    clamps = loop_clamps(rec, batch, clamp_tensors(
        arch, clamp, batch.module_shape(rec.directions * rec.hidden_size)))
    top = rec.num_layers - 1 if readout else layer
    kept, output, _ = recurrence(rec, batch, top, {layer: clamps}, keep=(layer,),
                                 keep_logits=preactivations)
    names = gate_names(arch) + (tuple(f"{g}_logit" for g in SIGMOID_GATES[arch])
                                if preactivations else ())
    result = {name: batch.to_module(kept[layer][name]) for name in names}
    if readout:
        output = batch.to_module(output)
        rnn = recurrent_module(model)
        result["outputs"] = (model.readout(output) if rnn is not model and hasattr(model, "readout")
                             else output)
    return result


def recurrence(rec: Recurrence, batch: Batch, top: int, clamps: dict[int, dict],
               layer_fn: Callable | None = None, keep: tuple[int, ...] = (),
               keep_logits: bool = False, hooks: dict | None = None,
               keep_previous: bool = False, finals: bool = False, **per_layer
               ) -> tuple[dict[int, dict], torch.Tensor, tuple | None]:
    """Layers 0..top of one call, each direction of a layer in one call of `layer_fn` (the
    fast layer of `rec`'s cell by default, without autograd; `run`, `run_differentiable` and
    `gateroles.lens` all come here).

    `clamps` `{layer: loop clamps}` (`loop_clamps`); `keep`: the layers whose every gate and
    state is returned, time-major `[T, N, D * X]`; `hooks` `{layer: {name: fn(t, rows) ->
    None or [(row slice, replacement)]}}` (per step, the loop's `[D * N, X]` rows;
    `gateroles.lens`);
    `per_layer` `{option: {layer: value}}` goes to `layer_fn` for that layer. Returns
    ({layer: its dict} for the kept layers, the top layer's output `[T, N, D * H_out]`, with
    `finals` every layer's final states `[L, D, N, .]` (h, and c for an LSTM), else None).
    """
    layer_fn = layer_fn or FAST_LAYERS[rec.cell]
    inp, kept = batch.x, {}
    last_h, last_c = [], []
    d_count = rec.directions
    for k in range(top + 1):
        here = k in keep
        xs = [inp] if d_count == 1 else [inp, batch.reverse(inp)]
        start = {name: None if state is None else state[k].reshape(d_count * batch.n, -1)
                 for name, state in (("h0", batch.h), ("c0", batch.c))}
        out = layer_fn(xs, [rec.params(k, d) for d in range(d_count)], keep_all=here,
                       keep_logits=keep_logits and here, clamps=clamps.get(k, {}),
                       hooks=(hooks or {}).get(k, {}), keep_previous=keep_previous and here,
                       nonlinearity=rec.nonlinearity, **start,
                       **{name: values[k] for name, values in per_layer.items()
                          if k in values})
        if finals:
            last_h.append(batch.last(out["hidden"], d_count))
            if "cell" in out:
                last_c.append(batch.last(out["cell"], d_count))
        if here:
            kept[k] = {name: batch.assemble(value, d_count) for name, value in out.items()}
            inp = kept[k]["hidden"]
        else:
            inp = batch.assemble(out["hidden"], d_count)
    states = (torch.stack(last_h), torch.stack(last_c) if last_c else None) if finals else None
    return kept, inp, states


def _step_clamps(clamps: dict, targets: dict[str, torch.Tensor], shape: tuple[int, int, int],
                 to_stored: dict | None = None) -> list[tuple]:
    """The per-step work of a clamp: a list of (steps where anything is clamped, per-step target
    views, per-step weights, per-step values). `targets` maps a gate to its time-major
    `[T, N, H]` buffer; `to_stored` maps a gate to the transform from its activation to what
    the loop stores (e.g. g -> sigmoid(2 g) = (g + 1) / 2).

    A step applies `lerp(target, value, weight)` with a 0/1 float weight: exactly the value
    where the weight is 1 and the target where it is 0, and vectorised (`torch.where` with an
    irregular boolean mask is ~20x slower on these CPUs). Weights and values are made at the
    size the caller gave them (a per-step mask stays [N, T, 1]) and broadcast as views. A gate
    is clamped only on the runs of sequences where its mask has any true value (one entry per
    run): stacked conditions that clamp different gates then cost what they clamp.
    """
    plan = []
    n, t_len, _ = shape
    for gate, (mask, value) in clamps.items():
        if gate not in targets:
            continue
        if to_stored and gate in to_stored:
            value = to_stored[gate](value)
        # converted in the caller's layout (a transposing copy is slow), through uint8 (bool ->
        # float is ~3x slower); the float sums are faster than `any` on bool
        small = unexpand(mask).view(torch.uint8).to(torch.float32)
        weight = torch.broadcast_to(small, shape).transpose(0, 1)
        value_tm = torch.broadcast_to(value, shape).transpose(0, 1)
        per_row = small.sum(dim=2)  # [N', T']
        for rows in _runs(per_row.sum(dim=1) > 0, n):
            active = (per_row[rows].sum(dim=0) > 0).expand(t_len).tolist()
            if any(active):
                plan.append((active, targets[gate][:, rows].unbind(0),
                             weight[:, rows].unbind(0), value_tm[:, rows].unbind(0)))
    return plan


def _step_hooks(hooks: dict, name: str, views: tuple[torch.Tensor, ...],
                to_real: Callable | None = None, to_stored: Callable | None = None
                ) -> list[Callable]:
    """The per-step call of a hook on `name` (`gateroles.lens`), or [] without one.

    `views[t]` is the loop's stored form of `name` at step t (`[D * N, X]`); the hook sees the
    activation itself (`to_real` of it) and returns None or a list of (rows, replacement), each
    written back, as stored, into those rows only.
    """
    fn = hooks.get(name)
    if fn is None:
        return []

    def step(t: int) -> None:
        stored = views[t]
        for rows, replacement in fn(t, stored if to_real is None else to_real(stored)) or ():
            replacement = torch.as_tensor(replacement, dtype=torch.float32)
            stored[rows] = replacement if to_stored is None else to_stored(replacement)

    return [step]


def _runs(flags: torch.Tensor, n: int) -> list[slice]:
    """Slices of the runs of true `flags` (`[N']`, N' = 1 meaning every row of n)."""
    if len(flags) == 1:
        return [slice(0, n)] if flags[0] else []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.numpy().astype(np.int8), [0]])))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def unexpand(t: torch.Tensor) -> torch.Tensor:
    """The smallest view that broadcasts back to `t`: size 1 along its zero-stride dims."""
    index = tuple(slice(0, 1) if stride == 0 and size > 1 else slice(None)
                  for size, stride in zip(t.shape, t.stride(), strict=True))
    return t[index]


def _half_plus_half(value: torch.Tensor) -> torch.Tensor:
    return (value + 1) / 2


def _two_minus_one(value: torch.Tensor) -> torch.Tensor:
    return value * 2 - 1


def _input_rows(xs: list[torch.Tensor], width: int, start: float | torch.Tensor
                ) -> torch.Tensor:
    """The loop's buffer `[T + 1, D * N, F + width]`: row t holds every direction's `x_t` and
    the state before step t (row 0: `start`)."""
    t_len, n, in_size = xs[0].shape
    buffer = torch.empty(t_len + 1, len(xs) * n, in_size + width)
    for d, x in enumerate(xs):
        buffer[:t_len, d * n:(d + 1) * n, :in_size] = x
    buffer[0, :, in_size:] = start
    return buffer


def _product(weights: list[torch.Tensor], bias: list[torch.Tensor], rows: torch.Tensor,
             out: torch.Tensor, n: int) -> tuple[Callable, tuple, tuple, tuple, torch.Tensor]:
    """The per-step product `rows[t] @ W + b` of every direction: `(fn, rows, outs, weights,
    bias)` with `fn(bias, rows[t], weights, out=outs[t])`: one addmm for one direction, one
    baddbmm over the directions otherwise."""
    if len(weights) == 1:
        return torch.addmm, rows.unbind(0), out.unbind(0), weights[0], bias[0]
    d_count = len(weights)
    return (torch.baddbmm, rows.view(rows.shape[0], d_count, n, -1).unbind(0),
            out.view(out.shape[0], d_count, n, -1).unbind(0), torch.stack(weights),
            torch.stack(bias)[:, None])


def _lstm_layer(xs, params, keep_all: bool, keep_logits: bool, clamps: dict, hooks: dict,
                keep_previous: bool, h0=None, c0=None, **_) -> dict[str, torch.Tensor]:
    """One LSTM layer (every direction in one loop), in as few tensor operations per step as
    we could make it.

    The loop's time goes to per-operation overhead and memory traffic, so the algebra is
    arranged to save operations: rows are reordered i, f, o, g and the g rows doubled, so one
    sigmoid gives all four gates (tanh(z) = 2 sigmoid(2z) - 1); the loop keeps `2c` (so tanh(c)
    is one sigmoid) and `h / 2` (the factor 2 folded into the recurrent weights). Step t
    multiplies the row `[x_t, h_{t-1} / 2]` of one buffer by the stacked weights, and writes
    `h_t / 2` into the next row, so input and recurrent projections are one product (one
    batched product for two directions, whose rows sit one after the other). Every per-step
    view is made up front by `unbind` (one call for all steps). Logits are only stored when
    asked for: otherwise every step writes them to the same small buffer, which saves writing
    10 MB per 200 x 100 x 32 batch. The scalings are undone on whole arrays after the loop. A
    clamp is one `torch.lerp` into the activation buffer at the steps it touches
    (cell_candidate is stored as sigmoid(2 g), so its value becomes (g + 1) / 2). With a
    projection (proj_size) each step adds one product `h = W_hr (o tanh c)`. Returned arrays
    are time-major `[T, D * N, .]` in the loop's order.
    """
    t_len, n, in_size = xs[0].shape
    d_count = len(xs)
    rows_n = d_count * n
    hidden, out_size = params[0][1].shape[0] // 4, params[0][1].shape[1]
    three = 3 * hidden
    order = torch.cat([torch.arange(0, 2 * hidden), torch.arange(3 * hidden, 4 * hidden),
                       torch.arange(2 * hidden, 3 * hidden)])
    scale = torch.ones(4 * hidden, 1)
    scale[three:] = 2.0
    # [x_t, h_{t-1} / 2] @ weights: the recurrent half takes the factor 2 back.
    weights = [torch.cat([w_ih[order], 2 * w_hh[order]], dim=1).mul_(scale).T.contiguous()
               for w_ih, w_hh, _, _, _ in params]
    bias = [(b_ih + b_hh)[order] * scale[:, 0] for _, _, b_ih, b_hh, _ in params]
    x_half_h = _input_rows(xs, out_size, 0.0 if h0 is None else h0 / 2)
    logits = torch.empty(t_len if keep_logits else 1, rows_n, 4 * hidden)  # i, f, o, 2 g
    act = torch.empty(t_len, rows_n, 4 * hidden)  # i, f, o, sigmoid(2 g)
    c2s = torch.empty(t_len + 1, rows_n, hidden)  # row t + 1: 2 c_t
    c2s[0] = 0.0 if c0 is None else 2 * c0
    product, rows, logit_out, weights, bias = _product(weights, bias, x_half_h, logits, n)
    repeat = 1 if keep_logits else t_len  # without logits every step reuses one buffer
    logit_out, logit_t = logit_out * repeat, logits.unbind(0) * repeat
    act_t, c2_t = act.unbind(0), c2s.unbind(0)
    half_h = x_half_h[:, :, in_size:]
    half_h_t = half_h.unbind(0)
    blocks = act.view(t_len, rows_n, 4, hidden).permute(2, 0, 1, 3).unbind(0)  # i, f, o, s_g
    i_t, f_t, o_t, s_g_t = (block.unbind(0) for block in blocks)
    named = dict(zip(("input", "forget", "output", "cell_candidate"), blocks, strict=True))
    plan = _step_clamps(clamps, named, (rows_n, t_len, hidden),
                        {"cell_candidate": _half_plus_half})
    gate_hooks = [step for name, views in (("input", i_t), ("forget", f_t), ("output", o_t))
                  for step in _step_hooks(hooks, name, views)]
    gate_hooks += _step_hooks(hooks, "cell_candidate", s_g_t, _two_minus_one, _half_plus_half)
    cell_hooks = _step_hooks(hooks, "cell", c2_t[1:], partial(torch.mul, other=0.5),
                             partial(torch.mul, other=2.0))
    hidden_hooks = _step_hooks(hooks, "hidden", half_h_t[1:], partial(torch.mul, other=2.0),
                               partial(torch.mul, other=0.5))
    scratch = torch.empty(rows_n, hidden)
    half = torch.tensor(0.5)  # a tensor, not a Python float: no per-step scalar conversion
    project = None
    if params[0][4] is None:
        read_t = half_h_t[1:]
    else:  # h / 2 = (o tanh(c) / 2) W_hr^T: one more product per step
        read = torch.empty(rows_n, hidden)
        read_t = (read,) * t_len
        w_hr = [p[4].T for p in params]
        if d_count == 1:
            project = partial(torch.mm, read, w_hr[0].contiguous())
            proj_t = half_h_t[1:]
        else:
            project = partial(torch.bmm, read.view(d_count, n, hidden),
                              torch.stack(w_hr).contiguous())
            proj_t = half_h.view(t_len + 1, d_count, n, out_size).unbind(0)[1:]
    for t in range(t_len):
        product(bias, rows[t], weights, out=logit_out[t])
        torch.sigmoid(logit_t[t], out=act_t[t])
        for active, target, weight, value in plan:
            if active[t]:
                torch.lerp(target[t], value[t], weight[t], out=target[t])
        for step in gate_hooks:
            step(t)
        # 2c = f (2c) + 2 i g = f (2c) - 2 i + 4 i s_g
        i = i_t[t]
        f_c2 = torch.mul(f_t[t], c2_t[t], out=scratch).sub_(i, alpha=2)
        c2 = torch.addcmul(f_c2, i, s_g_t[t], value=4, out=c2_t[t + 1])
        for step in cell_hooks:
            step(t)
        # h / 2 = o (sigmoid(2c) - 1/2)
        torch.mul(o_t[t], torch.sigmoid(c2, out=scratch).sub_(half), out=read_t[t])
        if project is not None:
            project(out=proj_t[t])
        for step in hidden_hooks:
            step(t)
    half_h.mul_(2)
    c2s.mul_(0.5)
    out = {"hidden": half_h[1:], "cell": c2s[1:]}
    if keep_previous:
        # copies: the states overlap them, and padding is zeroed in place
        out |= {"hidden_previous": half_h[:-1].clone(), "cell_previous": c2s[:-1].clone()}
    if not keep_all:
        return out
    act[:, :, three:].mul_(2).sub_(1)
    i, f, o, g = act.chunk(4, dim=2)
    out |= {"input": i, "forget": f, "cell_candidate": g, "output": o}
    if keep_logits:
        li, lf, lo, _ = logits.chunk(4, dim=2)
        out |= {"input_logit": li, "forget_logit": lf, "output_logit": lo}
    return out


def _gru_layer(xs, params, keep_all: bool, keep_logits: bool, clamps: dict, hooks: dict,
               keep_previous: bool, h0=None, **_) -> dict[str, torch.Tensor]:
    """One GRU layer (every direction in one loop), arranged like the LSTM's: five tensor
    operations per step.

    The loop keeps `u = (h + 1) / 2` and the candidate as `s = sigmoid(2 a) = (n + 1) / 2`
    (tanh(a) = 2 sigmoid(2a) - 1). Then `h = (1 - z) n + z h_prev` becomes
    `u = lerp(s, u_prev, z)`, and `h = 2u - 1` is folded into the weights and biases. Step t
    multiplies the row `[x_t, u_{t-1}]` by one stacked matrix whose columns give the r and z
    logits, `2 (W_in x + b_in)` and `2 (W_hn h + b_hn)`; then one sigmoid for r and z, one
    addcmul and one sigmoid for the candidate, one lerp for the state.
    """
    t_len, n, in_size = xs[0].shape
    rows_n = len(xs) * n
    hidden = params[0][1].shape[1]
    weights, bias = [], []
    for w_ih, w_hh, b_ih, b_hh, _ in params:
        w_ir, w_iz, w_in = w_ih.chunk(3)
        w_hr, w_hz, w_hn = w_hh.chunk(3)
        b_ir, b_iz, b_in = b_ih.chunk(3)
        b_hr, b_hz, b_hn = b_hh.chunk(3)
        # W h = 2 W u - W 1: the recurrent columns take the factor 2 and the biases the - W 1.
        x_cols = torch.cat([w_ir, w_iz, 2 * w_in, torch.zeros(hidden, in_size)])
        u_cols = torch.cat([2 * w_hr, 2 * w_hz, torch.zeros(hidden, hidden), 4 * w_hn])
        weights.append(torch.cat([x_cols, u_cols], dim=1).T.contiguous())  # [in + H, 4H]
        bias.append(torch.cat([b_ir + b_hr - w_hr.sum(1), b_iz + b_hz - w_hz.sum(1), 2 * b_in,
                               2 * (b_hn - w_hn.sum(1))]))
    x_u = _input_rows(xs, hidden, 0.5 if h0 is None else (h0 + 1) / 2)  # row t: [x_t, u_{t-1}]
    pre = torch.empty(t_len if keep_logits else 1, rows_n, 4 * hidden)  # r, z, 2 xn, 2 hn
    rz = torch.empty(t_len, rows_n, 2 * hidden)
    s = torch.empty(t_len, rows_n, hidden)
    scratch = torch.empty(rows_n, hidden)
    product, rows, pre_out, weights, bias = _product(weights, bias, x_u, pre, n)
    rz_t, s_t = rz.unbind(0), s.unbind(0)
    u = x_u[:, :, in_size:]
    u_t = u.unbind(0)
    repeat = 1 if keep_logits else t_len  # without logits every step reuses one buffer
    pre_out = pre_out * repeat
    rz_logit_t, xn_t, hn_t = (
        part.unbind(0) * repeat for part in (pre[:, :, :2 * hidden],
                                             pre[:, :, 2 * hidden:3 * hidden],
                                             pre[:, :, 3 * hidden:]))
    r, z = rz.view(t_len, rows_n, 2, hidden).permute(2, 0, 1, 3).unbind(0)
    r_t, z_t = r.unbind(0), z.unbind(0)
    shape = (rows_n, t_len, hidden)
    gate_plan = _step_clamps(clamps, {"reset": r, "update": z}, shape)
    cand_plan = _step_clamps(clamps, {"candidate": s}, shape, {"candidate": _half_plus_half})
    gate_hooks = _step_hooks(hooks, "reset", r_t) + _step_hooks(hooks, "update", z_t)
    cand_hooks = _step_hooks(hooks, "candidate", s_t, _two_minus_one, _half_plus_half)
    hidden_hooks = _step_hooks(hooks, "hidden", u_t[1:], _two_minus_one, _half_plus_half)
    for t in range(t_len):
        product(bias, rows[t], weights, out=pre_out[t])
        torch.sigmoid(rz_logit_t[t], out=rz_t[t])
        for active, target, weight, value in gate_plan:
            if active[t]:
                torch.lerp(target[t], value[t], weight[t], out=target[t])
        for step in gate_hooks:
            step(t)
        torch.addcmul(xn_t[t], r_t[t], hn_t[t], out=scratch)
        torch.sigmoid(scratch, out=s_t[t])
        for active, target, weight, value in cand_plan:
            if active[t]:
                torch.lerp(target[t], value[t], weight[t], out=target[t])
        for step in cand_hooks:
            step(t)
        torch.lerp(s_t[t], u_t[t], z_t[t], out=u_t[t + 1])  # (1 - z) s + z u_prev
        for step in hidden_hooks:
            step(t)
    u.mul_(2).sub_(1)
    out = {"hidden": u[1:]}
    if keep_previous:
        out["hidden_previous"] = u[:-1].clone()  # the state overlaps it
    if not keep_all:
        return out
    out |= {"reset": r, "update": z, "candidate": s.mul_(2).sub_(1)}
    if keep_logits:
        out |= {"reset_logit": pre[:, :, :hidden], "update_logit": pre[:, :, hidden:2 * hidden]}
    return out


def _rnn_layer(xs, params, keep_all: bool, keep_logits: bool, clamps: dict, hooks: dict,
               keep_previous: bool, h0=None, nonlinearity: str = "tanh", **_
               ) -> dict[str, torch.Tensor]:
    """One plain RNN layer: one addmm and one activation per step. For tanh the loop keeps
    `u = (h + 1) / 2 = sigmoid(2 a)`, the affine map folded into the weights as in the GRU."""
    t_len, n, in_size = xs[0].shape
    rows_n = len(xs) * n
    hidden = params[0][1].shape[1]
    tanh = nonlinearity == "tanh"
    weights, bias = [], []
    for w_ih, w_hh, b_ih, b_hh, _ in params:
        if tanh:  # 2 a = 2 W x + 4 W_hh u + 2 (b - W_hh 1)
            weights.append(torch.cat([2 * w_ih, 4 * w_hh], dim=1).T.contiguous())
            bias.append(2 * (b_ih + b_hh - w_hh.sum(1)))
        else:
            weights.append(torch.cat([w_ih, w_hh], dim=1).T.contiguous())
            bias.append(b_ih + b_hh)
    start = (0.5 if h0 is None else (h0 + 1) / 2) if tanh else (0.0 if h0 is None else h0)
    act = torch.sigmoid if tanh else _relu
    x_u = _input_rows(xs, hidden, start)
    scratch = torch.empty(1, rows_n, hidden)
    product, rows, scratch_t, weights, bias = _product(weights, bias, x_u, scratch, n)
    u = x_u[:, :, in_size:]
    u_t = u.unbind(0)
    hidden_hooks = _step_hooks(hooks, "hidden", u_t[1:], *((_two_minus_one, _half_plus_half)
                                                           if tanh else ()))
    for t in range(t_len):
        act(product(bias, rows[t], weights, out=scratch_t[0]).view(rows_n, hidden),
            out=u_t[t + 1])
        for step in hidden_hooks:
            step(t)
    if tanh:
        u.mul_(2).sub_(1)
    out = {"hidden": u[1:]}
    if keep_previous:
        out["hidden_previous"] = u[:-1].clone()  # the state overlaps it
    return out


def _relu(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    return torch.clamp(x, min=0.0, out=out)


FAST_LAYERS = {"lstm": _lstm_layer, "gru": _gru_layer, "rnn": _rnn_layer}


# ------------------------------------------------------------------ the differentiable twin

def run_differentiable(model: nn.Module, inputs, clamp: dict | None = None, layer: int = -1,
                       state_offsets: dict | None = None, detach_recurrent: bool = False,
                       readout: bool = False, *, h0=None, lengths=None,
                       keep_jacobian: float | None = None) -> dict[str, torch.Tensor]:
    """`run` with autograd: the textbook equations, every result in the autograd graph.

    Same keys, options and clamps as `run` (no logits). In layer `layer`:
    - `state_offsets` `{state: eps}` (states of the architecture: `cell`, `hidden`; each
      broadcastable to the state's shape in the module's layout) is added to the state right
      after it is computed, so with zero offsets that require grad, `eps.grad[n, s]` is the
      total derivative dL/d(state_s);
    - `detach_recurrent=True` detaches h_{t-1} wherever it enters a matrix product (the gates
      and the candidate), but not on the state's own path (LSTM: c_t = f c_{t-1} + i g; GRU:
      the z h_{t-1} term), so gradient flows back in time only along the direct state path:
      the product of forget gates (LSTM), of update gates (GRU), nothing (tanh RNN).
    - `keep_jacobian=a` clamps the keep gate inside the Jacobian only: the state's own path
      (LSTM f_t c_{t-1}; GRU z_t h_{t-1}) is computed as a s_{t-1} + (k_t - a) sg(s_{t-1}),
      sg a stop-gradient, so every value of the run is the free one (the trajectory is not
      changed) while the derivative of s_t along that path is a instead of the keep gate k_t.
      The derivative through the keep gate itself (k_t depends on h_{t-1}) is kept. Not on the
      tanh RNN (no keep gate).
    Gradients also reach the module's parameters, so the module must be on the CPU (a copy
    would take them). With `readout=True` the layers above run too and `outputs` is added (as
    in `run`).
    """
    if not _is_on_cpu(model):
        raise ValueError("run_differentiable needs the module on the CPU (its gradients reach "
                         "the module's own parameters): call model.cpu() first")
    rec, arch, batch = _prepare(model, inputs, lengths, h0)
    layer = _layer_index(rec, layer)
    if keep_jacobian is not None and rec.cell == "rnn":
        raise ValueError("keep_jacobian: a tanh RNN has no keep gate")
    clamps = loop_clamps(rec, batch, clamp_tensors(
        arch, clamp, batch.module_shape(rec.directions * rec.hidden_size)))
    offsets = {}
    for state, eps in (state_offsets or {}).items():
        if state not in spec(arch).states:
            raise ValueError(f"no state {state!r} in {arch}; its states: "
                             f"{', '.join(spec(arch).states)}")
        width = rec.hidden_size if state == "cell" else rec.out_size
        full = batch.module_shape(rec.directions * width)
        eps = torch.broadcast_to(torch.as_tensor(eps, dtype=torch.float32), full)
        offsets[state] = batch.directional(batch.to_batch_first(eps), rec.directions, width)
    top = rec.num_layers - 1 if readout else layer
    kept, output, _ = recurrence(rec, batch, top, {layer: clamps},
                                 partial(_twin_layer, rec.cell), keep=(layer,),
                                 offsets={layer: offsets}, detach={layer: detach_recurrent},
                                 keep_jacobian={layer: keep_jacobian})
    result = {name: batch.to_module(kept[layer][name]) for name in gate_names(arch)}
    if readout:
        output = batch.to_module(output)
        rnn = recurrent_module(model)
        result["outputs"] = (model.readout(output) if rnn is not model and hasattr(model, "readout")
                             else output)
    return result


def _twin_layer(cell: str, xs, params, clamps: dict, hooks: dict, h0=None, c0=None,
                offsets: dict | None = None, detach: bool = False, nonlinearity: str = "tanh",
                keep_jacobian: float | None = None, **_) -> dict[str, torch.Tensor]:
    """One layer of the textbook equations (see the module docstring), step by step, each
    direction in turn; the same rows and order as the fast layers."""
    if hooks:
        raise ValueError("hooks run on the fast recurrence only")
    t_len, n, _ = xs[0].shape
    d_count = len(xs)
    per_direction = []
    for d, (x, (w_ih, w_hh, b_ih, b_hh, w_hr)) in enumerate(zip(xs, params, strict=True)):
        rows = slice(d * n, (d + 1) * n)
        shape = (d_count * n, t_len, w_ih.shape[0] // {"lstm": 4, "gru": 3, "rnn": 1}[cell])
        own = {g: (torch.broadcast_to(m, shape)[rows], torch.broadcast_to(v, shape)[rows])
               for g, (m, v) in clamps.items()}
        eps = {s: e.expand(d_count * n, t_len, -1)[rows] for s, e in (offsets or {}).items()}
        per_direction.append(_twin_direction(
            cell, x, w_ih, w_hh, b_ih, b_hh, w_hr, own, eps, detach, nonlinearity,
            None if h0 is None else h0[rows], None if c0 is None else c0[rows], keep_jacobian))
    return {name: torch.cat([p[name] for p in per_direction], dim=1) for name in per_direction[0]}


def _twin_direction(cell: str, x, w_ih, w_hh, b_ih, b_hh, w_hr, clamps: dict, offsets: dict,
                    detach: bool, nonlinearity: str, h0, c0, keep_jacobian: float | None = None
                    ) -> dict[str, torch.Tensor]:
    """One direction `x` `[T, N, F]` -> time-major `[T, N, .]` gates and states."""

    def kept(gate, state):  # gate * state, its derivative along `state` a (keep_jacobian)
        if keep_jacobian is None:
            return gate * state
        return keep_jacobian * state + (gate - keep_jacobian) * state.detach()

    t_len, n, _ = x.shape
    hidden = w_ih.shape[0] // {"lstm": 4, "gru": 3, "rnn": 1}[cell]
    x_part = x @ w_ih.T + b_ih  # [T, N, blocks * H]
    h = x.new_zeros(n, w_hh.shape[1]) if h0 is None else h0
    c = x.new_zeros(n, hidden) if c0 is None else c0
    steps = []
    for t in range(t_len):
        h_in = h.detach() if detach else h
        h_part = h_in @ w_hh.T + b_hh
        if cell == "lstm":
            z = x_part[t] + h_part
            g = {"input": torch.sigmoid(z[:, :hidden]),
                 "forget": torch.sigmoid(z[:, hidden:2 * hidden]),
                 "cell_candidate": torch.tanh(z[:, 2 * hidden:3 * hidden]),
                 "output": torch.sigmoid(z[:, 3 * hidden:])}
            g = _clamp_step(g, clamps, t)
            c = kept(g["forget"], c) + g["input"] * g["cell_candidate"]
            if "cell" in offsets:
                c = c + offsets["cell"][:, t]
            h = g["output"] * torch.tanh(c)
            if w_hr is not None:
                h = h @ w_hr.T
            g["cell"] = c
        elif cell == "gru":
            xr, xz, xn = x_part[t].chunk(3, dim=1)
            hr, hz, hn = h_part.chunk(3, dim=1)
            g = _clamp_step({"reset": torch.sigmoid(xr + hr), "update": torch.sigmoid(xz + hz)},
                            clamps, t)
            g |= _clamp_step({"candidate": torch.tanh(xn + g["reset"] * hn)}, clamps, t)
            h = (1 - g["update"]) * g["candidate"] + kept(g["update"], h)
        else:
            a = x_part[t] + h_part
            h = torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)
            g = {}
        if "hidden" in offsets:
            h = h + offsets["hidden"][:, t]
        g["hidden"] = h
        steps.append(g)
    return {name: torch.stack([s[name] for s in steps]) for name in steps[0]}


def _clamp_step(gates: dict, clamps: dict, t: int) -> dict:
    for name in gates.keys() & clamps.keys():
        mask, value = clamps[name]
        gates[name] = torch.where(mask[:, t], value[:, t], gates[name])
    return gates
