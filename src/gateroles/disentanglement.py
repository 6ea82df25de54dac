"""Disentanglement metrics of codes (e.g. gate activations) w.r.t. discrete task factors.

Definitions follow Locatello et al. (2019), "Challenging common assumptions in the
unsupervised learning of disentangled representations", and their reference implementation
google-research/disentanglement_lib, with the deviations listed per function (each is
documented where it happens):

* :func:`mig` -- Mutual Information Gap (Chen et al. 2018).
* :func:`dci` -- Disentanglement / Completeness / Informativeness (Eastwood & Williams 2018).
* :func:`sap` -- Separated Attribute Predictability (Kumar et al. 2018).
* :func:`modularity` -- Modularity (Ridgeway & Mozer 2018).

Inputs use the scikit-learn layout: ``codes`` [N, n_codes] floats, ``factors`` [N, n_factors]
discrete labels (any dtype; a 1-D ``factors`` is one factor). Every function accepts
``codes_test`` / ``factors_test``. Metrics that fit classifiers (DCI, SAP) fit on the first
set and score on the test set; without a test set they fit on a seeded 2/3 split of the
samples (``seed`` kwarg) and score on the remaining third. MIG and modularity fit nothing, so
a test set, when given, is simply pooled with the first set to estimate the MI matrix.

MI values are plug-in discrete MI in nats (no bias correction, as disentanglement_lib) on
codes discretised into ``bins`` equal-width bins over each code's sample range.
"""

from __future__ import annotations

import numpy as np
import sklearn
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.svm import LinearSVC

from gateroles.information import discretize, mi_matrix_discrete

__all__ = ["dci", "mig", "modularity", "sap"]

# MI below this (nats) is treated as exactly zero: a constant code gives +-1e-16 by rounding.
_MI_ZERO = 1e-12


# --------------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------------
def _as_codes(codes, name: str) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.ndim == 1:
        codes = codes[:, None]
    if codes.ndim != 2 or codes.shape[0] == 0 or codes.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty [n_samples, n_codes] array, got {codes.shape}"
        )
    if not np.issubdtype(codes.dtype, np.number) or not np.all(np.isfinite(codes)):
        raise ValueError(f"{name} must be finite numbers")
    return codes.astype(np.float64, copy=False)


def _as_factors(factors, name: str) -> np.ndarray:
    factors = np.asarray(factors)
    if factors.ndim == 1:
        factors = factors[:, None]
    if factors.ndim != 2 or factors.shape[0] == 0 or factors.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty [n_samples, n_factors] array, got {factors.shape}"
        )
    return factors


def _check_set(codes, factors, suffix: str = "") -> tuple[np.ndarray, np.ndarray]:
    codes = _as_codes(codes, "codes" + suffix)
    factors = _as_factors(factors, "factors" + suffix)
    if codes.shape[0] != factors.shape[0]:
        raise ValueError(
            f"codes{suffix} and factors{suffix} have different n_samples: "
            f"{codes.shape[0]} != {factors.shape[0]}"
        )
    return codes, factors


def _check_inputs(codes, factors, codes_test, factors_test):
    """Validated (codes, factors, codes_test, factors_test); the test pair may be None."""
    codes, factors = _check_set(codes, factors)
    if (codes_test is None) != (factors_test is None):
        raise ValueError("give both codes_test and factors_test, or neither")
    if codes_test is None:
        return codes, factors, None, None
    codes_test, factors_test = _check_set(codes_test, factors_test, "_test")
    if codes_test.shape[1] != codes.shape[1]:
        raise ValueError(f"n_codes differ: {codes.shape[1]} != {codes_test.shape[1]} (test)")
    if factors_test.shape[1] != factors.shape[1]:
        raise ValueError(
            f"n_factors differ: {factors.shape[1]} != {factors_test.shape[1]} (test)"
        )
    return codes, factors, codes_test, factors_test


