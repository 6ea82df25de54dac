"""Tests for gateroles.tasks: ground-truth factors against straightforward reference loops."""

import numpy as np
import pytest

from gateroles.tasks import TASK_NAMES, Task, default_params, make_splits, make_task

K = 4  # default n_values of reset_recall


def _fields(task: Task) -> dict[str, np.ndarray]:
    out = {"inputs": task.inputs, "targets": task.targets, "mask": task.mask}
    out["tokens"] = task.tokens
    out.update({f"factor:{k}": v for k, v in task.factors.items()})
    return out


def _assert_same(a: Task, b: Task) -> None:
    fa, fb = _fields(a), _fields(b)
    assert fa.keys() == fb.keys()
    for key in fa:
        assert fa[key].dtype == fb[key].dtype, key
        np.testing.assert_array_equal(fa[key], fb[key], err_msg=key)
    assert (a.chance, a.n_outputs, a.kind, a.events) == (b.chance, b.n_outputs, b.kind, b.events)


# --------------------------------------------------------------------------- reset_recall


@pytest.fixture(scope="module")
def rr() -> Task:
    # Higher event rates so a small batch contains many stores, resets and queries.
    return make_task("reset_recall", 32, 60, seed=0, p_store=0.2, p_reset=0.1, p_query=0.2)


def test_reset_recall_structure(rr):
    n_d = default_params("reset_recall")["n_distractors"]
    assert rr.inputs.shape == (32, 60, K + 2 + n_d) and rr.inputs.dtype == np.float32
    assert rr.targets.dtype == np.int64 and rr.tokens.dtype == np.int64
    assert rr.kind == "classification" and rr.metric == "accuracy" and rr.n_outputs == K + 1
    assert rr.events == {"store": "is_store", "reset": "is_reset", "query": "is_query"}
    assert all(f.dtype == np.int64 for f in rr.factors.values())
    assert (rr.n_sequences, rr.length, rr.input_size) == (32, 60, K + 2 + n_d)
    # inputs are exactly the one-hot encoding of tokens
    np.testing.assert_array_equal(rr.inputs.sum(-1), 1.0)
    np.testing.assert_array_equal(rr.inputs.argmax(-1), rr.tokens)
    # token types agree with the event factors
    np.testing.assert_array_equal(rr.factors["is_store"], rr.tokens < K)
    np.testing.assert_array_equal(rr.factors["is_reset"], rr.tokens == K)
    np.testing.assert_array_equal(rr.factors["is_query"], rr.tokens == K + 1)
    assert rr.factors["is_store"].sum() > 0 and rr.factors["is_reset"].sum() > 0
    assert (rr.tokens >= K + 2).any()


def test_reset_recall_memory_matches_reference(rr):
    memory = rr.factors["memory"]
    ref = np.empty_like(memory)
    for i in range(rr.n_sequences):
        m = K
        for t in range(rr.length):
            tok = rr.tokens[i, t]
            if tok < K:
                m = tok
            elif tok == K:
                m = K
            ref[i, t] = m
    np.testing.assert_array_equal(memory, ref)
    # EMPTY at every reset, and stays EMPTY until the next store
    resets = rr.factors["is_reset"].astype(bool)
    assert (memory[resets] == K).all()
    i, t = np.nonzero(resets)
    nxt = t + 1 < rr.length
    i, t = i[nxt], t[nxt] + 1
    not_store = rr.tokens[i, t] >= K
    assert (memory[i[not_store], t[not_store]] == K).all()
    # at a store the memory equals the stored value
    stores = rr.factors["is_store"].astype(bool)
    np.testing.assert_array_equal(memory[stores], rr.tokens[stores])


def test_reset_recall_targets_and_mask(rr):
    np.testing.assert_array_equal(rr.mask, rr.factors["is_query"].astype(bool))
    np.testing.assert_array_equal(rr.targets[rr.mask], rr.factors["memory"][rr.mask])
    assert (rr.targets[~rr.mask] == 0).all()
    assert rr.mask.sum() > 0


def test_reset_recall_chance_is_majority_rate(rr):
    counts = np.bincount(rr.targets[rr.mask], minlength=K + 1)
    assert rr.chance == pytest.approx(counts.max() / counts.sum())
    assert 1 / (K + 1) <= rr.chance <= 1


