"""Disentanglement metrics of codes (e.g. gate activations) w.r.t. discrete task factors.

With default arguments every metric gives the value of the reference implementation used by
Locatello et al. (2019), google-research/disentanglement_lib
(``evaluation/metrics/{mig,dci,sap_score,modularity_explicitness}.py``), on the same samples:

* :func:`mig` -- Mutual Information Gap (Chen et al. 2018).
* :func:`dci` -- Disentanglement / Completeness / Informativeness (Eastwood & Williams 2018).
* :func:`sap` -- Separated Attribute Predictability (Kumar et al. 2018).
* :func:`modularity` -- Modularity (Ridgeway & Mozer 2018).

Inputs use the scikit-learn layout: ``codes`` [N, n_codes] numbers, ``factors`` [N, n_factors]
discrete labels (any dtype; a 1-D ``factors`` is one factor). Every function accepts
``codes_test`` / ``factors_test``. Metrics that fit classifiers (DCI, SAP) fit on the first
set and score on the test set (as the reference, which draws separate train and test
samples); without a test set they fit on a seeded 2/3 split of the samples (``seed``) and
score on the remaining third -- a split by *sample*: for sequences, pass a split by sequence
(or use :func:`shuffled_factor_null`, which does). MIG and modularity fit nothing: the
reference computes them on the training samples only; here a test set, when given, is
pooled with the first set.

Shared definitions (all as the reference):

* binning: each code column gets ``bins`` (20) equal-width bins over its sample range,
  ``np.digitize(x, np.histogram(x, bins)[1][:-1])``: left-closed bins, the maximum in the
  last bin, a constant column in one bin. Edges are computed in the codes' own float dtype
  (float16 / float32 codes are not cast first, exactly as the reference would see them).
* MI: plug-in discrete MI in nats (``sklearn.metrics.mutual_info_score``, no bias
  correction) of the binned code with the factor labels; factor entropy likewise (plug-in,
  nats). MI below 1e-12 nats is set to exactly 0 (sklearn returns exact zeros for a constant
  code or an exactly independent one; ours would be +-1e-16 rounding).

Deviations, kept only where the reference is undefined (divides by zero / has no index):

* :func:`mig`: a factor with zero entropy is skipped (reference: 0/0 -> NaN MIG).
* :func:`modularity` with one factor: reference 0/0 -> NaN; here informative codes score 1.
* :func:`dci` with one factor (disentanglement) or one code (completeness): reference entropy
  in base 1 -> NaN; here 1. Classifiers get ``random_state=seed`` (reference: unseeded; with
  ``subsample=1`` and all features this only breaks ties between equally good splits).
  ``informativeness`` is the test accuracy (the reference reports train and test).
* :func:`sap` uses the installed scikit-learn's ``LinearSVC`` defaults, as the reference
  code does (scikit-learn >= 1.5: ``dual="auto"``, the primal solver for one feature; the
  reference's era used the dual solver -- the same strictly convex optimum, up to ``tol``).

Options that are not the reference (all off by default; the workflow sets its own):
``dci(n_estimators=...)`` (fewer trees, faster), ``sap(standardize=True)``,
``modularity(zero_mi="skip")``, ``code_groups`` on every metric.

**Gate-level scores** (``code_groups``): several units of one gate carrying one variable is
redundancy inside a gate, not entanglement between gates. Given a group label per code column
(e.g. the gate of each unit), every metric scores the groups instead of single codes:

* MIG, modularity: MI of a group with a factor = the max over its codes' MI (a lower bound of
  the group's joint MI that needs no high-dimensional estimate); the metric is then computed
  on the [n_groups, n_factors] matrix (MIG needs >= 2 groups).
* DCI: importance of a group for a factor = the sum of its codes' importances (importances
  are additive shares); disentanglement and completeness on the [n_groups, n_factors] matrix
  (completeness in base n_groups). Informativeness is unchanged.
* SAP: score of a group for a factor = the best single code in it; SAP on the group matrix.

**Nulls** (:func:`shuffled_factor_null`): each score beside the same score with the factors'
sequences shuffled against the codes' (time within a sequence kept).
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass

import numpy as np
import sklearn
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import _liblinear as liblinear
from sklearn.svm._base import _get_liblinear_solver_type
from sklearn.utils import check_random_state

from gateroles.information import discretize, entropy, mi_matrix_discrete, permutation_p_value

__all__ = ["NullResult", "dci", "mig", "modularity", "sap", "shuffled_factor_null"]

# MI below this (nats) is treated as exactly zero: a constant code gives +-1e-16 by rounding.
_MI_ZERO = 1e-12
# DCI's smoothing of the importance matrix before the entropies (disentanglement_lib).
_DCI_EPS = 1e-11


# --------------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------------
def _as_codes(codes, name: str) -> np.ndarray:
    """Validated 2-D codes; float dtypes are kept (the reference bins in the input dtype)."""
    codes = np.asarray(codes)
    if codes.ndim == 1:
        codes = codes[:, None]
    if codes.ndim != 2 or codes.shape[0] == 0 or codes.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty [n_samples, n_codes] array, got {codes.shape}"
        )
    if not np.issubdtype(codes.dtype, np.number) or not np.all(np.isfinite(codes)):
        raise ValueError(f"{name} must be finite numbers")
    if not np.issubdtype(codes.dtype, np.floating):
        codes = codes.astype(np.float64)
    return codes


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


def _require_codes(n: int, minimum: int, metric: str, what: str = "codes") -> None:
    if n < minimum:
        raise ValueError(f"{metric} needs at least {minimum} {what}, got {n}")


def _groups(code_groups, n_codes: int) -> np.ndarray | None:
    """Group index [n_codes] in ``[0, n_groups)`` (sorted labels), or None for no groups."""
    if code_groups is None:
        return None
    labels = np.asarray(code_groups)
    if labels.ndim != 1 or labels.shape[0] != n_codes:
        raise ValueError(
            f"code_groups must hold one label per code ({n_codes}), got shape {labels.shape}"
        )
    return np.unique(labels, return_inverse=True)[1].ravel()


def _group_reduce(matrix: np.ndarray, groups: np.ndarray | None, how: str) -> np.ndarray:
    """Rows of ``matrix`` [n_codes, K] combined per group (``max`` or ``sum``) -> [G, K]."""
    if groups is None:
        return matrix
    reduce = np.max if how == "max" else np.sum
    return np.stack([reduce(matrix[groups == g], axis=0) for g in range(groups.max() + 1)])


def _n_units(n_codes: int, groups: np.ndarray | None) -> tuple[int, str]:
    return (n_codes, "codes") if groups is None else (int(groups.max()) + 1, "code groups")


# --------------------------------------------------------------------------------------------
# MI-based metrics
# --------------------------------------------------------------------------------------------
def _check_bins(bins) -> int:
    if int(bins) != bins or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins}")
    return int(bins)


def _bin_codes(codes: np.ndarray, bins: int) -> np.ndarray:
    """disentanglement_lib's ``_histogram_discretize``, 0-based: [N, n_codes] bin indices
    (equal-width bins over each code's range, ``information.discretize(..., "uniform")``)."""
    return discretize(codes, bins, "uniform")


def _mi_matrix(binned: np.ndarray, fcodes: np.ndarray) -> np.ndarray:
    """[n_codes, n_factors] plug-in MI (nats, no bias correction, as the reference's
    ``mutual_info_score``) of binned codes with integer factor codes; values below
    ``_MI_ZERO`` (rounding of exact zeros) are set to 0."""
    m = mi_matrix_discrete(binned, fcodes, miller_madow=False)
    m[m < _MI_ZERO] = 0.0
    return m


def _factor_entropy(fcodes: np.ndarray) -> np.ndarray:
    """Plug-in entropy (nats) of each factor column."""
    return np.array([entropy(np.bincount(f)) for f in fcodes.T])


def _mig_score(m: np.ndarray, h: np.ndarray) -> float:
    keep = h > 0
    if not keep.any():
        raise ValueError("all factors are constant (zero entropy); MIG is undefined")
    top = np.sort(m, axis=0)[::-1]
    return float(np.mean((top[0] - top[1])[keep] / h[keep]))


def _modularity_score(m: np.ndarray, zero_mi: str) -> float:
    sq = np.square(m)
    top = sq.max(axis=1)
    informative = top > 0
    scores = np.zeros(m.shape[0])
    if m.shape[1] == 1:
        scores[informative] = 1.0
    else:
        delta = (sq.sum(axis=1) - top)[informative] / (top[informative] * (m.shape[1] - 1))
        scores[informative] = 1.0 - delta
    if zero_mi == "skip":
        if not informative.any():
            raise ValueError("every code has zero MI with every factor; modularity undefined")
        scores = scores[informative]
    return float(np.mean(scores))


def _check_zero_mi(zero_mi: str) -> None:
    if zero_mi not in ("zero", "skip"):
        raise ValueError(f"zero_mi must be 'zero' or 'skip', got {zero_mi!r}")


def mig(
    codes, factors, bins: int = 20, codes_test=None, factors_test=None, code_groups=None
) -> float:
    """Mutual Information Gap.

    For each factor k, the gap between the largest and second-largest MI of any code (or code
    group) with it, normalised by the factor entropy H(v_k); MIG is the mean over factors.
    Deviation: factors with H(v_k) = 0 (constant) are skipped -- the reference divides by
    zero (NaN); a ValueError is raised if all are constant. Needs at least 2 codes (groups).
    """
    codes, factors = _pooled(codes, factors, codes_test, factors_test)
    groups = _groups(code_groups, codes.shape[1])
    n_units, what = _n_units(codes.shape[1], groups)
    _require_codes(n_units, 2, "MIG", what)
    binned, fcodes = _bin_codes(codes, _check_bins(bins)), _factor_codes(factors)
    return _mig_score(_group_reduce(_mi_matrix(binned, fcodes), groups, "max"),
                      _factor_entropy(fcodes))


def modularity(
    codes,
    factors,
    bins: int = 20,
    codes_test=None,
    factors_test=None,
    zero_mi: str = "zero",
    code_groups=None,
) -> float:
    """Modularity (Ridgeway & Mozer 2018).

    Per code (or code group) j with MI row m_j: ``delta_j = (sum_k m_jk^2 - max_k m_jk^2) /
    (max m^2 (K-1))`` and the score is ``1 - delta_j``; modularity is the mean over codes.
    A code with zero MI with every factor (constant, dead) scores 0 (``zero_mi="zero"``, the
    reference); ``zero_mi="skip"`` leaves such codes out of the mean instead. Deviation:
    with a single factor the reference divides by zero (NaN); here informative codes score 1.

    Pure-noise codes are *not* near 0: with one multi-class factor among rare binary ones the
    plug-in MI bias is largest for the multi-class factor, so a noise code looks modular
    (~0.93 on reset_recall's factors). Read it beside :func:`shuffled_factor_null`.
    """
    _check_zero_mi(zero_mi)
    codes, factors = _pooled(codes, factors, codes_test, factors_test)
    groups = _groups(code_groups, codes.shape[1])
    m = _mi_matrix(_bin_codes(codes, _check_bins(bins)), _factor_codes(factors))
    return _modularity_score(_group_reduce(m, groups, "max"), zero_mi)


# --------------------------------------------------------------------------------------------
# DCI
# --------------------------------------------------------------------------------------------
def _specificity(importance: np.ndarray) -> float:
    """disentanglement_lib's DCI ``disentanglement`` of an importance matrix [rows, cols].

    Per row j, ``1 - H_base(P_j.)`` with ``P_j. = (R_j. + 1e-11) / sum(R_j. + 1e-11)`` and
    base = number of columns, weighted by row j's share of the total importance (uniform
    weights if all importance is 0, which gives 0); completeness is the same on the
    transpose. One column: the reference's base-1 entropy is 0/0; defined here as 1.
    """
    r = np.abs(np.asarray(importance, dtype=np.float64))
    n_cols = r.shape[1]
    if n_cols == 1:
        return 1.0
    p = r + _DCI_EPS
    p = p / p.sum(axis=1, keepdims=True)
    per_row = 1.0 + np.sum(p * np.log(p), axis=1) / np.log(n_cols)
    weights = r if r.sum() > 0 else np.ones_like(r)
    return float(np.sum(per_row * weights.sum(axis=1) / weights.sum()))


def dci(
    codes,
    factors,
    codes_test=None,
    factors_test=None,
    n_estimators: int = 100,
    seed: int = 0,
    classifier_kwargs: dict | None = None,
    code_groups=None,
) -> dict:
    """DCI disentanglement, completeness and informativeness (Eastwood & Williams 2018).

    One ``GradientBoostingClassifier`` per factor predicts it from all codes; the importance
    matrix ``R[j, k]`` (codes x factors) is its ``feature_importances_``. disentanglement =
    sum_j rho_j (1 - H_K(P_j.)) with P the row-normalised R (+1e-11), entropy base K =
    n_factors and rho_j the share of total importance of code j; completeness the same on
    columns with base n_codes; informativeness = mean test accuracy of the classifiers.

    ``n_estimators=100`` is sklearn's default (the reference). Fewer trees are much cheaper
    (96 gate-like codes, 4 reset_recall factors, fit 800 / score 800: 11.7 s at 100 trees,
    1.1 s at 10, on a shared 2-core machine); the importances settle faster than the
    accuracy (there, 10 vs 100 trees: disentanglement 0.982 vs 0.980, completeness 0.844 vs
    0.818, informativeness 0.959 vs 0.966; planted test cases, 20 vs 100 trees:
    disentanglement / completeness within 0.03, informativeness up to 0.12 lower), so keep
    100 when informativeness itself is reported. ``classifier_kwargs`` go to the classifier.
    With ``code_groups`` the importance of a group is the sum over its codes.
    """
    x_tr, y_tr, x_te, y_te = _train_test(codes, factors, codes_test, factors_test, seed)
    groups = _groups(code_groups, x_tr.shape[1])
    _require_classes(y_tr)
    kwargs = {"n_estimators": n_estimators, "random_state": seed, **(classifier_kwargs or {})}
    importance = np.zeros((x_tr.shape[1], y_tr.shape[1]))
    accuracy = np.zeros(y_tr.shape[1])
    with _validated_inputs():
        for k in range(y_tr.shape[1]):
            clf = GradientBoostingClassifier(**kwargs).fit(x_tr, y_tr[:, k])
            importance[:, k] = np.abs(clf.feature_importances_)
            accuracy[k] = np.mean(clf.predict(x_te) == y_te[:, k])
    importance = _group_reduce(importance, groups, "sum")
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
    standardize: bool = False,
    seed: int = 0,
    code_groups=None,
) -> float:
    """Separated Attribute Predictability.

    Score matrix S[j, k] = test accuracy of ``LinearSVC(C=C, class_weight="balanced")``
    (sklearn defaults otherwise) predicting factor k from code j alone; SAP = mean over
    factors of the top minus the second-best score (of codes, or of code groups, a group
    scoring its best code). Needs at least 2 codes (groups).

    ``standardize=True`` (not the reference) z-scores each code with training statistics
    first. liblinear penalises the intercept like the weight (``intercept_scaling=1``), so
    at C = 0.01 a code whose values sit far from 0 relative to their spread cannot be
    thresholded where it should: a clean copy of a binary factor at 0.5 +- 0.01 (a gate
    unit in a narrow band) scores test accuracy 0.13 (10% rare factor) and 0.46 (balanced)
    raw, 1.0 z-scored (tests/test_disentanglement.py) -- and SAP can even come out high
    for the wrong reason (an uninformative code "wins" with the majority rate). A single
    code only
    separates classes linearly (one-vs-rest), so with many classes per factor even a
    perfectly disentangled code scores well below 1.
    """
    x_tr, y_tr, x_te, y_te = _train_test(codes, factors, codes_test, factors_test, seed)
    groups = _groups(code_groups, x_tr.shape[1])
    n_units, what = _n_units(x_tr.shape[1], groups)
    _require_codes(n_units, 2, "SAP", what)
    _require_classes(y_tr)
    scores = _sap_matrix(x_tr, y_tr, x_te, y_te, C, standardize, seed)
    top = np.sort(_group_reduce(scores, groups, "max"), axis=0)[::-1]
    return float(np.mean(top[0] - top[1]))


