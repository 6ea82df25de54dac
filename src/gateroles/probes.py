"""Linear probes with control tasks for gate activations.

Question: does a feature source (one gate's units, the cell or hidden state, or an input-only
one-hot window) linearly carry a task variable?  We fit linear probes (Alain & Bengio 2016) and
compare with a control task (Hewitt & Liang 2019): the same probe trained on labels that are a
random function of the input token type.  ``selectivity = task score - control score``.

Protocol (:func:`probe`)
    * Outer folds are grouped by sequence: every group (sequence id) is in exactly one fold.
      Groups are shuffled with ``seed`` and assigned greedily to the lightest fold
      (GroupKFold-like).  Steps of one sequence are never on both sides of a split.
    * Features are standardised with the mean / standard deviation of the training fold.
      Features constant on the training fold get zero weight.
    * Regularisation is chosen by inner cross-validation on the training fold.  The inner folds
      are *shared* with the outer split: for outer test fold ``k`` the inner folds are the other
      ``n_splits - 1`` outer folds (leave-one-fold-out), so they are grouped too and fold ``k``
      never influences the choice of penalty.
    * Score: balanced accuracy (mean recall over the classes present in the test fold) or R^2,
      each averaged over the outer folds (as ``cross_val_score`` does).

Solver (chosen for speed, measured in ``benchmarks/bench_probes.py``)
    Ridge with an unpenalised intercept, in closed form.  Classification is least squares on
    +-1 targets (one column for two classes, one-vs-rest columns for more; predict by sign /
    argmax), with class-balanced sample weights ``n / (n_classes * n_c)`` so that the fit
    targets balanced accuracy.  Because the loss is quadratic, everything a fit needs is a
    handful of moments (weighted sums of x, x x^T, x y), computed once per (fold, class) cell.
    Any union of folds is then a sum of cell moments; per-fold standardisation is a diagonal
    rescaling of those moments.  One eigendecomposition of the standardised (d x d) Gram
    matrix per training set gives the whole alpha grid and all classes at once.  A probe costs
    one pass over the data for the moments plus one pass per inner fold for predictions; no
    iterative solver, no warm starts needed.  Measured on one thread, 20,000 x 32: ~35 ms per
    probe (56 probes of a checkpoint in ~2 s); scikit-learn ``LogisticRegressionCV`` in a
    grouped ``cross_val_score`` gives the same balanced accuracies (within 0.002) at ~1.6 s
    per probe, ~47x slower (``benchmarks/bench_probes.py``).

    The penalty grid :data:`ALPHAS` is relative to the total training weight (= number of
    training samples), i.e. it is a penalty on the mean loss of standardised features.
    Inner selection maximises mean inner balanced accuracy (classification) or minimises pooled
    inner squared error (regression); ties go to the larger penalty.

Edge cases
    * A class missing from a training fold is never predicted by that fold's model (its recall
      on the test fold is then 0; honest).
    * A label with a single value (e.g. an event that never fires in this data) carries no
      information: :func:`probe` returns the chance score :data:`CHANCE` without fitting,
      0.5 for classification (chance balanced accuracy of a binary event) and 0.0 for
      regression.  Its control labels are then constant too, so the selectivity is 0.
    * A regression test fold with a constant target has undefined R^2 and is skipped in the mean.

Data layout helpers: :func:`flatten` turns ``[N, T, H]`` arrays into ``[N*T, H]`` samples,
:func:`sequence_groups` gives the matching sequence ids, :func:`input_window_features` builds the
input-only baseline features.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

ALPHAS = np.logspace(-5, 2, 8)
"""Ridge penalties, in units of the training fold's total sample weight."""

CHANCE = {"classification": 0.5, "regression": 0.0}
"""Score returned for a label with a single value."""

KINDS = ("classification", "regression")
_SD_EPS = 1e-8


# --------------------------------------------------------------------------- data helpers


