"""Tests for gateroles.information.

Reference: bivariate Gaussians with correlation rho, both variables pushed through a sigmoid
(a monotone map, so the MI stays gaussian_mi(rho)). Tolerances are ``a + b * I_true``
(nats) and come from bias measurements over many seeds (20-36 per cell):

binned, quantile, default_bins (16 bins at N=2k, 32 at N=20k); mean error (sd) by rho:
    N=2k:   rho 0: +0.001 (0.008), 0.3: -0.001 (0.010), 0.6: -0.011 (0.014),
            0.9: -0.054 (0.017); max |err| 0.109 at rho=0.9  -> tol 0.03 + 0.12 I
    N=20k:  +0.000 (0.001), -0.001 (0.003), -0.004 (0.005), -0.023 (0.007);
            max |err| 0.037                                  -> tol 0.01 + 0.05 I
    The negative bias at high rho is the discretisation loss (bins too coarse for a
    strongly concentrated joint density), not sampling bias, which Miller-Madow removes.
ksg (k=3): mean error within +-0.006 everywhere; sd 0.015-0.028 (N=2k), 0.006-0.010
    (N=20k); max |err| 0.055 / 0.025                          -> tol 0.06 + 0.05 I (2k),
                                                                  0.025 + 0.02 I (20k)
binned - ksg at N=20k: mean -0.024 (sd 0.005) at rho=0.9, max |diff| 0.037
                                                              -> tol 0.02 + 0.05 I
                                                                 (2k: 0.07 + 0.12 I)
Checked on 100 further seeds at N=2k: largest error 0.82 of its tolerance.
KSG here is the same algorithm as sklearn's mutual_info_regression (which clips at 0), so
the two agree to jitter-level precision.
"""

import numpy as np
import pytest
from sklearn.feature_selection import mutual_info_regression

from gateroles import information
from gateroles.information import (
    default_bins,
    discretize,
    gaussian_mi,
    mi_matrix_discrete,
    mi_with_factor,
    mutual_information,
    pairwise_mutual_information,
    permutation_test,
)

