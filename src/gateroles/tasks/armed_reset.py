"""``armed_reset`` (the context task): one token, two meanings.

Tokens: STORE_k = k, ARM = K, RESET = K + 1, QUERY = K + 2, distractors K + 3 + d, each step's
type drawn i.i.d. ``armed`` (after each step): an ARM came since the last STORE (or, before any
STORE, at all). A RESET clears the memory iff armed; it does not disarm (a second RESET before
the next STORE is armed too, on an already EMPTY memory). A STORE disarms. A gate that learned
its role responds to an armed RESET and not to an unarmed one; a gate that only reads its input
responds to both.

Looking back from a RESET, the first ARM-or-STORE is an ARM with odds p_arm : p_store, so with
the defaults about 55% of RESETs are armed and 45% unarmed; about a third of RESETs are armed
while the memory holds a value (they erase), 42% unarmed while it holds one (they must not);
the rest act on an EMPTY memory. Measured in tests/test_tasks.py; an LSTM and a GRU (32 units)
solve it within a few hundred steps.
"""

from __future__ import annotations

import numpy as np

from gateroles.tasks.core import (
    Budget,
    Int,
    Probability,
    TaskSpec,
    at,
    before,
    binary,
    categorical,
    check_token_probabilities,
    last_event_index,
    majority_rate,
    memory_contexts,
    one_hot,
)


def armed_factors(is_store, is_arm, is_reset, is_query, values, k: int
                  ) -> tuple[np.ndarray, dict]:
    """(targets, factors) of an armed store/reset/recall token sequence (shared with
    hold_armed). ``values[n, t]`` is STORE's value where ``is_store``."""
    last_store = last_event_index(is_store)
    armed = last_event_index(is_arm) > last_store  # both -1 (neither yet): unarmed
    is_armed_reset = is_reset & armed  # a RESET leaves `armed` as it was
    written = np.where(is_store, values, k)
    last = last_event_index(is_store | is_armed_reset)
    memory = np.where(last >= 0, np.take_along_axis(written, np.maximum(last, 0), axis=1), k)
    memory = memory.astype(np.int64)
    targets = np.where(is_query, memory, 0).astype(np.int64)

    # Annotations. Both reset contexts hold a value before the RESET, so they differ only in
    # being armed (an armed RESET on an EMPTY memory has nothing to erase).
    contexts = memory_contexts(is_store, values, is_armed_reset, memory, k)
    holds = before(memory, k) != k
    contexts["reset_inert"] = (is_reset & ~armed & holds).astype(np.int64)
    # A query's behaviour, from the last STORE before it (`last_store`, -1 if none):
    # an armed RESET came after it (answer EMPTY); else a RESET came after it but did not clear
    # (answer: the stored value); else no RESET since the STORE; else nothing has set the
    # memory yet (answer EMPTY; unarmed RESETs before any STORE change nothing).
    after_armed = at(is_armed_reset, last)
    reset_since_store = last_event_index(is_reset) > last_store
    stored = last_store >= 0
    behaviours = binary(
        recall_after_armed_reset=is_query & after_armed,
        recall_after_unarmed_reset=is_query & ~after_armed & stored & reset_since_store,
        recall_after_store=is_query & stored & ~reset_since_store,
        recall_initial=is_query & ~after_armed & ~stored,
    )
    factors = {
        **binary(is_store=is_store, is_arm=is_arm, is_reset=is_reset, is_query=is_query),
        "memory": memory,
        **binary(armed=armed, is_armed_reset=is_armed_reset),
        **contexts,
        **behaviours,
    }
    return targets, factors


