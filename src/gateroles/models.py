"""Recurrent models and their initialisation arms.

A model is PyTorch's fused `nn.LSTM` or `nn.GRU` (batch_first) followed by a linear read-out at
every step. The fused modules are what people train, so they are what we study; gate activations
are recomputed from their weights afterwards (`gateroles.gates`).

Initialisation arms (the forget/keep gate's bias is what they change):
- `default`: PyTorch's own (every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))).
- `forget_bias_1`: the *effective* forget bias `b_ih + b_hh` is 1 (b_ih = 1, b_hh = 0).
- `chrono` (Tallec & Ollivier 2018): `b_f ~ log U(1, T_max - 1)`, `b_i = -b_f`.
For the GRU the analogue of the forget gate is the update gate z, because in PyTorch's
convention `h = (1 - z) * n + z * h_prev`: z near 1 keeps the state. The arms set z's bias
(and, for chrono, nothing else: the GRU has no separate input gate).
"""

from __future__ import annotations

import torch
from torch import nn

from gateroles.architectures import ARCHITECTURES, INIT_ARMS

# Row blocks of PyTorch's stacked gate weights.
LSTM_GATES = ("input", "forget", "cell_candidate", "output")
GRU_GATES = ("reset", "update", "candidate")


class RecurrentModel(nn.Module):
    """A single recurrent layer (`lstm` or `gru`) and a per-step linear read-out."""

    def __init__(self, arch: str, input_size: int, hidden_size: int, n_outputs: int,
                 num_layers: int = 1):
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {arch!r}; allowed: {', '.join(ARCHITECTURES)}")
        module = nn.LSTM if arch == "lstm" else nn.GRU
        self.arch = arch
        self.rnn = module(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.readout = nn.Linear(hidden_size, n_outputs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Map `[N, T, input_size]` inputs to `[N, T, n_outputs]` outputs."""
        hidden, _ = self.rnn(inputs)
        return self.readout(hidden)


def gate_rows(arch: str, gate: str, hidden_size: int) -> slice:
    """Rows of the stacked weight matrix that belong to `gate`."""
    names = LSTM_GATES if arch == "lstm" else GRU_GATES
    k = names.index(gate)
    return slice(k * hidden_size, (k + 1) * hidden_size)


@torch.no_grad()
def initialise(model: RecurrentModel, arm: str, seq_len: int, generator: torch.Generator) -> None:
    """Apply an initialisation arm in place (after PyTorch's default initialisation)."""
    if arm not in INIT_ARMS:
        raise ValueError(f"unknown init arm {arm!r}; allowed: {', '.join(INIT_ARMS)}")
    if arm == "default":
        return
    rnn, hidden = model.rnn, model.rnn.hidden_size
    keep_gate = "forget" if model.arch == "lstm" else "update"
    keep = gate_rows(model.arch, keep_gate, hidden)
    for layer in range(rnn.num_layers):
        b_ih = getattr(rnn, f"bias_ih_l{layer}")
        b_hh = getattr(rnn, f"bias_hh_l{layer}")
        if arm == "forget_bias_1":
            b_ih[keep] = 1.0
            b_hh[keep] = 0.0
            continue
        # chrono: b_f ~ log U(1, T_max - 1), with T_max the sequence length.
        t_max = max(seq_len, 3)
        u = torch.rand(hidden, generator=generator) * (t_max - 2) + 1
        b_f = torch.log(u)
        b_ih[keep] = b_f
        b_hh[keep] = 0.0
        if model.arch == "lstm":
            inp = gate_rows("lstm", "input", hidden)
            b_ih[inp] = -b_f
            b_hh[inp] = 0.0


def build_model(arch: str, input_size: int, hidden_size: int, n_outputs: int, init: str,
                seq_len: int, seed: int, num_layers: int = 1) -> RecurrentModel:
    """A freshly initialised model; the same arguments always give the same weights."""
    torch.manual_seed(seed)
    model = RecurrentModel(arch, input_size, hidden_size, n_outputs, num_layers)
    generator = torch.Generator().manual_seed(seed + 1)
    initialise(model, init, seq_len, generator)
    return model


def effective_bias(model: RecurrentModel, gate: str, layer: int = 0) -> torch.Tensor:
    """The bias a gate actually sees: `b_ih + b_hh` for its rows."""
    rows = gate_rows(model.arch, gate, model.rnn.hidden_size)
    rnn = model.rnn
    return (getattr(rnn, f"bias_ih_l{layer}")[rows] + getattr(rnn, f"bias_hh_l{layer}")[rows])



def checkpoint_payload(meta: dict, checkpoints: dict[int, dict[str, torch.Tensor]]) -> dict:
    """What a checkpoint file holds: plain metadata and one state_dict per step."""
    return {"meta": dict(meta), "steps": {str(step): sd for step, sd in checkpoints.items()}}


def models_from_payload(payload: dict) -> dict[int, RecurrentModel]:
    """Rebuild one eval-mode model per saved step from `checkpoint_payload` output."""
    meta = payload["meta"]
    models = {}
    for step, state in sorted(payload["steps"].items(), key=lambda kv: int(kv[0])):
        model = RecurrentModel(meta["arch"], meta["input_size"], meta["hidden_size"],
                               meta["n_outputs"])
        model.load_state_dict(state)
        models[int(step)] = model.eval()
    return models