RHOS = (0.0, 0.3, 0.6, 0.9)
SIZES = (2000, 20000)
TOL_BINNED = {2000: (0.03, 0.12), 20000: (0.01, 0.05)}
TOL_KSG = {2000: (0.06, 0.05), 20000: (0.025, 0.02)}
TOL_AGREE = {2000: (0.07, 0.12), 20000: (0.02, 0.05)}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def gaussian_pair(rho, n, seed=0, gain=1.0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    x = z[:, 0]
    y = rho * x + np.sqrt(1 - rho**2) * z[:, 1]
    return sigmoid(gain * x), sigmoid(gain * y)


def tol(table, n, rho):
    a, b = table[n]
    return a + b * gaussian_mi(rho)


@pytest.fixture(scope="module")
def estimates():
    """All estimates for the (rho, N) grid, computed once."""
    out = {}
    for n in SIZES:
        for rho in RHOS:
            x, y = gaussian_pair(rho, n, seed=7)
            out[rho, n] = {
                "binned": mutual_information(x, y, bins=default_bins(n)),
                "ksg": mutual_information(x, y, method="ksg", k=3),
                "sklearn": mutual_info_regression(
                    x[:, None], y, n_neighbors=3, random_state=0
                )[0],
            }
    return out


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("rho", RHOS)
def test_binned_quantile_matches_gaussian(estimates, rho, n):
    err = estimates[rho, n]["binned"] - gaussian_mi(rho)
    assert abs(err) <= tol(TOL_BINNED, n, rho)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("rho", RHOS)
def test_ksg_matches_gaussian(estimates, rho, n):
    err = estimates[rho, n]["ksg"] - gaussian_mi(rho)
    assert abs(err) <= tol(TOL_KSG, n, rho)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("rho", RHOS)
def test_estimators_agree(estimates, rho, n):
    est = estimates[rho, n]
    assert abs(est["binned"] - est["ksg"]) <= tol(TOL_AGREE, n, rho)
    # Same KSG algorithm as sklearn; sklearn clips at zero, jitter draws differ.
    assert max(est["ksg"], 0.0) == pytest.approx(est["sklearn"], abs=1e-6)


@pytest.mark.parametrize("method", ["binned", "ksg"])
def test_independent_is_near_zero(method):
    x, y = gaussian_pair(0.0, 20000, seed=3)
    assert abs(mutual_information(x, y, method=method)) < 0.02


def test_binned_is_invariant_to_monotone_maps():
    x, y = gaussian_pair(0.6, 5000, seed=1)
    a = mutual_information(x, y)
    b = mutual_information(np.log(x / (1 - x)), y**3)
    assert a == pytest.approx(b, abs=1e-12)


def test_gaussian_mi_values():
    assert gaussian_mi(0.0) == 0.0
    assert gaussian_mi(0.6) == pytest.approx(-0.5 * np.log(0.64))
    np.testing.assert_allclose(gaussian_mi(np.array([0.0, 0.9])), [0.0, -0.5 * np.log(0.19)])
    with pytest.raises(ValueError):
        gaussian_mi(1.0)


def test_default_bins_keeps_joint_cells_near_n_over_10():
    assert default_bins(2000) == 16
    assert default_bins(9999) == 16
    assert default_bins(10000) == 32
    assert default_bins(20000) ** 2 <= 20000 / 10


# ---------------------------------------------------------------------------- discretisation
def saturated(n, seed=0, rho=0.0):
    """float32 'gates' with half the values exactly 0.0 or 1.0."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    z[:, 1] = rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1]
    g = sigmoid(3 * z).astype(np.float32)
    g[z < -0.6745] = 0.0  # lower quartile
    g[z > 0.6745] = 1.0  # upper quartile
    return g[:, 0], g[:, 1]


def test_quantile_ties_share_a_bin():
    x, _ = saturated(20000)
    assert 0.45 < np.mean((x == 0) | (x == 1)) < 0.55
    codes = discretize(x, 16, "quantile")
    assert np.unique(codes[x == 0]).size == 1
    assert np.unique(codes[x == 1]).size == 1
    assert codes[x == 0][0] == codes.min() and codes[x == 1][0] == codes.max()
    assert codes.max() < 16
    # Every distinct value maps to exactly one code.
    pairs = np.unique(np.column_stack([x.view(np.int32), codes]), axis=0)
    assert pairs.shape[0] == np.unique(x).size


def test_saturated_data_does_not_blow_up():
    n = 20000
    x, y = saturated(n, seed=1)
    assert abs(mutual_information(x, y, bins=default_bins(n))) < 0.005
    assert abs(mutual_information(x, y, bins=16)) < 0.005
    x, y = saturated(n, seed=1, rho=0.9)
    mi = mutual_information(x, y, bins=default_bins(n))
    # Saturation is a non-invertible map: information can only be lost.
    assert 0.2 < mi <= gaussian_mi(0.9) + 0.01
    # MI of a variable with itself is its (binned) entropy, bounded by log(#codes).
    assert mutual_information(x, x, bins=16) <= np.log(16)


def test_uniform_bins_underestimate_on_saturated_sigmoids():
    """Property: on strongly saturating sigmoids, equal-width bins put most samples in the
    end bins and lose information; equal-frequency bins are invariant to the gain."""
    n = 20000
    for rho in (0.6, 0.9):
        x, y = gaussian_pair(rho, n, seed=2, gain=6.0)
        q = mutual_information(x, y, bins=32, binning="quantile")
        u = mutual_information(x, y, bins=32, binning="uniform")
        assert u < 0.8 * q
        assert q == pytest.approx(gaussian_mi(rho), abs=tol(TOL_BINNED, n, rho))


def test_discretize_uniform_and_2d():
    x = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    np.testing.assert_array_equal(discretize(x, 2, "uniform"), [0, 0, 1, 1, 1])
    a = np.column_stack([x, x[::-1]])
    codes = discretize(a, 2, "uniform")
    np.testing.assert_array_equal(codes[:, 1], discretize(x[::-1], 2, "uniform"))
    assert discretize(np.ones(5), 4, "uniform").tolist() == [0] * 5
    with pytest.raises(ValueError):
        discretize(x, 4, "log")
    with pytest.raises(ValueError):
        discretize(x, 0)


def reference_codes(column, bins, binning):
    """The definition, one column at a time: searchsorted into the distinct inner edges."""
    if binning == "quantile":
        edges = np.unique(np.quantile(column, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    elif column.max() > column.min():
        edges = np.histogram_bin_edges(column, bins)[1:-1]
    else:
        edges = np.empty(0)
    return np.searchsorted(edges, column, side="right")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("binning", ["quantile", "uniform"])
def test_discretize_matches_searchsorted_column_by_column(dtype, binning):
    """The vectorised codes equal the per-column definition, ties and constants included."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3000, 9))
    x[:, 1] = np.round(x[:, 1])  # a few values, many ties
    x[:, 2] = 1.0  # constant
    x[:, 3] = 1 / (1 + np.exp(-8 * x[:, 3]))  # saturating sigmoid
    x[: 2000, 4] = 0.0  # two thirds tied at one value
    x = x.astype(dtype)
    for bins in (1, 2, 3, 16, 40):
        codes = discretize(x, bins, binning)
        assert codes.dtype == np.intp
        for j in range(x.shape[1]):
            expected = reference_codes(x[:, j], bins, binning)
            np.testing.assert_array_equal(codes[:, j], expected)
            np.testing.assert_array_equal(discretize(x[:, j], bins, binning), expected)


# ---------------------------------------------------------------------------- pairwise
def correlated_gates(n, p, seed=0):
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((p, p)) / np.sqrt(p)
    return sigmoid(2 * rng.standard_normal((n, p)) @ (np.eye(p) + mix))


@pytest.mark.parametrize("bins", [8, 16, 32])  # 32 bins exercises the sparse product
@pytest.mark.parametrize("binning", ["quantile", "uniform"])
def test_pairwise_equals_per_pair(bins, binning):
    a = correlated_gates(9000, 5, seed=bins)  # > one row block of the dense path
    a[:, 3] = np.round(a[:, 3], 1)  # heavy ties
    a[:, 4] = 0.5  # constant column
    b = correlated_gates(9000, 3, seed=1)
    for left, right in ((a, None), (a, b)):
        got = pairwise_mutual_information(left, right, bins=bins, binning=binning)
        right = left if right is None else right
        assert got.shape == (left.shape[1], right.shape[1])
        want = np.array(
            [
                [
                    mutual_information(left[:, i], right[:, j], bins=bins, binning=binning)
                    for j in range(right.shape[1])
                ]
                for i in range(left.shape[1])
            ]
        )
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_pairwise_chunked_path(monkeypatch):
    """Small chunks (as for very large N) give the same matrix and p-values."""
    a = correlated_gates(3000, 4, seed=5)
    full = pairwise_mutual_information(a, bins=16)
    cross = pairwise_mutual_information(a, a[:, :2], bins=16)
    mi, p = permutation_test(a[:, 0], a[:, 1], n_permutations=50)
    monkeypatch.setattr(information, "_CHUNK", 1000)
    np.testing.assert_allclose(pairwise_mutual_information(a, bins=16), full, atol=1e-12)
    np.testing.assert_allclose(pairwise_mutual_information(a, a[:, :2]), cross, atol=1e-12)
    mi_chunked, p_chunked = permutation_test(a[:, 0], a[:, 1], n_permutations=50)
    assert mi_chunked == pytest.approx(mi, abs=1e-12)
    assert p_chunked == pytest.approx(p, abs=0.1)


def test_pairwise_validation():
    with pytest.raises(ValueError):
        pairwise_mutual_information(np.zeros(10))
    with pytest.raises(ValueError):
        pairwise_mutual_information(np.zeros((10, 2)), np.zeros((11, 2)))


def test_mi_matrix_discrete_plugin():
    cx = np.array([0, 0, 1, 1])
    m = mi_matrix_discrete(cx[:, None], cx[:, None], miller_madow=False)
    assert m[0, 0] == pytest.approx(np.log(2))
    # Miller-Madow: (m_x + m_y - m_xy - 1) / (2N) = (2 + 2 - 2 - 1) / 8
    m = mi_matrix_discrete(cx[:, None], cx[:, None], miller_madow=True)
    assert m[0, 0] == pytest.approx(np.log(2) + 1 / 8)
    with pytest.raises(ValueError):
        mi_matrix_discrete(np.array([[0.5], [1.5]]))


def test_mi_with_factor_uses_categories():
    rng = np.random.default_rng(0)
    n = 6000
    ints = rng.integers(0, 3, n)
    labels = np.array(["a", "b", "c"])[ints]
    is_b = (labels == "b").astype(float)  # ties: the code has exactly two values
    codes = np.column_stack([is_b, rng.standard_normal(n)])
    mi = mi_with_factor(codes, labels, bins=16)
    assert mi.shape == (2,)
    p_b = np.mean(is_b)
    h_b = -(p_b * np.log(p_b) + (1 - p_b) * np.log(1 - p_b))
    # Code reveals "b or not": MI = H(is_b); Miller-Madow adds (2 + 3 - 3 - 1) / (2N).
    assert mi[0] == pytest.approx(h_b + 1 / (2 * n), abs=1e-12)
    assert abs(mi[1]) < 0.01
    np.testing.assert_allclose(mi_with_factor(codes, ints + 10, bins=16), mi, atol=1e-12)
    with pytest.raises(ValueError):
        mi_with_factor(codes, labels[:-1])


# ---------------------------------------------------------------------------- permutation test
@pytest.mark.parametrize("method", ["binned", "ksg"])
def test_permutation_test(method):
    n_perm = 200 if method == "binned" else 50
    x, y = gaussian_pair(0.6, 1000, seed=4)
    mi, p = permutation_test(x, y, n_permutations=n_perm, seed=0, method=method)
    assert mi == pytest.approx(mutual_information(x, y, method=method), abs=1e-10)
    assert p == 1 / (1 + n_perm)
    x, y = gaussian_pair(0.0, 1000, seed=4)
    _, p = permutation_test(x, y, n_permutations=n_perm, seed=0, method=method)
    assert p > 0.1


def test_permutation_p_value_counts_ties_as_at_least_as_extreme():
    """(1 + #{null >= observed}) / (1 + n): a null value equal to the observed one counts
    against it (with discrete damages, e.g. 0/1 errors, ties are common)."""
    assert information.permutation_p_value(1.0, np.array([1.0, 0.0, 2.0])) == 3 / 4
    assert information.permutation_p_value(0.0, np.zeros(9)) == 1.0
    assert information.permutation_p_value(5.0, np.arange(5.0)) == 1 / 6


def test_permutation_null_p_values_are_not_small():
    """Under independence p-values are ~uniform: few seeds should fall below 0.05."""
    p_values = []
    for seed in range(20):
        x, y = gaussian_pair(0.0, 500, seed=100 + seed)
        p_values.append(permutation_test(x, y, n_permutations=100, seed=seed, bins=8)[1])
    p_values = np.array(p_values)
    assert np.mean(p_values < 0.05) <= 0.2
    assert 0.3 < np.mean(p_values) < 0.7


# ---------------------------------------------------------------------------- validation
def test_bad_inputs_raise():
    x = np.linspace(0, 1, 50)
    with pytest.raises(ValueError, match="binned, ksg"):
        mutual_information(x, x, method="kde")
    with pytest.raises(ValueError, match="binned, ksg"):
        permutation_test(x, x, method="kde")
    with pytest.raises(ValueError, match="different lengths"):
        mutual_information(x, x[:-1])
    with pytest.raises(ValueError, match="1-D"):
        mutual_information(x[:, None], x)
    with pytest.raises(ValueError):
        mutual_information(np.append(x, np.nan), np.append(x, 0.0))
    with pytest.raises(ValueError):
        mutual_information(x, x, method="ksg", k=50)
    with pytest.raises(TypeError):
        mutual_information(x, x, method="binned", k=3)
