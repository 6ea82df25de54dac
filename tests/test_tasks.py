"""Tests for gateroles.tasks: ground-truth factors against straightforward reference loops."""

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from gateroles import tasks
from gateroles.config import load_schema
from gateroles.tasks import TASK_NAMES, Task, default_params, make_splits, make_task

SCHEMA = Path(__file__).resolve().parents[1] / "config" / "schema.yaml"

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


# --------------------------------------------------------------------------- armed_reset

# default n_values of armed_reset; tokens STORE_k = k, ARM = K, RESET = K + 1, QUERY = K + 2
ARM, RESET, QUERY = K, K + 1, K + 2


@pytest.fixture(scope="module")
def ar() -> Task:
    return make_task("armed_reset", 300, 100, seed=0)


def test_armed_reset_structure(ar):
    n_d = default_params("armed_reset")["n_distractors"]
    assert ar.inputs.shape == (300, 100, K + 3 + n_d) and ar.inputs.dtype == np.float32
    assert ar.kind == "classification" and ar.n_outputs == K + 1
    assert ar.events == {"store": "is_store", "reset": "is_armed_reset", "query": "is_query"}
    np.testing.assert_array_equal(ar.inputs.sum(-1), 1.0)
    np.testing.assert_array_equal(ar.inputs.argmax(-1), ar.tokens)
    f = ar.factors
    np.testing.assert_array_equal(f["is_store"], ar.tokens < K)
    np.testing.assert_array_equal(f["is_arm"], ar.tokens == ARM)
    np.testing.assert_array_equal(f["is_reset"], ar.tokens == RESET)  # every RESET token
    np.testing.assert_array_equal(f["is_query"], ar.tokens == QUERY)
    assert (ar.tokens > QUERY).any() and ar.tokens.max() < K + 3 + n_d
    np.testing.assert_array_equal(f["is_armed_reset"], f["is_reset"] & f["armed"])
    np.testing.assert_array_equal(ar.mask, f["is_query"] == 1)
    np.testing.assert_array_equal(ar.targets[ar.mask], f["memory"][ar.mask])
    assert (ar.targets[~ar.mask] == 0).all()
    counts = np.bincount(ar.targets[ar.mask], minlength=K + 1)
    assert ar.chance == pytest.approx(counts.max() / counts.sum())


def test_armed_reset_rules(ar):
    tok, memory = ar.tokens, ar.factors["memory"]
    armed_reset = ar.factors["is_armed_reset"].astype(bool)
    # a RESET right after an ARM clears
    i, t = np.nonzero((tok[:, :-1] == ARM) & (tok[:, 1:] == RESET))
    assert len(i) > 10 and armed_reset[i, t + 1].all() and (memory[i, t + 1] == K).all()
    # an ARM does not survive a STORE: ARM, STORE_k, RESET keeps k
    i, t = np.nonzero((tok[:, :-2] == ARM) & (tok[:, 1:-1] < K) & (tok[:, 2:] == RESET))
    assert len(i) > 3 and not armed_reset[i, t + 2].any()
    np.testing.assert_array_equal(memory[i, t + 2], tok[i, t + 1])
    # an unarmed RESET changes nothing; a STORE sets the memory
    unarmed = (tok == RESET) & ~armed_reset
    unarmed[:, 0] = False
    i, t = np.nonzero(unarmed)
    np.testing.assert_array_equal(memory[i, t], memory[i, t - 1])
    stores = tok < K
    np.testing.assert_array_equal(memory[stores], tok[stores])


def test_armed_reset_default_frequencies():
    """Armed and unarmed RESETs are both common with the defaults (and their contexts)."""
    task = make_task("armed_reset", 2000, 100, seed=1)
    f = task.factors
    resets = f["is_reset"].sum()
    armed = f["is_armed_reset"].sum() / resets
    assert 0.5 < armed < 0.6  # measured 0.55
    assert f["reset_acts"].sum() / resets > 0.3  # armed, memory holds a value: 0.32
    assert f["reset_inert"].sum() / resets > 0.4  # unarmed, memory holds a value: 0.42
    queries = task.mask.sum()
    share = {b: f[b].sum() / queries for b in task.behaviours}
    assert share["recall_after_armed_reset"] > 0.15  # 0.21
    assert share["recall_after_unarmed_reset"] > 0.15  # 0.17
    assert share["recall_after_store"] > 0.5  # 0.57
    assert 0.02 < share["recall_initial"] < 0.1  # 0.05
    assert 0.2 < task.chance < 0.35  # 0.26 (EMPTY)
    assert 9 < queries / 2000 < 11 and 9 < resets / 2000 < 11


