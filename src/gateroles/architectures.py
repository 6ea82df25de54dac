"""The architectures, their gates and the roles their positions predict: one definition.

Torch-free on purpose: every analysis job reads gate names from here without importing torch.

Gate names are those of `gateroles.gates.extract`. PyTorch's LSTM computes, in weight order
i, f, g, o::

    c = f * c_prev + i * g,   h = o * tanh(c)

and its GRU, in weight order r, z, n::

    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),   h = (1 - z) * n + z * h_prev

so in PyTorch's convention an update gate z near 1 *keeps* the state.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArchSpec:
    """One architecture: its gates (in weight-row order), which are sigmoids, and its states."""

    gates: tuple[str, ...]
    sigmoid_gates: tuple[str, ...]
    states: tuple[str, ...]

    @property
    def outputs(self) -> tuple[str, ...]:
        """What `gates.extract` returns for this architecture."""
        return self.gates + self.states


SPECS: dict[str, ArchSpec] = {
    "lstm": ArchSpec(gates=("input", "forget", "cell_candidate", "output"),
                     sigmoid_gates=("input", "forget", "output"), states=("cell", "hidden")),
    "gru": ArchSpec(gates=("reset", "update", "candidate"), sigmoid_gates=("reset", "update"),
                    states=("hidden",)),
}
ARCHITECTURES = tuple(SPECS)
# Initialisation arms (`gateroles.models.initialise`).
INIT_ARMS = ("default", "forget_bias_1", "chrono")
SIGMOID_GATES = {arch: spec.sigmoid_gates for arch, spec in SPECS.items()}

# The role each gate's position predicts: event role -> (gate, direction of its activation at
# the event: +1 rises, -1 drops). LSTM: the forget gate multiplies the cell (it alone can
# erase), the input gate scales what is written, the output gate what is read out. GRU
# (PyTorch convention, z near 1 keeps the state): the update gate z alone decides to overwrite,
# so it should drop at resets and at stores; the GRU has no output gate.
ROLE_GATES: dict[str, dict[str, tuple[str, int]]] = {
    "lstm": {"reset": ("forget", -1), "store": ("input", +1), "query": ("output", +1)},
    "gru": {"reset": ("update", -1), "store": ("update", -1)},
}


def order(archs) -> list[str]:
    """`archs` sorted in the order of ARCHITECTURES (unknown names last, alphabetically)."""
    known = [a for a in ARCHITECTURES if a in set(archs)]
    return known + sorted(set(archs) - set(known))
