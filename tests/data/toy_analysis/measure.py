"""Each sigmoid gate's mean activation, at every checkpoint of one model."""

from __future__ import annotations

import pandas as pd

from gateroles.architectures import SIGMOID_GATES


def measure(inputs, run, settings) -> dict[str, pd.DataFrame]:
    gates = inputs.gates
    first = slice(0, settings.n_sequences)
    rows = [{"step": step, "gate": gate, "mean": float(gates.gates(step)[gate][first].mean())}
            for step in gates.steps for gate in SIGMOID_GATES[run.arch]]
    table = pd.DataFrame(rows, columns=["step", "gate", "mean"])
    return {"means": table.assign(final_step=gates.final_step)}