def test_reset_recall_no_distractors():
    task = make_task(
        "reset_recall", 4, 50, seed=3, n_distractors=0, p_store=0.5, p_reset=0.25, p_query=0.25
    )
    assert task.input_size == K + 2
    assert (task.tokens <= K + 1).all()


# --------------------------------------------------------------------------- count_reset


@pytest.fixture(scope="module")
def cr() -> Task:
    return make_task("count_reset", 32, 80, seed=1, p_target=0.4, p_reset=0.05, max_count=5)


def test_count_reset_matches_reference(cr):
    count = cr.factors["count"]
    ref = np.empty_like(count)
    for i in range(cr.n_sequences):
        c = 0
        for t in range(cr.length):
            tok = cr.tokens[i, t]
            c = 0 if tok == 1 else c + (tok == 0)
            ref[i, t] = min(c, 5)
    np.testing.assert_array_equal(count, ref)
    assert (count == 5).any(), "clipping not exercised"
    assert count.max() == 5 and count.min() == 0


def test_count_reset_properties(cr):
    count = cr.factors["count"]
    resets = cr.factors["is_reset"].astype(bool)
    targets = cr.factors["is_target"].astype(bool)
    assert resets.any()
    assert (count[resets] == 0).all()
    # restart: right after a reset the count is 1 on a target, 0 otherwise
    i, t = np.nonzero(resets[:, :-1])
    np.testing.assert_array_equal(count[i, t + 1], targets[i, t + 1])
    # below the clip, each target increments and each distractor keeps the count
    prev, cur = count[:, :-1], count[:, 1:]
    free = (prev < 5) & ~resets[:, 1:]
    np.testing.assert_array_equal((cur - prev)[free], targets[:, 1:][free])
    assert cr.mask.all()
    np.testing.assert_array_equal(cr.targets, count)
    assert cr.n_outputs == 6 and cr.events == {"store": "is_target", "reset": "is_reset"}
    np.testing.assert_array_equal(cr.inputs.argmax(-1), cr.tokens)
    np.testing.assert_array_equal(targets, cr.tokens == 0)
    counts = np.bincount(count.ravel(), minlength=6)
    assert cr.chance == pytest.approx(counts.max() / counts.sum())


# --------------------------------------------------------------------------- adding


