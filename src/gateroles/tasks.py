"""Synthetic sequence tasks with per-timestep ground-truth factors.

Each task is designed so that one gate role should be necessary to solve it:

* ``reset_recall`` -- store a value, forget it on RESET, read it out on QUERY.
* ``adding`` -- the classic adding problem (Hochreiter & Schmidhuber, 1997): store two
  marked values and read out their sum at the end.
* ``count_reset`` -- count TARGET tokens since the last RESET (saturating at ``max_count``).
* ``armed_reset`` -- one token, two meanings: RESET clears the memory only if an ARM came
  since the last STORE ("armed"); otherwise it is a distractor.
* ``charlm`` -- next-character prediction on real text: the Python source of a pinned
  dependency (snakemake, see :data:`CHARLM_PACKAGE`; Karpathy et al. 2015), with
  per-character syntax variables.

Besides inputs/targets, every :class:`Task` carries ``factors``: the latent variables a
perfect solver must track (memory content, counts, event indicators), aligned with the
inputs step by step. These are the regression/classification targets for probes and the
triggers for event-triggered averages of gate activations.

Some factors are *annotations* for later analyses rather than task variables (listed in
``Task.auxiliary_factors``; probes and disentanglement skip them):

* ``Task.contexts``: role -> (factor marking the role's token where it must act, factor
  marking the same token where it must not), e.g. an armed vs an unarmed RESET, or a RESET
  while the memory holds a value vs while it is already empty. "Before" states (memory,
  count) are those before the step.
* ``Task.behaviours``: behaviour -> factor marking the scored steps (mask true) of that kind,
  e.g. queries answered after a RESET vs after a STORE. The behaviours of a task partition
  its scored steps.

All factors are ``[N, T]`` arrays, int64 except the continuous ones.

Generation is fully vectorised: per-step token types are drawn i.i.d., and the latent
state is recovered with cumulative operations (``np.maximum.accumulate`` to forward-fill
the index of the last state-changing event, ``cumsum`` for counts and sums).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import importlib.util
import io
import numbers
import tokenize
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TASK_NAMES = ("reset_recall", "adding", "count_reset", "charlm", "armed_reset")

# Fixed per-task stream ids. Never change them: they are part of what makes a dataset
# reproducible from its seed.
_TASK_IDS = {"reset_recall": 1, "adding": 2, "count_reset": 3, "charlm": 4, "armed_reset": 5}
# Domain tag placed first in the spawn key so that task streams cannot coincide with
# ``np.random.SeedSequence(seed).spawn(...)`` children used elsewhere (whose keys are (0,),
# (1,), ...).
_DOMAIN = zlib.crc32(b"gateroles.tasks")

_DEFAULTS: dict[str, dict[str, int | float]] = {
    "reset_recall": {
        "n_values": 4,
        "n_distractors": 4,
        "p_store": 0.1,
        "p_reset": 0.05,
        "p_query": 0.1,
    },
    "adding": {},
    "count_reset": {
        "n_distractors": 4,
        "p_target": 0.15,
        "p_reset": 0.05,
        "max_count": 8,
    },
    "charlm": {
        "max_depth": 3,
    },
    # Looking back from a RESET, the first ARM-or-STORE is an ARM with odds p_arm : p_store, so
    # about 55% of RESETs are armed and 45% unarmed; about a third of RESETs are armed while the
    # memory holds a value (they erase), 42% unarmed while it holds one (they must not); the
    # rest act on an EMPTY memory. Measured in tests/test_tasks.py; an LSTM and a GRU (32
    # units) solve it within a few hundred steps.
    "armed_reset": {
        "n_values": 4,
        "n_distractors": 4,
        "p_store": 0.15,
        "p_arm": 0.2,
        "p_reset": 0.1,
        "p_query": 0.1,
    },
}

# Event role -> the binary factor that marks it (used for event-triggered averages).
EVENTS: dict[str, dict[str, str]] = {
    "reset_recall": {"store": "is_store", "reset": "is_reset", "query": "is_query"},
    "adding": {"store": "is_marked"},
    "count_reset": {"store": "is_target", "reset": "is_reset"},
    # A newline resets the column (a counter, as in count_reset): the only event of real text
    # with a role the gates' graph positions name.
    "charlm": {"reset": "is_newline"},
    # The reset event is the armed RESET (the one that must erase); every RESET token is
    # ``is_reset``, and ``CONTEXTS`` contrasts armed with unarmed ones.
    "armed_reset": {"store": "is_store", "reset": "is_armed_reset", "query": "is_query"},
}

# The variable a solver's state must hold (what a "memory-carrying" unit carries).
MEMORY: dict[str, str] = {"reset_recall": "memory", "adding": "partial_sum",
                          "count_reset": "count", "charlm": "bracket_depth",
                          "armed_reset": "memory"}

# Role -> (factor: the role's token where it must act, factor: the same token where it must
# not), both binary. Compares the same input token in different states.
CONTEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "reset_recall": {"reset": ("reset_acts", "reset_inert"),
                     "store": ("store_acts", "store_inert")},
    "adding": {},
    "count_reset": {"reset": ("reset_acts", "reset_inert"),
                    "store": ("store_acts", "store_inert")},
    "charlm": {},
    "armed_reset": {"reset": ("reset_acts", "reset_inert"),
                    "store": ("store_acts", "store_inert")},
}

# The context pairs the role hypothesis implies (claim C1's context test): the same token where
# its role must act against where it must not, the memory holding a value in both, so a gate
# that only reads its input responds to both alike. Only armed vs unarmed RESET qualifies:
# a RESET on an EMPTY memory may erase (nothing is lost) and a STORE of the value already held
# may write it again, so those pairs of CONTEXTS are not predicted to differ.
ROLE_CONTEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "armed_reset": {"reset": CONTEXTS["armed_reset"]["reset"]},
}

# Behaviour -> binary factor marking the scored steps of that kind (they partition the mask).
BEHAVIOURS: dict[str, dict[str, str]] = {
    "reset_recall": {"recall_after_reset": "recall_after_reset",
                     "recall_after_store": "recall_after_store",
                     "recall_initial": "recall_initial"},
    "adding": {"sum": "sum_step"},
    "count_reset": {"count_after_reset": "count_after_reset",
                    "count_after_increment": "count_after_increment",
                    "count_initial": "count_initial"},
    "charlm": {},
    "armed_reset": {"recall_after_armed_reset": "recall_after_armed_reset",
                    "recall_after_unarmed_reset": "recall_after_unarmed_reset",
                    "recall_after_store": "recall_after_store",
                    "recall_initial": "recall_initial"},
}


def _auxiliary(name: str) -> tuple[str, ...]:
    names = [f for pair in CONTEXTS[name].values() for f in pair] + list(BEHAVIOURS[name].values())
    return tuple(dict.fromkeys(names))


# Factors that exist only for CONTEXTS and BEHAVIOURS (not task variables): analyses of task
# variables (probes, disentanglement) skip them. Also on ``Task.auxiliary_factors``.
AUXILIARY_FACTORS: dict[str, tuple[str, ...]] = {name: _auxiliary(name) for name in TASK_NAMES}

_MIN_LENGTH = {"reset_recall": 1, "adding": 4, "count_reset": 1, "charlm": 1, "armed_reset": 1}


@dataclass(frozen=True, eq=False)
class Task:
    """A generated dataset of ``N`` sequences of length ``T``.

    ``eq=False``: the fields are arrays, so value equality would be ambiguous; instances
    compare (and hash) by identity.
    """

    name: str
    inputs: np.ndarray  # float32 [N, T, input_size]
    targets: np.ndarray  # int64 [N, T] (classification) / float32 [N, T] (regression)
    mask: np.ndarray  # bool [N, T]: steps where loss and score apply
    factors: dict[str, np.ndarray]  # name -> [N, T]
    tokens: np.ndarray  # int64 [N, T]: input token type per step
    kind: str  # "classification" | "regression"
    n_outputs: int  # number of classes, or 1 for regression
    chance: float  # score of the best constant predictor
    events: dict[str, str]  # role -> name of a binary event factor
    continuous_factors: tuple[str, ...]  # factors that are continuous (float32)
    meta: dict = dataclasses.field(default_factory=dict)  # provenance (e.g. charlm's corpus hash)
    # role -> (binary factor: the token where it must act, binary factor: where it must not)
    contexts: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    # behaviour -> binary factor marking the scored steps of that kind
    behaviours: dict[str, str] = dataclasses.field(default_factory=dict)
    # factors that exist for contexts/behaviours and are not task variables
    auxiliary_factors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("classification", "regression"):
            raise ValueError(f"kind must be 'classification' or 'regression', got {self.kind!r}")
        shape = self.inputs.shape[:2]
        for field, arr in (("targets", self.targets), ("mask", self.mask), ("tokens", self.tokens)):
            if arr.shape != shape:
                raise ValueError(f"{field} has shape {arr.shape}, expected {shape}")
        for key, arr in self.factors.items():
            if arr.shape != shape:
                raise ValueError(f"factor {key!r} has shape {arr.shape}, expected {shape}")
        for role, key in self.events.items():
            if key not in self.factors:
                raise ValueError(f"event {role!r} refers to unknown factor {key!r}")
        for role, pair in self.contexts.items():
            if len(pair) != 2 or any(key not in self.factors for key in pair):
                raise ValueError(f"context {role!r} must name two known factors, got {pair!r}")
        for behaviour, key in self.behaviours.items():
            if key not in self.factors:
                raise ValueError(f"behaviour {behaviour!r} refers to unknown factor {key!r}")
        for key in self.auxiliary_factors:
            if key not in self.factors:
                raise ValueError(f"auxiliary factor {key!r} is not a factor")

    @property
    def variables(self) -> dict[str, np.ndarray]:
        """The task variables: every factor except the auxiliary (annotation) ones."""
        return {k: v for k, v in self.factors.items() if k not in self.auxiliary_factors}

    @property
    def n_sequences(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def length(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def input_size(self) -> int:
        return int(self.inputs.shape[2])

    @property
    def metric(self) -> str:
        return "accuracy" if self.kind == "classification" else "mse"


# --------------------------------------------------------------------------- validation


def _check_name(name: str) -> None:
    if name not in TASK_NAMES:
        raise ValueError(f"unknown task {name!r}; allowed names: {', '.join(TASK_NAMES)}")


def _is_int(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _is_real(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _check_int(key: str, value: object, minimum: int) -> int:
    if not _is_int(value) or int(value) < minimum:
        raise ValueError(f"{key} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_prob(key: str, value: object) -> float:
    if not _is_real(value) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{key} must be a probability in [0, 1], got {value!r}")
    return float(value)


def default_params(name: str) -> dict:
    """The task's parameters and their defaults (a fresh copy)."""
    _check_name(name)
    return dict(_DEFAULTS[name])


