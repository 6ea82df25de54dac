"""Recurrent models, their architecture variants and initialisation arms.

A model is one of PyTorch's fused modules (`nn.LSTM`, `nn.GRU`, `nn.RNN`; batch_first) followed
by a linear read-out at every step. The fused modules are what people train, so they are what
we study; gate activations are recomputed from their weights afterwards (`gateroles.gates`).

Architectures (`ARCHITECTURES`; `SPECS` says, in one place, what each one computes; they live in
the torch-free `gateroles.architectures` and are re-exported here):
- `lstm`, `gru`: PyTorch's modules as they are.
- `lstm_nfg`, `lstm_nig`, `lstm_nog` (no forget / input / output gate: that gate is 1): run on
  the fused `nn.LSTM` with the removed gate's rows of weight_ih and weight_hh held at 0 and its
  biases at `b_ih = FIXED_GATE_BIAS`, `b_hh = 0`, where the sigmoid is exactly 1.0 in float32
  (the fused CPU kernel gives exactly 1.0 from a logit of 17.33 = 25 ln 2 up, torch.sigmoid
  from 16.64 = 24 ln 2; we use 24). Gradient hooks on the parameters zero those rows'
  gradients, so no optimiser moves them (the saturated sigmoid's own derivative is 0 too).
- `lstm_cifg` (coupled input-forget, f = 1 - i): also the fused `nn.LSTM`, with the forget rows
  tied to minus the input rows in all four tensors, so f = sigmoid(-z_i) = 1 - sigmoid(z_i).
  The input rows are the free parameters: a gradient hook folds the forget rows' gradient into
  them (d/dθ of W_f = -θ is minus the forget gradient) and zeroes the forget rows' gradient;
  the forget rows are re-synced from the input rows before every forward and before every
  `state_dict` (so checkpoints hold the tie), writing only when they differ.
- `rnn`: `nn.RNN` with tanh: no gates; its only state is `hidden`.
- `lstm_ffg`, `gru_fug` (forget / update gate held at 0.5): like the removed gates, the rows
  held at 0 and frozen by the same hooks, with the bias at logit(0.5) = 0.
The hooks live on the model, so any training loop respects the variants; they are re-installed
when a model is copied (`copy.deepcopy` drops tensor hooks).

Initialisation arms (the forget/keep gate's bias is what they change; `init_applies` says which
(arch, init) pairs exist):
- `default`: PyTorch's own (every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))); every arch.
- `forget_bias_1`: the *effective* forget bias `b_ih + b_hh` is 1 (b_ih = 1, b_hh = 0). Needs a
  forget (GRU: update) gate: not on `lstm_nfg` or `rnn`. On `lstm_cifg` it is set through the
  input rows (b_i = -1), so the tie holds and f = sigmoid(1 + ...).
- `chrono` (Tallec & Ollivier 2018): `b_f ~ log U(1, T_max - 1)`, `b_i = -b_f`. Needs both
  halves: not on `lstm_nfg`, `lstm_nig` (no input gate to set: half of chrono is another arm)
  or `rnn`. On `lstm_cifg` the tie *is* b_i = -b_f. The GRU has no separate input gate: chrono
  sets the update gate's bias only.
- `swap_forget_input` (claim C4, the same initial weights in two positions): PyTorch's default,
  then the forget and input blocks exchanged in weight_ih, weight_hh, bias_ih and bias_hh
  (`swap_rows`). For a seed, the block that starts in the forget position of the `default` run
  starts in the input position here and vice versa; everything else (read-out, cell candidate
  and output rows, data, batch order) is the same. Plain `lstm` only.
For the GRU the analogue of the forget gate is the update gate z, because in PyTorch's
convention `h = (1 - z) * n + z * h_prev`: z near 1 keeps the state.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from gateroles.architectures import (  # noqa: F401 - re-exported: models is their public home
    ARCHITECTURES,
    BLOCKS,
    GRU_GATES,
    INIT_ARMS,
    LSTM_GATES,
    SIGMOID_GATES,
    SPECS,
    ArchSpec,
    init_applies,
    spec,
)

# Logit at which a removed gate sits: sigmoid is exactly 1.0 in float32 from 17.33 up in the fused
# CPU kernel (16.64 in torch.sigmoid); tested in tests/test_models.py.
FIXED_GATE_BIAS = 24.0


def held_bias(value: float) -> float:
    """The bias that holds a gate (weights 0) at `value`: FIXED_GATE_BIAS for 1, else
    logit(value) (0 for 0.5, where the sigmoid is exactly 0.5)."""
    if value == 1.0:
        return FIXED_GATE_BIAS
    if not 0.0 < value < 1.0:
        raise ValueError(f"a held gate's value must lie in (0, 1] , got {value}")
    return float(torch.logit(torch.tensor(value, dtype=torch.float64)))


def gate_rows(arch: str, gate: str, hidden_size: int) -> slice:
    """Rows of the stacked weight matrices that belong to `gate` (removed gates included)."""
    blocks = BLOCKS[spec(arch).cell]
    if gate not in blocks:
        raise ValueError(f"{arch} has no gate {gate!r}; its blocks: {', '.join(blocks)}")
    k = blocks.index(gate)
    return slice(k * hidden_size, (k + 1) * hidden_size)


def layer_parameters(rnn: nn.RNNBase, layer: int) -> list[torch.Tensor]:
    """weight_ih, weight_hh, bias_ih, bias_hh of one layer (the biases when present)."""
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return [getattr(rnn, f"{n}_l{layer}") for n in names if hasattr(rnn, f"{n}_l{layer}")]


class RecurrentModel(nn.Module):
    """A recurrent module of architecture `arch` (`ARCHITECTURES`) and a per-step linear
    read-out. Variants hold their invariants through hooks (see the module docstring)."""

    def __init__(self, arch: str, input_size: int, hidden_size: int, n_outputs: int,
                 num_layers: int = 1):
        super().__init__()
        self.arch = arch
        self.spec = spec(arch)
        module = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[self.spec.cell]
        self.rnn = module(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.readout = nn.Linear(hidden_size, n_outputs)
        if self.spec.held or self.spec.coupled:
            _enforce(self.rnn, self.spec)
            self._install_gradient_hooks()
        if self.spec.coupled:
            self.rnn.register_forward_pre_hook(_sync_coupled)
            self.rnn.register_state_dict_pre_hook(_sync_coupled)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Map `[N, T, input_size]` inputs to `[N, T, n_outputs]` outputs."""
        hidden, _ = self.rnn(inputs)
        return self.readout(hidden)

    def _install_gradient_hooks(self) -> None:
        hidden = self.rnn.hidden_size
        zero = [gate_rows(self.arch, g, hidden) for g in self.spec.held]
        fold = ((gate_rows(self.arch, "input", hidden), gate_rows(self.arch, "forget", hidden))
                if self.spec.coupled else None)
        for layer in range(self.rnn.num_layers):
            for param in layer_parameters(self.rnn, layer):
                param.register_hook(partial(_constrain_gradient, zero=zero, fold=fold))

    def __setstate__(self, state):
        # copy.deepcopy and pickle rebuild parameters without their tensor hooks
        super().__setstate__(state)
        if self.spec.held or self.spec.coupled:
            self._install_gradient_hooks()

    @torch.no_grad()
    def check_constraints(self) -> None:
        """Sync the coupled tie; raise if a held gate's rows are not at 0 / its bias."""
        if self.spec.coupled:
            _sync_coupled(self.rnn)
        hidden = self.rnn.hidden_size
        for layer in range(self.rnn.num_layers):
            w_ih, w_hh, b_ih, b_hh = layer_parameters(self.rnn, layer)
            for gate, value in self.spec.held.items():
                rows, bias = gate_rows(self.arch, gate, hidden), held_bias(value)
                if (w_ih[rows].any() or w_hh[rows].any() or b_hh[rows].any()
                        or not (b_ih[rows] == bias).all()):
                    kind = "removed" if gate in self.spec.removed else "fixed"
                    raise RuntimeError(f"{self.arch}: the {kind} {gate} gate's rows of layer "
                                       f"{layer} are not held at 0 / {bias}")


