"""Claim C2: event-triggered averages per model, and the C2 verdicts across seeds."""

import numpy as np
import pandas as pd

from gateroles.analyses.event_locking import aggregate
from gateroles.analyses.event_locking import measure as events


def test_contrast_and_alignment_recover_a_planted_dip():
    rng = np.random.default_rng(0)
    n, t, h = 50, 40, 6
    is_reset = rng.random((n, t)) < 0.1
    forget = np.full((n, t, h), 0.8) + rng.normal(0, 0.01, (n, t, h))
    forget[is_reset] -= 0.5  # the forget gate drops exactly at resets
    gates = {"forget": forget, "input": np.full((n, t, h), 0.5), "output": np.full((n, t, h), 0.5)}
    contrast, aligned = events.event_tables(gates, {"is_reset": is_reset}, {"reset": "is_reset"},
                                            "lstm", window=2)
    row = contrast[(contrast.gate == "forget")].iloc[0]
    assert abs(row.difference + 0.5) < 0.01
    assert row.cohens_d < -5
    curve = aligned[aligned.gate == "forget"].set_index("offset")["value"]
    assert curve[0] < 0.35 and curve[-2] > 0.7
    assert abs(contrast[contrast.gate == "input"].difference.iloc[0]) < 1e-12


def test_event_aligned_handles_edges_by_masking():
    signal = np.arange(10, dtype=float)[None, :]
    ev = np.zeros((1, 10), bool)
    ev[0, 0] = True
    curve = events.event_aligned(signal, ev, window=2)
    assert np.isnan(curve[0]) and np.isnan(curve[1])
    np.testing.assert_array_equal(curve[2:], [0, 1, 2])


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
