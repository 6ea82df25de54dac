"""Context and behaviour annotations (Task.contexts, Task.behaviours, Task.auxiliary_factors).

Each task's annotations are checked step by step against a slow reference loop; each reference
loop is itself checked on a short token sequence written out by hand.
"""

import numpy as np
import pytest

from gateroles import tasks
from gateroles.tasks import (
    AUXILIARY_FACTORS,
    BEHAVIOURS,
    CONTEXTS,
    EVENTS,
    TASK_NAMES,
    Task,
    make_task,
)

# The task variables of the tasks that existed before the annotations: unchanged.
VARIABLES = {
    "reset_recall": ["is_store", "is_reset", "is_query", "memory"],
    "adding": ["is_marked", "n_marked", "partial_sum"],
    "count_reset": ["count", "is_target", "is_reset"],
    "charlm": ["in_string", "in_comment", "bracket_depth", "column", "is_newline"],
    "armed_reset": ["is_store", "is_arm", "is_reset", "is_query", "memory", "armed",
                    "is_armed_reset"],
}
# The long-hold versions have their short versions' variables.
VARIABLES["hold_recall"] = VARIABLES["reset_recall"]
VARIABLES["hold_armed"] = VARIABLES["armed_reset"]


# --------------------------------------------------------------------------- references


def reset_recall_reference(row, k):
    """Factor name -> list over steps, by stepping through the tokens (STORE_v = v, RESET = k,
    QUERY = k + 1, distractors above)."""
    out = {name: [] for name in ("reset_acts", "reset_inert", "store_acts", "store_inert",
                                 "recall_after_reset", "recall_after_store", "recall_initial")}
    memory, last = k, None  # last = what last set the memory: None, "store" or "reset"
    for tok in row:
        step = dict.fromkeys(out, 0)
        if tok < k:
            step["store_acts" if memory != tok else "store_inert"] = 1
            memory, last = tok, "store"
        elif tok == k:
            step["reset_acts" if memory != k else "reset_inert"] = 1
            memory, last = k, "reset"
        elif tok == k + 1:
            step[{None: "recall_initial", "store": "recall_after_store",
                  "reset": "recall_after_reset"}[last]] = 1
        for name in out:
            out[name].append(step[name])
    return out


def count_reset_reference(row, max_count):
    """Tokens: target = 0, RESET = 1, distractors above."""
    out = {name: [] for name in ("reset_acts", "reset_inert", "store_acts", "store_inert",
                                 "count_after_reset", "count_after_increment", "count_initial")}
    count, last = 0, None  # last event: None, "reset" or "target"
    for tok in row:
        step = dict.fromkeys(out, 0)
        if tok == 0:
            step["store_acts" if count < max_count else "store_inert"] = 1
            count, last = min(count + 1, max_count), "target"
        elif tok == 1:
            step["reset_acts" if count > 0 else "reset_inert"] = 1
            count, last = 0, "reset"
        step[{None: "count_initial", "reset": "count_after_reset",
              "target": "count_after_increment"}[last]] = 1
        for name in out:
            out[name].append(step[name])
    return out


def armed_reset_reference(row, k):
    """Tokens: STORE_v = v, ARM = k, RESET = k + 1, QUERY = k + 2, distractors above."""
    out = {name: [] for name in (
        "memory", "armed", "is_armed_reset", "reset_acts", "reset_inert", "store_acts",
        "store_inert", "recall_after_armed_reset", "recall_after_unarmed_reset",
        "recall_after_store", "recall_initial")}
    memory, armed = k, False
    # since: what happened to the memory since the last STORE: None (no STORE, nothing cleared),
    # "store" (nothing since), "unarmed" (only RESETs that did not clear), "armed" (cleared)
    since = None
    for tok in row:
        step = dict.fromkeys(out, 0)
        if tok < k:
            step["store_acts" if memory != tok else "store_inert"] = 1
            memory, armed, since = tok, False, "store"
        elif tok == k:
            armed = True
        elif tok == k + 1 and armed:
            step["is_armed_reset"] = 1
            step["reset_acts"] = int(memory != k)
            memory, since = k, "armed"
        elif tok == k + 1:
            step["reset_inert"] = int(memory != k)
            since = "unarmed" if since == "store" else since
        elif tok == k + 2:
            step[{None: "recall_initial", "store": "recall_after_store",
                  "unarmed": "recall_after_unarmed_reset",
                  "armed": "recall_after_armed_reset"}[since]] = 1
        step["memory"], step["armed"] = memory, int(armed)
        for name in out:
            out[name].append(step[name])
    return out


def _check_against(task, reference, **kwargs):
    for i in range(task.n_sequences):
        ref = reference(task.tokens[i].tolist(), **kwargs)
        for name, values in ref.items():
            np.testing.assert_array_equal(task.factors[name][i], values, err_msg=f"{name} row {i}")


# --------------------------------------------------------------------------- hand examples