def test_armed_reset_params():
    task = make_task("armed_reset", 4, 50, seed=3, n_values=2, n_distractors=0, p_store=0.25,
                     p_arm=0.25, p_reset=0.25, p_query=0.25)
    assert task.input_size == 2 + 3 and task.tokens.max() <= 4
    for kwargs, key in (({"p_arm": 1.5}, "p_arm"), ({"p_query": 0.0}, "p_query"),
                        ({"p_arm": 0.5, "p_store": 0.5}, "p_arm"),
                        ({"n_distractors": 0}, "n_distractors"), ({"n_values": 0}, "n_values")):
        with pytest.raises(ValueError, match=key):
            make_task("armed_reset", 2, 10, seed=0, **kwargs)


# --------------------------------------------------------------------------- unchanged data

_OLD_VARIABLES = {"reset_recall": ("is_store", "is_reset", "is_query", "memory"),
                  "adding": ("is_marked", "n_marked", "partial_sum"),
                  "count_reset": ("count", "is_target", "is_reset")}


def _digest(task: Task, factors) -> str:
    h = hashlib.sha256()
    for a in [task.inputs, task.targets, task.mask, task.tokens] + [task.factors[k]
                                                                      for k in factors]:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    h.update(repr((task.chance, task.n_outputs, task.kind, sorted(task.events.items()))).encode())
    return h.hexdigest()[:32]


# Computed with the code before the annotations and armed_reset were added (commit 69a112f):
# (train split 7 x 40 and test split 5 x 40 of seed 3, make_task 6 x 33 of seed 11).
_OLD_DIGESTS = [
    ("reset_recall", {}, ("a3680f2687aad453b88f1079f882dbd0", "74b98efaeb627109d9982ed9e39ac43b",
                          "e40ba76e7c7fbaa4fca2a042efe17d04")),
    ("adding", {}, ("045eae86668869bc1579d46934116d51", "3ff58afa59fae7f3a7ebc420cb1356d0",
                    "b1e2be119c1e797b5cffd8dcdaeea781")),
    ("count_reset", {}, ("58f7bac9f57c6e69da796d4f93b7eb56", "45f8d370fc5bdf4cf6435389bcebeeaf",
                         "227710b0ac6200c0dd494dc542549a5f")),
    ("reset_recall", {"p_store": 0.2, "p_reset": 0.1, "p_query": 0.2, "n_values": 3},
     ("541ecd9bfe3bd47f0a7d3522636853fc", "b8ce1caa21ed1bce16b2626050be47fe",
      "9f08286fb20cab1aebb94e074a1aadae")),
    ("count_reset", {"max_count": 3, "p_target": 0.3},
     ("16be050446df5a2fa2a0de98cc57edf6", "a55023dd72ea45cff65ce5e1ce15183e",
      "492359c930d0d12d204d61680ee75d18")),
]


@pytest.mark.parametrize(("name", "params", "digests"), _OLD_DIGESTS)
def test_existing_tasks_generate_the_same_bytes(name, params, digests):
    """inputs, targets, mask, tokens, the original factors, chance and events are unchanged."""
    s = make_splits(name, {"train": 7, "test": 5}, 40, seed=3, **params)
    t = make_task(name, 6, 33, seed=11, **params)
    assert tuple(_digest(x, _OLD_VARIABLES[name]) for x in (s["train"], s["test"], t)) == digests
    assert tuple(t.variables) == _OLD_VARIABLES[name]


# --------------------------------------------------------------------------- schema


