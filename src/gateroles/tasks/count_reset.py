"""``count_reset``: count TARGET tokens since the last RESET (an integrator).

Tokens: TARGET = 0, RESET = 1, distractors 2 + d, each step's type drawn i.i.d.; the target at
every step is the count since the last RESET, clipped at ``max_count``. Variables: ``count``,
``is_target``, ``is_reset``.
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
    one_hot,
)


def generate(rng: np.random.Generator, n: int, t: int, p: dict, split=None) -> dict:
    n_d, max_count = p["n_distractors"], p["max_count"]
    cat = categorical(rng, [p["p_target"], p["p_reset"]], (n, t))
    distractor = rng.integers(0, max(n_d, 1), size=(n, t))
    is_target, is_reset = cat == 0, cat == 1
    tokens = np.where(cat < 2, cat, 2 + distractor).astype(np.int64)

    # Targets seen so far minus targets seen up to the last reset (a reset step adds none).
    seen = np.cumsum(is_target, axis=1)
    last = last_event_index(is_reset)
    at_reset = np.where(last >= 0, np.take_along_axis(seen, np.maximum(last, 0), axis=1), 0)
    count = np.minimum(seen - at_reset, max_count).astype(np.int64)

    mask = np.ones((n, t), dtype=bool)
    # Annotations, from the count before each step: a RESET acts on a positive count, a target
    # below the clip. The behaviour of a step: the last event (RESET or target) up to it.
    previous = before(count, 0)
    last_event = last_event_index(is_target | is_reset)
    annotations = binary(
        reset_acts=is_reset & (previous > 0), reset_inert=is_reset & (previous == 0),
        store_acts=is_target & (previous < max_count),
        store_inert=is_target & (previous == max_count),
        count_after_reset=at(is_reset, last_event),
        count_after_increment=at(is_target, last_event),
        count_initial=last_event < 0,
    )
    return {
        "inputs": one_hot(tokens, 2 + n_d),
        "targets": count.copy(),
        "mask": mask,
        "factors": {
            "count": count,
            "is_target": is_target.astype(np.int64),
            "is_reset": is_reset.astype(np.int64),
            **annotations,
        },
        "tokens": tokens,
        "n_outputs": max_count + 1,
        "chance": majority_rate(count, mask, max_count + 1),
    }


def check(name: str, p: dict) -> None:
    check_token_probabilities(name, p)


SPEC = TaskSpec(
    name="count_reset",
    stream_id=3,
    description="Count a symbol since the last RESET.",
    kind="classification",
    generate=generate,
    check=check,
    params={
        "n_distractors": Int(4, "Number of distractor tokens.", minimum=0),
        "p_target": Probability(0.15, "Probability of the counted symbol per step."),
        "p_reset": Probability(0.05, "Probability of a RESET per step."),
        "max_count": Int(8, "Counts are clipped at this value (classes 0..max_count)."),
    },
    events={"store": "is_target", "reset": "is_reset"},
    memory="count",
    contexts={"reset": ("reset_acts", "reset_inert"), "store": ("store_acts", "store_inert")},
    role_contexts={},
    behaviours={"count_after_reset": "count_after_reset",
                "count_after_increment": "count_after_increment",
                "count_initial": "count_initial"},
    # A count right after a RESET needs the erasure, one right after a target the increment.
    # (A count is an integrator, so a RESET that fails to erase also spoils the counts after
    # the next targets: count_after_increment depends on resets in part, and is left out of
    # the reset predictions because its steps before the first RESET do not.)
    needs={"reset": ("count_after_reset",), "store": ("count_after_increment",)},
    dissociations={"forget": (("count_after_reset",), ("count_initial",)),
                   "output": (("count_after_increment",), ("count_after_reset",
                                                          "count_initial"))},
    steps=Budget(800, "The slowest seeds solved by step 350 (LSTM) and 275 (GRU)."),
    threshold=Budget(0.99, "Accuracy at every step."),
    chance="the majority count's rate",
)
