"""Recompute gate activations from a recurrent module's own weights.

PyTorch's fused `nn.LSTM`/`nn.GRU` never expose their gates, so we run the same equations again
from the module's parameters. The recomputed hidden states must equal the module's outputs to
float tolerance: that equality (tested) is what makes the extracted gates the real ones.

The input projection of all steps is one matrix product; only the recurrence loops over time.

LSTM (gate order i, f, g, o in PyTorch's stacked weights)::

    i, f, o = sigmoid(.), g = tanh(.),  c = f * c_prev + i * g,  h = o * tanh(c)

GRU (gate order r, z, n)::

    r, z = sigmoid(.),  n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h = (1 - z) * n + z * h_prev

so in PyTorch's convention an update gate z near 1 *keeps* the state.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

LSTM_OUTPUTS = ("input", "forget", "cell_candidate", "output", "cell", "hidden")
GRU_OUTPUTS = ("reset", "update", "candidate", "hidden")
# Gates whose activation is a sigmoid: their pre-activations (logits) can be returned too.
SIGMOID_GATES = {"lstm": ("input", "forget", "output"), "gru": ("reset", "update")}


def recurrent_module(model: nn.Module) -> nn.LSTM | nn.GRU:
    """The `nn.LSTM`/`nn.GRU` inside a project model, or the module itself."""
    rnn = getattr(model, "rnn", model)
    if not isinstance(rnn, nn.LSTM | nn.GRU):
        raise TypeError(f"expected an nn.LSTM, nn.GRU or a model with .rnn, got {type(rnn)}")
    if not rnn.batch_first:
        raise ValueError("gate extraction expects a batch_first module ([N, T, input_size])")
    if rnn.bidirectional or getattr(rnn, "proj_size", 0):
        raise ValueError("bidirectional modules and LSTM projections are not supported")
    return rnn


def architecture(model: nn.Module) -> str:
    """'lstm' or 'gru'."""
    return "lstm" if isinstance(recurrent_module(model), nn.LSTM) else "gru"


def gate_names(arch: str) -> tuple[str, ...]:
    return LSTM_OUTPUTS if arch == "lstm" else GRU_OUTPUTS


@torch.no_grad()
def extract(model: nn.Module, inputs, layer: int = -1, preactivations: bool = False
            ) -> dict[str, np.ndarray]:
    """Gate activations of one layer, each `[N, T, H]` float32.

    LSTM keys: input, forget, cell_candidate, output, cell, hidden; GRU keys: reset, update,
    candidate, hidden. With `preactivations=True` the sigmoid gates' logits are added as
    `<gate>_logit` (mutual information on logits does not suffer from saturation).
    `inputs` is a float tensor or array `[N, T, input_size]`; the initial state is zero.
    """
    rnn = recurrent_module(model)
    x = torch.as_tensor(inputs, dtype=torch.float32)
    if x.ndim != 3 or x.shape[-1] != rnn.input_size:
        raise ValueError(f"inputs must be [N, T, {rnn.input_size}], got {tuple(x.shape)}")
    layer = range(rnn.num_layers)[layer]
    step = _lstm_layer if isinstance(rnn, nn.LSTM) else _gru_layer
    for k in range(layer + 1):
        params = [getattr(rnn, f"{name}_l{k}") for name in ("weight_ih", "weight_hh")]
        biases = [getattr(rnn, f"{name}_l{k}", None) for name in ("bias_ih", "bias_hh")]
        out = step(x, *params, *biases, keep_all=(k == layer),
                   keep_logits=preactivations and k == layer)
        x = out["hidden"]
    result = {name: out[name].numpy() for name in gate_names(architecture(rnn))}
    if preactivations:
        for gate in SIGMOID_GATES[architecture(rnn)]:
            result[f"{gate}_logit"] = out[f"{gate}_logit"].numpy()
    return result


def _zero_bias(weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return torch.zeros(weight.shape[0]) if bias is None else bias


def _project(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """`x @ weight.T + bias` of every step as one 2-D product, time-major `[T, N, out]`.

    The bias rides along as a column of ones: adding a broadcast bias costs a full extra pass
    over the result, which here is as slow as the product itself.
    """
    n, t_len, size = x.shape
    ones = torch.ones(t_len, n, 1)
    x_aug = torch.cat([x.transpose(0, 1), ones], dim=2).reshape(t_len * n, size + 1)
    w_aug = torch.cat([weight, bias[:, None]], dim=1)
    out = torch.empty(t_len * n, weight.shape[0])  # `out=` takes a faster path than a new result
    return torch.mm(x_aug, w_aug.T, out=out).view(t_len, n, -1)


def _tanh(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """tanh(x) = 2 sigmoid(2x) - 1: on these CPUs torch's sigmoid is ~6x faster than its tanh."""
    result = torch.sigmoid(2 * x, out=out)
    return result.mul_(2).sub_(1)