def _constrain_gradient(grad: torch.Tensor, zero: list[slice], fold) -> torch.Tensor:
    """Gradient hook: zero held gates' rows; fold the tied forget rows into the input rows."""
    grad = grad.clone()
    for rows in zero:
        grad[rows] = 0
    if fold is not None:
        inp, fgt = fold
        grad[inp] -= grad[fgt]  # W_f = -W_i, so dL/dW_i gains -dL/dW_f
        grad[fgt] = 0
    return grad


def freeze_gates(model: RecurrentModel, gates) -> None:
    """Hold `gates`' rows of every recurrent tensor at their current values through training:
    a gradient hook zeroes those rows (Adam without weight decay then never moves them; a
    fine-tuning control, not an architecture: nothing about it is saved with the model)."""
    if not gates:
        return
    hidden = model.rnn.hidden_size
    rows = [gate_rows(model.arch, g, hidden) for g in gates]
    for layer in range(model.rnn.num_layers):
        for param in layer_parameters(model.rnn, layer):
            param.register_hook(partial(_constrain_gradient, zero=rows, fold=None))


@torch.no_grad()
def _sync_coupled(rnn: nn.RNNBase, *_) -> None:
    """Forget rows := minus input rows in every tensor (only written when they differ, so a
    graph that saved the weights stays valid). A forward and state_dict pre-hook."""
    hidden = rnn.hidden_size
    inp, fgt = gate_rows("lstm", "input", hidden), gate_rows("lstm", "forget", hidden)
    for layer in range(rnn.num_layers):
        for param in layer_parameters(rnn, layer):
            if not torch.equal(param[fgt], -param[inp]):
                param[fgt] = -param[inp]


