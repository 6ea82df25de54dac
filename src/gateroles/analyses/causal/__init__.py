"""Causal roles (claim C3): does perturbing a gate at its events break the behaviour that needs it,
more than perturbing any other gate by a matched amount there?

**Primary: matched perturbations (interchange).** Every sigmoid gate of the model's cell
(LSTM input, forget, output; GRU reset, update), all units, at the steps of one event role, has
its activation replaced by *its own* activation in the free (unperturbed) run at the matched
quiet step of the same sequence: the nearest quiet step before it (the nearest after it where
none precedes). A quiet step is a step with no event of any role and no other marked token
(no `is_*` factor: e.g. an ARM or an unarmed RESET is not quiet), i.e. a distractor. So every
gate is moved by what it itself does at the event compared with a quiet step, at the same
events of the same sequences: an interchange, matched across gates by construction (its size,
the mean |change| of the activation, is in the tables). Damage is scored per behaviour
(`NEEDS`: which behaviours need which role, declared by each task) against the free run on
the same sequences. The **quiet-step control** is the same gate's interchange at quiet steps
matched in lag: for each event, the quiet step of the same sequence whose lag to the next
scored step of the behaviour equals the event's lag (nearest lag, then nearest in time; each
quiet step used once), so both conditions are equally far from what is scored.

Per cell, role and behaviour that needs the role, two primary predictions: (a) the role gate's
interchange damages the behaviour more than every other gate's interchange at the same events
(role damage minus the largest other); (b) more than its own interchange at the lag-matched
quiet steps. **Unit ablation** (also primary): the k units of the role gate most locked to the
event (chosen on one half of the sequences) clamped to the role-off value at the events of the
other half, against random groups of k units. Each primary prediction has a negative control:
the same test on the cell whose architecture holds that gate constant during training
(`architectures.control_of`: a removed gate at 1, a fixed one at 0.5), run on the same task
and seeds, where only the primary measures run, at the last checkpoint. A model with a removed
gate runs as its plain cell with that gate a constant-1 gate, so the row exists: its
interchange and its role-off clamp to 1 change nothing (damage exactly 0, no pass is run); the
other gates' damage comes from real passes.

**Sanity checks** (shown apart, never counted): the role-off clamps at the events (LSTM
forget -> 1 at resets, input -> 0 at stores, output -> 0 at queries; GRU, PyTorch's convention
`h = (1 - z) n + z h_prev`, update -> 1 at resets and stores), which blind the network or
block the only write, and the **weight-block swaps** (two gates' rows exchanged in every
weight and bias: LSTM forget-input, forget-output, input-output; GRU reset-update), which
break any trained network.

The role-off value of a role's gate is the extreme opposite to where the gate moves to do its
role (`ROLE_GATES`: a gate that rises at its event is clamped to 0, one that drops to 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateroles import tasks
from gateroles.architectures import ROLE_GATES, SPECS, control_of
from gateroles.settings import from_section, setting

# Task -> event role -> the behaviours (gate file meta `behaviours`) whose answer depends on
# what the role does at its event: each task declares its own (`TaskSpec.needs`, in
# gateroles/tasks/<name>.py, with why), checked against its behaviours when it is registered.
NEEDS = tasks.NEEDS

# The `intervention` and `condition` values of the matrix tables.
INTERCHANGE, CLAMP = "interchange", "role-off clamp"
EVENT, QUIET = "event", "lag-matched quiet"

# Swapped pairs of weight blocks, per fused cell (a pair whose gates an architecture lacks is
# skipped; lstm_cifg allows input <-> forget only).
SWAPS: dict[str, tuple[tuple[str, str], ...]] = {
    "lstm": (("forget", "input"), ("forget", "output"), ("input", "output")),
    "gru": (("reset", "update"),),
    "rnn": (),
}

# What the competing account predicts, per fused cell and role, for prediction (a) (the role
# gate's interchange against every other gate's at the same events), and for (b) and the unit
# ablation.
RIVALS: dict[tuple[str, str], str] = {
    ("lstm", "reset"): "erasure goes through the input term (a write of -c): the input gate's "
                       "interchange at resets damages as much or more",
    ("lstm", "store"): "the write is made by erasing (forget) or gated at the read-out "
                       "(output): another gate's interchange at stores damages as much or more",
    ("lstm", "query"): "the answer is read out of the cell without the output gate's help: "
                       "another gate's interchange at queries damages as much or more",
    ("gru", "reset"): "the reset gate erases (the candidate ignores the old state): its "
                      "interchange at resets damages as much or more",
    ("gru", "store"): "the reset gate decides what is written: its interchange at stores "
                      "damages as much or more",
}
QUIET_RIVAL = ("the gate matters wherever it moves, not at its event: its interchange at quiet "
               "steps as far from the scored steps damages as much")
ABLATION_RIVAL = ("the role is spread over the gate's units, not carried by those locked to "
                  "the event: random groups of as many units damage as much")

# Why each sanity check cannot fail (the `note` of its row), per fused cell and role.
SANITY_NOTES: dict[tuple[str, str], str] = {
    ("lstm", "reset"): "forget -> 1 keeps the whole cell: a perturbation far larger than any "
                       "other gate's and not matched to them (the interchange is the matched "
                       "test); it shows that the clamp reaches the behaviour",
    ("lstm", "store"): "input -> 0 blocks the only write into the cell: any network that "
                       "stores the value in the cell loses it",
    ("lstm", "query"): "output -> 0 sets h = 0 at the query: the read-out is a constant, so "
                       "any trained network loses the answer",
    ("gru", "reset"): "update -> 1 copies h_prev: the event token is never seen, so any "
                      "trained network misses the event",
    ("gru", "store"): "update -> 1 copies h_prev: the event token is never seen, so any "
                      "trained network misses the event",
}
SWAP_NOTE = ("exchanging two trained weight blocks breaks any trained network (and at step 0 "
             "the blocks are exchangeable)")


def cell(arch: str) -> str:
    """The fused cell an architecture runs on (`lstm`, `gru`, `rnn`)."""
    return SPECS[arch].cell


def interchange_gates(arch: str) -> tuple[str, ...]:
    """The gates interchanged on `arch`: every sigmoid gate of its plain cell (a gate the
    architecture holds constant is a constant gate, whose interchange changes nothing)."""
    return SPECS[cell(arch)].sigmoid_gates if cell(arch) in SPECS else ()


def role_off(arch: str) -> dict[str, tuple[str, float]]:
    """Event role -> (its gate, the value that switches the role off) for `arch`.

    From `ROLE_GATES`: a gate that rises at its event (+1) is clamped to 0, one that drops
    (-1) to 1.
    """
    return {role: (gate, 0.0 if direction > 0 else 1.0)
            for role, (gate, direction) in ROLE_GATES[arch].items()}


def controlled_roles(arch: str) -> dict[str, tuple[str, float]]:
    """The roles whose primary tests `arch` is the negative control of (`control_of`), with the
    plain cell's role gate and role-off value: e.g. `lstm_nfg` -> reset (forget, 1)."""
    plain = cell(arch)
    if plain not in ("lstm", "gru"):
        return {}
    return {role: gv for role, gv in role_off(plain).items()
            if control_of(plain, gv[0]) == arch}


