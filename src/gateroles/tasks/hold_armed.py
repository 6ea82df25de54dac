"""``hold_armed``: the context task with a long hold (the long-hold version of
``armed_reset``): an ARM and the RESET it arms ``hold`` steps apart, so whether the RESET must
erase has to be held across the hold.

A sequence is a run of episodes, back to back from step 0. Each episode is ``hold + 4`` steps:

* ``STORE_k`` (k drawn from K values);
* an ``ARM`` in an armed episode (each with probability ``p_arm``, 1/2 by default, drawn per
  episode), a distractor otherwise;
* exactly ``hold`` steps: distractors, and one ``QUERY`` at a step drawn uniformly (its answer
  is k: the memory must not be emptied at the ARM);
* ``RESET``: it empties the memory only if armed (armed_reset's rule: an ARM since the last
  STORE);
* ``QUERY``: EMPTY after an armed RESET, k after an unarmed one.

The steps after the last whole episode are distractors. Loss only at queries; the chance level
is the majority answer's rate. Tokens, rules, variables and annotations are armed_reset's
(STORE_k = k, ARM = K, RESET = K + 1, QUERY = K + 2, distractors K + 3 + d; ``armed``,
``is_armed_reset``, the armed/unarmed RESET context pair, the recall behaviours; no query is
answered before a STORE, so ``recall_initial`` does not exist), plus the marks of where memory
must be held (``hold_keep`` / ``hold_erase``: the steps strictly between a STORE and a QUERY
with no armed RESET / an armed RESET between them; a step before the mid-hold QUERY lies in
both kinds of interval in an armed episode).

A sequence must hold one whole episode: ``length >= hold + 4`` (`min_length`); the workflow
lengthens a hold task's sequences to that where ``data.length`` is shorter
(:func:`gateroles.tasks.length_for`).
"""

from __future__ import annotations

import numpy as np

from gateroles.tasks.armed_reset import SPEC as ARMED_RESET
from gateroles.tasks.armed_reset import armed_factors
from gateroles.tasks.core import (
    Budget,
    Int,
    Probability,
    TaskSpec,
    held_memory_fields,
)


def episode_length(p: dict) -> int:
    return p["hold"] + 4


def generate(rng: np.random.Generator, n: int, t: int, p: dict, split=None) -> dict:
    k, n_d, hold = p["n_values"], p["n_distractors"], p["hold"]
    width = episode_length(p)
    episodes = t // width
    values = rng.integers(0, k, size=(n, episodes))
    armed = rng.random((n, episodes)) < p["p_arm"]
    query_at = rng.integers(0, hold, size=(n, episodes))  # which step of the hold
    distractor = rng.integers(0, n_d, size=(n, t))

    tokens = (k + 3 + distractor).astype(np.int64)
    start = np.arange(episodes) * width  # each episode's STORE
    tokens[:, start] = values
    arm_rows, arm_episodes = np.nonzero(armed)
    tokens[arm_rows, start[arm_episodes] + 1] = k
    tokens[np.arange(n)[:, None], start + 2 + query_at] = k + 2  # the mid-hold QUERY
    tokens[:, start + hold + 2] = k + 1  # RESET, hold steps after the ARM's step
    tokens[:, start + hold + 3] = k + 2

    is_store, is_arm, is_reset, is_query = tokens < k, tokens == k, tokens == k + 1, tokens == k + 2
    targets, factors = armed_factors(is_store, is_arm, is_reset, is_query,
                                     np.where(is_store, tokens, 0), k)
    del factors["recall_initial"]  # every episode stores first
    return held_memory_fields(tokens, targets, factors, SPEC.events, k + 3 + n_d, k)


SPEC = TaskSpec(
    name="hold_armed",
    stream_id=7,
    description=(
        "armed_reset with a controlled hold: episodes of STORE_k, ARM (in a share p_arm of the "
        "episodes, else a distractor), exactly `hold` steps (distractors and one QUERY), RESET "
        "(it empties the memory only if armed), QUERY. A config entry `hold_armed@H` is this "
        "task with hold H. Sequences are lengthened to one episode (hold + 4 steps) where "
        "data.length is shorter."),
    kind="classification",
    generate=generate,
    params={
        "hold": Int(10, "Steps between each episode's ARM (or the distractor in its place) and "
                        "its RESET; `hold_armed@H` sets it to H.", maximum=100000),
        "n_values": Int(4, "Number of storable values K."),
        "n_distractors": Int(4, "Number of distractor tokens (at least one: the hold is made "
                                "of them)."),
        "p_arm": Probability(0.5, "Probability that an episode is armed (its RESET erases), "
                                  "drawn per episode."),
    },
    events=ARMED_RESET.events,
    memory="memory",
    contexts=ARMED_RESET.contexts,
    role_contexts=ARMED_RESET.role_contexts,
    behaviours={"recall_after_armed_reset": "recall_after_armed_reset",
                "recall_after_unarmed_reset": "recall_after_unarmed_reset",
                "recall_after_store": "recall_after_store"},
    needs=ARMED_RESET.needs,  # the same rules
    # No forget dissociation: every EMPTY answer here follows an erasure.
    dissociations={"output": (("recall_after_store", "recall_after_unarmed_reset"),
                              ("recall_after_armed_reset",))},
    steps=Budget(2000, "Measured with early stopping (lr 0.01, H=32, data.length 100, seed "
                       "0): the LSTM first passed 0.99 at steps 50, 100 and 900 at holds 5, 15 "
                       "and 45; the GRU at 50, 75 and 175. About 2x the LSTM's slowest."),
    threshold=Budget(0.99, "Accuracy at the queries."),
    chance="the majority answer's rate at the queries",
    min_length=episode_length,
    marks=("hold_keep", "hold_erase"),
)