@torch.no_grad()
def _enforce(rnn: nn.RNNBase, arch_spec: ArchSpec) -> None:
    """Set a variant's invariants: held gates' rows 0 and their bias (`held_bias`); the tie."""
    hidden = rnn.hidden_size
    for layer in range(rnn.num_layers):
        w_ih, w_hh, b_ih, b_hh = layer_parameters(rnn, layer)
        for gate, value in arch_spec.held.items():
            rows = gate_rows(arch_spec.name, gate, hidden)
            w_ih[rows], w_hh[rows], b_hh[rows] = 0.0, 0.0, 0.0
            b_ih[rows] = held_bias(value)
    if arch_spec.coupled:
        _sync_coupled(rnn)


@torch.no_grad()
def initialise(model: RecurrentModel, arm: str, seq_len: int, generator: torch.Generator) -> None:
    """Apply an initialisation arm in place (after PyTorch's default initialisation).

    Raises ValueError for an (arch, arm) pair that does not exist (`init_applies`).
    """
    if not init_applies(model.arch, arm):
        allowed = [a for a in INIT_ARMS if init_applies(model.arch, a)]
        raise ValueError(f"init arm {arm!r} does not apply to {model.arch!r} (it has no gate "
                         f"to set); arms for {model.arch}: {', '.join(allowed)}")
    if arm == "default":
        return
    if arm == "swap_forget_input":
        swap_rows(model.rnn, model.arch, "forget", "input")
        return
    rnn, hidden, s = model.rnn, model.rnn.hidden_size, model.spec
    for layer in range(rnn.num_layers):
        if arm == "forget_bias_1":
            _set_keep_bias(model, layer, torch.ones(hidden))
            continue
        # chrono: b_f ~ log U(1, T_max - 1), with T_max the sequence length.
        t_max = max(seq_len, 3)
        u = torch.rand(hidden, generator=generator) * (t_max - 2) + 1
        b_f = torch.log(u)
        _set_keep_bias(model, layer, b_f)
        if s.cell == "lstm" and not s.coupled:  # coupled: the tie already makes b_i = -b_f
            _, _, b_ih, b_hh = layer_parameters(rnn, layer)
            inp = gate_rows(model.arch, "input", hidden)
            b_ih[inp] = -b_f
            b_hh[inp] = 0.0


