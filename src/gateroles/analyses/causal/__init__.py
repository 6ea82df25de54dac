"""Causal roles (claim C3): does clamping a gate at its events break the behaviour that needs it?

Three interventions on each model, at its last checkpoint and at step 0 (the control: before
training no gate should have a role), all on the gate file's sequences:

1. **The gate x event x behaviour matrix.** Each sigmoid gate the architecture has is clamped,
   all units, to a fixed value at the steps of one event role only (`CLAMPS`): LSTM
   forget -> 1 ("never forget"), input -> 0 ("never write"), output -> 0 ("never read");
   GRU, PyTorch's convention (`h = (1 - z) n + z h_prev`), update -> 1 ("keep") and
   update -> 0 ("overwrite"), reset -> 0 ("candidate ignores the state") and reset -> 1
   ("candidate reads the whole state"), each its own condition. The control clamps the same
   gate to the same value at as many randomly chosen *quiet* steps (no event of any role) in
   the same sequences (seeded by the run's seed). Each behaviour of the task (gate file meta
   `behaviours`) is scored separately; the damage of a condition is its score loss against
   the unclamped model on the same sequences, on one scale where positive = worse: accuracy
   lost (classification), MSE gained (regression, the adding task).
2. **Unit ablation against random groups.** For each role the architecture has a gate for
   (`ROLE_GATES`), the k units of the role gate with the largest |mean activation at the
   event - mean elsewhere| on the first half of the sequences (ties broken at random) are
   clamped to the role-off value at the event steps of the other half, and the damage to the
   behaviours that need the role is compared with `n_random` random groups of k other units
   (a group equal to the targeted one is redrawn): a permutation p-value
   `(1 + #{random >= targeted}) / (1 + n_random)` and an effect size
   `(targeted - mean random) / sd random`. Clamped at the event steps, not at all steps: a
   unit held at a gate extreme everywhere damages whatever it takes part in, so the test
   would ask "is this unit important" rather than "does it carry the role at the event", and
   it would not be the intervention of the matrix.
3. **Weight-block swap.** The rows of two gates exchanged in every weight and bias
   (`interventions.swap_blocks`; LSTM forget-input, forget-output, input-output; GRU
   reset-update); the task score on all scored steps before and after.

The role-off value of a role's gate is the extreme opposite to where the gate moves to do its
role (`ROLE_GATES`: a gate that rises at its event is clamped to 0, one that drops to 1), so
LSTM forget -> 1 at resets, input -> 0 at stores, output -> 0 at queries; GRU update -> 1 at
resets and at stores. Which behaviours need which role is data (`NEEDS`); the predictions
built from it are listed in `aggregate`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateroles.architectures import ROLE_GATES, SPECS

# The clamp conditions of the matrix, per fused cell: (gate, value, what the clamp does).
# Architectures lacking a gate skip its conditions (`clamps`).
CLAMPS: dict[str, tuple[tuple[str, float, str], ...]] = {
    "lstm": (("forget", 1.0, "never forget"), ("input", 0.0, "never write"),
             ("output", 0.0, "never read")),
    "gru": (("update", 1.0, "keep the state"), ("update", 0.0, "overwrite the state"),
            ("reset", 0.0, "candidate ignores the state"),
            ("reset", 1.0, "candidate reads the whole state")),
    "rnn": (),
}

# Task -> event role -> the behaviours (gate file meta `behaviours`) whose answer depends on
# what the role does at its event. reset_recall / armed_reset: a query after a (armed) RESET
# must answer EMPTY (the reset must erase); a query after a STORE must answer the stored
# value (the store must write; in armed_reset an unarmed RESET in between changes nothing,
# so those queries need the store too). The read-out at a query is needed where the answer is
# a stored value: a query whose answer is EMPTY can be answered from a zero read-out (the
# read-out's bias), and a trained model does exactly that (output -> 0 at queries leaves
# recall_after_reset intact), so those behaviours are not predicted to need it. count_reset:
# a count right after a RESET needs the erasure, one right after a target the increment (a
# count is an integrator, so a RESET that fails to erase also spoils the counts after the
# next targets: count_after_increment depends on resets in part, and is left out of the reset
# predictions because its steps before the first RESET do not). adding: the sum needs both
# marked values written.
NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "reset_recall": {"reset": ("recall_after_reset",),
                     "store": ("recall_after_store",),
                     "query": ("recall_after_store",)},
    "armed_reset": {"reset": ("recall_after_armed_reset",),
                    "store": ("recall_after_store", "recall_after_unarmed_reset"),
                    "query": ("recall_after_store", "recall_after_unarmed_reset")},
    "count_reset": {"reset": ("count_after_reset",), "store": ("count_after_increment",)},
    "adding": {"store": ("sum",)},
    "charlm": {},
}

# Swapped pairs of weight blocks, per fused cell (a pair whose gates an architecture lacks is
# skipped; lstm_cifg allows input <-> forget only).
SWAPS: dict[str, tuple[tuple[str, str], ...]] = {
    "lstm": (("forget", "input"), ("forget", "output"), ("input", "output")),
    "gru": (("reset", "update"),),
    "rnn": (),
}


def clamps(arch: str) -> list[tuple[str, float, str]]:
    """The matrix's clamp conditions for `arch`: those of its cell whose gate it has."""
    s = SPECS[arch]
    return [c for c in CLAMPS[s.cell] if c[0] in s.sigmoid_gates]


def role_off(arch: str) -> dict[str, tuple[str, float]]:
    """Event role -> (its gate, the value that switches the role off) for `arch`.

    From `ROLE_GATES`: a gate that rises at its event (+1) is clamped to 0, one that drops
    (-1) to 1.
    """
    return {role: (gate, 0.0 if direction > 0 else 1.0)
            for role, (gate, direction) in ROLE_GATES[arch].items()}


def swaps(arch: str) -> list[tuple[str, str]]:
    """The block swaps `interventions.swap_blocks` allows on `arch`."""
    s = SPECS[arch]
    pairs = [p for p in SWAPS[s.cell] if set(p) <= set(s.gates)]
    if s.coupled:
        pairs = [p for p in pairs if set(p) == {"forget", "input"}
                 or not set(p) & {"forget", "input"}]
    return pairs


@dataclass(frozen=True)
class Settings:
    unit_k: tuple[int, ...]  # group sizes of the unit ablation
    verdict_k: int  # the group size whose targeted-vs-random contrast gets a verdict
    n_random: int  # random groups in the null of each unit ablation
    ablation_sequences: int  # held-out sequences the unit ablation is scored on

    def __post_init__(self):
        if self.verdict_k not in self.unit_k:
            raise ValueError(f"causal.verdict_k = {self.verdict_k} must be one of "
                             f"causal.unit_k = {list(self.unit_k)}")

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        section = config["causal"]
        return cls(**{**section, "unit_k": tuple(section["unit_k"])})