def _resolve_params(name: str, params: Mapping[str, object]) -> dict:
    """Merge ``params`` into the defaults and validate every value."""
    allowed = _DEFAULTS[name]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        allowed_s = ", ".join(allowed) if allowed else "none"
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)} for task {name!r}; "
            f"allowed parameters: {allowed_s}"
        )
    p = {**allowed, **params}
    out: dict = {}
    for key, value in p.items():
        if key.startswith("p_"):
            out[key] = _check_prob(key, value)
        elif key == "n_distractors":
            out[key] = _check_int(key, value, 0)
        else:  # n_values, max_count, max_depth
            out[key] = _check_int(key, value, 1)
    probs = {k: v for k, v in out.items() if k.startswith("p_")}
    total = sum(probs.values())
    if total > 1.0 + 1e-9:
        raise ValueError(
            f"probabilities {', '.join(probs)} sum to {total:.6g} > 1 for task {name!r}"
        )
    if "n_distractors" in out and out["n_distractors"] == 0 and total < 1.0 - 1e-9:
        raise ValueError(
            f"n_distractors=0 requires {', '.join(probs)} to sum to 1 (got {total:.6g}): "
            "the remaining probability mass is assigned to distractors"
        )
    if name in ("reset_recall", "armed_reset") and out["p_query"] == 0.0:
        raise ValueError(f"p_query must be > 0 for task {name!r} (no step would be scored)")
    return out