def measured_roles(arch: str, control_only: bool) -> dict[str, tuple[str, float]]:
    """The roles measured on a cell: its own role gates' (unless it is only a negative control)
    and those it is the negative control of."""
    own = {} if control_only else role_off(arch)
    return {**own, **controlled_roles(arch)}


def swaps(arch: str) -> list[tuple[str, str]]:
    """The block swaps `interventions.swap_blocks` allows on `arch` (not of a gate held
    constant: its rows must stay where they are)."""
    s = SPECS[arch]
    pairs = [p for p in SWAPS[s.cell] if set(p) <= set(s.gates) and not set(p) & set(s.held)]
    if s.coupled:
        pairs = [p for p in pairs if set(p) == {"forget", "input"}
                 or not set(p) & {"forget", "input"}]
    return pairs


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Claim C3, causal roles (gateroles.analyses.causal): gates clamped at events (the gate x
    event x behaviour matrix, on all extracted sequences), unit ablation against random groups,
    weight-block swaps; each model at its last checkpoint and at step 0."""

    unit_k: tuple[int, ...] = setting(
        (1, 4, 8), "Group sizes k of the unit ablation: the k units of a role's gate most "
        "locked to its event, chosen on the first half of the extracted sequences, clamped to "
        "the role-off value at the event steps of the other half, against random groups of k "
        "units; each k below model.hidden_size.",
        items={"type": "integer", "minimum": 1, "maximum": 4096}, minItems=1, uniqueItems=True)
    verdict_k: int = setting(
        4, "The group size (one of unit_k) whose targeted-minus-random damage is decided as a "
        "prediction; every k is summarised (share of seeds with p < 0.05, mean effect size).",
        minimum=1, maximum=4096)
    n_random: int = setting(
        100, "Random groups of k units in each unit ablation's null (permutation p = (1 + "
        "#{random >= targeted}) / (1 + n_random); at least 19 for p < 0.05 to be reachable).",
        minimum=19, maximum=100000)
    ablation_sequences: int = setting(
        20, "Held-out sequences the unit ablation is scored on: the first this many of the "
        "second half of the extracted sequences (at most half of extraction.n_sequences). "
        "Fewer than the 100 available by default: (n_random + 1) x len(unit_k) clamped runs "
        "per role and checkpoint are ~85% of the analysis's time, and 20 sequences (~55 scored "
        "queries after a reset, ~130 after a store in reset_recall) keep one model's "
        "interventions under 5 s on one core at hidden_size 32 even on a loaded machine "
        "(benchmarks/bench_causal.py).", minimum=1, maximum=100000)
    # The cell is only a negative control (not decided): the primary measures, at the last
    # checkpoint only. Set by the workflow per cell (not a config key).
    control_only: bool = False

    def __post_init__(self):
        if self.verdict_k not in self.unit_k:
            raise ValueError(f"causal.verdict_k = {self.verdict_k} must be one of "
                             f"causal.unit_k = {list(self.unit_k)}")

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["causal"],
                            control_only=bool(config.get("control_only", False)))
