"""``toy_recall``: a toy task, the whole of it in this one file (tests/test_task_registry.py
copies it into a project's `gateroles/tasks/` folder, or registers it in the running process).

Tokens: STORE_k = k (k < K), QUERY = K, a distractor K + 1. A query answers the last stored
value (EMPTY = K before any STORE). A store and a query event, a memory, one behaviour that
needs the store; no RESET, so nothing to erase, no context, no dissociation.
"""

import numpy as np

from gateroles.tasks.core import (
    Budget,
    Int,
    Probability,
    TaskSpec,
    categorical,
    check_token_probabilities,
    last_event_index,
    majority_rate,
    one_hot,
)


def generate(rng, n, t, p, split=None):
    k = p["n_values"]
    cat = categorical(rng, [p["p_store"], p["p_query"]], (n, t))
    values = rng.integers(0, k, size=(n, t))
    is_store, is_query = cat == 0, cat == 1
    tokens = np.where(is_store, values, np.where(is_query, k, k + 1)).astype(np.int64)
    last = last_event_index(is_store)
    memory = np.where(last >= 0, np.take_along_axis(values, np.maximum(last, 0), axis=1), k)
    targets = np.where(is_query, memory, 0).astype(np.int64)
    factors = {"is_store": is_store.astype(np.int64), "is_query": is_query.astype(np.int64),
               "memory": memory.astype(np.int64), "recall": is_query.astype(np.int64)}
    return {"inputs": one_hot(tokens, k + 2), "targets": targets, "mask": is_query.copy(),
            "factors": factors, "tokens": tokens, "n_outputs": k + 1,
            "chance": majority_rate(targets, is_query, k + 1)}


def check(name, p):
    check_token_probabilities(name, p, scored="p_query")


SPEC = TaskSpec(
    name="toy_recall",
    stream_id=901,
    description="A toy: store a value, read it out at QUERY (no RESET).",
    kind="classification",
    generate=generate,
    check=check,
    params={"n_values": Int(3, "Number of storable values K."),
            "p_store": Probability(0.2, "Probability of a STORE per step."),
            "p_query": Probability(0.2, "Probability of a QUERY per step.")},
    events={"store": "is_store", "query": "is_query"},
    memory="memory",
    contexts={},
    role_contexts={},
    behaviours={"recall": "recall"},
    needs={"store": ("recall",), "query": ("recall",)},
    dissociations={},
    steps=Budget(60, "A toy budget."),
    threshold=Budget(0.5, "Accuracy at the queries."),
    chance="the majority answer's rate at the queries",
)
