"""Tests for gateroles.probes: recovery of planted signals, chance on null data, grouping."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from gateroles import probes as P


def _sequences(seed, n_seq=100, n_steps=40, d=16):
    """Gate-like features [n, d] in (0, 1), groups and token types (unrelated to anything)."""
    rng = np.random.default_rng(seed)
    X = 1.0 / (1.0 + np.exp(-2.0 * rng.normal(size=(n_seq * n_steps, d))))
    groups = P.sequence_groups(n_seq, n_steps)
    tokens = rng.integers(0, 10, size=n_seq * n_steps)
    return rng, X, groups, tokens


# --------------------------------------------------------------------------- planted signals


def test_planted_binary_signal_recovered_and_selective():
    rng, X, groups, tokens = _sequences(0)
    w = rng.normal(size=X.shape[1])
    z = (X - 0.5) @ w
    y = (z + 0.1 * z.std() * rng.normal(size=len(z)) > 0).astype(int)
    out = P.selectivity(X, y, groups, tokens, "classification", seed=1)
    assert out["task"] > 0.9
    assert abs(out["control"] - 0.5) < 0.1
    assert out["selectivity"] == pytest.approx(out["task"] - out["control"])
    assert out["selectivity"] > 0.3


def test_planted_rare_binary_event_uses_balanced_accuracy():
    # 5 % positives: an unweighted least-squares probe would mostly predict "no event".
    rng, X, groups, _ = _sequences(1)
    z = (X - 0.5) @ rng.normal(size=X.shape[1])
    y = (z + 0.1 * z.std() * rng.normal(size=len(z)) > np.quantile(z, 0.95)).astype(int)
    assert P.probe(X, y, groups) > 0.85


def test_planted_multiclass_signal_recovered():
    rng, X, groups, _ = _sequences(2)
    W = rng.normal(size=(X.shape[1], 5))
    logits = (X - 0.5) @ W
    y = np.argmax(logits + 0.1 * logits.std() * rng.normal(size=logits.shape), axis=1)
    assert len(np.unique(y)) == 5
    assert P.probe(X, y, groups) > 0.8  # chance 0.2


def test_planted_regression_target_recovered():
    rng, X, groups, tokens = _sequences(3)
    z = X @ rng.normal(size=X.shape[1])
    y = z + 0.2 * z.std() * rng.normal(size=len(z))
    out = P.selectivity(X, y, groups, tokens, "regression")
    assert out["task"] > 0.9
    assert out["control"] < 0.05
    assert out["selectivity"] > 0.85


def test_string_labels_and_sign_of_classes_do_not_matter():
    rng, X, groups, _ = _sequences(4)
    y = ((X - 0.5) @ rng.normal(size=X.shape[1]) > 0).astype(int)
    score = P.probe(X, y, groups)
    assert P.probe(X, np.where(y == 1, "event", "none"), groups) == pytest.approx(score)
    assert P.probe(X, 1 - y, groups) == pytest.approx(score)


# --------------------------------------------------------------------------- null data


@pytest.mark.parametrize("seed", [0, 1])
def test_independent_labels_score_chance(seed):
    rng, X, groups, _ = _sequences(10 + seed, n_seq=100, n_steps=50)
    assert abs(P.probe(X, rng.integers(0, 2, len(X)), groups, seed=seed) - 0.5) < 0.05
    assert abs(P.probe(X, rng.integers(0, 5, len(X)), groups, seed=seed) - 0.2) < 0.05
    assert P.probe(X, rng.normal(size=len(X)), groups, "regression", seed=seed) <= 0.02


def _per_sequence_offsets(seed, n_seq=200, n_steps=10, d=128):
    """Each sequence: a random offset added to all its steps and one random label."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_seq, 1, d)) + 0.3 * rng.normal(size=(n_seq, n_steps, d))
    y = np.repeat(rng.integers(0, 2, n_seq), n_steps)
    return P.flatten(X), y, P.sequence_groups(n_seq, n_steps)


def test_grouped_folds_prevent_sequence_leak():
    grouped, ungrouped = [], []
    for seed in range(5):
        X, y, groups = _per_sequence_offsets(seed)
        grouped.append(P.probe(X, y, groups, seed=seed))
        # Contrast: one group per sample = ordinary shuffled KFold; the probe then memorises
        # each sequence's offset and its label leaks into the test fold.
        ungrouped.append(P.probe(X, y, np.arange(len(y)), seed=seed))
    assert abs(np.mean(grouped) - 0.5) < 0.05
    assert np.mean(ungrouped) > 0.7
    assert np.mean(ungrouped) - np.mean(grouped) > 0.2