def _columns(text):
    """'name: 0 1 0 ...' lines -> {name: [ints]}."""
    out = {}
    for line in text.strip().splitlines():
        name, values = line.split(":")
        out[name.strip()] = [int(v) for v in values.split()]
    return out


def test_reset_recall_reference_by_hand():
    # K = 2: S0 = 0, S1 = 1, R = 2, Q = 3, D = 4
    #        Q  R  Q  S1 D  Q  S1 R  Q  S0 S1 Q
    tokens = [3, 2, 3, 1, 4, 3, 1, 2, 3, 0, 1, 3]
    expected = _columns("""
        reset_acts:         0  0  0  0  0  0  0  1  0  0  0  0
        reset_inert:        0  1  0  0  0  0  0  0  0  0  0  0
        store_acts:         0  0  0  1  0  0  0  0  0  1  1  0
        store_inert:        0  0  0  0  0  0  1  0  0  0  0  0
        recall_after_reset: 0  0  1  0  0  0  0  0  1  0  0  0
        recall_after_store: 0  0  0  0  0  1  0  0  0  0  0  1
        recall_initial:     1  0  0  0  0  0  0  0  0  0  0  0
    """)
    assert reset_recall_reference(tokens, 2) == expected


def test_count_reset_reference_by_hand():
    # max_count = 2: T = 0, R = 1, D = 2
    #                     D  R  T  D  T  T  R  D  T
    tokens = [2, 1, 0, 2, 0, 0, 1, 2, 0]
    expected = _columns("""
        reset_acts:            0  0  0  0  0  0  1  0  0
        reset_inert:           0  1  0  0  0  0  0  0  0
        store_acts:            0  0  1  0  1  0  0  0  1
        store_inert:           0  0  0  0  0  1  0  0  0
        count_after_reset:     0  1  0  0  0  0  1  1  0
        count_after_increment: 0  0  1  1  1  1  0  0  1
        count_initial:         1  0  0  0  0  0  0  0  0
    """)
    assert count_reset_reference(tokens, 2) == expected


def test_armed_reset_reference_by_hand():
    # K = 2: S0 = 0, S1 = 1, A = 2, R = 3, Q = 4 (EMPTY memory = 2)
    # step:  0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15 16 17 18 19 20 21 22
    #        Q  R  A  R  Q  S1 R  Q  A  R  Q  S0 S0 A  S1 R  Q  S1 Q  A  R  R  Q
    tokens = [4, 3, 2, 3, 4, 1, 3, 4, 2, 3, 4, 0, 0, 2, 1, 3, 4, 1, 4, 2, 3, 3, 4]
    expected = _columns("""
        memory:                     2 2 2 2 2 1 1 1 1 2 2 0 0 0 1 1 1 1 1 1 2 2 2
        armed:                      0 0 1 1 1 0 0 0 1 1 1 0 0 1 0 0 0 0 0 1 1 1 1
        is_armed_reset:             0 0 0 1 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 1 1 0
        reset_acts:                 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 1 0 0
        reset_inert:                0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0
        store_acts:                 0 0 0 0 0 1 0 0 0 0 0 1 0 0 1 0 0 0 0 0 0 0 0
        store_inert:                0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 1 0 0 0 0 0
        recall_after_armed_reset:   0 0 0 0 1 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 1
        recall_after_unarmed_reset: 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0
        recall_after_store:         0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0
        recall_initial:             1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
    """)
    assert armed_reset_reference(tokens, 2) == expected


# --------------------------------------------------------------------------- generators


@pytest.mark.parametrize("seed", [0, 1])
def test_reset_recall_annotations_match_reference(seed):
    task = make_task("reset_recall", 40, 60, seed=seed, p_store=0.2, p_reset=0.15,
                     p_query=0.2, n_values=3)
    _check_against(task, reset_recall_reference, k=3)
    for name in CONTEXTS["reset_recall"]["reset"] + CONTEXTS["reset_recall"]["store"]:
        assert task.factors[name].any(), name


@pytest.mark.parametrize("seed", [0, 1])
def test_count_reset_annotations_match_reference(seed):
    task = make_task("count_reset", 40, 60, seed=seed, p_target=0.4, p_reset=0.1, max_count=3)
    _check_against(task, count_reset_reference, max_count=3)
    assert task.factors["store_inert"].any() and task.factors["reset_inert"].any()


@pytest.mark.parametrize(("seed", "params"), [
    (0, {}),
    (1, {"n_values": 2, "p_store": 0.2, "p_arm": 0.1, "p_reset": 0.2, "p_query": 0.2}),
    (2, {"n_distractors": 0, "p_store": 0.25, "p_arm": 0.25, "p_reset": 0.25,
         "p_query": 0.25}),
])
def test_armed_reset_factors_match_reference(seed, params):
    task = make_task("armed_reset", 40, 80, seed=seed, **params)
    k = tasks.default_params("armed_reset") | params
    _check_against(task, armed_reset_reference, k=k["n_values"])
    for name in AUXILIARY_FACTORS["armed_reset"]:
        assert task.factors[name].any(), name


