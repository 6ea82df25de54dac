"""Recompute gate activations from a recurrent module's own weights, optionally with clamps.

PyTorch's fused `nn.LSTM`/`nn.GRU`/`nn.RNN` never expose their gates, so we run the same
equations again from the module's parameters. The recomputed hidden states must equal the
module's outputs to float tolerance: that equality (tested for every architecture) is what
makes the extracted gates the real ones. Gate names and which gates an architecture has come
from `gateroles.architectures.SPECS`; a gate an architecture lacks is absent from the output.

LSTM (gate order i, f, g, o in PyTorch's stacked weights)::

    i, f, o = sigmoid(.), g = tanh(.),  c = f * c_prev + i * g,  h = o * tanh(c)

The LSTM variants run the same equations on their own weights: a removed gate's logit is a
constant at which the sigmoid is exactly 1.0, and the coupled variant's forget rows are minus
its input rows (f = sigmoid(-z_i) = 1 - i); `models.RecurrentModel.check_constraints` is
checked first.

GRU (gate order r, z, n)::

    r, z = sigmoid(.),  n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h = (1 - z) * n + z * h_prev

so in PyTorch's convention an update gate z near 1 *keeps* the state. Plain RNN:
`h = tanh(W_ih x + b_ih + W_hh h_prev + b_hh)` (or relu).

Two implementations of the recurrence, tested equal to each other and to the fused modules:
- `run` (behind `extract` and `interventions.forward`): no autograd, arranged for speed (the
  loop over time is per-operation-overhead bound). It writes into preallocated buffers with
  `out=` and keeps rescaled states (`2c`, `h / 2`, `(h + 1) / 2`), which autograd cannot follow.
  A clamp replaces a gate's activation at the chosen (sequence, step, unit)s right after it is
  computed, before it is used, so the change propagates; without a clamp the loop does nothing
  extra.
- `run_differentiable`: the textbook equations with autograd (slower), with the same clamps,
  additive zero probes on the states and optional detaching of the recurrent matrix products
  (for gradient-path analyses).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

# SIGMOID_GATES (arch -> sigmoid gates, whose pre-activations can be returned) is re-exported.
from gateroles.architectures import SIGMOID_GATES, SPECS, spec  # noqa: F401

LSTM_OUTPUTS = SPECS["lstm"].outputs
GRU_OUTPUTS = SPECS["gru"].outputs


def recurrent_module(model: nn.Module) -> nn.LSTM | nn.GRU | nn.RNN:
    """The `nn.LSTM`/`nn.GRU`/`nn.RNN` inside a project model, or the module itself."""
    rnn = getattr(model, "rnn", model)
    if not isinstance(rnn, nn.LSTM | nn.GRU | nn.RNN):
        raise TypeError(f"expected an nn.LSTM, nn.GRU, nn.RNN or a model with .rnn, "
                        f"got {type(rnn)}")
    if not rnn.batch_first:
        raise ValueError("gate extraction expects a batch_first module ([N, T, input_size])")
    if rnn.bidirectional or getattr(rnn, "proj_size", 0):
        raise ValueError("bidirectional modules and LSTM projections are not supported")
    return rnn


def architecture(model: nn.Module) -> str:
    """The architecture name (`models.ARCHITECTURES`): a project model's `arch`, else 'lstm',
    'gru' or 'rnn' for a bare module."""
    rnn = recurrent_module(model)
    arch = getattr(model, "arch", None)
    if arch is not None and rnn is not model:
        return arch
    return "lstm" if isinstance(rnn, nn.LSTM) else "gru" if isinstance(rnn, nn.GRU) else "rnn"


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


def _prepare(model: nn.Module, inputs) -> tuple[nn.RNNBase, str, torch.Tensor]:
    rnn, arch = recurrent_module(model), architecture(model)
    if hasattr(model, "check_constraints"):
        model.check_constraints()  # a variant's removed rows at 0, the coupled tie synced
    x = torch.as_tensor(inputs, dtype=torch.float32)
    if x.ndim != 3 or x.shape[-1] != rnn.input_size:
        raise ValueError(f"inputs must be [N, T, {rnn.input_size}], got {tuple(x.shape)}")
    return rnn, arch, x


def _layer_params(rnn: nn.RNNBase, k: int) -> list[torch.Tensor]:
    w_ih, w_hh = getattr(rnn, f"weight_ih_l{k}"), getattr(rnn, f"weight_hh_l{k}")
    biases = [getattr(rnn, f"{name}_l{k}", None) for name in ("bias_ih", "bias_hh")]
    return [w_ih, w_hh, *(torch.zeros(w.shape[0]) if b is None else b
                          for w, b in zip((w_ih, w_hh), biases, strict=True))]


def clamp_tensors(arch: str, clamp: dict | None, shape: tuple[int, int, int]
                  ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Check a clamp `{gate: (where, value)}` and return `{gate: (mask, value)}` as tensors.

    `where` must be boolean and broadcastable to `shape` = `[N, T, H]`; it is returned broadcast
    (a view). `value` (a number or an array broadcastable to `shape`) is returned as a float32
    tensor not yet broadcast. An unknown gate, or one `arch` lacks, is a ValueError naming the
    allowed gates.
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


@torch.no_grad()
def extract(model: nn.Module, inputs, layer: int = -1, preactivations: bool = False
            ) -> dict[str, np.ndarray]:
    """Gate activations and states of one layer, each `[N, T, H]` float32.

    Keys: `gate_names(architecture(model))` (LSTM: input, forget, cell_candidate, output, cell,
    hidden; GRU: reset, update, candidate, hidden; RNN: hidden; a variant omits the gates it
    lacks). With `preactivations=True` the sigmoid gates' logits are added as `<gate>_logit`
    (mutual information on logits does not suffer from saturation). `inputs` is a float tensor
    or array `[N, T, input_size]`; the initial state is zero.
    """
    return {name: value.numpy() for name, value in
            run(model, inputs, layer=layer, preactivations=preactivations).items()}


@torch.no_grad()
def run(model: nn.Module, inputs, clamp: dict | None = None, layer: int = -1,
        preactivations: bool = False, readout: bool = False) -> dict[str, torch.Tensor]:
    """The fast recurrence (no autograd): `extract`'s dict as tensors, with `clamp` applied.

    `clamp`: `{gate: (where, value)}` (see `clamp_tensors`), applied in layer `layer`; gates
    are returned as used (clamped values included); `<gate>_logit` are the computed
    pre-activations (before any clamp). With `readout=True` the layers above `layer` run too,
    and a project model's read-out of the top layer is added as `outputs` `[N, T, n_outputs]`.
    A module on another device (a GPU) is read through a CPU copy (`on_cpu`).
    """
    model = on_cpu(model)
    rnn, arch, x = _prepare(model, inputs)
    layer = range(rnn.num_layers)[layer]
    clamps = clamp_tensors(arch, clamp, (x.shape[0], x.shape[1], rnn.hidden_size))
    layer_fn = _FAST_LAYERS[spec(arch).cell]
    extra = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
    top = rnn.num_layers - 1 if readout else layer
    for k in range(top + 1):
        out = layer_fn(x, *_layer_params(rnn, k), keep_all=(k == layer),
                       keep_logits=preactivations and k == layer,
                       clamps=clamps if k == layer else {}, **extra)
        if k == layer:
            result = {name: out[name] for name in gate_names(arch)}
            if preactivations:
                result |= {f"{g}_logit": out[f"{g}_logit"] for g in SIGMOID_GATES[arch]}
        x = out["hidden"]
    if readout and hasattr(model, "readout"):
        result["outputs"] = model.readout(x)
    return result


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


def _lstm_layer(x, w_ih, w_hh, b_ih, b_hh, keep_all: bool, keep_logits: bool, clamps: dict
                ) -> dict[str, torch.Tensor]:
    """One LSTM layer, in as few tensor operations per step as we could make it.

    The loop's time goes to per-operation overhead and memory traffic, so the algebra is
    arranged to save operations: rows are reordered i, f, o, g and the g rows doubled, so one
    sigmoid gives all four gates (tanh(z) = 2 sigmoid(2z) - 1); the loop keeps `2c` (so tanh(c)
    is one sigmoid) and `h / 2` (the factor 2 folded into the recurrent weights). Step t
    multiplies the row `[x_t, h_{t-1} / 2]` of one buffer by the stacked weights, and writes
    `h_t / 2` into the next row, so input and recurrent projections are one product. Every
    per-step view is made up front by `unbind` (one call for all steps). Logits are only stored
    when asked for: otherwise every step writes them to the same small buffer, which saves
    writing 10 MB per 200 x 100 x 32 batch. The scalings are undone on whole arrays after the
    loop. A clamp is one `torch.lerp` into the activation buffer at the steps it touches
    (cell_candidate is stored as sigmoid(2 g), so its value becomes (g + 1) / 2).
    """
    n, t_len, in_size = x.shape
    hidden = w_hh.shape[1]
    three = 3 * hidden
    order = torch.cat([torch.arange(0, 2 * hidden), torch.arange(3 * hidden, 4 * hidden),
                       torch.arange(2 * hidden, 3 * hidden)])
    scale = torch.ones(4 * hidden, 1)
    scale[three:] = 2.0
    bias = (b_ih + b_hh)[order] * scale[:, 0]
    # [x_t, h_{t-1} / 2] @ weights: the recurrent half takes the factor 2 back.
    weights = torch.cat([w_ih[order], 2 * w_hh[order]], dim=1).mul_(scale).T.contiguous()
    x_half_h = torch.empty(t_len + 1, n, in_size + hidden)  # row t: [x_t, h_{t-1} / 2]
    x_half_h[:t_len, :, :in_size] = x.transpose(0, 1)
    x_half_h[0, :, in_size:] = 0
    logits = torch.empty(t_len if keep_logits else 1, n, 4 * hidden)  # rows i, f, o, 2 * g
    act = torch.empty(t_len, n, 4 * hidden)  # i, f, o, sigmoid(2 g)
    c2s = torch.empty(t_len + 1, n, hidden)  # row t + 1: 2 c_t
    c2s[0] = 0
    rows, act_t, c2_t = (a.unbind(0) for a in (x_half_h, act, c2s))
    logit_t = logits.unbind(0) if keep_logits else logits.unbind(0) * t_len
    half_h_t = x_half_h[:, :, in_size:].unbind(0)
    blocks = act.view(t_len, n, 4, hidden).permute(2, 0, 1, 3).unbind(0)  # i, f, o, s_g
    i_t, f_t, o_t, s_g_t = (block.unbind(0) for block in blocks)
    plan = _step_clamps(clamps, dict(zip(("input", "forget", "output", "cell_candidate"),
                                         blocks, strict=True)),
                        (n, t_len, hidden), {"cell_candidate": _half_plus_half})
    scratch = torch.empty(n, hidden)
    half = torch.tensor(0.5)  # a tensor, not a Python float: no per-step scalar conversion
    for t in range(t_len):
        torch.addmm(bias, rows[t], weights, out=logit_t[t])
        torch.sigmoid(logit_t[t], out=act_t[t])
        for active, target, weight, value in plan:
            if active[t]:
                torch.lerp(target[t], value[t], weight[t], out=target[t])
        # 2c = f (2c) + 2 i g = f (2c) - 2 i + 4 i s_g
        i = i_t[t]
        f_c2 = torch.mul(f_t[t], c2_t[t], out=scratch).sub_(i, alpha=2)
        c2 = torch.addcmul(f_c2, i, s_g_t[t], value=4, out=c2_t[t + 1])
        # h / 2 = o (sigmoid(2c) - 1/2)
        torch.mul(o_t[t], torch.sigmoid(c2, out=scratch).sub_(half), out=half_h_t[t + 1])
    hs = x_half_h[1:, :, in_size:].mul_(2).transpose(0, 1)
    if not keep_all:
        return {"hidden": hs}
    act[:, :, three:].mul_(2).sub_(1)
    i, f, o, g = act.transpose(0, 1).chunk(4, dim=2)
    out = {"input": i, "forget": f, "cell_candidate": g, "output": o,
           "cell": c2s[1:].mul_(0.5).transpose(0, 1), "hidden": hs}
    if keep_logits:
        li, lf, lo, _ = logits.transpose(0, 1).chunk(4, dim=2)
        out |= {"input_logit": li, "forget_logit": lf, "output_logit": lo}
    return out


def _gru_layer(x, w_ih, w_hh, b_ih, b_hh, keep_all: bool, keep_logits: bool, clamps: dict
               ) -> dict[str, torch.Tensor]:
    """One GRU layer, arranged like the LSTM's: five tensor operations per step.

    The loop keeps `u = (h + 1) / 2` and the candidate as `s = sigmoid(2 a) = (n + 1) / 2`
    (tanh(a) = 2 sigmoid(2a) - 1). Then `h = (1 - z) n + z h_prev` becomes
    `u = lerp(s, u_prev, z)`, and `h = 2u - 1` is folded into the weights and biases. Step t
    multiplies the row `[x_t, u_{t-1}]` by one stacked matrix whose columns give the r and z
    logits, `2 (W_in x + b_in)` and `2 (W_hn h + b_hn)`; then one sigmoid for r and z, one
    addcmul and one sigmoid for the candidate, one lerp for the state.
    """
    n, t_len, in_size = x.shape
    hidden = w_hh.shape[1]
    w_ir, w_iz, w_in = w_ih.chunk(3)
    w_hr, w_hz, w_hn = w_hh.chunk(3)
    b_ir, b_iz, b_in = b_ih.chunk(3)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    # W h = 2 W u - W 1: the recurrent columns take the factor 2 and the biases the - W 1.
    x_cols = torch.cat([w_ir, w_iz, 2 * w_in, torch.zeros(hidden, in_size)])
    u_cols = torch.cat([2 * w_hr, 2 * w_hz, torch.zeros(hidden, hidden), 4 * w_hn])
    weights = torch.cat([x_cols, u_cols], dim=1).T.contiguous()  # [in + H, 4H]
    bias = torch.cat([b_ir + b_hr - w_hr.sum(1), b_iz + b_hz - w_hz.sum(1), 2 * b_in,
                      2 * (b_hn - w_hn.sum(1))])
    x_u = torch.empty(t_len + 1, n, in_size + hidden)  # row t: [x_t, u_{t-1}]
    x_u[:t_len, :, :in_size] = x.transpose(0, 1)
    x_u[0, :, in_size:] = 0.5  # h_0 = 0
    pre = torch.empty(t_len if keep_logits else 1, n, 4 * hidden)  # r, z logits, 2 xn, 2 hn
    rz = torch.empty(t_len, n, 2 * hidden)
    s = torch.empty(t_len, n, hidden)
    scratch = torch.empty(n, hidden)
    rows, rz_t, s_t = x_u.unbind(0), rz.unbind(0), s.unbind(0)
    u_t = x_u[:, :, in_size:].unbind(0)
    repeat = 1 if keep_logits else t_len  # without logits every step reuses one buffer
    pre_t, rz_logit_t, xn_t, hn_t = (
        part.unbind(0) * repeat for part in (pre, pre[:, :, :2 * hidden],
                                             pre[:, :, 2 * hidden:3 * hidden],
                                             pre[:, :, 3 * hidden:]))
    r, z = rz.view(t_len, n, 2, hidden).permute(2, 0, 1, 3).unbind(0)
    r_t, z_t = r.unbind(0), z.unbind(0)
    gate_plan = _step_clamps({g: c for g, c in clamps.items() if g != "candidate"},
                             {"reset": r, "update": z}, (n, t_len, hidden))
    cand_plan = _step_clamps({g: c for g, c in clamps.items() if g == "candidate"},
                             {"candidate": s}, (n, t_len, hidden), {"candidate": _half_plus_half})
    for t in range(t_len):
        torch.addmm(bias, rows[t], weights, out=pre_t[t])
        torch.sigmoid(rz_logit_t[t], out=rz_t[t])
        for active, target, weight, value in gate_plan:
            if active[t]:
                torch.lerp(target[t], value[t], weight[t], out=target[t])
        torch.addcmul(xn_t[t], r_t[t], hn_t[t], out=scratch)
        torch.sigmoid(scratch, out=s_t[t])
        for active, target, weight, value in cand_plan:
            if active[t]:
                torch.lerp(target[t], value[t], weight[t], out=target[t])
        torch.lerp(s_t[t], u_t[t], z_t[t], out=u_t[t + 1])  # (1 - z) s + z u_prev
    hs = x_u[1:, :, in_size:].mul_(2).sub_(1).transpose(0, 1)
    if not keep_all:
        return {"hidden": hs}
    r, z = rz.transpose(0, 1).chunk(2, dim=2)
    out = {"reset": r, "update": z, "candidate": s.mul_(2).sub_(1).transpose(0, 1),
           "hidden": hs}
    if keep_logits:
        r_logit, z_logit, _, _ = pre.transpose(0, 1).chunk(4, dim=2)
        out |= {"reset_logit": r_logit, "update_logit": z_logit}
    return out


def _rnn_layer(x, w_ih, w_hh, b_ih, b_hh, keep_all: bool, keep_logits: bool, clamps: dict,
               nonlinearity: str = "tanh") -> dict[str, torch.Tensor]:
    """One plain RNN layer: one addmm and one activation per step. For tanh the loop keeps
    `u = (h + 1) / 2 = sigmoid(2 a)`, the affine map folded into the weights as in the GRU."""
    n, t_len, in_size = x.shape
    hidden = w_hh.shape[1]
    bias = b_ih + b_hh
    if nonlinearity == "tanh":  # 2 a = 2 W x + 4 W_hh u + 2 (b - W_hh 1)
        weights = torch.cat([2 * w_ih, 4 * w_hh], dim=1).T.contiguous()
        bias = 2 * (bias - w_hh.sum(1))
        start, act = 0.5, torch.sigmoid
    else:
        weights = torch.cat([w_ih, w_hh], dim=1).T.contiguous()
        start, act = 0.0, _relu
    x_u = torch.empty(t_len + 1, n, in_size + hidden)
    x_u[:t_len, :, :in_size] = x.transpose(0, 1)
    x_u[0, :, in_size:] = start
    rows, u_t = x_u.unbind(0), x_u[:, :, in_size:].unbind(0)
    scratch = torch.empty(n, hidden)
    for t in range(t_len):
        act(torch.addmm(bias, rows[t], weights, out=scratch), out=u_t[t + 1])
    hs = x_u[1:, :, in_size:]
    if nonlinearity == "tanh":
        hs.mul_(2).sub_(1)
    return {"hidden": hs.transpose(0, 1)}


def _relu(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    return torch.clamp(x, min=0.0, out=out)


_FAST_LAYERS = {"lstm": _lstm_layer, "gru": _gru_layer, "rnn": _rnn_layer}


# ------------------------------------------------------------------ the differentiable twin

def run_differentiable(model: nn.Module, inputs, clamp: dict | None = None, layer: int = -1,
                       state_offsets: dict | None = None, detach_recurrent: bool = False,
                       readout: bool = False) -> dict[str, torch.Tensor]:
    """`run` with autograd: the textbook equations, every result in the autograd graph.

    Same keys and clamps as `run` (no logits). In layer `layer`:
    - `state_offsets` `{state: eps}` (states of the architecture: `cell`, `hidden`; each
      broadcastable to `[N, T, H]`) is added to the state right after it is computed, so with
      zero offsets that require grad, `eps.grad[n, s]` is the total derivative dL/d(state_s);
    - `detach_recurrent=True` detaches h_{t-1} wherever it enters a matrix product (the gates
      and the candidate), but not on the state's own path (LSTM: c_t = f c_{t-1} + i g; GRU:
      the z h_{t-1} term), so gradient flows back in time only along the direct state path:
      the product of forget gates (LSTM), of update gates (GRU), nothing (tanh RNN).
    Gradients also reach the module's parameters, so the module must be on the CPU (a copy
    would take them). With `readout=True` the layers above run too and a project model's
    read-out is added as `outputs`.
    """
    if not _is_on_cpu(model):
        raise ValueError("run_differentiable needs the module on the CPU (its gradients reach "
                         "the module's own parameters): call model.cpu() first")
    rnn, arch, x = _prepare(model, inputs)
    layer = range(rnn.num_layers)[layer]
    shape = (x.shape[0], x.shape[1], rnn.hidden_size)
    clamps = {g: (mask, torch.broadcast_to(value, shape))
              for g, (mask, value) in clamp_tensors(arch, clamp, shape).items()}
    offsets = {}
    for state, eps in (state_offsets or {}).items():
        if state not in spec(arch).states:
            raise ValueError(f"no state {state!r} in {arch}; its states: "
                             f"{', '.join(spec(arch).states)}")
        offsets[state] = torch.broadcast_to(torch.as_tensor(eps, dtype=torch.float32), shape)
    cell = spec(arch).cell
    top = rnn.num_layers - 1 if readout else layer
    for k in range(top + 1):
        here = k == layer
        out = _twin_layer(cell, x, *_layer_params(rnn, k), clamps=clamps if here else {},
                          offsets=offsets if here else {},
                          detach=detach_recurrent and here,
                          nonlinearity=getattr(rnn, "nonlinearity", "tanh"))
        if here:
            result = {name: out[name] for name in gate_names(arch)}
        x = out["hidden"]
    if readout and hasattr(model, "readout"):
        result["outputs"] = model.readout(x)
    return result


def _twin_layer(cell: str, x, w_ih, w_hh, b_ih, b_hh, clamps: dict, offsets: dict,
                detach: bool, nonlinearity: str) -> dict[str, torch.Tensor]:
    """One layer of the textbook equations (see the module docstring), step by step."""
    n, t_len, _ = x.shape
    hidden = w_hh.shape[1]
    x_part = x @ w_ih.T + b_ih  # [N, T, blocks * H]
    h = x.new_zeros(n, hidden)
    c = x.new_zeros(n, hidden)
    steps = []
    for t in range(t_len):
        h_in = h.detach() if detach else h
        h_part = h_in @ w_hh.T + b_hh
        if cell == "lstm":
            z = x_part[:, t] + h_part
            g = {"input": torch.sigmoid(z[:, :hidden]),
                 "forget": torch.sigmoid(z[:, hidden:2 * hidden]),
                 "cell_candidate": torch.tanh(z[:, 2 * hidden:3 * hidden]),
                 "output": torch.sigmoid(z[:, 3 * hidden:])}
            g = _clamp_step(g, clamps, t)
            c = g["forget"] * c + g["input"] * g["cell_candidate"]
            if "cell" in offsets:
                c = c + offsets["cell"][:, t]
            h = g["output"] * torch.tanh(c)
            g["cell"] = c
        elif cell == "gru":
            xr, xz, xn = x_part[:, t].chunk(3, dim=1)
            hr, hz, hn = h_part.chunk(3, dim=1)
            g = _clamp_step({"reset": torch.sigmoid(xr + hr), "update": torch.sigmoid(xz + hz)},
                            clamps, t)
            g |= _clamp_step({"candidate": torch.tanh(xn + g["reset"] * hn)}, clamps, t)
            h = (1 - g["update"]) * g["candidate"] + g["update"] * h
        else:
            a = x_part[:, t] + h_part
            h = torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)
            g = {}
        if "hidden" in offsets:
            h = h + offsets["hidden"][:, t]
        g["hidden"] = h
        steps.append(g)
    return {name: torch.stack([s[name] for s in steps], dim=1) for name in steps[0]}


def _clamp_step(gates: dict, clamps: dict, t: int) -> dict:
    for name in gates.keys() & clamps.keys():
        mask, value = clamps[name]
        gates[name] = torch.where(mask[:, t], value[:, t], gates[name])
    return gates
