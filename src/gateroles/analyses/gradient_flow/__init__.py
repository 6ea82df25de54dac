"""The cell state as a gradient highway (claim C6): how fast does the gradient fade with lag?

For each model, at step 0 and at its last checkpoint, the norm of the gradient of the task's
own loss at a scored step t with respect to a state k steps earlier, `||dL_t/dc_{t-k}||` and
`||dL_t/dh_{t-k}||` (LSTM family; GRU and tanh RNN: h only), averaged over scored steps and
sequences, for k = 0..`max_lag`. One backward pass gives every lag: each row of a batch is one
(sequence, scored step t_n) pick, its loss is the loss at t_n alone, and the gradient with
respect to an additive zero offset on the state at step s of row n is dL_{t_n}/d(state_s), at
lag t_n - s (rows are independent). Picks are scored steps t >= `max_lag` + `burn_in`, so every
pick sees every lag, each lag is averaged over the same picks, and no state of the first
`burn_in` steps (still leaving the zero initial state) is measured.

Paths (`gates.run_differentiable(detach_recurrent=True)` detaches h_{t-1} where it enters the
gates and the candidate): the *direct* path is the product of forget gates along
c_{t-k} -> c_t (LSTM) or of update gates along the z h_{t-1} term (GRU; PyTorch's convention,
z near 1 keeps the state); the paths through h (LSTM) or through the gates (GRU) are the total
minus the direct gradient, as vectors. The tanh RNN has no direct path. The total gradient is
measured again with the keep gate (LSTM forget, GRU update) clamped to `clamp_value` a at every
step (the highway removed; its direct path is then exactly a^k times its lag-0 value, tested,
so it is not measured); `lstm_nfg` (f = 1) is the highway at its widest, shown, not tested.

Negative controls (`HIGHWAY_CONTROLS`): the architectures whose keep gate is held at 0.5 during
training (`lstm_ffg`, `gru_fug`), where the direct path is a product of 0.5s, 0.5^k, by
construction: no highway. Their keep gate is measured free and clamped like a learned one (the
clamp to 0.5 is then the identity).

`share` (per lag): of the squared norms of the state's two paths, the part along one of them,
sum ||direct||^2 / sum (||direct||^2 + ||via h||^2) over picks; in [0, 1] (direct + via h = 1).

Summary per model and path: the e-folding lag, where the mean norm first falls below 1/e of
its lag-0 value (interpolated linearly in log norm between the two lags around the crossing);
a path that never falls that far within `max_lag` is censored ("> K") and counts as K, a lower
bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateroles.architectures import spec

# The state whose direct path `detach_recurrent=True` isolates, per fused cell: the LSTM's
# cell (product of forget gates), the GRU's hidden state (product of update gates); the tanh
# RNN has none.
DIRECT_STATE = {"lstm": "cell", "gru": "hidden", "rnn": None}
# Paths of a state: the full gradient, the direct path, and the rest (the paths through h's
# matrix products: into the gates and the candidate), total minus direct as vectors.
PATHS = ("total", "direct", "via_h")
# Conditions: the gates as they are, and the keep gate (forget / update) clamped everywhere.
FREE, CLAMPED = "free", "clamped"
# The keep gate of each fused cell (GRU: PyTorch's convention, z near 1 keeps the state).
KEEP_GATES = {"lstm": "forget", "gru": "update"}
# The negative control of the highway predictions, per fused cell: the architecture whose keep
# gate is held at 0.5 in training, so the product of keep gates along the direct path is 0.5^k
# by construction. Not `architectures.CONTROLS` (the forget gate's role tests): there the
# forget gate's control is `lstm_nfg`, whose f = 1 is a perfect carousel, the highway at its
# widest rather than its absence.
HIGHWAY_CONTROLS = {"lstm": "lstm_ffg", "gru": "gru_fug"}
# What C6 measures beyond the main grid (where the config trains them): the tanh RNN (no gate,
# the other side of P3), lstm_nfg (f = 1, the widest highway, shown) and the controls.
EXTRA_ARCHS = ("rnn", "lstm_nfg", *HIGHWAY_CONTROLS.values())


def keep_gate(arch: str) -> str | None:
    """The keep gate `arch` computes and uses (learned, coupled or held at a constant in
    training), None where it has none (`lstm_nfg`: removed, f = 1; the tanh RNN)."""
    s = spec(arch)
    gate = KEEP_GATES.get(s.cell)
    return gate if gate in s.gates else None


@dataclass(frozen=True)
class Settings:
    max_lag: int  # K: lags 0..K (lowered to fit the sequences: see measure.choose_picks)
    burn_in: int  # states before this step are not measured (the zero initial state's wake)
    n_sequences: int  # sequences of the gate file used (the first ones)
    picks_per_sequence: int  # scored steps per sequence (distinct, at random), each one row
    clamp_value: float  # the keep gate (forget / update) clamped to this: no highway

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return cls(**config["gradients"])
