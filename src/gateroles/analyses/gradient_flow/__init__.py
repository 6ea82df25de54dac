"""The cell state as a gradient highway (claim C6): does the query's gradient reach the store?

Everything here differentiates the *target's logit* at a step t (the prediction itself for a
regression task), not the loss: on a trained model the loss is near zero, and its gradient
says more about how close to zero it is than about the paths it takes.

**Hold intervals (the test).** On every task with STORE and QUERY events, the store-to-query
intervals of the gate file's sequences (`tasks.hold_intervals`: each QUERY paired with the
last STORE before it) that cross no erasing event (`keep`: the memory must be held) and those
that cross one (`erase`). Each interval with at least one step between the store s and the
query q is a candidate pick; the memory-carrying units are chosen on the even-numbered
sequences (`roles.measure.memory_units`, share `roles.memory_units`) and up to
`interval_picks` intervals of each kind are drawn from the odd-numbered ones. One backward pass
per condition gives, for every pick, the gradient of the target's logit at q with respect to
the states at q - k for every lag k back to the store (k = q - s), the norm over all units and
over the memory units. Summaries per pick, averaged over picks: log10 of the norm at the store,
at lag 1 and at lag 0 (a norm below 1e-30 counts as 1e-30), and the *decades kept from lag 1
to the store*, log10 ||g(s)|| - log10 ||g(q - 1)||, which leaves out lag 0, where h_q reaches
the read-out directly (the hidden state's gradient is inflated there, the cell's is not).

Paths (`gates.run_differentiable(detach_recurrent=True)` detaches h_{t-1} where it enters the
gates and the candidate): the *direct* path is the product of forget gates along
c_s -> c_q (LSTM) or of update gates along the z h_{t-1} term (GRU; PyTorch's convention,
z near 1 keeps the state); the paths through h are the total minus the direct, as vectors; the
direct path's `share` at a lag is sum ||direct||^2 / sum (||direct||^2 + ||via h||^2) over
picks, in [0, 1]. The tanh RNN has no direct path.

**The keep gate clamped inside the Jacobian only** (`condition` = `jacobian`): the run is the
free one, value for value, and only the derivative of the state along its own path is the
constant `clamp_value` a instead of the keep gate (`gates.run_differentiable(keep_jacobian=a)`):
what the gradient would be if the learned gate carried it no better than a constant, on the
trajectory the model actually takes. (The former test clamped the gate in the forward pass:
that changes the trajectory and removes the net's own cut at events, so the gradient could
*lengthen* under the clamp.) Architectures without a keep gate (`lstm_nfg`, f = 1; the tanh
RNN) have no such condition.

Negative controls (`HIGHWAY_CONTROLS`): the architectures whose keep gate is held at 0.5
during training (`lstm_ffg`, `gru_fug`), where the direct path is a product of 0.5s by
construction: no highway. Their Jacobian clamp to 0.5 is the identity.

**Gradient by lag on scored steps (descriptive).** For every task, at step 0 and at the last
checkpoint, the same gradient at scored steps t >= `max_lag` + `burn_in` (`picks_per_sequence`
per sequence of the first `n_sequences`), k = 0..`max_lag`, gates free, and per (state, path)
the e-folding lag counted from lag 1 (where the mean norm first falls below 1/e of its lag-1
value, interpolated in log norm; never within `max_lag`: censored, counted as the largest lag
measured). Shown, not tested: on tasks with frequent events the lags from a scored step mix
intervals of every length.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateroles.architectures import spec
from gateroles.settings import from_section, setting

# The state whose direct path `detach_recurrent=True` isolates, per fused cell: the LSTM's
# cell (product of forget gates), the GRU's hidden state (product of update gates); the tanh
# RNN has none.
DIRECT_STATE = {"lstm": "cell", "gru": "hidden", "rnn": None}
# Paths of a state: the full gradient, the direct path, and the rest (the paths through h's
# matrix products: into the gates and the candidate), total minus direct as vectors.
PATHS = ("total", "direct", "via_h")
# Conditions: the gates as they are, and the keep gate (forget / update) clamped to
# `clamp_value` inside the Jacobian only (the trajectory free).
FREE, JACOBIAN = "free", "jacobian"
# Interval kinds (`tasks.hold_intervals`' crosses_erase 0 / 1) and the units a norm is over.
KEEP, ERASE = "keep", "erase"
ALL_UNITS, MEMORY_UNITS = "all", "memory"
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
# A gradient norm below this counts as this in the log10 summaries (a tanh RNN's gradient can
# underflow to 0 in float32 over a long hold).
FLOOR = 1e-30


def keep_gate(arch: str) -> str | None:
    """The keep gate `arch` computes and uses (learned, coupled or held at a constant in
    training), None where it has none (`lstm_nfg`: removed, f = 1; the tanh RNN)."""
    s = spec(arch)
    gate = KEEP_GATES.get(s.cell)
    return gate if gate in s.gates else None


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The gradient of the target's logit across hold intervals and by lag from scored steps,
    path by path (claim C6; gateroles.analyses.gradient_flow)."""

    max_lag: int = setting(
        50, "Largest lag K: the gradient at a scored step t with respect to the states at "
        "t - 0 .. t - K; the picks are scored steps t >= K + burn_in (K is lowered to the "
        "latest scored step minus burn_in when the sequences are shorter).", minimum=1,
        maximum=100000)
    burn_in: int = setting(
        10, "States before this step are not measured (the sequence is still leaving its zero "
        "initial state there).", minimum=0, maximum=100000)
    n_sequences: int = setting(
        64, "Sequences of the gate file used (the first ones; at most extraction.n_sequences).",
        minimum=1, maximum=100000)
    picks_per_sequence: int = setting(
        2, "Scored steps per sequence (distinct, drawn at random; each one batch row of the "
        "single backward pass).", minimum=1, maximum=1000)
    clamp_value: float = setting(
        0.5, "The keep gate (LSTM forget, GRU update) clamped to this inside the Jacobian only "
        "(the trajectory free): the highway removed from the gradient, not from the run.",
        minimum=0, maximum=1)
    interval_picks: int = setting(
        64, "Store-to-query intervals of each kind (no erase between them; an erase between "
        "them) per model, at most, drawn from the odd-numbered sequences of the gate file (the "
        "even ones choose the memory-carrying units).", minimum=1, maximum=100000)
    memory_units: float  # share of units taken as memory-carrying (`roles`' setting)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["gradient_flow"],
                            memory_units=config["roles"]["memory_units"])
