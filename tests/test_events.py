import numpy as np

from gateroles import events


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


def test_saturation_fractions():
    values = np.zeros((2, 5, 3))
    values[..., 1] = 1.0
    values[..., 2] = np.linspace(0, 1, 5)[None, :]
    table = events.saturation_table({"input": values, "forget": values, "output": values},
                                    "lstm", 0.1, 0.9)
    sub = table[table.gate == "input"].set_index("unit")
    assert sub.loc[0, "left"] == 1 and sub.loc[1, "right"] == 1
    assert sub.loc[2, "left"] == 0.2 and sub.loc[2, "right"] == 0.2