def flatten(array: np.ndarray) -> np.ndarray:
    """Merge the two leading axes: ``[N, T, ...] -> [N*T, ...]`` (sequence-major order)."""
    array = np.asarray(array)
    if array.ndim < 2:
        raise ValueError(f"need at least 2 dims [N, T, ...], got shape {array.shape}")
    return array.reshape(array.shape[0] * array.shape[1], *array.shape[2:])


def sequence_groups(n_sequences: int, n_steps: int) -> np.ndarray:
    """Sequence id of each flattened step, matching :func:`flatten`: shape ``[N*T]``."""
    return np.repeat(np.arange(n_sequences), n_steps)


def input_window_features(tokens: np.ndarray, n_types: int, window: int = 3) -> np.ndarray:
    """One-hot of the current and the ``window - 1`` previous tokens at every step.

    ``tokens`` is ``[N, T]`` int in ``[0, n_types)``.  Returns ``[N*T, window * n_types]``;
    block ``lag`` (columns ``lag*n_types:(lag+1)*n_types``) is the one-hot of the token ``lag``
    steps back (lag 0 = current), all zeros before the start of the sequence.
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 2:
        raise ValueError(f"tokens must be [N, T], got shape {tokens.shape}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= n_types):
        raise ValueError(f"tokens must lie in [0, {n_types})")
    if window < 1:
        raise ValueError("window must be >= 1")
    n, t = tokens.shape
    out = np.zeros((n, t, window, n_types))
    for lag in range(min(window, t)):
        past = tokens[:, : t - lag]
        seq, step = np.indices(past.shape)
        out[seq, step + lag, lag, past] = 1.0
    return out.reshape(n * t, window * n_types)


def grouped_folds(groups: np.ndarray, n_splits: int, seed: int = 0) -> np.ndarray:
    """Fold index per sample; all samples of a group share a fold (seeded GroupKFold-like).

    Groups are shuffled, then (largest first, stable w.r.t. the shuffle) each goes to the fold
    with the fewest samples so far.
    """
    uniq, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    if len(uniq) < n_splits:
        raise ValueError(f"{len(uniq)} groups cannot make {n_splits} grouped folds")
    order = np.random.default_rng(seed).permutation(len(uniq))
    order = order[np.argsort(-counts[order], kind="stable")]
    load = np.zeros(n_splits)
    fold_of_group = np.empty(len(uniq), dtype=np.intp)
    for g in order:
        k = int(np.argmin(load))
        fold_of_group[g] = k
        load[k] += counts[g]
    return fold_of_group[inverse.ravel()]


# --------------------------------------------------------------------------- control task


def control_labels(token_types: np.ndarray, y: np.ndarray, seed: int = 0) -> np.ndarray:
    """Control-task labels (Hewitt & Liang 2019): a random function of the token type.

    Every distinct value of ``token_types`` gets one label drawn (with replacement) from the
    empirical distribution of ``y`` (class labels or continuous values alike).  The result has
    ``y``'s shape and dtype and is deterministic given ``seed``.
    """
    types = np.asarray(token_types)
    y = np.asarray(y)
    if types.shape != y.shape:
        raise ValueError(f"token_types {types.shape} and y {y.shape} must have the same shape")
    uniq, inverse = np.unique(types.ravel(), return_inverse=True)
    per_type = np.random.default_rng(seed).choice(y.ravel(), size=len(uniq), replace=True)
    return per_type[inverse.ravel()].reshape(y.shape)


# --------------------------------------------------------------------------- ridge machinery


class _Moments(NamedTuple):
    """Weighted sufficient statistics of a training set (m target columns)."""

    n: float  # total weight
    sx: np.ndarray  # [d] sum w x
    sxx: np.ndarray  # [d, d] sum w x x^T
    sxy: np.ndarray  # [d, m] sum w x y^T
    sy: np.ndarray  # [m] sum w y


def _train_sd(n: float, sx: np.ndarray, sxx_diag: np.ndarray) -> np.ndarray:
    """Unweighted per-feature standard deviation of a training set from its moments."""
    mean = sx / n
    return np.sqrt(np.maximum(sxx_diag / n - mean**2, 0.0))


def _ridge_path(mom: _Moments, sd: np.ndarray, alphas: np.ndarray):
    """Ridge on standardised features for every alpha: coef [J, d, m], intercept [J, m].

    Coefficients are returned in the original feature units (standardisation folded in).
    """
    mean, ybar = mom.sx / mom.n, mom.sy / mom.n
    gram = mom.sxx - mom.n * np.outer(mean, mean)
    cross = mom.sxy - mom.n * np.outer(mean, ybar)
    ok = sd > _SD_EPS
    inv_sd = np.where(ok, 1.0 / np.where(ok, sd, 1.0), 0.0)
    evals, evecs = np.linalg.eigh(gram * np.outer(inv_sd, inv_sd))
    proj = evecs.T @ (cross * inv_sd[:, None])  # [d, m]
    shrink = 1.0 / (np.maximum(evals, 0.0)[None, :] + alphas[:, None] * mom.n)  # [J, d]
    coef = np.einsum("ik,jk,km->jim", evecs, shrink, proj) * inv_sd[None, :, None]
    intercept = ybar[None, :] - np.einsum("d,jdm->jm", mean, coef)
    return coef, intercept


def _decision(X: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Linear scores for every alpha: [n, J, m]."""
    n_alpha, d, m = coef.shape
    flat = coef.transpose(1, 0, 2).reshape(d, n_alpha * m)
    return (X @ flat).reshape(len(X), n_alpha, m) + intercept[None]