def _check_size(key: str, n_sequences: object, length: object, name: str) -> tuple[int, int]:
    n = _check_int(key, n_sequences, 1)
    t_min = _MIN_LENGTH[name]
    if not _is_int(length) or int(length) < t_min:
        raise ValueError(f"length must be an integer >= {t_min} for task {name!r}, got {length!r}")
    return n, int(length)


def _check_seed(seed: object) -> int:
    if not _is_int(seed) or int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


# --------------------------------------------------------------------------- helpers


def _categorical(rng: np.random.Generator, probs: list[float], shape: tuple[int, ...]):
    """I.i.d. category ids ``0..len(probs)`` per element; id ``len(probs)`` gets the rest.

    If the probabilities sum to 1, float round-off could still push a draw past the last
    cumulative bound; such draws are assigned to the last category with positive mass.
    """
    cum = np.cumsum(probs)
    cat = np.searchsorted(cum, rng.random(shape), side="right")
    if cum[-1] >= 1.0 - 1e-9:
        last = max(i for i, p in enumerate(probs) if p > 0)
        cat = np.minimum(cat, last)
    return cat


def _last_event_index(is_event: np.ndarray) -> np.ndarray:
    """Index of the most recent step <= t where ``is_event`` holds, -1 if none (per row)."""
    t = np.arange(is_event.shape[1])
    return np.maximum.accumulate(np.where(is_event, t, -1), axis=1)


def _before(state: np.ndarray, initial: int) -> np.ndarray:
    """The state before each step: ``state`` shifted one step right, ``initial`` at step 0."""
    out = np.empty_like(state)
    out[:, 0] = initial
    out[:, 1:] = state[:, :-1]
    return out


