import numpy as np

from gateroles.stats import bootstrap_ci, directional_verdict


def test_bootstrap_ci_covers_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small = bootstrap_ci(rng.normal(1, 1, 5))
    large = bootstrap_ci(rng.normal(1, 1, 500))
    assert small[1] <= small[0] <= small[2]
    assert large[2] - large[1] < small[2] - small[1]
    assert large[1] < 1 < large[2]


def test_bootstrap_coverage_is_near_nominal():
    rng = np.random.default_rng(1)
    hits = sum(lo <= 0 <= hi for _, lo, hi in
               (bootstrap_ci(rng.normal(0, 1, 20), n_boot=500, seed=k) for k in range(200)))
    assert 0.85 <= hits / 200 <= 0.99


def test_nan_and_single_values():
    assert np.isnan(bootstrap_ci([np.nan])[0])
    assert bootstrap_ci([2.0]) == (2.0, 2.0, 2.0)


def test_directional_verdict():
    assert directional_verdict([-0.3, -0.2, -0.25, -0.4, -0.1], -1)["verdict"] == "supported"
    v = directional_verdict([0.3, 0.2, 0.25, 0.4, 0.1], -1)
    assert v["verdict"] == "contradicted" and v["seeds_agreeing"] == 0
    assert directional_verdict([0.3, -0.2, 0.1, -0.4, 0.05], 1)["verdict"] == "inconclusive"
    assert directional_verdict([0.3], 1)["verdict"] == "inconclusive"
