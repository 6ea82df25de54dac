"""Tests for gateroles.disentanglement on planted cases.

Measured values (N = 1500, 3 factors x 5 classes, codes noise sd 0.05, 10 seeds):

* one-to-one monotone codes: MIG 0.987-0.990, modularity 1.00, DCI disentanglement /
  completeness / informativeness 1.00, SAP 0.18-0.31. SAP cannot approach 1 with discrete
  factors: the runner-up code still scores chance accuracy (1/5 here, 1/2 for binary
  factors), and one linear SVM on one code separates 5 ordered classes poorly (top accuracy
  ~0.44). Binary factors reach the ceiling: SAP 0.47-0.50 of 0.5 (5 seeds).
* dense random rotation (|Q_ij| >= 0.3): MIG 0.03-0.15, DCI disentanglement and
  completeness 0.04-0.11, SAP 0.02-0.09, informativeness 0.86-0.91 (still informative,
  just entangled), modularity 0.40-0.83 (modularity is *not* low for rotations).
* 4 factors mixed by a Hadamard rotation (all |Q_ij| = 1/2, 5 seeds): MIG <= 0.009, DCI
  disentanglement <= 0.001, modularity 0.11-0.26.
"""

import numpy as np
import pytest
from scipy.linalg import hadamard
from scipy.stats import special_ortho_group
from sklearn.metrics import mutual_info_score

from gateroles.disentanglement import _specificity, dci, mig, modularity, sap

N = 1500


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def factors_and_latents(n=N, n_factors=3, n_classes=5, seed=0):
    rng = np.random.default_rng(seed)
    factors = rng.integers(0, n_classes, (n, n_factors))
    latents = (factors - (n_classes - 1) / 2) / factors.std(axis=0)  # standardised
    return factors, latents, rng


def planted(n=N, seed=0, n_classes=5):
    """Each code is a monotone (sigmoid) map of one factor plus small noise."""
    factors, z, rng = factors_and_latents(n, n_classes=n_classes, seed=seed)
    return sigmoid(z + 0.05 * rng.standard_normal(z.shape)), factors


def dense_rotation(dim, seed):
    rng = np.random.default_rng(seed)
    while True:
        q = special_ortho_group.rvs(dim, random_state=rng)
        if np.abs(q).min() >= 0.3:
            return q


def rotated(seed=0):
    factors, z, rng = factors_and_latents(seed=seed)
    return z @ dense_rotation(3, seed) + 0.05 * rng.standard_normal(z.shape), factors


@pytest.fixture(scope="module")
def planted_scores():
    codes, factors = planted()
    return {"mig": mig(codes, factors), "modularity": modularity(codes, factors),
            "sap": sap(codes, factors), **dci(codes, factors)}


@pytest.fixture(scope="module")
def rotated_scores():
    codes, factors = rotated()
    return {"mig": mig(codes, factors), "sap": sap(codes, factors), **dci(codes, factors)}


# ---------------------------------------------------------------------------- planted cases
def test_planted_one_to_one_scores_near_one(planted_scores):
    s = planted_scores
    assert s["mig"] > 0.9
    assert s["modularity"] > 0.95
    assert s["disentanglement"] > 0.95
    assert s["completeness"] > 0.95
    assert s["informativeness"] > 0.95
    assert s["sap"] > 0.15  # ceiling ~0.8 for 5 balanced classes, see module docstring


def test_planted_binary_sap_reaches_ceiling():
    codes, factors = planted(n_classes=2, seed=1)
    assert sap(codes, factors) > 0.45  # ceiling 1 - 1/2


def test_dense_rotation_scores_low(rotated_scores, planted_scores):
    s = rotated_scores
    assert s["mig"] < 0.2
    assert s["disentanglement"] < 0.2
    assert s["completeness"] < 0.2
    assert s["sap"] < 0.15 and s["sap"] < planted_scores["sap"] / 2
    assert s["informativeness"] > 0.8  # information is kept, only entangled


def test_hadamard_rotation_is_fully_entangled():
    factors, z, rng = factors_and_latents(n_factors=4, seed=2)
    codes = z @ (hadamard(4) / 2) + 0.05 * rng.standard_normal(z.shape)
    assert mig(codes, factors) < 0.05
    assert modularity(codes, factors) < 0.4
    assert dci(codes, factors)["disentanglement"] < 0.05


def test_scores_invariant_to_code_order():
    codes, factors = planted(seed=3)
    order = [2, 0, 1]
    assert mig(codes[:, order], factors) == pytest.approx(mig(codes, factors))
    assert modularity(codes[:, order], factors) == pytest.approx(modularity(codes, factors))


# ---------------------------------------------------------------------------- hand computations
def tiny_case():
    f1 = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    f2 = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    c1 = f1.astype(float)  # copy of f1
    c2 = np.array([0, 0, 0, 1, 0, 1, 1, 1], float)  # 3:1 / 1:3 split for both factors
    c3 = np.full(8, 0.3)  # constant code: zero MI
    return np.column_stack([c1, c2, c3]), np.column_stack([f1, f2])


def test_mig_hand_computation():
    # m = [[ln2, 0], [a, a], [0, 0]] with a = ln2 - h(1/4); H(f) = ln2.
    # Factor 1 gap (ln2 - a) / ln2 = h(1/4)/ln2; factor 2 gap a / ln2 = 1 - h(1/4)/ln2.
    codes, factors = tiny_case()
    assert mig(codes, factors) == pytest.approx(0.5, abs=1e-12)
    assert mig(codes, factors, bins=2) == pytest.approx(0.5, abs=1e-12)
    h = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))
    assert mig(codes[:, :2], factors[:, :1]) == pytest.approx(h / np.log(2), abs=1e-12)