def _sap_matrix(x_tr, y_tr, x_te, y_te, C: float, standardize: bool, seed: int) -> np.ndarray:
    """[n_codes, n_factors] test accuracy of one linear SVM per (code, factor)."""
    x_tr, x_te = x_tr.astype(np.float64), x_te.astype(np.float64)
    if standardize:
        mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
        std[std == 0] = 1.0
        x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    scores = np.zeros((x_tr.shape[1], y_tr.shape[1]))
    for k in range(y_tr.shape[1]):
        svm = _OneFeatureSVC(y_tr[:, k], C, seed)
        for j in range(x_tr.shape[1]):
            scores[j, k] = np.mean(svm.fit_predict(x_tr[:, j], x_te[:, j]) == y_te[:, k])
    return scores


class _OneFeatureSVC:
    """``LinearSVC(C=C, class_weight="balanced", random_state=seed)`` fitted on one code
    column at a time against one factor: the same liblinear call with the same arguments, so
    the same model and predictions (tests/test_disentanglement.py compares them), without
    scikit-learn's per-fit label encoding, class weighting and input checks (~2/3 of a fit's
    time at these sizes; SAP and its null make thousands of fits). The label side (classes,
    balanced weights, liblinear's seed) depends on the factor only and is computed once.
    """

    def __init__(self, labels: np.ndarray, C: float, seed: int):
        self.classes, y_ind = np.unique(labels, return_inverse=True)
        if self.classes.size < 2:
            raise ValueError("LinearSVC needs at least 2 classes in the training data")
        counts = np.bincount(y_ind, weights=np.ones(y_ind.size), minlength=self.classes.size)
        self.class_weight = counts.sum() / (self.classes.size * counts)  # "balanced"
        self.y = np.require(y_ind.astype(np.float64), requirements="W")
        self.sample_weight = np.ones(y_ind.size)
        self.C = float(C)
        # LinearSVC defaults (scikit-learn 1.9): squared hinge, l2, one-vs-rest, dual="auto"
        # (the primal solver for one feature), tol 1e-4, max_iter 1000, intercept_scaling 1.
        self.solver = _get_liblinear_solver_type("ovr", "l2", "squared_hinge", False)
        self.seed = check_random_state(seed).randint(np.iinfo("i").max)

    def fit_predict(self, x_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x_train, dtype=np.float64).reshape(-1, 1)
        liblinear.set_verbosity_wrap(0)  # process-wide in liblinear (scikit-learn sets it too)
        raw_coef, n_iter = liblinear.train_wrap(
            x, self.y, False, self.solver, 1e-4, 1.0, self.C, self.class_weight, 1000,
            self.seed, 0.1, self.sample_weight)
        if n_iter.max() >= 1000:
            warnings.warn("Liblinear failed to converge, increase the number of iterations.",
                          ConvergenceWarning, stacklevel=2)
        decision = np.asarray(x_test, dtype=np.float64).reshape(-1, 1) @ raw_coef[:, :-1].T
        decision = decision + raw_coef[:, -1]
        if decision.shape[1] == 1:
            return self.classes[(decision[:, 0] > 0).astype(int)]
        return self.classes[np.argmax(decision, axis=1)]