def _train_test(codes, factors, codes_test, factors_test, seed: int):
    """Given test set, or a seeded 2/3 (train) - 1/3 (test) split of the samples."""
    codes, factors, codes_test, factors_test = _check_inputs(
        codes, factors, codes_test, factors_test
    )
    if codes_test is not None:
        return codes, factors, codes_test, factors_test
    n = codes.shape[0]
    if n < 3:
        raise ValueError(f"need at least 3 samples for the internal split, got {n}")
    perm = np.random.default_rng(seed).permutation(n)
    train, test = perm[: (2 * n) // 3], perm[(2 * n) // 3 :]
    return codes[train], factors[train], codes[test], factors[test]


def _pooled(codes, factors, codes_test, factors_test):
    codes, factors, codes_test, factors_test = _check_inputs(
        codes, factors, codes_test, factors_test
    )
    if codes_test is None:
        return codes, factors
    return np.vstack([codes, codes_test]), np.concatenate([factors, factors_test])


def _factor_codes(factors: np.ndarray) -> np.ndarray:
    """Integer category codes per factor column (labels used as categories, not binned)."""
    out = np.empty(factors.shape, dtype=np.intp)
    for k in range(factors.shape[1]):
        out[:, k] = np.unique(factors[:, k], return_inverse=True)[1].ravel()
    return out


def _require_classes(factors_train: np.ndarray) -> None:
    for k in range(factors_train.shape[1]):
        if np.unique(factors_train[:, k]).size < 2:
            raise ValueError(f"factor {k} has a single class in the training data")


def _require_codes(codes: np.ndarray, minimum: int, metric: str) -> None:
    if codes.shape[1] < minimum:
        raise ValueError(f"{metric} needs at least {minimum} codes, got {codes.shape[1]}")


# --------------------------------------------------------------------------------------------
# MI-based metrics
# --------------------------------------------------------------------------------------------
def _mi_matrix(codes: np.ndarray, factor_codes: np.ndarray, bins: int) -> np.ndarray:
    """Plug-in MI [n_codes, n_factors] of equal-width-binned codes with the factors."""
    binned = discretize(codes, bins, "uniform")
    return np.maximum(mi_matrix_discrete(binned, factor_codes, miller_madow=False), 0.0)


def _factor_entropy(factor_codes: np.ndarray) -> np.ndarray:
    n = factor_codes.shape[0]
    h = np.empty(factor_codes.shape[1])
    for k in range(factor_codes.shape[1]):
        p = np.bincount(factor_codes[:, k]) / n
        p = p[p > 0]
        h[k] = -np.sum(p * np.log(p))
    return h


def mig(codes, factors, bins: int = 20, codes_test=None, factors_test=None) -> float:
    """Mutual Information Gap.

    For each factor k, the gap between the largest and second-largest MI of any code with it,
    normalised by the factor entropy H(v_k); MIG is the mean over factors. Factors with
    H(v_k) = 0 (constant) carry no information to disentangle and are skipped
    (disentanglement_lib would divide by zero); a ValueError is raised if all are constant.
    Needs at least 2 codes.
    """
    codes, factors = _pooled(codes, factors, codes_test, factors_test)
    _require_codes(codes, 2, "MIG")
    fcodes = _factor_codes(factors)
    m = _mi_matrix(codes, fcodes, bins)
    h = _factor_entropy(fcodes)
    keep = h > 0
    if not keep.any():
        raise ValueError("all factors are constant (zero entropy); MIG is undefined")
    top = np.sort(m, axis=0)[::-1]
    gaps = (top[0] - top[1])[keep] / h[keep]
    return float(np.mean(gaps))


def modularity(
    codes, factors, bins: int = 20, codes_test=None, factors_test=None, zero_mi: str = "skip"
) -> float:
    """Modularity (Ridgeway & Mozer 2018).

    Per code j with MI row m_j: ``delta_j = (sum_k m_jk^2 - max_k m_jk^2) / (max m^2 (K-1))``
    and the score is ``1 - delta_j``; modularity is the mean over codes. Codes with zero MI
    with every factor (e.g. dead / constant units) have no defined score: with
    ``zero_mi="skip"`` (default) they are left out of the mean; ``zero_mi="zero"`` scores them
    0 as disentanglement_lib does. With a single factor every code is trivially modular and
    the result is 1.
    """
    if zero_mi not in ("skip", "zero"):
        raise ValueError(f"zero_mi must be 'skip' or 'zero', got {zero_mi!r}")
    codes, factors = _pooled(codes, factors, codes_test, factors_test)
    m = _mi_matrix(codes, _factor_codes(factors), bins)
    n_factors = m.shape[1]
    if n_factors == 1:
        return 1.0
    sq = np.square(m)
    top = sq.max(axis=1)
    informative = top > _MI_ZERO**2
    scores = np.zeros(m.shape[0])
    delta = (sq.sum(axis=1) - top)[informative] / (top[informative] * (n_factors - 1))
    scores[informative] = 1.0 - delta
    if zero_mi == "skip":
        if not informative.any():
            raise ValueError("every code has zero MI with every factor; modularity undefined")
        scores = scores[informative]
    return float(np.mean(scores))


def _checked_once():
    """scikit-learn context for the many small fits below: the inputs were validated once
    (`_check_inputs`: finite, 2-D), so skip its per-call parameter and finiteness checks
    (about a third of a small fit's time); the fitted models are the same."""
    return sklearn.config_context(assume_finite=True, skip_parameter_validation=True)


# --------------------------------------------------------------------------------------------
# DCI
# --------------------------------------------------------------------------------------------
def _specificity(importance: np.ndarray) -> float:
    """Importance-weighted ``1 - H_base(P_j.)`` over rows j, base = number of columns.

    ``P`` is the row-normalised |importance| and the weight of row j its share of the total
    importance, as disentanglement_lib's DCI ``disentanglement`` (rows = codes); completeness
    is the same on the transpose. One column means no alternative to be specific against,
    defined as 1; an all-zero matrix gives 0 (disentanglement_lib's convention).
    """
    r = np.abs(importance)
    n_cols = r.shape[1]
    if n_cols == 1:
        return 1.0
    total = r.sum()
    if total == 0:
        return 0.0
    row_sum = r.sum(axis=1)
    used = row_sum > 0
    p = r[used] / row_sum[used, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=1) / np.log(n_cols)
    return float(np.sum(row_sum[used] / total * (1.0 - h)))


def dci(
    codes,
    factors,
    codes_test=None,
    factors_test=None,
    n_estimators: int = 20,
    seed: int = 0,
    classifier_kwargs: dict | None = None,
) -> dict:
    """DCI disentanglement, completeness and informativeness (Eastwood & Williams 2018).

    One ``GradientBoostingClassifier`` per factor predicts it from all codes; the importance
    matrix ``R[j, k]`` is its ``feature_importances_``. disentanglement = sum_j rho_j
    (1 - H_K(P_j.)) with P the row-normalised R, entropy base K = n_factors and rho_j the
    share of total importance of code j; completeness the same on columns with base n_codes;
    informativeness = mean test accuracy of the classifiers.

    ``n_estimators`` defaults to 20 (sklearn's default, used by disentanglement_lib, is 100)
    to keep the metric ~4x cheaper. The importances settle faster than the accuracy: on the
    planted test cases 20 vs 100 trees moved disentanglement/completeness by <= 0.03 but
    informativeness by up to 0.12 (0.86-0.91 vs 0.98 on rotated codes), so pass
    ``n_estimators=100`` when informativeness itself is reported. ``classifier_kwargs`` are
    passed to the classifier. K = 1 gives disentanglement 1 (and n_codes = 1 completeness 1)
    by definition.
    """
    x_tr, y_tr, x_te, y_te = _train_test(codes, factors, codes_test, factors_test, seed)
    _require_classes(y_tr)
    kwargs = {"n_estimators": n_estimators, "random_state": seed, **(classifier_kwargs or {})}
    importance = np.zeros((x_tr.shape[1], y_tr.shape[1]))
    accuracy = np.zeros(y_tr.shape[1])
    with _checked_once():
        for k in range(y_tr.shape[1]):
            clf = GradientBoostingClassifier(**kwargs).fit(x_tr, y_tr[:, k])
            importance[:, k] = np.abs(clf.feature_importances_)
            accuracy[k] = np.mean(clf.predict(x_te) == y_te[:, k])
    return {
        "disentanglement": _specificity(importance),
        "completeness": _specificity(importance.T),
        "informativeness": float(np.mean(accuracy)),
    }


# --------------------------------------------------------------------------------------------
# SAP
# --------------------------------------------------------------------------------------------
def sap(
    codes,
    factors,
    codes_test=None,
    factors_test=None,
    C: float = 0.01,
    standardize: bool = True,
    seed: int = 0,
) -> float:
    """Separated Attribute Predictability.

    Score matrix S[j, k] = test accuracy of ``LinearSVC(C=C, class_weight="balanced")``
    predicting factor k from code j alone; SAP = mean over factors of the top minus the
    second-best score. Needs at least 2 codes.

    Deviation: with ``standardize=True`` (default) each code is z-scored with training
    statistics before fitting, so that the strongly regularised SVM (C = 0.01) does not
    penalise codes just for having a small range (gates live in [0, 1]);
    ``standardize=False`` reproduces disentanglement_lib. Note that a single code can only
    separate classes linearly (one-vs-rest), so with many classes per factor even a perfectly
    disentangled code scores well below 1.
    """
    x_tr, y_tr, x_te, y_te = _train_test(codes, factors, codes_test, factors_test, seed)
    _require_codes(x_tr, 2, "SAP")
    _require_classes(y_tr)
    if standardize:
        mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
        std[std == 0] = 1.0
        x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    scores = np.zeros((x_tr.shape[1], y_tr.shape[1]))
    with _checked_once():
        for j in range(x_tr.shape[1]):
            for k in range(y_tr.shape[1]):
                clf = LinearSVC(C=C, class_weight="balanced", max_iter=10_000, random_state=seed)
                clf.fit(x_tr[:, j : j + 1], y_tr[:, k])
                scores[j, k] = np.mean(clf.predict(x_te[:, j : j + 1]) == y_te[:, k])
    top = np.sort(scores, axis=0)[::-1]
    return float(np.mean(top[0] - top[1]))