def test_modularity_hand_computation():
    # Code 1: MI only with f1 -> 1. Code 2: equal MI with both -> delta = 1 -> 0.
    # Code 3 (constant, zero MI): skipped by default, scored 0 by disentanglement_lib.
    codes, factors = tiny_case()
    assert modularity(codes, factors) == pytest.approx(0.5, abs=1e-12)
    assert modularity(codes, factors, zero_mi="zero") == pytest.approx(1 / 3, abs=1e-12)
    assert modularity(codes, factors[:, :1]) == 1.0  # single factor: trivially modular


def dlib_mi_matrix(codes, factors, bins=20):
    """disentanglement_lib's _histogram_discretize + discrete_mutual_info."""
    m = np.zeros((codes.shape[1], factors.shape[1]))
    for j in range(codes.shape[1]):
        binned = np.digitize(codes[:, j], np.histogram(codes[:, j], bins)[1][:-1])
        for k in range(factors.shape[1]):
            m[j, k] = mutual_info_score(factors[:, k], binned)
    return m


def test_matches_disentanglement_lib_formulas():
    codes, factors = rotated(seed=4)
    codes[:, 1] = codes[:, 0] + 0.3 * codes[:, 1]
    m = dlib_mi_matrix(codes, factors)
    h = np.array([mutual_info_score(f, f) for f in factors.T])
    top = np.sort(m, axis=0)[::-1]
    assert mig(codes, factors) == pytest.approx(np.mean((top[0] - top[1]) / h), abs=1e-10)
    sq = m**2
    ref = 1 - (sq.sum(1) - sq.max(1)) / (sq.max(1) * (m.shape[1] - 1))
    assert modularity(codes, factors) == pytest.approx(np.mean(ref), abs=1e-10)


def test_dci_specificity_hand_computation():
    assert _specificity(np.eye(3)) == pytest.approx(1.0)
    assert _specificity(np.ones((2, 2))) == pytest.approx(0.0)
    # Row 1 specific (weight 1/3), row 2 uniform over 2 columns (weight 2/3).
    assert _specificity(np.array([[1.0, 0.0], [1.0, 1.0]])) == pytest.approx(1 / 3)
    assert _specificity(np.array([[0.2], [0.8]])) == 1.0  # one column: defined as 1
    assert _specificity(np.zeros((2, 2))) == 0.0


def test_single_factor_dci_convention():
    codes, factors = planted(n=600, seed=5)
    out = dci(codes, factors[:, 0])
    assert out["disentanglement"] == 1.0
    assert set(out) == {"disentanglement", "completeness", "informativeness"}


def test_constant_factor_is_skipped_by_mig():
    codes, factors = planted(n=600, seed=6)
    with_constant = np.column_stack([factors, np.zeros(600, int)])
    assert mig(codes, with_constant) == pytest.approx(mig(codes, factors))
    with pytest.raises(ValueError, match="constant"):
        mig(codes, np.zeros((600, 2), int))


# ---------------------------------------------------------------------------- test-set path
def test_explicit_test_set_is_used():
    codes, factors = planted(n=900, seed=7)
    codes_te, factors_te = planted(n=600, seed=8)
    out = dci(codes, factors, codes_test=codes_te, factors_test=factors_te)
    assert out["informativeness"] > 0.95
    assert sap(codes, factors, codes_test=codes_te, factors_test=factors_te) > 0.15
    # Scoring on unrelated test codes must hurt accuracy: proves the test set is used.
    shuffled = codes_te[np.random.default_rng(0).permutation(600)]
    bad = dci(codes, factors, codes_test=shuffled, factors_test=factors_te)
    assert bad["informativeness"] < 0.4
    # MIG / modularity fit nothing: the test set is pooled.
    pooled = mig(np.vstack([codes, codes_te]), np.vstack([factors, factors_te]))
    assert mig(codes, factors, codes_test=codes_te, factors_test=factors_te) == pooled


def test_internal_split_is_seeded():
    codes, factors = rotated(seed=9)
    assert sap(codes, factors, seed=1) == sap(codes, factors, seed=1)


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize("metric", [mig, modularity, dci, sap])
def test_bad_shapes_raise(metric):
    codes, factors = planted(n=60, seed=10)
    with pytest.raises(ValueError, match="n_samples"):
        metric(codes, factors[:-1])
    with pytest.raises(ValueError):
        metric(codes[None], factors)
    with pytest.raises(ValueError):
        metric(np.empty((60, 0)), factors)
    with pytest.raises(ValueError, match="both"):
        metric(codes, factors, codes_test=codes)
    with pytest.raises(ValueError, match="n_codes"):
        metric(codes, factors, codes_test=codes[:, :2], factors_test=factors)
    with pytest.raises(ValueError, match="n_factors"):
        metric(codes, factors, codes_test=codes, factors_test=factors[:, :2])
    bad = codes.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        metric(bad, factors)


def test_metric_specific_errors():
    codes, factors = planted(n=60, seed=11)
    with pytest.raises(ValueError, match="at least 2 codes"):
        mig(codes[:, :1], factors)
    with pytest.raises(ValueError, match="at least 2 codes"):
        sap(codes[:, :1], factors)
    with pytest.raises(ValueError, match="single class"):
        dci(codes, np.zeros((60, 1), int))
    with pytest.raises(ValueError, match="zero_mi"):
        modularity(codes, factors, zero_mi="nan")