def test_schema_task_lists_come_from_the_registry():
    """Every task list and per-task section of the schema is filled from the registry when it
    is loaded; the YAML itself names no task (nothing to keep equal by hand)."""
    schema = load_schema(SCHEMA)
    props = schema["properties"]
    pattern = tasks.name_pattern()
    for section, key in (("study", "tasks"), ("wiring", "tasks"),
                         ("wiring", "forget_bias_tasks"), ("controls", "tasks")):
        assert props[section]["properties"][key]["items"]["pattern"] == pattern, (section, key)
    for name in [*TASK_NAMES, "hold_recall@30", "hold_armed@200"]:
        assert re.fullmatch(pattern, name), name
    for name in ("nope", "reset_recall@3", "hold_recall@03", "hold_recall@", "hold_recall@-1"):
        assert not re.fullmatch(pattern, name), name
    params = props["task_params"]["properties"]
    assert list(params) == list(TASK_NAMES)
    for name in TASK_NAMES:
        props_ = params[name].get("properties", {})
        assert {k: v["default"] for k, v in props_.items()} == default_params(name), name
    training = props["training"]["properties"]
    for key in ("steps", "solved_threshold"):
        assert list(training[key]["properties"]) == list(TASK_NAMES), key
        assert set(training[key]["patternProperties"]) == {"^hold_recall@[1-9][0-9]*$",
                                                           "^hold_armed@[1-9][0-9]*$"}, key
    thresholds = training["solved_threshold"]["properties"]
    assert thresholds["armed_reset"]["default"] == 0.99
    assert thresholds["adding"]["maximum"] == 0.1666
    assert tasks._TASK_IDS["armed_reset"] == 5
    assert sorted(tasks._TASK_IDS.values()) == list(range(1, len(TASK_NAMES) + 1))
    raw = SCHEMA.read_text()
    keys = re.compile(r"^\s*(" + "|".join(TASK_NAMES) + r")\s*:", re.MULTILINE)
    assert not keys.search(raw)  # no per-task section
    assert not re.search(r"enum: \[[^]]*\b(reset_recall|hold_recall)\b", raw)  # no task lists


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
    assert default_params("armed_reset") == {
        "n_values": 4,
        "n_distractors": 4,
        "p_store": 0.15,
        "p_arm": 0.2,
        "p_reset": 0.1,
        "p_query": 0.1,
    }


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


# --------------------------------------------------------------------------- hold tasks

# hold_recall has reset_recall's coding (K = 4): STORE_k = k, RESET = K, QUERY = K + 1,
# distractors from K + 2; hold_armed has armed_reset's (ARM, RESET, QUERY above).
H_RESET, H_QUERY = K, K + 1


@pytest.mark.parametrize("hold", [1, 3, 12, 40])
def test_hold_recall_holds_exactly_hold_steps(hold):
    """Episodes back to back from step 0: STORE_k, exactly `hold` steps (distractors, and one
    RESET in an erasing episode), QUERY; the answer is EMPTY after a RESET, else k; the
    steps after the last whole episode are distractors."""
    length = 3 * (hold + 2) + 1 + hold // 2  # three episodes and a partial one
    task = make_task(f"hold_recall@{hold}", 64, length, seed=hold)
    assert task.meta["hold"] == hold and task.name == f"hold_recall@{hold}"
    width, n_erasing = hold + 2, 0
    for row, target, mask in zip(task.tokens, task.targets, task.mask, strict=True):
        for start in range(0, 3 * width, width):
            store, held, query = row[start], row[start + 1:start + 1 + hold], row[start + 1 + hold]
            assert store < K and query == H_QUERY
            resets = np.flatnonzero(held == H_RESET)
            assert len(resets) <= 1 and (np.delete(held, resets) >= H_QUERY + 1).all()
            n_erasing += len(resets)
            assert target[start + 1 + hold] == (K if len(resets) else store)  # EMPTY = K
        assert (row[3 * width:] >= H_QUERY + 1).all()  # the partial episode: distractors
        np.testing.assert_array_equal(np.flatnonzero(mask), np.arange(3) * width + hold + 1)
    # a share p_reset (1/2) of the episodes erases: 192 episodes
    assert 0.35 < n_erasing / (3 * 64) < 0.65
    # every interval from a STORE to its QUERY is hold + 1 steps long and says whether it
    # crosses the episode's RESET
    intervals = tasks.hold_intervals(task.factors, task.events)
    assert len(intervals) == 3 * 64 and (intervals[:, 2] - intervals[:, 1] == hold + 1).all()
    for n, store, query, crosses in intervals:
        assert crosses == (task.tokens[n, store + 1:query] == H_RESET).any()
        assert task.tokens[n, store] < K and task.tokens[n, query] == H_QUERY
        kind = "hold_erase" if crosses else "hold_keep"
        assert task.factors[kind][n, store + 1:query].all()
        assert not task.factors[kind][n, [store, query]].any()
    assert task.factors["hold_keep"].sum() + task.factors["hold_erase"].sum() == 3 * 64 * hold


