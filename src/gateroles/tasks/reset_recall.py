"""``reset_recall``: store a value, forget it on RESET, read it out on QUERY.

Tokens: STORE_k = k (k < K, remember k), RESET = K (the memory becomes EMPTY), QUERY = K + 1
(answer with the memory, or EMPTY = class K), distractors K + 2 + d. Each step's token type is
drawn i.i.d. (``p_store``, ``p_reset``, ``p_query``, the rest distractors); loss only at
queries. Variables: ``is_store``, ``is_reset``, ``is_query``, ``memory`` (after the step).
"""

from __future__ import annotations

import numpy as np

from gateroles.tasks.core import (
    Budget,
    Int,
    Probability,
    TaskSpec,
    at,
    binary,
    categorical,
    check_token_probabilities,
    last_event_index,
    majority_rate,
    memory_contexts,
    one_hot,
)


def recall_factors(is_store, is_reset, is_query, values, k: int) -> tuple[np.ndarray, dict]:
    """(targets, factors) of a store/reset/recall token sequence (shared with hold_recall):
    the memory is what the most recent STORE/RESET wrote (EMPTY = k before any); the
    annotations say where a RESET or STORE changes the memory and what set the memory each
    query reads. ``values[n, t]`` is STORE's value where ``is_store``."""
    written = np.where(is_store, values, k)
    last = last_event_index(is_store | is_reset)
    memory = np.where(last >= 0, np.take_along_axis(written, np.maximum(last, 0), axis=1), k)
    memory = memory.astype(np.int64)

    targets = np.where(is_query, memory, 0).astype(np.int64)
    # Annotations. Every RESET clears, so a RESET "acts" where the memory holds a value.
    # A query's memory was last set by the STORE/RESET at `last` (none: the initial EMPTY).
    annotations = {
        **memory_contexts(is_store, values, is_reset, memory, k),
        **binary(recall_after_reset=is_query & at(is_reset, last),
                 recall_after_store=is_query & at(is_store, last),
                 recall_initial=is_query & (last < 0)),
    }
    factors = {
        "is_store": is_store.astype(np.int64),
        "is_reset": is_reset.astype(np.int64),
        "is_query": is_query.astype(np.int64),
        "memory": memory,
        **annotations,
    }
    return targets, factors


def generate(rng: np.random.Generator, n: int, t: int, p: dict, split=None) -> dict:
    k, n_d = p["n_values"], p["n_distractors"]
    cat = categorical(rng, [p["p_store"], p["p_reset"], p["p_query"]], (n, t))
    # Drawn for every step (not only where used) so the stream layout is shape-only.
    values = rng.integers(0, k, size=(n, t))
    distractor = rng.integers(0, max(n_d, 1), size=(n, t))

    is_store, is_reset, is_query = cat == 0, cat == 1, cat == 2
    tokens = np.where(
        is_store, values, np.where(is_reset, k, np.where(is_query, k + 1, k + 2 + distractor))
    ).astype(np.int64)
    targets, factors = recall_factors(is_store, is_reset, is_query, values, k)
    return {"inputs": one_hot(tokens, k + 2 + n_d), "targets": targets,
            "mask": is_query.copy(), "factors": factors, "tokens": tokens,
            "n_outputs": k + 1, "chance": majority_rate(targets, is_query, k + 1)}


def check(name: str, p: dict) -> None:
    check_token_probabilities(name, p, scored="p_query")


SPEC = TaskSpec(
    name="reset_recall",
    stream_id=1,
    description="Store a value, forget it at RESET, read it out at QUERY.",
    kind="classification",
    generate=generate,
    check=check,
    params={
        "n_values": Int(4, "Number of storable values K."),
        "n_distractors": Int(4, "Number of distractor tokens.", minimum=0),
        "p_store": Probability(0.1, "Probability of a STORE token per step."),
        "p_reset": Probability(0.05, "Probability of a RESET token per step."),
        "p_query": Probability(0.1, "Probability of a QUERY token per step."),
    },
    events={"store": "is_store", "reset": "is_reset", "query": "is_query"},
    memory="memory",
    contexts={"reset": ("reset_acts", "reset_inert"), "store": ("store_acts", "store_inert")},
    # A RESET on an EMPTY memory may erase (nothing is lost) and a STORE of the value already
    # held may write it again, so neither pair is predicted to differ (no role context).
    role_contexts={},
    behaviours={"recall_after_reset": "recall_after_reset",
                "recall_after_store": "recall_after_store",
                "recall_initial": "recall_initial"},
    # A query after a RESET must answer EMPTY (the reset must erase); a query after a STORE
    # must answer the stored value (the store must write). The read-out at a query is needed
    # where the answer is a stored value: a query whose answer is EMPTY can be answered from a
    # zero read-out (the read-out's bias), and a trained model does exactly that, so those
    # behaviours are not predicted to need it.
    needs={"reset": ("recall_after_reset",),
           "store": ("recall_after_store",),
           "query": ("recall_after_store",)},
    # Both sides of the forget dissociation are answered EMPTY, so a default answer helps both
    # alike; only the served side needs a held value erased (after a STORE is no comparison
    # for the forget gate: writing over a held value erases it too, and an EMPTY default hurts
    # it). The output gate serves the answers that read out a held value.
    dissociations={"forget": (("recall_after_reset",), ("recall_initial",)),
                   "output": (("recall_after_store",), ("recall_after_reset", "recall_initial"))},
    steps=Budget(400, "The slowest of 10 seeds (LSTM, GRU) solved by step 150 (LSTM) and 100 "
                      "(GRU)."),
    threshold=Budget(0.99, "Accuracy at the queries."),
    chance="the majority answer's rate at the queries (EMPTY)",
)