def _validated_inputs():
    """scikit-learn context for the many small fits here: the inputs were validated once
    (`_check_inputs`: finite, 2-D), so skip its per-call parameter and finiteness checks; the
    fitted models are the same."""
    return sklearn.config_context(assume_finite=True, skip_parameter_validation=True)


# --------------------------------------------------------------------------------------------
# shuffled-factor null
# --------------------------------------------------------------------------------------------
_METRICS = {"mig": mig, "modularity": modularity, "dci": dci, "sap": sap}
_DATA_ARGS = {"codes", "factors", "codes_test", "factors_test", "seed"}


@dataclass(frozen=True)
class NullResult:
    """A score (``observed``) and its shuffled-factor null values (``null``, one per
    permutation)."""

    observed: float
    null: np.ndarray

    @property
    def null_mean(self) -> float:
        return float(np.mean(self.null))

    @property
    def null_q95(self) -> float:
        """95% quantile of the null (numpy's default linear interpolation)."""
        return float(np.quantile(self.null, 0.95))

    @property
    def p_value(self) -> float:
        """One-sided permutation p-value for "above the null":
        ``(1 + #{null >= observed}) / (1 + n_permutations)``, so p >= 1 / (1 + n)."""
        return permutation_p_value(self.observed, self.null)

    def summary(self) -> dict:
        """``value``, ``null_mean``, ``null_q95``, ``p_value``, ``n_permutations``."""
        return {"value": self.observed, "null_mean": self.null_mean, "null_q95": self.null_q95,
                "p_value": self.p_value, "n_permutations": int(self.null.size)}


