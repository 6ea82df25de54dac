"""Verdicts across seeds: unsolved models are left out, and the direction is what is tested."""

import numpy as np
import pandas as pd

from gateroles import aggregate


def contrast_table(effects_trained, solved, gate="forget", event="reset"):
    rows = []
    for seed, (effect, ok) in enumerate(zip(effects_trained, solved, strict=True)):
        for step, value in ((0, 0.001 * (-1) ** seed), (300, effect)):
            rows.append({"task": "reset_recall", "arch": "lstm", "init": "default", "seed": seed,
                         "step": step, "final_step": 300, "gate": gate, "event": event,
                         "difference": value, "cohens_d": 10 * value, "solved": ok})
    return pd.DataFrame(rows)


def test_c2_supported_when_the_forget_gate_drops_in_every_solved_seed():
    table = contrast_table([-0.10, -0.12, -0.08, -0.11, +0.50], [True] * 4 + [False])
    row = aggregate.c2_verdicts(table, n_boot=500, confidence=0.95).iloc[0]
    assert row["verdict"] == "supported"
    assert row["n_seeds"] == 4 and row["seeds_agreeing"] == 4  # the unsolved seed is left out
    assert np.isclose(row["effect"], -0.1025)
    assert row["ci_high"] < 0 < row["init_ci_high"]
    assert row["verdict_at_init"] == "inconclusive"


def test_c2_contradicted_when_it_rises():
    table = contrast_table([0.10, 0.12, 0.08, 0.11, 0.09], [True] * 5)
    assert aggregate.c2_verdicts(table, 500, 0.95).iloc[0]["verdict"] == "contradicted"


def test_solved_by_task_counts_and_names_unsolved_seeds():
    runs = pd.DataFrame({"task": "adding", "arch": "gru", "init": "default", "seed": [0, 1, 2],
                         "metric": "mse", "chance": 1 / 6, "threshold": 0.01,
                         "test_score": [0.005, 0.2, 0.004], "solved": [True, False, True]})
    row = aggregate.solved_by_task(runs, 200, 0.95).iloc[0]
    assert row["n_solved"] == 2 and row["n_seeds"] == 3 and row["unsolved_seeds"] == "1"