def test_adding_structure():
    task = make_task("adding", 200, 21, seed=2)
    n, t = 200, 21
    marker = task.inputs[..., 1]
    assert task.inputs.shape == (n, t, 2) and task.inputs.dtype == np.float32
    assert task.kind == "regression" and task.metric == "mse" and task.n_outputs == 1
    assert task.targets.dtype == np.float32
    assert task.factors["partial_sum"].dtype == np.float32
    assert task.continuous_factors == ("partial_sum",)
    assert task.events == {"store": "is_marked"}
    assert set(np.unique(marker)) <= {0.0, 1.0}
    assert (marker.sum(1) == 2).all()
    assert (marker[:, : t // 2].sum(1) == 1).all()
    assert (marker[:, t // 2 :].sum(1) == 1).all()
    assert (marker[:, -1] == 0).all()
    np.testing.assert_array_equal(task.tokens, marker)
    np.testing.assert_array_equal(task.factors["is_marked"], marker)
    np.testing.assert_array_equal(task.factors["n_marked"], np.cumsum(marker, 1))
    values = task.inputs[..., 0]
    assert values.min() >= 0 and values.max() < 1
    expected = (values * marker).sum(1)
    np.testing.assert_allclose(task.targets[:, -1], expected, rtol=1e-6)
    assert (task.mask[:, -1]).all() and task.mask.sum() == n
    assert (task.targets[:, :-1] == 0).all()
    np.testing.assert_array_equal(task.factors["partial_sum"][:, -1], task.targets[:, -1])
    np.testing.assert_allclose(
        task.factors["partial_sum"], np.cumsum(values * marker, 1), rtol=1e-6, atol=1e-7
    )


def test_adding_chance_is_target_variance():
    task = make_task("adding", 20000, 4, seed=5)
    assert task.chance == pytest.approx(1 / 6)
    y = task.targets[:, -1].astype(np.float64)
    assert y.var() == pytest.approx(1 / 6, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.02)


# --------------------------------------------------------------------------- seeding


@pytest.mark.parametrize("name", TASK_NAMES)
def test_same_seed_same_data_different_seed_differs(name):
    a = make_task(name, 8, 30, seed=7)
    b = make_task(name, 8, 30, seed=7)
    c = make_task(name, 8, 30, seed=8)
    _assert_same(a, b)
    assert not np.array_equal(a.inputs, c.inputs)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_make_splits(name):
    s1 = make_splits(name, {"train": 16, "test": 8}, 30, seed=4)
    s2 = make_splits(name, {"train": 16, "test": 50, "val": 3}, 30, seed=4)
    _assert_same(s1["train"], s2["train"])
    assert s1["test"].n_sequences == 8 and s2["test"].n_sequences == 50
    # same size, different split name -> different data
    s3 = make_splits(name, {"a": 16, "b": 16}, 30, seed=4)
    assert not np.array_equal(s3["a"].inputs, s3["b"].inputs)
    assert not np.array_equal(s1["train"].inputs, s3["a"].inputs)
    assert not np.array_equal(s1["train"].inputs, make_task(name, 16, 30, seed=4).inputs)
    # different seed -> different train split
    other = make_splits(name, {"train": 16}, 30, seed=5)["train"]
    assert not np.array_equal(s1["train"].inputs, other.inputs)


# --------------------------------------------------------------------------- validation


def test_default_params():
    assert default_params("reset_recall") == {
        "n_values": 4,
        "n_distractors": 4,
        "p_store": 0.1,
        "p_reset": 0.05,
        "p_query": 0.1,
    }
    assert default_params("adding") == {}
    assert set(default_params("count_reset")) == {
        "n_distractors",
        "p_target",
        "p_reset",
        "max_count",
    }
    d = default_params("count_reset")
    d["max_count"] = 99
    assert default_params("count_reset")["max_count"] == 8


def test_bad_name():
    with pytest.raises(ValueError, match="nope.*reset_recall.*adding.*count_reset"):
        make_task("nope", 2, 10, seed=0)
    with pytest.raises(ValueError, match="nope"):
        make_splits("nope", {"train": 2}, 10, seed=0)
    with pytest.raises(ValueError, match="nope"):
        default_params("nope")


def test_bad_param():
    with pytest.raises(ValueError, match="p_sotre.*reset_recall.*p_store"):
        make_task("reset_recall", 2, 10, seed=0, p_sotre=0.1)
    with pytest.raises(ValueError, match="n_values.*adding"):
        make_task("adding", 2, 10, seed=0, n_values=3)
    with pytest.raises(ValueError, match="max_cnt"):
        make_splits("count_reset", {"train": 2}, 10, seed=0, max_cnt=3)


@pytest.mark.parametrize(
    ("name", "kwargs", "key"),
    [
        ("reset_recall", {"p_store": 1.5}, "p_store"),
        ("reset_recall", {"p_reset": -0.1}, "p_reset"),
        ("reset_recall", {"p_store": 0.6, "p_query": 0.6}, "p_query"),
        ("reset_recall", {"p_query": 0.0}, "p_query"),
        ("reset_recall", {"n_values": 0}, "n_values"),
        ("reset_recall", {"n_values": 2.5}, "n_values"),
        ("reset_recall", {"n_distractors": -1}, "n_distractors"),
        ("reset_recall", {"n_distractors": 0}, "n_distractors"),
        ("count_reset", {"max_count": 0}, "max_count"),
        ("count_reset", {"p_target": 0.9, "p_reset": 0.2}, "p_target"),
        ("count_reset", {"p_reset": "0.1"}, "p_reset"),
    ],
)
def test_bad_value(name, kwargs, key):
    with pytest.raises(ValueError, match=key):
        make_task(name, 2, 10, seed=0, **kwargs)


def test_bad_sizes():
    with pytest.raises(ValueError, match="length"):
        make_task("adding", 2, 3, seed=0)
    make_task("adding", 2, 4, seed=0)
    with pytest.raises(ValueError, match="length"):
        make_task("count_reset", 2, 0, seed=0)
    with pytest.raises(ValueError, match="n_sequences"):
        make_task("reset_recall", 0, 10, seed=0)
    with pytest.raises(ValueError, match="seed"):
        make_task("reset_recall", 2, 10, seed=-1)
    with pytest.raises(ValueError, match="test"):
        make_splits("reset_recall", {"train": 2, "test": 0}, 10, seed=0)
    with pytest.raises(ValueError, match="sizes"):
        make_splits("reset_recall", {}, 10, seed=0)
