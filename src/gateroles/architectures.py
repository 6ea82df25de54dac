"""The architectures, defined once: gates in use, sigmoid gates, states, init arms that apply.

Plain data, no torch import, so that the workflow (at parse time) and the analysis jobs (events,
information, aggregation, figures) can read gate names without paying torch's ~2 s import.
`gateroles.models` builds the modules from these specs and re-exports every name here.

- `lstm`, `gru`: PyTorch's fused modules as they are.
- `lstm_nfg`, `lstm_nig`, `lstm_nog`: no forget / input / output gate (that gate is 1).
- `lstm_cifg`: coupled input-forget, f = 1 - i (the forget gate is computed, from the input
  gate's logit, and used: it is a gate of this architecture).
- `rnn`: plain tanh RNN, no gates.
- `lstm_ffg`, `gru_fug`: the forget (LSTM) / update (GRU) gate held at 0.5 throughout
  training (its weights 0, its bias 0): the gate is still there and used, but constant, so the
  role it would play is absent by construction. The negative controls of the primary tests
  of the keep gate's role (and the fixed gate of "a learned forget gate learns longer holds").

Gate names are those of `gates.extract`: LSTM `input, forget, cell_candidate, output`, GRU
`reset, update, candidate`. In PyTorch's GRU convention `h = (1 - z) n + z h_prev`, so an update
gate z near 1 keeps the state: z is the GRU's keep (forget-like) gate.
"""

from __future__ import annotations

from dataclasses import dataclass

# Row blocks of PyTorch's stacked gate weights, per fused module ("cell").
LSTM_GATES = ("input", "forget", "cell_candidate", "output")
GRU_GATES = ("reset", "update", "candidate")
BLOCKS = {"lstm": LSTM_GATES, "gru": GRU_GATES, "rnn": ()}

INIT_ARMS = ("default", "forget_bias_1", "chrono", "swap_forget_input")


@dataclass(frozen=True)
class ArchSpec:
    """What an architecture computes.

    `gates`: the gates in use, named as `gates.extract` returns them (a removed gate is absent);
    `sigmoid_gates`: those that are sigmoids (their logits can be extracted); `states`: the
    recurrent states; `cell`: the fused PyTorch module it runs on (`lstm`, `gru`, `rnn`);
    `removed`: gates held at 1 (absent from `gates`); `fixed`: gates held at a constant value
    during training, kept in `gates` (in use, constant); `coupled`: forget = 1 - input;
    `keep_gate`: the gate whose bias the init arms set (forget / update), None without one.
    """

    name: str
    cell: str
    gates: tuple[str, ...]
    sigmoid_gates: tuple[str, ...]
    states: tuple[str, ...]
    removed: tuple[str, ...] = ()
    coupled: bool = False
    keep_gate: str | None = None
    fixed: tuple[tuple[str, float], ...] = ()

    @property
    def held(self) -> dict[str, float]:
        """Gate -> the value it is held at during training (removed gates at 1, fixed ones at
        their value)."""
        return {**{g: 1.0 for g in self.removed}, **dict(self.fixed)}

    @property
    def outputs(self) -> tuple[str, ...]:
        """The keys of `gates.extract`: gates in use, then states."""
        return self.gates + self.states


def _lstm_spec(name: str, removed: tuple[str, ...] = (), coupled: bool = False,
               fixed: tuple[tuple[str, float], ...] = ()) -> ArchSpec:
    gates = tuple(g for g in LSTM_GATES if g not in removed)
    free = "forget" in gates and "forget" not in dict(fixed)
    return ArchSpec(name, "lstm", gates, tuple(g for g in gates if g != "cell_candidate"),
                    ("cell", "hidden"), removed, coupled,
                    keep_gate="forget" if free else None, fixed=fixed)


SPECS = {
    "lstm": _lstm_spec("lstm"),
    "gru": ArchSpec("gru", "gru", GRU_GATES, ("reset", "update"), ("hidden",),
                    keep_gate="update"),
    "lstm_nfg": _lstm_spec("lstm_nfg", removed=("forget",)),
    "lstm_nig": _lstm_spec("lstm_nig", removed=("input",)),
    "lstm_nog": _lstm_spec("lstm_nog", removed=("output",)),
    "lstm_cifg": _lstm_spec("lstm_cifg", coupled=True),
    "rnn": ArchSpec("rnn", "rnn", (), (), ("hidden",)),
    "lstm_ffg": _lstm_spec("lstm_ffg", fixed=(("forget", 0.5),)),
    "gru_fug": ArchSpec("gru_fug", "gru", GRU_GATES, ("reset", "update"), ("hidden",),
                        fixed=(("update", 0.5),)),
}
ARCHITECTURES = tuple(SPECS)
# Gates whose activation is a sigmoid, per architecture (their logits can be extracted).
SIGMOID_GATES = {arch: s.sigmoid_gates for arch, s in SPECS.items()}