@torch.no_grad()
def swap_rows(rnn: nn.RNNBase, arch: str, gate_a: str, gate_b: str) -> None:
    """Exchange, in place, the rows of `gate_a` and `gate_b` in weight_ih, weight_hh, bias_ih
    and bias_hh of every layer of `rnn` (the module of an `arch` model)."""
    hidden = rnn.hidden_size
    a, b = gate_rows(arch, gate_a, hidden), gate_rows(arch, gate_b, hidden)
    for layer in range(rnn.num_layers):
        for param in layer_parameters(rnn, layer):
            rows_a = param[a].clone()
            param[a] = param[b]
            param[b] = rows_a


def _set_keep_bias(model: RecurrentModel, layer: int, value: torch.Tensor) -> None:
    """Effective bias of the keep gate := value (b_ih = value, b_hh = 0); for the coupled
    architecture through the input rows (b_i = -value), then the tie."""
    _, _, b_ih, b_hh = layer_parameters(model.rnn, layer)
    gate, sign = model.spec.keep_gate, 1.0
    if model.spec.coupled:
        gate, sign = "input", -1.0
    rows = gate_rows(model.arch, gate, model.rnn.hidden_size)
    b_ih[rows] = sign * value
    b_hh[rows] = 0.0
    if model.spec.coupled:
        _sync_coupled(model.rnn)


def build_model(arch: str, input_size: int, hidden_size: int, n_outputs: int, init: str,
                seq_len: int, seed: int, num_layers: int = 1) -> RecurrentModel:
    """A freshly initialised model; the same arguments always give the same weights.

    The LSTM variants draw the same initial weights as `lstm` for the same seed (their
    invariants overwrite only their own rows), so runs of a seed are paired across variants.
    """
    torch.manual_seed(seed)
    model = RecurrentModel(arch, input_size, hidden_size, n_outputs, num_layers)
    generator = torch.Generator().manual_seed(seed + 1)
    initialise(model, init, seq_len, generator)
    return model


def effective_bias(model: RecurrentModel, gate: str, layer: int = 0) -> torch.Tensor:
    """The bias a gate actually sees: `b_ih + b_hh` for its rows."""
    rows = gate_rows(model.arch, gate, model.rnn.hidden_size)
    _, _, b_ih, b_hh = layer_parameters(model.rnn, layer)
    return b_ih[rows] + b_hh[rows]


def checkpoint_payload(meta: dict, checkpoints: dict[int, dict[str, torch.Tensor]]) -> dict:
    """What a checkpoint file holds: plain metadata (arch included) and one state_dict per step."""
    return {"meta": dict(meta), "steps": {str(step): sd for step, sd in checkpoints.items()}}


def models_from_payload(payload: dict) -> dict[int, RecurrentModel]:
    """Rebuild one eval-mode model per saved step from `checkpoint_payload` output (any arch;
    `meta` may carry `num_layers`, default 1). A variant whose invariants do not hold is an
    error."""
    meta = payload["meta"]
    models = {}
    for step, state in sorted(payload["steps"].items(), key=lambda kv: int(kv[0])):
        model = RecurrentModel(meta["arch"], meta["input_size"], meta["hidden_size"],
                               meta["n_outputs"], meta.get("num_layers", 1))
        model.load_state_dict(state)
        model.check_constraints()
        models[int(step)] = model.eval()
    return models
