"""Verdict statistics over seeds: calibration under the null (by simulation), power, Holm,
equivalence (TOST), pairing by seed, and the degenerate cases."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from gateroles import stats
from gateroles.stats import (
    adjust_verdicts,
    at_ceiling,
    bootstrap_ci,
    change_from_init,
    directional_verdict,
    directional_verdicts,
    equivalence,
    equivalence_verdicts,
    holm,
    mean_ci,
)

N_SIM = 20_000
ALPHA = 0.025  # one-sided level of a two-sided 95% interval
# The Monte-Carlo error of a rate near ALPHA over N_SIM draws, 3 standard errors.
MC = 3 * np.sqrt(ALPHA * (1 - ALPHA) / N_SIM)


def supported_rate(x, direction):
    return float(np.mean(directional_verdicts(x, direction) == "supported"))


def old_bootstrap_supported_rate(x, direction, n_boot=2000, seed=0, chunk=500):
    """The former rule, inline: `supported` when the 95% percentile-bootstrap CI of the mean
    over seeds excludes 0 on the predicted side (one resampling pattern per chunk of sets)."""
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, len(x), chunk):
        block = x[start:start + chunk]
        idx = rng.integers(0, x.shape[1], size=(n_boot, x.shape[1]))
        means = block[:, idx].mean(axis=2)
        lo, hi = np.percentile(means, [2.5, 97.5], axis=1)
        hits += int(np.sum(lo > 0) if direction > 0 else np.sum(hi < 0))
    return hits / len(x)


# --------------------------------------------------------------------------------------------
# Calibration and power
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [5, 10])
def test_false_supported_rate_under_a_normal_null_is_the_nominal_one_sided_level(n):
    x = np.random.default_rng(n).normal(0, 1, (N_SIM, n))
    for direction in (+1, -1):
        rate = supported_rate(x, direction)
        assert ALPHA - MC <= rate <= ALPHA + MC, (n, direction, rate)  # measured ~2.4-2.6%


def test_the_old_percentile_bootstrap_rule_is_anticonservative_over_5_seeds():
    # Why the rule changed: over 5 seeds the bootstrap's interval is too narrow (it divides
    # by n, not n - 1, and uses normal-like not t quantiles): ~8% false "supported" for a
    # nominal 2.5%; the t rule on the same draws stays at the nominal level.
    x = np.random.default_rng(5).normal(0, 1, (4000, 5))
    old = old_bootstrap_supported_rate(x, +1)
    new = supported_rate(x, +1)
    assert old > 0.06, old  # measured 8.3% (20,000 sets, n_boot = 2000)
    assert new <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / len(x)), new


@pytest.mark.parametrize("n", [5, 10])
def test_skewed_null_light_tail_is_conservative_heavy_tail_still_beats_the_bootstrap(n):
    # Centred exponential (skewness 2): no test of a mean over 5-10 seeds is exact for every
    # distribution. The t rule is conservative toward the light (right) tail and liberal
    # toward the heavy (left) one: measured ~0.4% and ~11% (n = 5), ~0.4% and ~10% (n = 10);
    # the old bootstrap rule gave ~3% and ~19% (n = 5), ~2% and ~12% (n = 10). Per-seed
    # effects averaged over many sequences are far less skewed (skewness 0.5: ~1.6% / ~3.9%).
    x = np.random.default_rng(100 + n).exponential(1.0, (N_SIM, n)) - 1.0
    assert supported_rate(x, +1) <= ALPHA + MC
    heavy = supported_rate(x, -1)
    assert heavy < 0.13, heavy
    # Paired on the same 4000 draws, the t rule is less liberal than the old rule.
    old_heavy = old_bootstrap_supported_rate(x[:4000], -1)
    assert supported_rate(x[:4000], -1) < old_heavy - 0.01, old_heavy


def test_power_a_2_sd_effect_over_5_seeds_is_supported_in_most_draws():
    x = np.random.default_rng(7).normal(2.0, 1.0, (N_SIM, 5))
    assert supported_rate(x, +1) > 0.85  # measured ~0.91
    assert supported_rate(-x, -1) > 0.85
    assert np.mean(directional_verdicts(x, -1) == "contradicted") > 0.85


def test_the_vectorised_rule_is_the_one_directional_verdict_applies():
    rng = np.random.default_rng(8)
    x = rng.normal(0.8, 1.0, (300, 6))
    x[::7, 2] = np.nan  # some rows with 5 finite seeds
    x[::11, :3] = np.nan  # some with 3: insufficient
    seen = set()
    for direction in (+1, -1):
        many = directional_verdicts(x, direction)
        one = [directional_verdict(row, direction)["verdict"] for row in x]
        assert list(many) == one
        seen |= set(one)
    assert seen == {"supported", "contradicted", "inconclusive", "insufficient seeds"}


# --------------------------------------------------------------------------------------------
# directional_verdict: the t statistics, verdicts, degenerate cases
# --------------------------------------------------------------------------------------------
def test_directional_verdict_matches_scipy_t_test_and_interval():
    x = np.array([0.31, -0.05, 0.42, 0.18, 0.27, 0.09])
    v = directional_verdict(x, +1)
    test = sps.ttest_1samp(x, 0.0, alternative="greater")
    lo, hi = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert np.isclose(v["p_value"], test.pvalue) and np.isclose(v["t"], test.statistic)
    assert np.isclose(v["p_opposite"], 1 - test.pvalue)
    assert np.isclose(v["ci_low"], lo) and np.isclose(v["ci_high"], hi)
    assert np.isclose(v["cohens_dz"], x.mean() / x.std(ddof=1))
    assert v["df"] == 5 and v["n_seeds"] == 6 and v["seeds_agreeing"] == 5
    assert v["verdict"] == ("supported" if lo > 0 else "inconclusive") == "supported"
    down = directional_verdict(x, -1)
    assert down["verdict"] == "contradicted" and np.isclose(down["p_value"], 1 - test.pvalue)
    assert down["seeds_agreeing"] == 1


def test_t_summary_gives_scipy_stats_t_values_exactly():
    # stats uses scipy.special's Student t (cheap to import); the values must be scipy.stats.t's.
    rng = np.random.default_rng(3)
    x = rng.standard_normal((400, 7)) * rng.uniform(0.1, 5, (400, 1)) + rng.normal(0, 1, (400, 1))
    x[::9, 4:] = np.nan  # fewer seeds: other degrees of freedom
    s = stats.t_summary(x, 0.95)
    df = np.isfinite(x).sum(axis=1) - 1
    half = sps.t.ppf(0.975, df) * s["se"]
    np.testing.assert_array_equal(s["p_greater"], sps.t.sf(s["t"], df))
    np.testing.assert_array_equal(s["p_less"], sps.t.cdf(s["t"], df))
    np.testing.assert_array_equal(s["ci_high"], s["mean"] + half)


def test_directional_verdicts_supported_contradicted_inconclusive():
    assert directional_verdict([-0.3, -0.2, -0.25, -0.4, -0.1], -1)["verdict"] == "supported"
    v = directional_verdict([0.3, 0.2, 0.25, 0.4, 0.1], -1)
    assert v["verdict"] == "contradicted" and v["seeds_agreeing"] == 0
    assert v["ci_low"] > 0 and v["p_value"] > 0.975 and v["p_opposite"] < 0.025
    v = directional_verdict([0.3, -0.2, 0.1, -0.4, 0.05], 1)
    assert v["verdict"] == "inconclusive" and v["ci_low"] < 0 < v["ci_high"]


def test_a_bootstrap_supported_case_that_the_t_interval_does_not_support():
    # Four of five seeds positive, t = 2.4 (one-sided p ~0.04): the percentile bootstrap's
    # 95% interval excludes 0, the t-interval does not.
    x = [0.9, 0.5, 1.4, -0.2, 0.8]
    assert bootstrap_ci(x)[1] > 0
    v = directional_verdict(x, +1)
    assert v["verdict"] == "inconclusive" and v["ci_low"] < 0 and 0.025 < v["p_value"] < 0.05


def test_insufficient_seeds_below_min_seeds():
    v = directional_verdict([0.5, 0.6, 0.55, 0.52, np.nan], +1)
    assert v["verdict"] == "insufficient seeds" and v["n_seeds"] == 4
    assert v["ci_low"] > 0 and v["p_value"] < 0.025  # the statistics are still reported
    assert directional_verdict([0.5, 0.6, 0.55, 0.52], +1, min_seeds=4)["verdict"] == "supported"
    one = directional_verdict([0.3], +1)
    assert one["verdict"] == "insufficient seeds"
    assert one["ci_low"] == one["ci_high"] == 0.3 and np.isnan(one["p_value"])
    none = directional_verdict([np.nan, np.inf], +1)
    assert none["verdict"] == "insufficient seeds" and none["n_seeds"] == 0
    assert np.isnan(none["mean"]) and np.isnan(none["ci_low"])
    with pytest.raises(ValueError):
        directional_verdict([1, 2, 3], +1, min_seeds=1)
    with pytest.raises(ValueError):
        directional_verdict([1, 2, 3], 0)


def test_zero_variance_gives_a_degenerate_interval_and_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = directional_verdict([0.1] * 5, +1)  # the float mean of 0.1s is off by an ulp
        assert v["sd"] == 0 and v["cohens_dz"] == np.inf
        assert v["ci_low"] == v["ci_high"] == v["mean"] and v["mean"] == pytest.approx(0.1)
        # p is the exact sign test's floor, never 0: five seeds cannot reach 0.025 one-sided
        assert v["p_value"] == 0.5 ** 5 and v["p_opposite"] == 1
        assert v["verdict"] == "inconclusive"
        six = directional_verdict([0.1] * 6, +1)
        assert six["p_value"] == 0.5 ** 6 and six["verdict"] == "supported"
        assert directional_verdict([0.1] * 6, -1)["verdict"] == "contradicted"
        assert directional_verdict([-2.0] * 6, -1)["cohens_dz"] == -np.inf
        # every seed exactly 0 (e.g. two models at the ceiling): nothing moved, untestable
        zero = directional_verdict([0.0] * 5, +1)
        assert zero["verdict"] == "untestable" and zero["ci_low"] == zero["ci_high"] == 0
        assert zero["p_value"] == zero["p_opposite"] == 0.5 and np.isnan(zero["cohens_dz"])
        assert list(directional_verdicts(np.zeros((2, 5)), +1)) == ["untestable"] * 2
        assert directional_verdict([0.1] * 4, +1)["verdict"] == "insufficient seeds"
        assert directional_verdict([], +1)["verdict"] == "insufficient seeds"


def test_legacy_bootstrap_arguments_are_accepted_and_ignored():
    x = pd.Series([0.2, 0.1, 0.35, -0.05, 0.3], index=[3, 1, 4, 0, 2])
    base = directional_verdict(x, +1)
    assert directional_verdict(x, +1, 2000, 0.95) == base  # aggregate.py's positional call
    assert directional_verdict(x, +1, n_boot=10, seed=3) == base
    narrow = directional_verdict(x, +1, 2000, 0.5)  # confidence keeps its position
    assert narrow["ci_high"] - narrow["ci_low"] < base["ci_high"] - base["ci_low"]
    assert narrow["confidence"] == 0.5


# --------------------------------------------------------------------------------------------
# mean_ci and bootstrap_ci
# --------------------------------------------------------------------------------------------
def test_mean_ci_is_the_t_interval_with_nans_dropped():
    x = [1.0, 2.0, 4.0, np.nan, 3.5]
    mean, lo, hi = mean_ci(x, 0.9)
    finite = np.array([1.0, 2.0, 4.0, 3.5])
    ref = sps.t.interval(0.9, 3, loc=finite.mean(), scale=sps.sem(finite))
    assert mean == finite.mean() and np.allclose((lo, hi), ref)
    assert mean_ci([2.0, np.nan]) == (2.0, 2.0, 2.0)
    assert all(np.isnan(mean_ci([])))
    assert all(np.isnan(mean_ci([np.nan])))


def test_t_interval_coverage_is_nominal():
    rng = np.random.default_rng(11)
    s = stats.t_summary(rng.normal(3.0, 2.0, (N_SIM, 5)))
    coverage = np.mean((s["ci_low"] <= 3.0) & (3.0 <= s["ci_high"]))
    assert abs(coverage - 0.95) < 3 * np.sqrt(0.05 * 0.95 / N_SIM)


def test_bootstrap_ci_covers_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small = bootstrap_ci(rng.normal(1, 1, 5))
    large = bootstrap_ci(rng.normal(1, 1, 500))
    assert small[1] <= small[0] <= small[2]
    assert large[2] - large[1] < small[2] - small[1]
    assert large[1] < 1 < large[2]


def test_bootstrap_nan_and_single_values():
    assert np.isnan(bootstrap_ci([np.nan])[0])
    assert bootstrap_ci([2.0]) == (2.0, 2.0, 2.0)


# --------------------------------------------------------------------------------------------
# Holm
# --------------------------------------------------------------------------------------------
def test_holm_hand_computed():
    # sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04 -> 0.06
    assert np.allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    assert np.allclose(holm([0.5, 0.6]), [1.0, 1.0])  # capped at 1, monotone
    assert np.allclose(holm([0.2]), [0.2])
    assert np.allclose(holm([0.01, 0.01]), [0.02, 0.02])


def test_holm_nan_passes_through_and_does_not_count():
    out = holm([0.01, np.nan, 0.04, 0.03, 0.005])
    assert np.isnan(out[1])
    assert np.allclose(out[[0, 2, 3, 4]], [0.03, 0.06, 0.06, 0.02])  # m = 4, not 5
    assert np.isnan(holm([np.nan, np.nan])).all() and holm([]).size == 0
    series = holm(pd.Series([0.04, 0.01], index=["b", "a"]))
    assert list(series.index) == ["b", "a"] and np.allclose(series, [0.04, 0.02])


def rows_for_holm():
    return [
        {"prediction": "a", "arm": 1, "verdict": "supported", "p_value": 0.004,
         "p_opposite": 0.996},
        {"prediction": "b", "arm": 1, "verdict": "supported", "p_value": 0.02,
         "p_opposite": 0.98},
        {"prediction": "c", "arm": 2, "verdict": "inconclusive", "p_value": 0.5,
         "p_opposite": 0.5},
        {"prediction": "d", "arm": 2, "verdict": "insufficient seeds", "p_value": 0.001,
         "p_opposite": 0.999},
        {"prediction": "e", "arm": 2, "verdict": "contradicted", "p_value": 0.998,
         "p_opposite": 0.002},
    ]


def test_adjust_verdicts_one_family():
    table = pd.DataFrame(rows_for_holm())
    before = table.copy()
    out = adjust_verdicts(table, 0.95)
    pd.testing.assert_frame_equal(table, before)  # the input is left alone
    # 4 tested rows (d has too few seeds): p 0.004 x 4 = 0.016 < 0.025; 0.02 x 3 = 0.06
    assert np.allclose(out["p_adjusted"], [0.016, 0.06, 1.0, np.nan, 1.0], equal_nan=True)
    assert np.isclose(out.loc[4, "p_opposite_adjusted"], 0.008)
    assert list(out["verdict"]) == ["supported", "inconclusive", "inconclusive",
                                    "insufficient seeds", "contradicted"]
    assert list(out["verdict_unadjusted"]) == list(table["verdict"])
    pd.testing.assert_frame_equal(adjust_verdicts(out, 0.95), out)  # idempotent


def test_adjust_verdicts_families_by_column_and_list_input():
    out = adjust_verdicts(rows_for_holm(), 0.95, by="arm")
    assert isinstance(out, list) and [r["prediction"] for r in out] == list("abcde")
    # arm 1: m = 2: 0.004 x 2 = 0.008, 0.02 x 1 -> 0.02 (both < 0.025); arm 2: m = 2 (c, e)
    assert [r["verdict"] for r in out] == ["supported", "supported", "inconclusive",
                                           "insufficient seeds", "contradicted"]
    assert np.isclose(out[1]["p_adjusted"], 0.02) and np.isclose(out[4]["p_opposite_adjusted"],
                                                                   0.004)
    loose = adjust_verdicts(pd.DataFrame(rows_for_holm()), 0.80)  # alpha 0.1: 0.06 passes
    assert loose.loc[1, "verdict"] == "supported"
    empty = adjust_verdicts(pd.DataFrame(columns=["verdict", "p_value", "p_opposite"]))
    assert empty.empty and "p_adjusted" in empty.columns


def test_adjust_verdicts_from_directional_verdict_rows():
    rng = np.random.default_rng(3)
    rows = [directional_verdict(rng.normal(mu, 1.0, 8), +1) | {"mu": mu}
            for mu in (3.0, 0.0, 0.0, 0.0, 0.0)]
    out = adjust_verdicts(pd.DataFrame(rows))
    assert out.loc[0, "verdict"] == "supported"
    assert np.isclose(out.loc[0, "p_adjusted"], min(1, 5 * rows[0]["p_value"]))
    assert (out["p_adjusted"] >= out["p_value"]).all()


def test_holm_keeps_the_familywise_false_supported_rate():
    # Five null predictions per claim: at the per-prediction level some false "supported"
    # in ~12% of claims; after Holm at most alpha.
    x = np.random.default_rng(21).normal(0, 1, (4000, 5, 5))
    s = stats.t_summary(x)
    any_raw = np.mean((s["p_greater"] < ALPHA).any(axis=1))
    adjusted = np.array([holm(p) for p in s["p_greater"]])
    any_holm = np.mean((adjusted < ALPHA).any(axis=1))
    assert any_raw > 0.09 and any_holm <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / 4000)


# --------------------------------------------------------------------------------------------
# change_from_init
# --------------------------------------------------------------------------------------------
def test_change_from_init_pairs_by_seed_and_drops_nan_pairs():
    trained = pd.Series([-0.30, -0.25, -0.40, -0.35, -0.28, -0.33, np.nan],
                        index=[0, 1, 2, 3, 4, 5, 6])
    # Reversed order, a NaN at seed 2 and an extra seed 9 with no trained value.
    initial = pd.Series([0.01, -0.02, 0.0, 0.02, np.nan, -0.01, 0.03, 0.5],
                        index=[6, 5, 4, 3, 2, 1, 0, 9])
    v = change_from_init(trained, initial, -1)
    seeds = [0, 1, 3, 4, 5]
    change = trained[seeds] - initial[seeds]
    assert v["n_seeds"] == 5 and np.isclose(v["mean"], change.mean())
    assert v["verdict"] == "supported" and v["seeds_agreeing"] == 5
    assert np.isclose(v["trained_mean"], trained[seeds].mean())
    assert np.isclose(v["initial_mean"], initial[seeds].mean())
    assert np.isclose(v["mean"], v["trained_mean"] - v["initial_mean"])
    assert v["initial_verdict"] == "inconclusive" and v["trained_verdict"] == "supported"
    ref = directional_verdict(change.to_numpy(), -1)
    assert all(v[k] == ref[k] for k in ref)


def test_change_from_init_decides_on_the_change_not_the_trained_effect():
    # The effect is already there at step 0 and training does not move it: the trained
    # effect alone is "supported", the prediction (a learned change) is not.
    rng = np.random.default_rng(4)
    initial = rng.normal(-0.3, 0.05, 6)
    trained = initial + rng.normal(0, 0.05, 6)
    v = change_from_init(trained, initial, -1)
    assert v["trained_verdict"] == "supported" and v["initial_verdict"] == "supported"
    assert v["verdict"] == "inconclusive"
    assert v["trained_ci_high"] < 0 and v["ci_low"] < 0 < v["ci_high"]


def test_change_from_init_positional_pairs_and_errors():
    v = change_from_init([1.0, 2.0, np.nan, 3.0, 4.0, 5.0], [0.1, 0.2, 0.3, np.nan, 0.4, 0.5],
                         +1)
    assert v["n_seeds"] == 4 and np.isclose(v["mean"], np.mean([0.9, 1.8, 3.6, 4.5]))
    assert v["verdict"] == "insufficient seeds"
    with pytest.raises(ValueError):
        change_from_init([1.0, 2.0], [1.0], +1)
    with pytest.raises(ValueError):
        change_from_init(pd.Series([1.0, 2.0], index=[0, 0]), pd.Series([1.0], index=[0]), +1)


# --------------------------------------------------------------------------------------------
# Equivalence (TOST)
# --------------------------------------------------------------------------------------------
def test_equivalence_tight_data_around_zero_is_equivalent():
    x = [0.01, -0.02, 0.015, 0.0, -0.01, 0.005]
    e = equivalence(x, margin=0.1)
    assert e["verdict"] == "equivalent" and -0.1 < e["ci_low"] < e["ci_high"] < 0.1
    assert e["p_value"] == max(e["p_lower"], e["p_upper"]) < 0.025
    assert (e["ci_low"], e["ci_high"]) == mean_ci(x)[1:]  # the interval used: 95% t-interval


def test_equivalence_not_shown_when_the_ci_spans_zero_but_is_wider_than_the_margin():
    x = [0.3, -0.4, 0.2, -0.1, 0.05]
    e = equivalence(x, margin=0.1)
    assert e["ci_low"] < -0.1 and e["ci_high"] > 0.1 and e["ci_low"] < 0 < e["ci_high"]
    assert e["verdict"] == "not shown"
    assert equivalence(x, margin=2.0)["verdict"] == "equivalent"
    far = equivalence([1.0, 1.1, 0.9, 1.05, 0.95], margin=0.1)
    assert far["verdict"] == "not equivalent" and far["ci_low"] > 0.1


def test_equivalence_degenerate_and_insufficient():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # every seed the same value: no spread, never "equivalent" (the CIFG-at-ceiling case)
        assert equivalence([0.05] * 5, 0.1)["verdict"] == "untestable"
        assert equivalence([0.0] * 5, 0.1)["verdict"] == "untestable"
        assert equivalence([0.2] * 5, 0.1)["verdict"] == "untestable"
        assert equivalence([0.01, 0.0, -0.01], 0.1)["verdict"] == "insufficient seeds"
        assert np.isnan(equivalence([0.01], 0.1)["p_value"])
    with pytest.raises(ValueError):
        equivalence([0.0] * 5, 0.0)


@pytest.mark.parametrize("n", [5, 10])
def test_tost_size_on_the_margin_is_at_most_alpha(n):
    rng = np.random.default_rng(30 + n)
    margin = 0.5
    for true_mean in (margin, -margin):
        x = rng.normal(true_mean, 1.0, (N_SIM, n))
        rate = np.mean(equivalence_verdicts(x, margin) == "equivalent")
        assert rate <= ALPHA + MC, (n, true_mean, rate)
    # ... and with no effect at all and a small spread the test has power.
    x = rng.normal(0.0, 0.2, (N_SIM, n))
    assert np.mean(equivalence_verdicts(x, margin) == "equivalent") > 0.6
    # The vectorised verdicts are `equivalence`'s.
    x = rng.normal(0.3, 0.4, (200, n))
    assert list(equivalence_verdicts(x, margin)) == [equivalence(r, margin)["verdict"]
                                                     for r in x]


# --------------------------------------------------------------------------------------------
# at_ceiling
# --------------------------------------------------------------------------------------------
def test_at_ceiling():
    assert at_ceiling([1.0, 0.9995, np.nan], bound=1.0, tol=1e-3)
    assert at_ceiling([0.75, 1.0], bound=1.0, tol=0.25)  # exactly tol away is within it
    assert not at_ceiling([1.0, 0.99], bound=1.0, tol=1e-3)
    assert not at_ceiling([np.nan], bound=1.0, tol=1e-3)
    assert at_ceiling(pd.Series([0.0, 1e-9]), bound=0.0, tol=1e-6)


def test_equivalence_of_seeds_that_all_sit_at_the_same_value_is_untestable():
    """Both models at the ceiling on every seed: a difference of exactly 0 with no spread is
    not evidence of equivalence (the measure could not have shown a difference)."""
    assert equivalence([0.0] * 5, margin=0.02)["verdict"] == "untestable"
    assert equivalence([0.3] * 5, margin=0.02)["verdict"] == "untestable"
    assert list(equivalence_verdicts(np.zeros((3, 5)), 0.02)) == ["untestable"] * 3


def _settings():
    return stats.Settings(bootstrap_samples=100, confidence=0.95, min_seeds=5)


def _primary(effect, control_effect=None, claim="C1", test="primary"):
    seeds = pd.Series(effect + np.array([0.01, -0.01, 0.02, -0.02, 0.0]), index=range(5))
    zero = pd.Series(0.0 + np.array([0.01, 0.0, -0.01, 0.0, 0.005]), index=range(5))
    row = stats.prediction_row(seeds, zero, +1, _settings(), claim=claim, evidence="e",
                               prediction=f"p{effect}", task="t", arch="lstm",
                               init="default", test=test)
    if control_effect is None:
        return stats.with_control(row, None, "lstm_nfg")
    control = stats.prediction_row(
        pd.Series(control_effect + np.array([0.01, -0.01, 0.02, -0.02, 0.0]), index=range(5)),
        zero, +1, _settings(), claim=claim, task="t", arch="lstm_nfg", init="default")
    return stats.with_control(row, control, "lstm_nfg: no forget gate")


def test_a_primary_prediction_counts_only_beside_a_negative_control_that_fails():
    table = stats.verdict_table([_primary(0.5, control_effect=0.0),
                                 _primary(0.5, control_effect=0.5),
                                 _primary(0.5),
                                 _primary(0.5, test="sanity")], _settings())
    assert list(table["counted"]) == [True, False, False, False]
    assert list(table["control_verdict"]) == ["inconclusive", "supported", "", ""]
    assert table.loc[2, "control"] == "lstm_nfg (not run)"
    assert table.loc[0, "control_change"] == pytest.approx(-0.001, abs=1e-12)


def test_holm_families_are_each_claims_counted_primary_predictions():
    """A sanity check or an uncounted primary row does not enlarge a claim's family, and two
    claims do not share one."""
    alone = stats.verdict_table([_primary(0.03, control_effect=0.0)], _settings())
    crowded = stats.verdict_table(
        [_primary(0.03, control_effect=0.0)] + [_primary(0.03, test="sanity")] * 5
        + [_primary(0.03)] * 5 + [_primary(0.03, control_effect=0.0, claim="C3")] * 5,
        _settings())
    assert crowded.loc[0, "p_adjusted"] == pytest.approx(alone.loc[0, "p_adjusted"])
    together = stats.verdict_table([_primary(0.03, control_effect=0.0)] * 6, _settings())
    assert together.loc[0, "p_adjusted"] == pytest.approx(6 * alone.loc[0, "p_adjusted"])


def test_a_reference_row_says_what_it_tests_and_shows_step_0():
    shares = pd.Series([0.8, 0.7, 0.9, 0.75, 0.85])
    row = stats.reference_row(shares, 0.5, +1, _settings(), initial=[0.5, 0.4, 0.6, 0.5, 0.5],
                              why="a share against one half", claim="C1", task="t",
                              arch="lstm", init="default")
    assert row["decided_on"] == "trained vs 0.5: a share against one half"
    assert row["change"] == pytest.approx(0.3) and row["trained"] == pytest.approx(0.8)
    assert row["initial"] == pytest.approx(0.5) and row["verdict"] == "supported"
    with pytest.raises(ValueError):
        stats.prediction_row(shares, shares, +1, _settings(), task="t", arch="a", init="i",
                             test="evidence")


# prediction rows and the verdict table

SETTINGS = stats.Settings(bootstrap_samples=100, confidence=0.95, min_seeds=5)


def test_a_prediction_row_holds_the_trained_the_step_0_and_the_change():
    """Trained 1..5, step 0 0..4 minus 0.1 per seed: the trained mean 3, the step-0 mean 1.8,
    the change 1.2 (a seed-wise difference 1.0 ... 1.4), each with its own interval."""
    seeds = pd.Index([0, 1, 2, 3, 4], name="seed")
    trained = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0], index=seeds)
    initial = pd.Series([0.0, 0.9, 1.8, 2.7, 3.6], index=seeds)
    row = stats.prediction_row(trained, initial, +1, SETTINGS, claim="C9", evidence="e",
                               prediction="p", task="t", arch="lstm", init="default")
    assert set(row) == set(stats.VERDICT_COLUMNS)
    assert row["trained"] == pytest.approx(3.0) and row["initial"] == pytest.approx(1.8)
    assert row["change"] == pytest.approx(1.2)
    for name, values in (("trained", trained), ("initial", initial),
                         ("change", trained - initial)):
        _, lo, hi = mean_ci(values, 0.95)
        assert (row[f"{name}_ci_low"], row[f"{name}_ci_high"]) == (pytest.approx(lo),
                                                                   pytest.approx(hi))
    assert row["verdict"] == "supported" and row["seeds_agreeing"] == 5


def test_the_verdict_table_is_holm_adjusted_within_each_claim_not_across_claims():
    """Two claims with one prediction each at p = 0.02 (< 0.025): each is its own family of
    one, so both stay supported (across both claims Holm would give 0.04)."""
    rows = [{"claim": claim, "prediction": "p", "task": "t", "arch": "lstm", "init": "default",
             "verdict": "supported", "p_value": 0.02, "p_opposite": 0.98, "n_seeds": 5}
            for claim in ("C1", "C2")]
    table = stats.verdict_table(rows, SETTINGS)
    assert table["p_adjusted"].tolist() == [0.02, 0.02]
    assert table["verdict"].tolist() == ["supported", "supported"]
    rows.append({**rows[0], "prediction": "q"})
    table = stats.verdict_table(rows, SETTINGS)
    assert table["p_adjusted"].tolist() == [0.04, 0.02, 0.04]
    assert table["verdict"].tolist() == ["inconclusive", "supported", "inconclusive"]


def test_a_claim_from_two_analyses_is_one_holm_family():
    """Each analysis's table alone holds one counted prediction at p = 0.02 (< 0.025):
    supported in a family of its own. Joined, they are one family of two (Holm: 0.04) and
    neither is supported; joining tables adjusted before gives the same (each row is
    re-decided from its verdict before Holm). The rows before Holm carry no adjusted p."""
    def rows(prediction):
        return [{"claim": "C6", "prediction": prediction, "task": "t", "arch": "lstm",
                 "init": "default", "test": "primary", "verdict": "supported",
                 "p_value": 0.02, "p_opposite": 0.98, "n_seeds": 5,
                 "control_verdict": "inconclusive"}]
    gradient, learnability = stats.prediction_table(rows("g")), stats.prediction_table(rows("l"))
    assert "p_adjusted" not in gradient.columns and gradient["counted"].all()
    for alone in (gradient, learnability):
        table = stats.verdict_table(alone, SETTINGS)
        assert table["verdict"].tolist() == ["supported"]
    joined = stats.join_verdicts([gradient, learnability, None], SETTINGS)
    assert joined["prediction"].tolist() == ["g", "l"]
    assert joined["p_adjusted"].tolist() == [0.04, 0.04]
    assert joined["verdict"].tolist() == ["inconclusive", "inconclusive"]
    assert joined["verdict_unadjusted"].tolist() == ["supported", "supported"]
    adjusted = [stats.verdict_table(t, SETTINGS) for t in (gradient, learnability)]
    again = stats.join_verdicts(adjusted, SETTINGS)
    pd.testing.assert_frame_equal(again, joined)
    assert stats.join_verdicts([joined], SETTINGS)["verdict"].tolist() == ["inconclusive"] * 2
    assert stats.join_verdicts([None], SETTINGS).empty