def _at(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[row, index]`` per row, False where ``index < 0`` (no such step)."""
    return (index >= 0) & np.take_along_axis(values, np.maximum(index, 0), axis=1)


def _binary(**arrays: np.ndarray) -> dict[str, np.ndarray]:
    return {key: value.astype(np.int64) for key, value in arrays.items()}


def _annotations(name: str) -> dict:
    """The Task fields that name the context and behaviour annotations of task ``name``."""
    return {"contexts": dict(CONTEXTS[name]), "behaviours": dict(BEHAVIOURS[name]),
            "auxiliary_factors": AUXILIARY_FACTORS[name]}


def _memory_contexts(is_store, values, resets, memory, empty: int) -> dict[str, np.ndarray]:
    """Store and reset contexts of a memory task, from the memory before each step.

    reset_acts / reset_inert: a clearing RESET (``resets``: the RESETs that clear) while the
    memory holds a value / is already EMPTY; store_acts / store_inert: STORE_k while the memory
    is not k / is already k.
    """
    before = _before(memory, empty)
    holds = before != empty
    same = before == values
    return _binary(reset_acts=resets & holds, reset_inert=resets & ~holds,
                   store_acts=is_store & ~same, store_inert=is_store & same)


def _one_hot(tokens: np.ndarray, size: int) -> np.ndarray:
    return np.eye(size, dtype=np.float32)[tokens]


def _majority_rate(targets: np.ndarray, mask: np.ndarray, n_classes: int) -> float:
    """Accuracy of always predicting the most frequent masked target (NaN if nothing masked)."""
    counts = np.bincount(targets[mask], minlength=n_classes)
    total = counts.sum()
    return float(counts.max() / total) if total else float("nan")


# --------------------------------------------------------------------------- generators


def _reset_recall(rng: np.random.Generator, n: int, t: int, p: dict) -> Task:
    k, n_d = p["n_values"], p["n_distractors"]
    cat = _categorical(rng, [p["p_store"], p["p_reset"], p["p_query"]], (n, t))
    # Drawn for every step (not only where used) so the stream layout is shape-only.
    values = rng.integers(0, k, size=(n, t))
    distractor = rng.integers(0, max(n_d, 1), size=(n, t))

    is_store, is_reset, is_query = cat == 0, cat == 1, cat == 2
    tokens = np.where(
        is_store, values, np.where(is_reset, k, np.where(is_query, k + 1, k + 2 + distractor))
    ).astype(np.int64)

    # Memory = content written by the most recent STORE/RESET (EMPTY = k before any).
    written = np.where(is_store, values, k)
    last = _last_event_index(is_store | is_reset)
    memory = np.where(last >= 0, np.take_along_axis(written, np.maximum(last, 0), axis=1), k)
    memory = memory.astype(np.int64)

    targets = np.where(is_query, memory, 0).astype(np.int64)
    # Annotations. Every RESET clears, so a RESET "acts" where the memory holds a value.
    # A query's memory was last set by the STORE/RESET at `last` (none: the initial EMPTY).
    annotations = {
        **_memory_contexts(is_store, values, is_reset, memory, k),
        **_binary(recall_after_reset=is_query & _at(is_reset, last),
                  recall_after_store=is_query & _at(is_store, last),
                  recall_initial=is_query & (last < 0)),
    }
    return Task(
        name="reset_recall",
        inputs=_one_hot(tokens, k + 2 + n_d),
        targets=targets,
        mask=is_query.copy(),
        factors={
            "is_store": is_store.astype(np.int64),
            "is_reset": is_reset.astype(np.int64),
            "is_query": is_query.astype(np.int64),
            "memory": memory,
            **annotations,
        },
        tokens=tokens,
        kind="classification",
        n_outputs=k + 1,
        chance=_majority_rate(targets, is_query, k + 1),
        events=dict(EVENTS["reset_recall"]),
        continuous_factors=(),
        **_annotations("reset_recall"),
    )


def _adding(rng: np.random.Generator, n: int, t: int, p: dict) -> Task:
    values = rng.random((n, t), dtype=np.float32)
    first = rng.integers(0, t // 2, size=n)
    second = rng.integers(t // 2, t - 1, size=n)  # never the last step
    rows = np.arange(n)
    marker = np.zeros((n, t), dtype=np.int64)
    marker[rows, first] = 1
    marker[rows, second] = 1

    # Sequential float32 cumsum: adding exact zeros keeps the final value equal to a + b.
    partial_sum = np.cumsum(values * marker, axis=1, dtype=np.float32)
    targets = np.zeros((n, t), dtype=np.float32)
    targets[:, -1] = partial_sum[:, -1]
    mask = np.zeros((n, t), dtype=bool)
    mask[:, -1] = True
    return Task(
        name="adding",
        inputs=np.stack([values, marker.astype(np.float32)], axis=-1),
        targets=targets,
        mask=mask,
        factors={
            "is_marked": marker,
            "n_marked": np.cumsum(marker, axis=1),
            "partial_sum": partial_sum,
            "sum_step": mask.astype(np.int64),  # behaviour "sum": the scored last step
        },
        tokens=marker.copy(),
        kind="regression",
        n_outputs=1,
        chance=1.0 / 6.0,  # Var(U1 + U2) = 2 * 1/12
        events=dict(EVENTS["adding"]),
        continuous_factors=("partial_sum",),
        **_annotations("adding"),
    )


def _count_reset(rng: np.random.Generator, n: int, t: int, p: dict) -> Task:
    n_d, max_count = p["n_distractors"], p["max_count"]
    cat = _categorical(rng, [p["p_target"], p["p_reset"]], (n, t))
    distractor = rng.integers(0, max(n_d, 1), size=(n, t))
    is_target, is_reset = cat == 0, cat == 1
    tokens = np.where(cat < 2, cat, 2 + distractor).astype(np.int64)

    # Targets seen so far minus targets seen up to the last reset (a reset step adds none).
    seen = np.cumsum(is_target, axis=1)
    last = _last_event_index(is_reset)
    at_reset = np.where(last >= 0, np.take_along_axis(seen, np.maximum(last, 0), axis=1), 0)
    count = np.minimum(seen - at_reset, max_count).astype(np.int64)

    mask = np.ones((n, t), dtype=bool)
    # Annotations, from the count before each step: a RESET acts on a positive count, a target
    # below the clip. The behaviour of a step: the last event (RESET or target) up to it.
    before = _before(count, 0)
    last_event = _last_event_index(is_target | is_reset)
    annotations = _binary(
        reset_acts=is_reset & (before > 0), reset_inert=is_reset & (before == 0),
        store_acts=is_target & (before < max_count), store_inert=is_target & (before == max_count),
        count_after_reset=_at(is_reset, last_event),
        count_after_increment=_at(is_target, last_event),
        count_initial=last_event < 0,
    )
    return Task(
        name="count_reset",
        inputs=_one_hot(tokens, 2 + n_d),
        targets=count.copy(),
        mask=mask,
        factors={
            "count": count,
            "is_target": is_target.astype(np.int64),
            "is_reset": is_reset.astype(np.int64),
            **annotations,
        },
        tokens=tokens,
        kind="classification",
        n_outputs=max_count + 1,
        chance=_majority_rate(count, mask, max_count + 1),
        events=dict(EVENTS["count_reset"]),
        continuous_factors=(),
        **_annotations("count_reset"),
    )


def _armed_reset(rng: np.random.Generator, n: int, t: int, p: dict) -> Task:
    """Tokens: STORE_k = k, ARM = K, RESET = K + 1, QUERY = K + 2, distractors K + 3 + d.

    ``armed`` (after each step): an ARM came since the last STORE (or, before any STORE, at
    all). A RESET clears the memory iff armed; it does not disarm (a second RESET before the
    next STORE is armed too, on an already EMPTY memory). A STORE disarms.
    """
    k, n_d = p["n_values"], p["n_distractors"]
    cat = _categorical(rng, [p["p_store"], p["p_arm"], p["p_reset"], p["p_query"]], (n, t))
    # Drawn for every step (not only where used) so the stream layout is shape-only.
    values = rng.integers(0, k, size=(n, t))
    distractor = rng.integers(0, max(n_d, 1), size=(n, t))

    is_store, is_arm, is_reset, is_query = (cat == c for c in range(4))
    tokens = np.select([is_store, is_arm, is_reset, is_query], [values, k, k + 1, k + 2],
                       k + 3 + distractor).astype(np.int64)

    last_store = _last_event_index(is_store)
    armed = _last_event_index(is_arm) > last_store  # both -1 (neither yet): unarmed
    is_armed_reset = is_reset & armed  # a RESET leaves `armed` as it was
    written = np.where(is_store, values, k)
    last = _last_event_index(is_store | is_armed_reset)
    memory = np.where(last >= 0, np.take_along_axis(written, np.maximum(last, 0), axis=1), k)
    memory = memory.astype(np.int64)
    targets = np.where(is_query, memory, 0).astype(np.int64)

    # Annotations. Both reset contexts hold a value before the RESET, so they differ only in
    # being armed (an armed RESET on an EMPTY memory has nothing to erase).
    contexts = _memory_contexts(is_store, values, is_armed_reset, memory, k)
    holds = _before(memory, k) != k
    contexts["reset_inert"] = (is_reset & ~armed & holds).astype(np.int64)
    # A query's behaviour, from the last STORE before it (`last_store`, -1 if none):
    # an armed RESET came after it (answer EMPTY); else a RESET came after it but did not clear
    # (answer: the stored value); else no RESET since the STORE; else nothing has set the
    # memory yet (answer EMPTY; unarmed RESETs before any STORE change nothing).
    after_armed = _at(is_armed_reset, last)
    reset_since_store = _last_event_index(is_reset) > last_store
    stored = last_store >= 0
    behaviours = _binary(
        recall_after_armed_reset=is_query & after_armed,
        recall_after_unarmed_reset=is_query & ~after_armed & stored & reset_since_store,
        recall_after_store=is_query & stored & ~reset_since_store,
        recall_initial=is_query & ~after_armed & ~stored,
    )
    return Task(
        name="armed_reset",
        inputs=_one_hot(tokens, k + 3 + n_d),
        targets=targets,
        mask=is_query.copy(),
        factors={
            **_binary(is_store=is_store, is_arm=is_arm, is_reset=is_reset, is_query=is_query),
            "memory": memory,
            **_binary(armed=armed, is_armed_reset=is_armed_reset),
            **contexts,
            **behaviours,
        },
        tokens=tokens,
        kind="classification",
        n_outputs=k + 1,
        chance=_majority_rate(targets, is_query, k + 1),
        events=dict(EVENTS["armed_reset"]),
        continuous_factors=(),
        **_annotations("armed_reset"),
    )


# --------------------------------------------------------------------------- charlm

# Vocabulary: newline, tab, printable ASCII; every other character is the last id ("other").
CHARLM_VOCAB = "\n\t" + "".join(chr(c) for c in range(32, 127))
# Column buckets (0-based column of the character in its line): [0,4), [4,8), ..., [64, inf).
CHARLM_COLUMN_EDGES = (4, 8, 16, 32, 64)
# Contiguous regions of the corpus (fractions of its characters) per split name; any other
# split name (and make_task) samples the whole corpus. Held-out text = later files.
CHARLM_REGIONS = {"train": (0.0, 0.8), "validation": (0.8, 0.9), "test": (0.9, 1.0)}


# The corpus: the `.py` files of this pinned dependency (pyproject.toml pins it at this exact
# version). Pure Python (a py3-none-any wheel), so the text is the same on every platform and
# every Python version, and every install of the project has it; it tokenizes on 3.11-3.13.
CHARLM_PACKAGE = "snakemake"
CHARLM_PACKAGE_VERSION = "9.27.1"


def _charlm_root() -> Path:
    """The installed corpus package's directory, after checking its version is the pinned one."""
    name, pinned = CHARLM_PACKAGE, CHARLM_PACKAGE_VERSION
    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        installed = None
    spec = importlib.util.find_spec(name)  # locates the package without importing it
    if installed is None or spec is None or not spec.submodule_search_locations:
        raise ValueError(f"the charlm corpus is the source of {name}=={pinned}, which is not "
                         "installed; install the project's pinned dependencies")
    if installed != pinned:
        raise ValueError(f"the charlm corpus is the source of {name}=={pinned}, but {name} "
                         f"{installed} is installed; install {name}=={pinned} (pinned in "
                         "pyproject.toml) so the corpus, its splits and its hash are the same")
    return Path(next(iter(spec.submodule_search_locations)))


def charlm_files() -> list[Path]:
    """The corpus: every `*.py` file of the pinned package, sorted by path relative to its root.

    Relative paths compare as POSIX strings (``"a/b.py"``), the same order on every platform.
    """
    root = _charlm_root()
    return sorted(root.rglob("*.py"), key=lambda path: path.relative_to(root).as_posix())


# Python >= 3.12 tokenizes an f-string into START, MIDDLE, replacement-field and END tokens
# (3.14 adds t-strings, the same way); f-strings nest inside replacement fields.
_FSTRING_START = frozenset({"FSTRING_START", "TSTRING_START"})
_FSTRING_END = frozenset({"FSTRING_END", "TSTRING_END"})

# (token type name, string, (row, col) start, (row, col) end), as from `tokenize`.
Token = tuple[str, str, tuple[int, int], tuple[int, int]]


def _tokens(text: str) -> Iterable[Token]:
    """The running interpreter's tokens of ``text``, with type names."""
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        yield tokenize.tok_name[tok.type], tok.string, tok.start, tok.end


def _spans(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per character of one file: in a string literal, in a comment, bracket-depth change.

    From the running interpreter's tokenizer (see :func:`_spans_from_tokens`).
    """
    return _spans_from_tokens(text, _tokens(text))


def _spans_from_tokens(text: str, tokens: Iterable[Token]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per character of ``text``: in a string literal, in a comment, bracket-depth change.

    ``tokens`` are ``text``'s tokens (:data:`Token`), so the spans are exact. Brackets are
    single-character ``OP`` tokens; brackets inside strings and comments are not brackets.

    F-strings: every character from an f-string's opening prefix to its closing quote is
    ``in_string``, its replacement fields included (``x``, ``:``, ``{w}`` in ``f"{x:{w}}"``),
    and nothing inside it -- brackets, nested strings or f-strings, comments -- is a bracket or
    a comment. That is what Python 3.11 gives (the whole f-string is one STRING token); on
    3.12+ the f-string is split into tokens, and the span runs from each outermost
    FSTRING_START to its matching FSTRING_END (a stack: f-strings nest), so every Python
    version gives the same factors for the same text. Raises ValueError on unbalanced
    f-string tokens.
    """
    n = len(text)
    starts = np.zeros(text.count("\n") + 2, dtype=np.int64)
    starts[1:-1] = np.flatnonzero(np.frombuffer(text.encode("utf-32-le"), np.uint32) == 10) + 1
    starts[-1] = n
    kinds, begin, end, delta_at, delta = [], [], [], [], []
    open_fstrings: list[int] = []  # start offsets of the f-strings open at this token
    for name, string, (row_a, col_a), (row_b, col_b) in tokens:
        a = int(starts[row_a - 1]) + col_a
        b = int(starts[min(row_b - 1, len(starts) - 1)]) + col_b
        if name in _FSTRING_START:
            open_fstrings.append(a)
        elif name in _FSTRING_END:
            if not open_fstrings:
                raise ValueError(f"{name} at {row_a}:{col_a} closes no f-string")
            first = open_fstrings.pop()
            if not open_fstrings:  # the outermost f-string closes: one string span
                kinds.append(True)
                begin.append(first)
                end.append(b)
        elif open_fstrings:
            continue  # inside an f-string (a replacement field): part of the string
        elif name == "STRING" or name == "COMMENT":
            kinds.append(name == "STRING")
            begin.append(a)
            end.append(b)
        elif name == "OP" and len(string) == 1 and string in "([{)]}":
            delta_at.append(a)
            delta.append(1 if string in "([{" else -1)
    if open_fstrings:
        raise ValueError(f"{len(open_fstrings)} f-string(s) not closed")
    kinds, begin, end = np.array(kinds, bool), np.array(begin, np.int64), np.array(end, np.int64)
    marks = []
    for keep in (kinds, ~kinds):
        diff = np.zeros(n + 1, dtype=np.int64)
        np.add.at(diff, begin[keep], 1)
        np.add.at(diff, end[keep], -1)
        marks.append(np.cumsum(diff[:n]) > 0)
    change = np.zeros(n, dtype=np.int64)
    np.add.at(change, np.array(delta_at, np.int64), np.array(delta, np.int64))
    return marks[0], marks[1], change


@functools.lru_cache(maxsize=1)
def _charlm_corpus() -> dict:
    """The corpus text as character ids, with the cheap per-character factors and provenance.

    The tokenizer-based factors (strings, comments, brackets) are computed per file, lazily, by
    :func:`_charlm_syntax`, so a split only tokenizes the files its region covers.
    """
    paths = charlm_files()
    texts = [path.read_text(encoding="utf-8") for path in paths]
    text = "".join(texts)
    codes = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    lookup = np.full(max(128, int(codes.max()) + 1), len(CHARLM_VOCAB), dtype=np.int64)
    lookup[[ord(ch) for ch in CHARLM_VOCAB]] = np.arange(len(CHARLM_VOCAB))
    is_newline = codes == 10
    index = np.arange(len(codes))
    line_start = np.maximum.accumulate(np.where(np.r_[True, is_newline[:-1]], index, 0))
    column = np.searchsorted(CHARLM_COLUMN_EDGES, index - line_start, side="right")
    return {
        "ids": lookup[codes], "texts": texts,
        "file_starts": np.cumsum([0] + [len(t) for t in texts]),
        "column": column.astype(np.int64), "is_newline": is_newline.astype(np.int64),
        # Provenance only (no machine paths): it is written into every charlm test.json.
        "meta": {"corpus_package": CHARLM_PACKAGE, "corpus_version": CHARLM_PACKAGE_VERSION,
                 "corpus_files": len(paths), "corpus_chars": len(text),
                 "corpus_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()},
    }


@functools.cache
def _charlm_syntax(file_index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(in_string, in_comment, bracket depth) of one corpus file, from Python's tokenizer."""
    text = _charlm_corpus()["texts"][file_index]
    try:
        in_string, in_comment, change = _spans(text)
    except (tokenize.TokenError, SyntaxError, ValueError) as exc:  # the corpus is valid Python
        root = _charlm_root()
        path = charlm_files()[file_index].relative_to(root).as_posix()
        raise ValueError(f"corpus file {CHARLM_PACKAGE}/{path} does not tokenize: {exc}"
                         ) from exc
    return in_string, in_comment, np.cumsum(change)  # depth after each char; 0 at file start


def _charlm_factors(first: int, stop: int, max_depth: int) -> dict[str, np.ndarray]:
    """Every factor for the corpus characters [first, stop) (full-length arrays, zero outside)."""
    corpus = _charlm_corpus()
    starts = corpus["file_starts"]
    total = int(starts[-1])
    syntax = {k: np.zeros(total, dtype=np.int64) for k in ("in_string", "in_comment",
                                                             "bracket_depth")}
    lo = int(np.searchsorted(starts, first, side="right")) - 1
    hi = int(np.searchsorted(starts, stop, side="left"))
    for i in range(lo, hi):
        for key, value in zip(syntax, _charlm_syntax(i), strict=True):
            syntax[key][starts[i]:starts[i + 1]] = value
    syntax["bracket_depth"] = np.clip(syntax["bracket_depth"], 0, max_depth)
    return {**syntax, "column": corpus["column"], "is_newline": corpus["is_newline"]}


def _charlm(rng: np.random.Generator, n: int, t: int, p: dict, split: str | None = None
            ) -> Task:
    corpus = _charlm_corpus()
    ids, total = corpus["ids"], len(corpus["ids"])
    lo, hi = CHARLM_REGIONS.get(split, (0.0, 1.0))
    first, last = int(lo * total), int(hi * total) - (t + 1)
    if last <= first:
        raise ValueError(f"length {t} is too long for the {split or 'whole'} corpus region")
    offsets = rng.integers(first, last, size=n)[:, None] + np.arange(t + 1)[None, :]
    window = ids[offsets]
    tokens, targets = window[:, :-1], window[:, 1:]
    vocab = len(CHARLM_VOCAB) + 1
    mask = np.ones((n, t), dtype=bool)
    factors = _charlm_factors(int(offsets.min()), int(offsets.max()) + 1, p["max_depth"])
    return Task(
        name="charlm",
        inputs=_one_hot(tokens, vocab),
        targets=targets.copy(),
        mask=mask,
        factors={k: v[offsets[:, :-1]] for k, v in factors.items()},
        tokens=tokens.copy(),
        kind="classification",
        n_outputs=vocab,
        chance=_majority_rate(targets, mask, vocab),
        events=dict(EVENTS["charlm"]),
        continuous_factors=(),
        meta=dict(corpus["meta"]),
        **_annotations("charlm"),
    )


_GENERATORS: dict[str, Callable[..., Task]] = {
    "reset_recall": _reset_recall,
    "adding": _adding,
    "count_reset": _count_reset,
    "charlm": _charlm,
    "armed_reset": _armed_reset,
}


def _generate(name: str, rng: np.random.Generator, n: int, t: int, p: dict,
              split: str | None = None) -> Task:
    """Run a generator; only charlm (real text, held-out regions) depends on the split name."""
    if name == "charlm":
        return _charlm(rng, n, t, p, split)
    return _GENERATORS[name](rng, n, t, p)


# --------------------------------------------------------------------------- public API


def make_task(name: str, n_sequences: int, length: int, seed: int, **params) -> Task:
    """Generate ``n_sequences`` sequences of ``length`` steps of task ``name``.

    Deterministic in ``(name, seed, n_sequences, length, params)``.
    """
    _check_name(name)
    p = _resolve_params(name, params)
    n, t = _check_size("n_sequences", n_sequences, length, name)
    ss = np.random.SeedSequence(_check_seed(seed), spawn_key=(_DOMAIN, _TASK_IDS[name]))
    return _generate(name, np.random.default_rng(ss), n, t, p)


def make_splits(
    name: str, sizes: Mapping[str, int], length: int, seed: int, **params
) -> dict[str, Task]:
    """Generate one :class:`Task` per split, e.g. ``sizes={"train": 1000, "test": 200}``.

    Each split has its own random stream derived from ``(seed, task, split name)``, so a
    split does not depend on the other splits' sizes and no two splits share a stream.
    """
    _check_name(name)
    p = _resolve_params(name, params)
    seed = _check_seed(seed)
    if not sizes:
        raise ValueError("sizes must name at least one split")
    out: dict[str, Task] = {}
    for split, size in sizes.items():
        if not isinstance(split, str):
            raise ValueError(f"sizes keys must be split names (str), got {split!r}")
        n, t = _check_size(f"sizes[{split!r}]", size, length, name)
        key = (_DOMAIN, _TASK_IDS[name], zlib.crc32(split.encode()))
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
        out[split] = _generate(name, rng, n, t, p, split)
    return out
