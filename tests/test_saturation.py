"""Per-unit gate saturation."""

import numpy as np

from gateroles.analyses.saturation.measure import saturation_table


def test_saturation_fractions():
    values = np.zeros((2, 5, 3))
    values[..., 1] = 1.0
    values[..., 2] = np.linspace(0, 1, 5)[None, :]
    table = saturation_table({"input": values, "forget": values, "output": values},
                                    "lstm", 0.1, 0.9)
    sub = table[table.gate == "input"].set_index("unit")
    assert sub.loc[0, "left"] == 1 and sub.loc[1, "right"] == 1
    assert sub.loc[2, "left"] == 0.2 and sub.loc[2, "right"] == 0.2
