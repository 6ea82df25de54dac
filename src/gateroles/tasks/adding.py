"""``adding``: the adding problem (Hochreiter & Schmidhuber 1997).

Inputs are (value, marker) pairs, values uniform in [0, 1); two steps are marked, one in each
half of the sequence (never the last step); the target, at the last step only, is the sum of
the two marked values. A constant predictor scores MSE 1/6 (Var(U1 + U2) = 2 / 12).
Variables: ``is_marked``, ``n_marked``, ``partial_sum``.
"""

from __future__ import annotations

import numpy as np

from gateroles.tasks.core import Budget, TaskSpec


def generate(rng: np.random.Generator, n: int, t: int, p: dict, split=None) -> dict:
    values = rng.random((n, t), dtype=np.float32)
    first = rng.integers(0, t // 2, size=n)
    second = rng.integers(t // 2, t - 1, size=n)  # never the last step
    rows = np.arange(n)
    marker = np.zeros((n, t), dtype=np.int64)
    marker[rows, first] = 1
    marker[rows, second] = 1

    # Sequential float32 cumsum: adding exact zeros keeps the final value equal to a + b.
    partial_sum = np.cumsum(values * marker, axis=1, dtype=np.float32)
    targets = np.zeros((n, t), dtype=np.float32)
    targets[:, -1] = partial_sum[:, -1]
    mask = np.zeros((n, t), dtype=bool)
    mask[:, -1] = True
    return {
        "inputs": np.stack([values, marker.astype(np.float32)], axis=-1),
        "targets": targets,
        "mask": mask,
        "factors": {
            "is_marked": marker,
            "n_marked": np.cumsum(marker, axis=1),
            "partial_sum": partial_sum,
            "sum_step": mask.astype(np.int64),  # behaviour "sum": the scored last step
        },
        "tokens": marker.copy(),
        "n_outputs": 1,
        "chance": 1.0 / 6.0,  # Var(U1 + U2) = 2 * 1/12
        "continuous_factors": ("partial_sum",),
    }


SPEC = TaskSpec(
    name="adding",
    stream_id=2,
    description="The adding problem (Hochreiter & Schmidhuber 1997); no parameters.",
    kind="regression",
    generate=generate,
    params={},
    events={"store": "is_marked"},
    memory="partial_sum",
    contexts={},
    role_contexts={},
    behaviours={"sum": "sum_step"},
    needs={"store": ("sum",)},  # the sum needs both marked values written
    dissociations={},  # no RESET, and one behaviour: nothing to contrast
    steps=Budget({"default": 4000, "gru": 1000},
                 "The LSTM's slowest seed solved at step 2675 (others 800-1675); the GRU's by "
                 "275. The GRU's step costs ~3x the LSTM's, so its budget is its own."),
    threshold=Budget(0.01, "MSE at the last step, at most (a constant predictor scores 1/6).",
                     maximum=0.1666),
    chance="MSE 1/6, the variance of the sum (predicting its mean, 1)",
    min_length=4,
)