def test_grouped_folds_keep_groups_together_and_balance():
    groups = np.repeat(np.random.default_rng(0).permutation(37), 11)
    folds = P.grouped_folds(groups, 5, seed=3)
    for g in np.unique(groups):
        assert len(np.unique(folds[groups == g])) == 1
    sizes = np.bincount(folds)
    assert len(sizes) == 5 and sizes.max() - sizes.min() <= 11
    assert not np.array_equal(folds, P.grouped_folds(groups, 5, seed=4))
    np.testing.assert_array_equal(folds, P.grouped_folds(groups, 5, seed=3))
    with pytest.raises(ValueError):
        P.grouped_folds(np.arange(4), 5)


# --------------------------------------------------------------------------- edge cases


def test_constant_label_returns_chance():
    _, X, groups, _ = _sequences(5, n_seq=20, n_steps=10)
    assert P.probe(X, np.zeros(len(X), int), groups) == P.CHANCE["classification"]
    assert P.probe(X, np.ones(len(X)), groups, "regression") == P.CHANCE["regression"]
    # chance itself: a binary guess's balanced accuracy, and the R^2 of predicting the mean
    assert P.CHANCE == {"classification": 0.5, "regression": 0.0}


def test_class_missing_from_training_folds():
    # Class 2 occurs in a single sequence: whenever it is in the test fold it is absent from
    # the training fold and can never be predicted.  Must run and stay finite.
    rng, X, groups, _ = _sequences(6, n_seq=50, n_steps=20)
    y = ((X - 0.5) @ rng.normal(size=X.shape[1]) > 0).astype(int)
    y[groups == 7] = 2
    score = P.probe(X, y, groups)
    assert np.isfinite(score) and 0.5 < score < 1.0


def test_constant_feature_and_determinism():
    rng, X, groups, _ = _sequences(7, n_seq=40, n_steps=20)
    X[:, 0] = 1.0  # saturated unit
    y = (X[:, 1] > 0.5).astype(int)
    score = P.probe(X, y, groups, seed=2)
    assert score > 0.95
    assert P.probe(X, y, groups, seed=2) == score


def test_bad_inputs_raise():
    _, X, groups, _ = _sequences(8, n_seq=10, n_steps=5)
    y = np.arange(len(X)) % 2
    with pytest.raises(ValueError):
        P.probe(X, y, groups, kind="ordinal")
    with pytest.raises(ValueError):
        P.probe(X, y[:-1], groups)
    with pytest.raises(ValueError):
        P.probe(X, y, groups, n_splits=2)


def test_closed_form_matches_sklearn_weighted_ridge():
    """One training set of the classifier == sklearn Ridge on train-standardised features."""
    rng = np.random.default_rng(9)
    X = rng.normal(size=(1000, 6)) * rng.uniform(0.1, 5, 6) + 3
    y = rng.integers(0, 3, 1000)
    folds = np.arange(1000) % 4
    model = P._Classifier([X[folds == k] for k in range(4)], [y[folds == k] for k in range(4)], 3)
    train = np.array([True, False, True, True])
    (coef, intercept), _ = model.fit(train, np.array([0.1]))
    Xt, yt = X[np.isin(folds, [0, 2, 3])], y[np.isin(folds, [0, 2, 3])]
    mu, sd = Xt.mean(0), Xt.std(0)
    weights = len(yt) / (3 * np.bincount(yt)[yt])
    ref = Ridge(alpha=0.1 * weights.sum()).fit(
        (Xt - mu) / sd, np.eye(3)[yt] * 2 - 1, sample_weight=weights
    )
    X_test = X[folds == 1]
    expected = ref.predict((X_test - mu) / sd)
    np.testing.assert_allclose(P._decision(X_test, coef, intercept)[:, 0], expected, atol=1e-10)


# --------------------------------------------------------------------------- scoring and selection


def test_balanced_accuracy_is_the_mean_recall_over_the_classes_present():
    """8 negatives, 2 positives: always "no" is right 80% of the time but has balanced accuracy
    0.5; one of each class wrong: (7/8 + 1/2) / 2; a class absent from y_true is not averaged."""
    y = np.array([0] * 8 + [1] * 2)
    always_no = np.zeros(10, int)
    one_wrong_each = np.array([1] + [0] * 7 + [1, 0])
    perfect = y.copy()
    scores = P._balanced_accuracy(y, np.stack([always_no, one_wrong_each, perfect], axis=1))
    np.testing.assert_allclose(scores, [0.5, (7 / 8 + 1 / 2) / 2, 1.0])
    y3 = np.array([0, 0, 2, 2])  # class 1 absent: the mean of two recalls
    assert P._balanced_accuracy(y3, np.array([[0, 1, 2, 2]]).T)[0] == pytest.approx(0.75)