def test_adding_sum_behaviour_is_the_last_step():
    task = make_task("adding", 5, 10, seed=0)
    assert task.behaviours == {"sum": "sum_step"} and task.contexts == {}
    np.testing.assert_array_equal(task.factors["sum_step"], task.mask)
    assert (task.factors["sum_step"][:, -1] == 1).all() and task.factors["sum_step"].sum() == 5


# --------------------------------------------------------------------------- every task


@pytest.fixture(scope="module")
def every_task():
    return {name: make_task(name, 30, 60, seed=3) for name in TASK_NAMES}


@pytest.mark.parametrize("name", TASK_NAMES)
def test_fields_name_existing_binary_auxiliary_factors(every_task, name):
    task: Task = every_task[name]
    assert task.contexts == CONTEXTS[name] and task.behaviours == BEHAVIOURS[name]
    assert task.auxiliary_factors == AUXILIARY_FACTORS[name]
    # the task variables are the factors that are not annotations
    assert list(task.variables) == VARIABLES[name]
    assert list(task.factors) == VARIABLES[name] + list(task.auxiliary_factors)
    named = {f for pair in task.contexts.values() for f in pair} | set(task.behaviours.values())
    assert named | set(tasks.get(name).marks) == set(task.auxiliary_factors)
    assert not set(task.events.values()) & set(task.auxiliary_factors)
    for key in task.auxiliary_factors:
        value = task.factors[key]
        assert value.dtype == np.int64 and value.shape == task.mask.shape, key
        assert set(np.unique(value)) <= {0, 1}, key
    for key, value in task.factors.items():
        assert value.dtype == (np.float32 if key in task.continuous_factors else np.int64), key


@pytest.mark.parametrize("name", TASK_NAMES)
def test_behaviours_partition_the_scored_steps(every_task, name):
    task = every_task[name]
    if not task.behaviours:
        return
    total = sum(task.factors[f] for f in task.behaviours.values())
    np.testing.assert_array_equal(total, task.mask.astype(np.int64))


@pytest.mark.parametrize("name", TASK_NAMES)
def test_contexts_split_the_events_token(every_task, name):
    task = every_task[name]
    for role, (acts, inert) in task.contexts.items():
        a, b = task.factors[acts].astype(bool), task.factors[inert].astype(bool)
        assert not (a & b).any(), role
        assert a.any() and b.any(), role
        token = task.tokens[a | b]
        # the same token kind in both contexts
        token_kind = {"reset": task.factors["is_reset"], "store": task.factors[
            "is_target" if name == "count_reset" else "is_store"]}[role].astype(bool)
        assert token_kind[a | b].all(), role
        assert token.size > 0
        if name != "armed_reset":  # every RESET/target/STORE is in one of the two contexts
            np.testing.assert_array_equal(a | b, token_kind, err_msg=role)
        # the context's event acts exactly where it says: the memory/count changes
        state = task.factors["count" if name == "count_reset" else "memory"]
        before = np.concatenate([np.full((len(state), 1), 0 if name == "count_reset" else
                                         task.n_outputs - 1), state[:, :-1]], axis=1)
        assert (state[a] != before[a]).all(), role
        assert (state[b] == before[b]).all(), role


def test_armed_reset_contexts_differ_only_in_arming(every_task):
    task = every_task["armed_reset"]
    f = {k: v.astype(bool) for k, v in task.factors.items()}
    empty = task.n_outputs - 1
    held = np.concatenate([np.zeros((task.n_sequences, 1), bool), task.factors["memory"][:, :-1]
                           != empty], axis=1)
    np.testing.assert_array_equal(f["reset_acts"], f["is_reset"] & f["armed"] & held)
    np.testing.assert_array_equal(f["reset_inert"], f["is_reset"] & ~f["armed"] & held)


def test_task_checks_annotation_names():
    base = make_task("reset_recall", 2, 10, seed=0)
    fields = {f: getattr(base, f) for f in ("name", "inputs", "targets", "mask", "factors",
                                            "tokens", "kind", "n_outputs", "chance", "events",
                                            "continuous_factors")}
    with pytest.raises(ValueError, match="context 'reset'"):
        Task(**fields, contexts={"reset": ("reset_acts", "nope")})
    with pytest.raises(ValueError, match="context 'reset'"):
        Task(**fields, contexts={"reset": ("reset_acts",)})
    with pytest.raises(ValueError, match="behaviour 'x'"):
        Task(**fields, behaviours={"x": "nope"})
    with pytest.raises(ValueError, match="auxiliary factor 'nope'"):
        Task(**fields, auxiliary_factors=("nope",))
    plain = Task(**fields)  # annotations are optional
    assert plain.contexts == {} and plain.behaviours == {} and plain.auxiliary_factors == ()
    assert set(plain.variables) == set(base.factors)
    assert set(EVENTS) == set(CONTEXTS) == set(BEHAVIOURS) == set(TASK_NAMES)