@pytest.mark.parametrize("hold", [1, 2, 25])
def test_hold_armed_arm_and_reset_are_exactly_hold_steps_apart(hold):
    """Episodes: STORE_k, ARM (armed) or a distractor, exactly `hold` steps (distractors and
    one QUERY answered k), RESET, QUERY (EMPTY if armed, else k)."""
    width = hold + 4
    task = make_task(f"hold_armed@{hold}", 64, 2 * width + 3, seed=hold)
    assert task.meta["hold"] == hold
    n_armed = 0
    for row, target in zip(task.tokens, task.targets, strict=True):
        for start in (0, width):
            store, slot = row[start], row[start + 1]
            held, reset, query = row[start + 2:start + 2 + hold], row[start + 2 + hold], \
                row[start + 3 + hold]
            armed = slot == ARM
            assert store < K and (armed or slot >= QUERY + 1)
            assert reset == RESET and query == QUERY
            mid = np.flatnonzero(held == QUERY)
            assert len(mid) == 1 and (np.delete(held, mid) >= QUERY + 1).all()
            assert target[start + 2 + mid[0]] == store  # the ARM empties nothing
            assert target[start + 3 + hold] == (K if armed else store)
            n_armed += armed
        assert (row[2 * width:] >= QUERY + 1).all()
    assert 0.35 < n_armed / (2 * 64) < 0.65
    # the armed RESETs are the reset events, each `hold` steps after its ARM's step
    arm_at = np.argwhere(task.factors["is_arm"] == 1)
    reset_at = np.argwhere(task.factors["is_armed_reset"] == 1)
    np.testing.assert_array_equal(reset_at, arm_at + [0, hold + 1])


def test_name_at_hold_is_the_task_with_that_hold():
    at = make_task("hold_recall@7", 8, 40, seed=1)
    plain = make_task("hold_recall", 8, 40, seed=1, hold=7)
    assert at.name == "hold_recall@7" and plain.name == "hold_recall"
    for key, value in _fields(plain).items():
        np.testing.assert_array_equal(_fields(at)[key], value, err_msg=key)
    # the name's hold wins over a `hold` in the parameters (the config's task section)
    _assert_same(make_task("hold_recall@7", 8, 40, seed=1, hold=30), at)
    splits = make_splits("hold_armed@5", {"train": 4, "test": 4}, 30, seed=2)
    assert {s.meta["hold"] for s in splits.values()} == {5}
    assert tasks.parse_name("hold_armed@200") == ("hold_armed", 200)
    assert tasks.parse_name("reset_recall") == ("reset_recall", None)
    assert tasks.base_name("hold_recall@12") == "hold_recall"
    assert tasks.EVENTS["hold_recall@12"] == tasks.EVENTS["hold_recall"]
    assert tasks.lookup({"hold_recall": 1, "hold_recall@9": 2}, "hold_recall@9") == 2
    assert tasks.lookup({"hold_recall": 1, "hold_recall@9": 2}, "hold_recall@10") == 1


@pytest.mark.parametrize(("name", "message"), [
    ("hold_recall@0", "positive integer without leading zeros"),
    ("hold_recall@07", "positive integer without leading zeros"),
    ("hold_recall@", "positive integer"),
    ("hold_recall@-3", "positive integer"),
    ("hold_recall@1.5", "positive integer"),
    ("hold_recall@ 3", "positive integer"),
    ("reset_recall@10", "'reset_recall' has no hold parameter.*hold_recall, hold_armed"),
    ("nope@10", "unknown task 'nope@10'.*hold_recall@H"),
])
def test_bad_name_at_hold(name, message):
    with pytest.raises(ValueError, match=message):
        tasks.parse_name(name)
    with pytest.raises(ValueError, match=message):
        make_task(name, 2, 500, seed=0)


def test_a_hold_task_needs_one_whole_episode():
    assert tasks.length_for("hold_recall@200", 100) == 202
    assert tasks.length_for("hold_recall@20", 100) == 100
    assert tasks.length_for("hold_armed@200", 100) == 204
    assert tasks.length_for("hold_recall", 5, hold=10) == 12
    with pytest.raises(ValueError, match=r"length must be an integer >= 202 for task "
                                         r"'hold_recall@200'"):
        make_task("hold_recall@200", 2, 201, seed=0)
    make_task("hold_recall@200", 2, 202, seed=0)
    with pytest.raises(ValueError, match="n_distractors must be an integer >= 1"):
        make_task("hold_recall@5", 2, 20, seed=0, n_distractors=0)


def test_hold_chance_is_the_majority_answer():
    task = make_task("hold_recall@3", 200, 100, seed=0)
    answers = task.targets[task.mask]
    assert task.chance == pytest.approx(np.bincount(answers).max() / answers.size)
    assert np.bincount(answers).argmax() == K  # EMPTY, about half of the answers
    assert task.chance == pytest.approx(0.5, abs=0.05)