def generate(rng: np.random.Generator, n: int, t: int, p: dict, split=None) -> dict:
    k, n_d = p["n_values"], p["n_distractors"]
    cat = categorical(rng, [p["p_store"], p["p_arm"], p["p_reset"], p["p_query"]], (n, t))
    # Drawn for every step (not only where used) so the stream layout is shape-only.
    values = rng.integers(0, k, size=(n, t))
    distractor = rng.integers(0, max(n_d, 1), size=(n, t))

    is_store, is_arm, is_reset, is_query = (cat == c for c in range(4))
    tokens = np.select([is_store, is_arm, is_reset, is_query], [values, k, k + 1, k + 2],
                       k + 3 + distractor).astype(np.int64)
    targets, factors = armed_factors(is_store, is_arm, is_reset, is_query, values, k)
    return {"inputs": one_hot(tokens, k + 3 + n_d), "targets": targets,
            "mask": is_query.copy(), "factors": factors, "tokens": tokens,
            "n_outputs": k + 1, "chance": majority_rate(targets, is_query, k + 1)}


def check(name: str, p: dict) -> None:
    check_token_probabilities(name, p, scored="p_query")


# The events, annotations and predictions of the armed store/reset/recall rules (shared with
# hold_armed). The reset event is the armed RESET (the one that must erase); every RESET token
# is `is_reset`, and the reset context contrasts armed with unarmed ones.
EVENTS = {"store": "is_store", "reset": "is_armed_reset", "query": "is_query"}
CONTEXTS = {"reset": ("reset_acts", "reset_inert"), "store": ("store_acts", "store_inert")}
# The context pair the role hypothesis implies (claim C1's context test): an armed RESET (it
# must erase) against an unarmed one (it must not), the memory holding a value in both, so a
# gate that only reads its input responds to both alike.
ROLE_CONTEXTS = {"reset": CONTEXTS["reset"]}
# A query after an armed RESET must answer EMPTY (the reset must erase); one after a STORE must
# answer the stored value (the store must write; an unarmed RESET in between changes nothing,
# so those queries need the store too); the read-out is needed where the answer is a stored
# value (see reset_recall).
NEEDS = {"reset": ("recall_after_armed_reset",),
         "store": ("recall_after_store", "recall_after_unarmed_reset"),
         "query": ("recall_after_store", "recall_after_unarmed_reset")}

SPEC = TaskSpec(
    name="armed_reset",
    stream_id=5,
    description=(
        "One token, two meanings: STORE_k remembers k, RESET empties the memory only if an ARM "
        "came since the last STORE (an armed RESET; a STORE disarms), otherwise it changes "
        "nothing; QUERY reads out the memory (or EMPTY). With the defaults about 55% of RESETs "
        "are armed and 45% unarmed."),
    kind="classification",
    generate=generate,
    check=check,
    params={
        "n_values": Int(4, "Number of storable values K."),
        "n_distractors": Int(4, "Number of distractor tokens.", minimum=0),
        "p_store": Probability(0.15, "Probability of a STORE token per step."),
        "p_arm": Probability(0.2, "Probability of an ARM token per step."),
        "p_reset": Probability(0.1, "Probability of a RESET token (armed or not) per step."),
        "p_query": Probability(0.1, "Probability of a QUERY token per step."),
    },
    events=EVENTS,
    memory="memory",
    contexts=CONTEXTS,
    role_contexts=ROLE_CONTEXTS,
    behaviours={"recall_after_armed_reset": "recall_after_armed_reset",
                "recall_after_unarmed_reset": "recall_after_unarmed_reset",
                "recall_after_store": "recall_after_store",
                "recall_initial": "recall_initial"},
    needs=NEEDS,
    # As reset_recall's: EMPTY after an armed RESET against EMPTY before any STORE (forget);
    # the answers that read out a held value against those answered EMPTY (output).
    dissociations={"forget": (("recall_after_armed_reset",), ("recall_initial",)),
                   "output": (("recall_after_store", "recall_after_unarmed_reset"),
                              ("recall_after_armed_reset", "recall_initial"))},
    steps=Budget(800, "Seeds solved by steps 200-300 (LSTM and GRU, H=32)."),
    threshold=Budget(0.99, "Accuracy at the queries."),
    chance="the majority answer's rate at the queries (EMPTY)",
)