def _balanced_accuracy(y_true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Mean recall over classes present in ``y_true``; ``pred`` is [n, J] -> [J]."""
    return _ClassIndicator(y_true).balanced_accuracy(pred)


class _ClassIndicator:
    """The classes present in a label vector, for fast balanced accuracies of many predictions.

    Recall of class c = (correct predictions among its samples) / (its samples): the counts
    come from one product of the class indicator matrix with the correctness matrix (exact:
    sums of 0/1 in float64), instead of a boolean gather per class and prediction.
    """

    def __init__(self, y_true: np.ndarray):
        self.y = y_true
        classes, codes, counts = np.unique(y_true, return_inverse=True, return_counts=True)
        self.classes = classes
        self.indicator = np.zeros((len(classes), len(y_true)))
        self.indicator[codes.ravel(), np.arange(len(y_true))] = 1.0
        self.counts = counts.astype(float)

    def balanced_accuracy(self, pred: np.ndarray) -> np.ndarray:
        correct = (pred == self.y[:, None]).astype(float)
        recalls = (self.indicator @ correct) / self.counts[:, None]  # [C, J]
        return recalls.mean(axis=0)


def _r2(y_true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """R^2 per column of ``pred`` [n, J] -> [J]; NaN if ``y_true`` is constant."""
    sst = np.sum((y_true - y_true.mean()) ** 2)
    if sst == 0:
        return np.full(pred.shape[1], np.nan)
    return 1.0 - np.sum((y_true[:, None] - pred) ** 2, axis=0) / sst


class _Classifier:
    """Class-balanced ridge classifier; moments kept per (fold, class) cell."""

    def __init__(self, X_folds: list[np.ndarray], y_folds: list[np.ndarray], n_classes: int):
        self.X_folds, self.y_folds = X_folds, y_folds
        self.indicators = [_ClassIndicator(yf) for yf in y_folds]
        self.binary = n_classes == 2
        eye = np.eye(n_classes)
        self.targets = eye[:, 1:] * 2 - 1 if self.binary else eye * 2 - 1  # [C, m]
        d = X_folds[0].shape[1]
        k = len(X_folds)
        self.count = np.zeros((k, n_classes))
        self.sx = np.zeros((k, n_classes, d))
        self.sxx = np.zeros((k, n_classes, d, d))
        for f, (Xf, yf) in enumerate(zip(X_folds, y_folds, strict=True)):
            for c in np.unique(yf):
                block = Xf[yf == c]
                self.count[f, c] = len(block)
                self.sx[f, c] = block.sum(axis=0)
                self.sxx[f, c] = block.T @ block

    def fit(self, train: np.ndarray, alphas: np.ndarray):
        count = self.count[train].sum(axis=0)
        present = count > 0
        w = np.zeros_like(count)
        w[present] = count.sum() / (present.sum() * count[present])
        sx_c = self.sx[train].sum(axis=0)  # [C, d]
        sxx_c = self.sxx[train].sum(axis=0)  # [C, d, d]
        wsum = w * count
        mom = _Moments(
            n=wsum.sum(),
            sx=w @ sx_c,
            sxx=np.einsum("c,cij->ij", w, sxx_c),
            sxy=(w[:, None] * sx_c).T @ self.targets,
            sy=wsum @ self.targets,
        )
        sd = _train_sd(count.sum(), sx_c.sum(axis=0), np.einsum("cii->i", sxx_c))
        return _ridge_path(mom, sd, alphas), present

    def score(self, fold: int, model) -> np.ndarray:
        (coef, intercept), present = model
        scores = _decision(self.X_folds[fold], coef, intercept)
        if self.binary:
            pred = (scores[..., 0] > 0).astype(np.intp)
            if not present.all():  # one class only: its sign is fixed by the intercept
                pred[:] = int(np.flatnonzero(present)[0])
        else:
            scores[..., ~present] = -np.inf
            pred = scores.argmax(axis=-1)
        return self.indicators[fold].balanced_accuracy(pred)

    @staticmethod
    def select(inner_scores: np.ndarray) -> int:
        """Inner scores [n_inner, J] (balanced accuracy) -> alpha index; ties -> larger."""
        mean = np.nanmean(inner_scores, axis=0)
        return len(mean) - 1 - int(np.argmax(mean[::-1]))


class _Regressor:
    """Ridge regression; moments kept per fold."""

    def __init__(self, X_folds: list[np.ndarray], y_folds: list[np.ndarray]):
        self.X_folds, self.y_folds = X_folds, y_folds
        self.count = np.array([len(yf) for yf in y_folds], dtype=float)
        self.sx = np.stack([Xf.sum(axis=0) for Xf in X_folds])
        self.sxx = np.stack([Xf.T @ Xf for Xf in X_folds])
        self.sxy = np.stack([(Xf.T @ yf)[:, None] for Xf, yf in zip(X_folds, y_folds, strict=True)])
        self.sy = np.array([[yf.sum()] for yf in y_folds])

    def fit(self, train: np.ndarray, alphas: np.ndarray):
        mom = _Moments(*(a[train].sum(axis=0) for a in (self.count, self.sx, self.sxx,
                                                         self.sxy, self.sy)))
        sd = _train_sd(mom.n, mom.sx, np.diagonal(mom.sxx))
        return _ridge_path(mom, sd, alphas)

    def _pred(self, fold: int, model) -> np.ndarray:
        return _decision(self.X_folds[fold], *model)[..., 0]

    def score(self, fold: int, model) -> np.ndarray:
        return _r2(self.y_folds[fold], self._pred(fold, model))

    def inner_loss(self, fold: int, model) -> np.ndarray:
        return np.sum((self.y_folds[fold][:, None] - self._pred(fold, model)) ** 2, axis=0)

    @staticmethod
    def select(inner_losses: np.ndarray) -> int:
        """Inner pooled squared errors [n_inner, J] -> alpha index; ties -> larger."""
        total = inner_losses.sum(axis=0)
        return len(total) - 1 - int(np.argmin(total[::-1]))


def _nested_cv(model, n_splits: int, alphas: np.ndarray) -> float:
    """Outer score averaged over folds, alpha picked by leave-one-fold-out on the rest.

    The inner model for outer fold k scored on fold j is trained on every fold but j and k,
    the same set as for outer fold j scored on k: each such fit is made once and used twice.
    """
    inner_metric = getattr(model, "inner_loss", model.score)
    inner_fits = {}
    outer = []
    for k in range(n_splits):
        inner = []
        for j in range(n_splits):
            if j == k:
                continue
            pair = (min(j, k), max(j, k))
            if pair not in inner_fits:
                train = np.ones(n_splits, dtype=bool)
                train[[j, k]] = False
                inner_fits[pair] = model.fit(train, alphas)
            inner.append(inner_metric(j, inner_fits[pair]))
        best = model.select(np.array(inner))
        train = np.arange(n_splits) != k
        outer.append(model.score(k, model.fit(train, alphas[best : best + 1]))[0])
    outer = np.array(outer)
    return float(np.nanmean(outer)) if np.isfinite(outer).any() else 0.0


# --------------------------------------------------------------------------- public API


def _check_features(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be [n_samples, n_features], got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X contains non-finite values")
    return X


class _Folds:
    """One feature matrix, centred and scaled once, split into grouped folds once: every label
    probed from it (task and control labels of every variable) reuses both."""

    def __init__(self, X, groups, seed: int, n_splits: int):
        if n_splits < 3:
            raise ValueError("n_splits must be >= 3 (inner folds are the other outer folds)")
        X = _check_features(X)
        groups = np.ravel(groups)
        if len(X) != len(groups):
            raise ValueError(f"lengths differ: X {len(X)}, groups {len(groups)}")
        # Global centring/scaling for numerical conditioning only: the model is invariant to
        # it, the per-fold standardisation is redone on the training-fold moments.
        sd = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        self.n, self.n_splits, self.seed, self.groups = len(X), n_splits, seed, groups
        self._X = X
        self._index = self._X_folds = None

    def _split(self):
        if self._index is None:  # only labels with two or more values need the folds
            folds = grouped_folds(self.groups, self.n_splits, self.seed)
            self._index = [np.flatnonzero(folds == k) for k in range(self.n_splits)]
            self._X_folds = [self._X[i] for i in self._index]
        return self._index, self._X_folds

    def probe(self, y, kind: str) -> float:
        """The nested-CV score of a ridge probe of labels ``y`` ``[n]``."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        y = np.ravel(y)
        if len(y) != self.n:
            raise ValueError(f"lengths differ: X {self.n}, y {len(y)}")
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            return CHANCE[kind]
        index, X_folds = self._split()
        if kind == "classification":
            model = _Classifier(X_folds, [codes.ravel()[i] for i in index], len(classes))
        else:
            model = _Regressor(X_folds, [y.astype(float)[i] for i in index])
        return _nested_cv(model, self.n_splits, ALPHAS)


def probe(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    kind: str = "classification",
    seed: int = 0,
    n_splits: int = 5,
) -> float:
    """Grouped, nested cross-validated score of a linear (ridge) probe of ``y`` from ``X``.

    ``X`` is ``[n, d]``, ``y`` and ``groups`` ``[n]`` (groups = sequence ids).  Returns mean
    outer-fold balanced accuracy (``kind="classification"``, any number of classes) or R^2
    (``kind="regression"``).  A single-valued ``y`` returns ``CHANCE[kind]``.  See the module
    docstring for the protocol.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return _Folds(X, groups, seed, n_splits).probe(y, kind)


def selectivity(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    token_types: np.ndarray,
    kind: str = "classification",
    seed: int = 0,
    n_splits: int = 5,
) -> dict[str, float]:
    """Task score, control-task score and their difference (Hewitt & Liang selectivity).

    The control labels come from :func:`control_labels` with the same ``seed``; both probes
    use the same folds.
    """
    y_control = control_labels(np.ravel(token_types), np.ravel(y), seed)
    task = probe(X, y, groups, kind, seed, n_splits)
    control = probe(X, y_control, groups, kind, seed, n_splits)
    return {"task": task, "control": control, "selectivity": task - control}


# --------------------------------------------------------------------------- one checkpoint


def input_types(inputs: np.ndarray, bins: int = 10) -> np.ndarray:
    """Discrete input-token type per step from raw input vectors ``[N, T, C]`` -> ``[N, T]``.

    Each channel is cut into ``bins`` equal-width bins over its range (a one-hot channel falls
    into its two end bins), and each distinct row of bin indices is one type.  For one-hot
    inputs this is the token id up to relabelling; for the adding task (value, marker) it is
    (value decile, marker).
    """
    inputs = np.asarray(inputs, dtype=float)
    if inputs.ndim != 3:
        raise ValueError(f"inputs must be [N, T, C], got shape {inputs.shape}")
    lo, hi = inputs.min(axis=(0, 1)), inputs.max(axis=(0, 1))
    span = np.where(hi > lo, hi - lo, 1.0)
    binned = np.clip(((inputs - lo) / span * bins).astype(np.int64), 0, bins - 1)
    _, ids = np.unique(binned.reshape(-1, inputs.shape[2]), axis=0, return_inverse=True)
    return ids.reshape(inputs.shape[:2])


def window_types(types: np.ndarray, window: int) -> np.ndarray:
    """Id of the tuple (type at t, t-1, ..., t-window+1) at every step: ``[N, T]`` -> ``[N, T]``.

    Steps before the start of a sequence count as one extra "padding" type, so the first steps
    of a sequence have their own tuples.  ``window=1`` relabels the types themselves.
    """
    types = np.asarray(types)
    if types.ndim != 2:
        raise ValueError(f"types must be [N, T], got shape {types.shape}")
    if window < 1:
        raise ValueError("window must be >= 1")
    _, ids = np.unique(types, return_inverse=True)
    ids = ids.reshape(types.shape) + 1  # 0 = before the start
    n, t = types.shape
    lags = np.zeros((n, t, window), dtype=np.int64)
    for lag in range(min(window, t)):
        lags[:, lag:, lag] = ids[:, : t - lag]
    _, tuples = np.unique(lags.reshape(-1, window), axis=0, return_inverse=True)
    return tuples.reshape(n, t)


def input_window(inputs: np.ndarray, window: int) -> np.ndarray:
    """Input-only baseline features: the raw inputs at lags 0..window-1, ``[N*T, window*C]``.

    For one-hot inputs this equals :func:`input_window_features`; zeros before the start.
    """
    inputs = np.asarray(inputs, dtype=float)
    n, t, c = inputs.shape
    out = np.zeros((n, t, window, c))
    for lag in range(min(window, t)):
        out[:, lag:, lag] = inputs[:, : t - lag]
    return out.reshape(n * t, window * c)


def probe_sources(sources: dict[str, np.ndarray], factors: dict[str, np.ndarray],
                  control_types: np.ndarray, continuous: tuple[str, ...] = (),
                  seed: int = 0, n_splits: int = 5,
                  extra_controls: dict[str, np.ndarray] | None = None) -> list[dict]:
    """Task score, control score and selectivity of every (source, factor) pair.

    ``sources``: name -> ``[N, T, d]`` (or already flat ``[N*T, d]``) features of the same N
    sequences of T steps; ``factors``: name -> ``[N, T]`` labels (regression for names in
    ``continuous``, classification otherwise); ``control_types``: ``[N, T]`` token type of each
    step, the domain of the control task (e.g. :func:`window_types`).  Sequences are the CV
    groups; one control labelling per factor (seeded) is shared by all sources.
    ``extra_controls`` (name -> ``[N, T]`` types) adds columns ``control_score_{name}`` and
    ``selectivity_{name}`` for alternative control definitions.
    """
    n, t = control_types.shape
    groups = sequence_groups(n, t)
    controls = {"": control_types, **(extra_controls or {})}
    labels = {}
    for name, y in factors.items():
        kind = "regression" if name in continuous else "classification"
        y = np.ravel(y)
        labels[name] = (kind, y, {key: control_labels(np.ravel(types), y, seed)
                                  for key, types in controls.items()})
    rows = []
    for source, X in sources.items():
        X = np.asarray(X)
        folded = _Folds(X.reshape(n * t, -1) if X.ndim == 3 else X, groups, seed, n_splits)
        for name, (kind, y, y_controls) in labels.items():
            task = folded.probe(y, kind)
            row = {"source": source, "variable": name, "kind": kind, "task_score": task}
            for key, y_control in y_controls.items():
                suffix = f"_{key}" if key else ""
                control = folded.probe(y_control, kind)
                row.update({f"control_score{suffix}": control,
                            f"selectivity{suffix}": task - control})
            rows.append(row)
    return rows