def _lstm_layer(x, w_ih, w_hh, b_ih, b_hh, keep_all: bool, keep_logits: bool
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
    loop.
    """
    n, t_len, in_size = x.shape
    hidden = w_hh.shape[1]
    three = 3 * hidden
    order = torch.cat([torch.arange(0, 2 * hidden), torch.arange(3 * hidden, 4 * hidden),
                       torch.arange(2 * hidden, 3 * hidden)])
    scale = torch.ones(4 * hidden, 1)
    scale[three:] = 2.0
    bias = (_zero_bias(w_ih, b_ih) + _zero_bias(w_hh, b_hh))[order] * scale[:, 0]
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
    i_t, f_t, o_t, s_g_t = (
        gate.unbind(0) for gate in act.view(t_len, n, 4, hidden).permute(2, 0, 1, 3).unbind(0))
    scratch = torch.empty(n, hidden)
    half = torch.tensor(0.5)  # a tensor, not a Python float: no per-step scalar conversion
    for t in range(t_len):
        torch.addmm(bias, rows[t], weights, out=logit_t[t])
        torch.sigmoid(logit_t[t], out=act_t[t])
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


def _gru_layer(x, w_ih, w_hh, b_ih, b_hh, keep_all: bool, keep_logits: bool
               ) -> dict[str, torch.Tensor]:
    """One GRU layer. The r and z logits are always kept (r and z are computed from them after
    the loop), so `keep_logits` changes nothing here."""
    n, t_len, _ = x.shape
    hidden = w_hh.shape[1]
    b_hh = _zero_bias(w_hh, b_hh)
    x_part = _project(x, w_ih, _zero_bias(w_ih, b_ih))  # [T, N, 3H]
    w_hh_t = w_hh.T.contiguous()
    h = torch.zeros(n, hidden)
    hs = torch.empty(n, t_len, hidden)
    # r and z logits, and the candidate n, are only kept for the layer asked for.
    rz = torch.empty(n, t_len, 2 * hidden) if keep_all else None
    cand = torch.empty(n, t_len, hidden) if keep_all else None
    for t in range(t_len):
        h_part = torch.addmm(b_hh, h, w_hh_t)
        xr, xz, xn = x_part[t].chunk(3, dim=1)
        hr, hz, hn = h_part.chunk(3, dim=1)
        r_logit, z_logit = xr + hr, xz + hz
        r, z = torch.sigmoid(r_logit), torch.sigmoid(z_logit)
        cand_t = _tanh(torch.addcmul(xn, r, hn))
        h = cand_t + z * (h - cand_t)  # = (1 - z) * n + z * h
        hs[:, t] = h
        if keep_all:
            rz[:, t, :hidden] = r_logit
            rz[:, t, hidden:] = z_logit
            cand[:, t] = cand_t
    if not keep_all:
        return {"hidden": hs}
    r_logit, z_logit = rz.chunk(2, dim=2)
    return {"reset": torch.sigmoid(r_logit), "update": torch.sigmoid(z_logit),
            "candidate": cand, "hidden": hs, "reset_logit": r_logit, "update_logit": z_logit}