def _metric_names(metric) -> list[str]:
    items = [metric] if isinstance(metric, str) or callable(metric) else list(metric)
    by_fn = {fn: name for name, fn in _METRICS.items()}
    names = []
    for item in items:
        name = by_fn.get(item, item) if callable(item) else item
        if name not in _METRICS:
            raise ValueError(f"unknown metric {item!r}; allowed: {', '.join(_METRICS)}")
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError("no metric given")
    return names


def _kwargs_per_metric(names: list[str], metric_kwargs: dict) -> dict[str, dict]:
    for key in ("codes_test", "factors_test"):
        if key in metric_kwargs:
            raise ValueError(f"{key} is not accepted here: pass fit_index / score_index")
    accepted = {n: set(inspect.signature(_METRICS[n]).parameters) - _DATA_ARGS for n in names}
    unknown = set(metric_kwargs) - set().union(*accepted.values())
    if unknown:
        raise TypeError(f"unexpected keyword arguments for {names}: {sorted(unknown)}")
    return {n: {k: v for k, v in metric_kwargs.items() if k in accepted[n]} for n in names}


def _check_index(index, n_rows: int, name: str) -> np.ndarray:
    index = np.asarray(index)
    if index.ndim != 1 or index.size == 0 or not np.issubdtype(index.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty 1-D array of row indices")
    if index.min() < 0 or index.max() >= n_rows:
        raise ValueError(f"{name} holds rows outside [0, {n_rows})")
    return index


def _row_permutations(n_sequences: int, t_len: int, n_permutations: int, seed: int):
    """Row orders [N*T] that reorder whole sequences (time within a sequence kept)."""
    rng = np.random.default_rng([seed, 0])
    steps = np.arange(t_len)
    return [(rng.permutation(n_sequences)[:, None] * t_len + steps).ravel()
            for _ in range(n_permutations)]


def shuffled_factor_null(
    metric,
    codes,
    factors,
    n_sequences: int,
    n_permutations: int = 100,
    seed: int = 0,
    *,
    fit_index=None,
    score_index=None,
    **metric_kwargs,
) -> dict[str, NullResult]:
    """Scores beside their null with the factors' sequences shuffled against the codes'.

    ``codes`` [N*T, n_codes] and ``factors`` [N*T, n_factors] are sequence-major (N =
    ``n_sequences`` sequences of T steps each). Each permutation reorders the *sequences* of
    the factors (time within a sequence kept: autocorrelation, position effects and every
    factor's marginal stay in the null; only the code-factor pairing is broken) and
    recomputes the metric. ``metric`` is one of :func:`mig`, :func:`modularity`,
    :func:`dci`, :func:`sap` (the function or its name) or a list of them; ``metric_kwargs``
    go to each metric that accepts them (e.g. ``bins``, ``code_groups``, ``zero_mi``,
    ``n_estimators``, ``standardize``); ``seed`` seeds the permutations, the default split
    and the fitted metrics' own ``seed``.

    Rows: MIG and modularity use ``fit_index`` and ``score_index`` pooled (all rows by
    default); DCI and SAP fit on ``fit_index`` and score on ``score_index`` (default: a
    seeded half split of the *sequences*, all steps). Pass both or neither; indices address
    rows of ``codes``, so a subsample of steps is drawn once and the factors are permuted
    before it is taken.

    MIG and modularity bin the codes once and reuse the code side of the MI for every
    permutation (one bincount per factor and permutation); DCI and SAP refit per permutation,
    so keep ``n_permutations`` small for them.

    Returns ``{score name: NullResult}`` with names ``mig``, ``modularity``, ``sap``,
    ``dci_disentanglement``, ``dci_completeness``, ``dci_informativeness``.
    """
    names = _metric_names(metric)
    kwargs = _kwargs_per_metric(names, metric_kwargs)
    codes, factors = _check_set(codes, factors)
    n_rows = codes.shape[0]
    if int(n_sequences) != n_sequences or n_sequences < 2 or n_rows % n_sequences:
        raise ValueError(
            f"n_sequences must be an integer >= 2 dividing n_samples ({n_rows}), "
            f"got {n_sequences}"
        )
    if int(n_permutations) != n_permutations or n_permutations < 1:
        raise ValueError(f"n_permutations must be a positive integer, got {n_permutations}")
    n_sequences, t_len = int(n_sequences), n_rows // int(n_sequences)
    if (fit_index is None) != (score_index is None):
        raise ValueError("give both fit_index and score_index, or neither")
    row_perms = _row_permutations(n_sequences, t_len, int(n_permutations), seed)
    steps = np.arange(t_len)
    if fit_index is None:
        order = np.random.default_rng([seed, 1]).permutation(n_sequences)
        halves = np.sort(order[: n_sequences // 2]), np.sort(order[n_sequences // 2 :])
        fit, score = ((h[:, None] * t_len + steps).ravel() for h in halves)
    else:
        fit = _check_index(fit_index, n_rows, "fit_index")
        score = _check_index(score_index, n_rows, "score_index")

    out: dict[str, NullResult] = {}
    mi_names = [n for n in names if n in ("mig", "modularity")]
    if mi_names:
        rows = np.arange(n_rows) if fit_index is None else np.concatenate([fit, score])
        observed = {n: _METRICS[n](codes[rows], factors[rows], **kwargs[n]) for n in mi_names}
        binned = _bin_codes(codes[rows], _check_bins(metric_kwargs.get("bins", 20)))
        groups = _groups(metric_kwargs.get("code_groups"), codes.shape[1])
        fcodes = _factor_codes(factors)
        null = {n: np.empty(len(row_perms)) for n in mi_names}
        for i, perm in enumerate(row_perms):
            fc = fcodes[perm][rows]
            m = _group_reduce(_mi_matrix(binned, fc), groups, "max")
            if "mig" in null:
                null["mig"][i] = _mig_score(m, _factor_entropy(fc))
            if "modularity" in null:
                null["modularity"][i] = _modularity_score(
                    m, kwargs["modularity"].get("zero_mi", "zero"))
        out.update({n: NullResult(observed[n], null[n]) for n in mi_names})
    for name in (n for n in names if n in ("dci", "sap")):
        def run(f, name=name):
            value = _METRICS[name](codes[fit], f[fit], codes[score], f[score], seed=seed,
                                   **kwargs[name])
            return {f"dci_{k}": v for k, v in value.items()} if name == "dci" else {name: value}

        observed = run(factors)
        values = [run(factors[perm]) for perm in row_perms]
        out.update({k: NullResult(v, np.array([d[k] for d in values]))
                    for k, v in observed.items()})
    return out