def spec(arch: str) -> ArchSpec:
    """The `ArchSpec` of `arch`; a ValueError naming the allowed ones otherwise."""
    try:
        return SPECS[arch]
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}; allowed: {', '.join(ARCHITECTURES)}"
                         ) from None


def init_applies(arch: str, init: str) -> bool:
    """Whether the (arch, init) pair exists (the run grid skips the others).

    `default` applies to every architecture; `forget_bias_1` needs a keep gate (forget or
    update: not `lstm_nfg`, not `rnn`); `chrono` sets b_f and b_i = -b_f, so it needs a keep
    gate and an input gate or a coupled one (not `lstm_nfg`, `lstm_nig`, `rnn`; on the GRU it
    sets the update gate only, as its input side is coupled, z vs 1 - z). `swap_forget_input`
    (PyTorch's default, then the forget and input blocks exchanged: claim C4's "same initial
    weights in two positions") applies to the plain `lstm` only.
    """
    s = spec(arch)
    if init not in INIT_ARMS:
        raise ValueError(f"unknown init arm {init!r}; allowed: {', '.join(INIT_ARMS)}")
    if init == "default":
        return True
    if init == "swap_forget_input":
        return arch == "lstm"
    if s.keep_gate is None:
        return False
    return init == "forget_bias_1" or s.cell == "gru" or "input" in s.gates


# The role each gate's position predicts, per fused cell: event role -> (gate, direction of
# its activation at the event: +1 rises, -1 drops). LSTM: the forget gate multiplies the cell
# (it alone can erase), the input gate scales what is written, the output gate what is read
# out. GRU (PyTorch convention, z near 1 keeps the state): the update gate z alone decides to
# overwrite, so it should drop at resets and at stores; the GRU has no output gate.
_CELL_ROLES = {
    "lstm": {"reset": ("forget", -1), "store": ("input", +1), "query": ("output", +1)},
    "gru": {"reset": ("update", -1), "store": ("update", -1)},
    "rnn": {},
}
# Per architecture: the roles whose gate it has (a variant without a forget gate has no
# reset prediction).
ROLE_GATES: dict[str, dict[str, tuple[str, int]]] = {
    arch: {role: (gate, sign) for role, (gate, sign) in _CELL_ROLES[s.cell].items()
           if gate in s.gates}
    for arch, s in SPECS.items()}


# The negative control of the primary tests of each role gate, per fused cell: the
# architecture that holds that gate constant during training (`ArchSpec.held`), so the role
# the gate would play is absent by construction there. The same test runs on it and must not
# come out supported (config `controls`).
CONTROLS = {("lstm", "forget"): "lstm_nfg", ("lstm", "input"): "lstm_nig",
            ("lstm", "output"): "lstm_nog", ("gru", "update"): "gru_fug"}


def measured_gates(arch: str) -> tuple[str, ...]:
    """The sigmoid gates an analysis measures on `arch`: those in use, then the removed ones
    (held at 1; absent from the gate file, so measured as the constant they are), so that a
    negative control's held gate gives the same rows as the gate it replaces."""
    s = spec(arch)
    return s.sigmoid_gates + s.removed


def controlled_roles(arch: str) -> tuple[str, ...]:
    """The event roles whose primary tests `arch` is the negative control of (`CONTROLS`: the
    roles of the gate it holds); none for an architecture that controls no event role."""
    return tuple(role for (cell, gate), control in CONTROLS.items() if control == arch
                 for role, (role_gate, _) in _CELL_ROLES[cell].items() if role_gate == gate)


def control_of(arch: str, gate: str) -> str | None:
    """The control architecture of `gate`'s role tests on `arch` (the plain `lstm` / `gru`
    only: a variant's tests are not primary), None where there is none."""
    if arch not in ("lstm", "gru"):
        return None
    return CONTROLS.get((spec(arch).cell, gate))


def order(archs) -> list[str]:
    """`archs` sorted in the order of ARCHITECTURES (unknown names last, alphabetically)."""
    known = [a for a in ARCHITECTURES if a in set(archs)]
    return known + sorted(set(archs) - set(known))
