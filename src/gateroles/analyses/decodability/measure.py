"""Linear probes with control tasks, every source x variable x checkpoint of one model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import probes
from gateroles.analyses.decodability import Settings
from gateroles.study import Run


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """Task score, control score and selectivity of every source x variable x checkpoint.

    Sources: every extracted gate and state (all units) and the input-only window (the raw
    inputs at the last `input_window` steps; independent of the checkpoint, so probed once and
    listed under every step). The control task's token type is the tuple of the last
    `control_window` input tokens (continuous inputs cut into deciles; see
    `probes.input_types`); at the first and last checkpoints the control with the current token
    alone as the type is also scored (columns `*_token`). The first `n_sequences` extracted
    sequences are used.
    """
    gates = inputs.gates
    factors = gates.variables
    n_seq = min(settings.n_sequences, len(factors[next(iter(factors))]))
    x = gates.inputs[:n_seq]
    factors = {k: v[:n_seq] for k, v in factors.items()}
    token_types = probes.input_types(x)
    types = probes.window_types(token_types, settings.control_window)
    kwargs = {"control_types": types, "continuous": tuple(gates.meta["continuous_factors"]),
              "seed": run.seed}
    # Hewitt & Liang's own control (type = the current token alone), for comparison, at the
    # first and last checkpoints only.
    extra = {"extra_controls": {"token": probes.window_types(token_types, 1)}}
    baseline = probes.probe_sources(
        {"input_window": probes.input_window(x, settings.input_window)}, factors,
        **kwargs, **extra)
    rows = []
    steps = gates.steps
    for step in steps:
        sources = {k: v[:n_seq] for k, v in gates.gates(step).items()}
        ends = step in (min(steps), max(steps))
        scored = probes.probe_sources(sources, factors, **kwargs, **(extra if ends else {}))
        rows += [{**r, "step": int(step)} for r in scored]
        rows += [{**r, "step": int(step)} for r in baseline]
    table = pd.DataFrame(rows).assign(final_step=gates.final_step,
                                      control_window=settings.control_window,
                                      n_sequences=n_seq,
                                      n_control_types=len(np.unique(types)),
                                      n_token_types=len(np.unique(token_types)))
    return {"probes": table}
