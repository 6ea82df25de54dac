"""Per-unit saturation of every sigmoid gate, at every checkpoint of one model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles.analyses.saturation import Settings
from gateroles.architectures import SIGMOID_GATES
from gateroles.study import Run


def saturation_table(gates: dict[str, np.ndarray], arch: str, low: float, high: float
                     ) -> pd.DataFrame:
    """Per sigmoid gate and unit: fraction of steps below `low` and above `high`."""
    rows = [pd.DataFrame(columns=["gate", "unit", "left", "right"])]  # none without gates
    for gate in SIGMOID_GATES[arch]:
        values = gates[gate].astype(np.float32)
        left = (values < low).mean(axis=(0, 1))
        right = (values > high).mean(axis=(0, 1))
        rows.append(pd.DataFrame({"gate": gate, "unit": np.arange(values.shape[-1]),
                                  "left": left, "right": right}))
    if not rows:  # the tanh RNN has no gates
        return pd.DataFrame(columns=["gate", "unit", "left", "right"])
    return pd.concat(rows, ignore_index=True)


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    gates = inputs.gates
    frames = [saturation_table(gates.gates(step), run.arch, settings.low, settings.high)
              .assign(step=step) for step in gates.steps]
    return {"saturation": pd.concat(frames, ignore_index=True).assign(final_step=gates.final_step)}