def test_ties_in_the_inner_score_go_to_the_larger_penalty():
    """ALPHAS rise with the index: equal inner scores pick the last (largest) of the tied."""
    assert P._Classifier.select(np.array([[0.5, 0.7, 0.7, 0.6], [0.5, 0.7, 0.7, 0.6]])) == 2
    assert P._Regressor.select(np.array([[3.0, 1.0, 1.0, 2.0], [3.0, 2.0, 2.0, 2.0]])) == 2
    assert P._Classifier.select(np.array([[0.9, 0.7, 0.7, 0.6]])) == 0


class _SpyModel:
    """A stand-in for _Classifier / _Regressor that records which folds every fit saw."""

    def __init__(self, n_splits):
        self.n_splits, self.scored = n_splits, []

    def fit(self, train, alphas):
        return frozenset(np.flatnonzero(train))

    def score(self, fold, fit):
        self.scored.append((fold, fit))
        return np.zeros(len(P.ALPHAS))

    @staticmethod
    def select(inner):
        return 0


def test_the_penalty_for_a_test_fold_is_chosen_by_models_that_never_saw_it():
    """Nested CV: for outer fold k, each inner model is trained on every fold but k and the
    fold it is scored on; the outer model on every fold but k."""
    spy = _SpyModel(5)
    P._nested_cv(spy, 5, P.ALPHAS)
    per_outer = len(spy.scored) // 5
    assert per_outer == 5  # 4 inner scores and the outer one
    for k in range(5):
        calls = spy.scored[k * per_outer:(k + 1) * per_outer]
        *inner, (outer_fold, outer_fit) = calls
        assert outer_fold == k and outer_fit == frozenset(range(5)) - {k}
        assert sorted(j for j, _ in inner) == sorted(set(range(5)) - {k})
        for j, fit in inner:
            assert fit == frozenset(range(5)) - {j, k}


# --------------------------------------------------------------------------- control labels


def test_control_labels_function_of_type_marginal_and_deterministic():
    rng = np.random.default_rng(0)
    types = rng.integers(0, 400, size=(50, 100))
    y = (rng.random((50, 100)) < 0.3).astype(int)
    ctrl = P.control_labels(types, y, seed=5)
    assert ctrl.shape == y.shape and ctrl.dtype == y.dtype
    per_type = {}
    for t, c in zip(types.ravel(), ctrl.ravel(), strict=True):
        assert per_type.setdefault(t, c) == c
    assert abs(np.mean(list(per_type.values())) - 0.3) < 0.08
    np.testing.assert_array_equal(ctrl, P.control_labels(types, y, seed=5))
    assert not np.array_equal(ctrl, P.control_labels(types, y, seed=6))


def test_control_labels_continuous_values_come_from_y():
    rng = np.random.default_rng(1)
    types = rng.integers(0, 20, size=1000)
    y = rng.normal(size=1000)
    ctrl = P.control_labels(types, y, seed=0)
    assert np.isin(ctrl, y).all()
    assert len(np.unique(ctrl)) == len(np.unique(types))


# --------------------------------------------------------------------------- feature helpers


def test_input_window_features_exact():
    tokens = np.array([[0, 2, 1], [1, 1, 0]])
    feats = P.input_window_features(tokens, n_types=3, window=2)
    expected = np.array(
        [
            # current one-hot | previous one-hot
            [1, 0, 0, 0, 0, 0],
            [0, 0, 1, 1, 0, 0],
            [0, 1, 0, 0, 0, 1],
            [0, 1, 0, 0, 0, 0],
            [0, 1, 0, 0, 1, 0],
            [1, 0, 0, 0, 1, 0],
        ]
    )
    np.testing.assert_array_equal(feats, expected)
    assert P.input_window_features(tokens, 3, window=5).shape == (6, 15)
    with pytest.raises(ValueError):
        P.input_window_features(tokens, n_types=2)


def test_flatten_and_sequence_groups_agree():
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    flat = P.flatten(array)
    assert flat.shape == (6, 4)
    np.testing.assert_array_equal(flat[4], array[1, 1])
    np.testing.assert_array_equal(P.sequence_groups(2, 3), [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(P.flatten(array[..., 0]), [0, 4, 8, 12, 16, 20])
