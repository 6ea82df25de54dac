"""The shared core of the tasks: the :class:`Task` a generator makes, how a task module declares
itself (:class:`TaskSpec`, :class:`Int`, :class:`Probability`, :class:`Budget`), parameter
validation, and the helpers the generators share.

Nothing here knows a task by name; the task modules (``gateroles/tasks/<name>.py``) do, and the
registry (``gateroles/tasks/__init__.py``) lists them.
"""

from __future__ import annotations

import dataclasses
import numbers
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

# The event roles the analyses know: each names the gate its position predicts
# (`architectures.ROLE_GATES`): store -> input (GRU: update), reset -> forget (GRU: update),
# query -> output.
ROLES = ("store", "reset", "query")
# The gates whose removal claim C4 contrasts behaviour by behaviour (`wiring.DISSOCIATIONS`).
DISSOCIATION_GATES = ("forget", "output")
# Columns of `hold_intervals`.
HOLD_INTERVAL_COLUMNS = ("sequence", "store", "query", "crosses_erase")


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
    # what identifies the data beyond its name: provenance (charlm's corpus hash), the hold
    meta: dict = dataclasses.field(default_factory=dict)
    # role -> (binary factor: the token where it must act, binary factor: where it must not)
    contexts: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    # behaviour -> binary factor marking the scored steps of that kind
    behaviours: dict[str, str] = dataclasses.field(default_factory=dict)
    # factors that exist for contexts/behaviours/marks and are not task variables
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


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Int:
    """An integer parameter: ``minimum <= value`` (checked by the generator and the schema),
    ``value <= maximum`` (the schema)."""

    default: int
    description: str
    minimum: int = 1
    maximum: int = 100

    def check(self, key: str, value: object) -> int:
        return _check_int(key, value, self.minimum)

    def schema(self) -> dict:
        return {"description": self.description, "type": "integer", "minimum": self.minimum,
                "maximum": self.maximum, "default": self.default}


@dataclass(frozen=True)
class Probability:
    """A probability: in [0, 1] for the generator; the schema asks for more than 0."""

    default: float
    description: str

    def check(self, key: str, value: object) -> float:
        return _check_prob(key, value)

    def schema(self) -> dict:
        return {"description": self.description, "type": "number", "exclusiveMinimum": 0,
                "maximum": 1, "default": self.default}


@dataclass(frozen=True)
class Budget:
    """A default of the config's `training.steps` (``value``: steps, an integer or a mapping
    with a `default` and per-architecture entries) or `training.solved_threshold` (``value``:
    accuracy at least, or MSE at most, up to ``maximum``), with how it was chosen (measured)."""

    value: int | float | Mapping[str, int]
    description: str
    maximum: float = 1.0


@dataclass(frozen=True)
class TaskSpec:
    """Everything about one task, declared once in its module (``gateroles/tasks/<name>.py``).

    Every annotation field is required (give ``{}`` where the task has none), so that no
    analysis can lose a task's predictions to a forgotten table. Which analysis reads which
    field (`uses` lists those whose inputs the task declares, `lacks` what one needs and the
    task does not declare; `ANALYSIS_NEEDS` says what each needs):

    * ``events`` (role -> binary factor; roles from ``ROLES``): event_locking (C2),
      decodability (C1), roles (C1: the shares at resets and stores), causal (C3: the
      interchanges at each role's events), gradient_flow's hold intervals (``hold_intervals``).
    * ``memory`` (the factor a memory-carrying unit carries, or None): roles, wiring.
    * ``contexts`` (role -> (factor where its token must act, factor where it must not)):
      annotations (not task variables); roles' quiet steps leave them out.
    * ``role_contexts`` (a subset of ``contexts``): the pairs claim C1's context test decides
      (the same token, the memory holding a value in both).
    * ``behaviours`` (behaviour -> binary factor of its scored steps; they partition the
      mask): causal (damage per behaviour), wiring (scores per behaviour).
    * ``needs`` (role -> behaviours whose answer needs what the role does at its event):
      causal's predictions.
    * ``dissociations`` (gate of ``DISSOCIATION_GATES`` -> (served behaviours, compared
      behaviours)): claim C4's double dissociations (wiring); a gate left out has none on
      this task.
    * ``marks``: further annotation factors (e.g. the hold intervals' ``hold_keep`` /
      ``hold_erase``), auxiliary like contexts and behaviours.

    ``generate(rng, n, t, params, split)`` returns the data fields of a :class:`Task`
    (``inputs``, ``targets``, ``mask``, ``factors``, ``tokens``, ``n_outputs``, ``chance``,
    optionally ``continuous_factors`` and ``meta``); the registry adds the name and the
    declared annotations. ``split`` is the split's name (only real text uses it). It must
    draw from ``rng`` in an order that depends on the shapes only, so the same seed gives the
    same bytes.
    """

    name: str
    stream_id: int  # part of every seed's stream: never change it once data exist
    description: str  # one line, the schema's `task_params.<name>.description`
    kind: str  # "classification" | "regression"
    generate: Callable[..., dict]
    params: Mapping[str, Int | Probability]
    events: Mapping[str, str]
    memory: str | None
    contexts: Mapping[str, tuple[str, str]]
    role_contexts: Mapping[str, tuple[str, str]]
    behaviours: Mapping[str, str]
    needs: Mapping[str, tuple[str, ...]]
    dissociations: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]
    steps: Budget  # default of training.steps.<name>
    threshold: Budget  # default of training.solved_threshold.<name>
    chance: str  # what the chance level is (the generator computes it on the data)
    min_length: int | Callable[[dict], int] = 1  # shortest sequence, or a function of params
    check: Callable[[str, dict], None] | None = None  # checks across params, after each's own
    marks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for field in ("params", "events", "contexts", "role_contexts", "behaviours", "needs",
                      "dissociations"):
            object.__setattr__(self, field, types.MappingProxyType(dict(getattr(self, field))))
        problems = spec_problems(self)
        if problems:
            raise ValueError(f"task {self.name!r}: " + "; ".join(problems))

    @property
    def defaults(self) -> dict:
        return {key: p.default for key, p in self.params.items()}

    @property
    def auxiliary_factors(self) -> tuple[str, ...]:
        """Factors that exist only as annotations (contexts, behaviours, marks): analyses of
        task variables (probes, disentanglement) skip them."""
        names = [f for pair in self.contexts.values() for f in pair]
        return tuple(dict.fromkeys([*names, *self.behaviours.values(), *self.marks]))

    @property
    def has_hold(self) -> bool:
        """Whether the task takes a `hold` parameter (and so a `name@hold` entry)."""
        return "hold" in self.params

    @property
    def uses(self) -> tuple[str, ...]:
        """The analyses whose inputs this task declares (`ANALYSIS_NEEDS`); the others have
        nothing to measure on it beyond its scores."""
        return tuple(analysis for analysis in ANALYSIS_NEEDS if not self.lacks(analysis))

    def lacks(self, analysis: str) -> list[str]:
        """What `analysis` needs that this task does not declare (`ANALYSIS_NEEDS`), in
        words; empty when it declares everything."""
        if analysis not in ANALYSIS_NEEDS:
            raise ValueError(f"unknown analysis {analysis!r}; analyses: "
                             f"{', '.join(ANALYSIS_NEEDS)}")
        return [what for what, has in ANALYSIS_NEEDS[analysis] if not has(self)]

    def min_length_for(self, params: dict) -> int:
        return self.min_length(params) if callable(self.min_length) else int(self.min_length)


# What each analysis needs a task to declare before it can measure anything on it: analysis ->
# ((what, in words, whether a spec has it), ...). `TaskSpec.lacks` says what a task lacks;
# `gateroles.tasks.require` turns it into an error naming the task and the analysis (the
# config's per-analysis task lists are checked with it at parse time).
_AN_EVENT = ("an event (events: store, reset or query)", lambda s: bool(s.events))
ANALYSIS_NEEDS: dict[str, tuple[tuple[str, Callable[[TaskSpec], bool]], ...]] = {
    "training": (),
    "saturation": (),
    "dependence": (),
    "gradient_flow": (),
    "event_locking": (_AN_EVENT,),
    "decodability": (_AN_EVENT,),
    "roles": (("a memory variable (memory)", lambda s: s.memory is not None),
              ("a store or a reset event (events)",
               lambda s: bool({"store", "reset"} & set(s.events)))),
    "causal": (("a behaviour that needs an event's role (needs)",
                lambda s: any(s.needs.values())),),
    # C4's variants are scored on any task; its dissociations where the task declares them.
    "wiring": (),
    # C7: the push at each event the task has.
    "emergence": (_AN_EVENT,),
    # C8 (and C6's gradient at the store): the store-to-query intervals (`hold_intervals`);
    # its role trends need a hold parameter too (tasks `name@H`).
    "holds": (("a store and a query event (events)",
               lambda s: {"store", "query"} <= set(s.events)),),
    "learnability": (("a hold parameter (params: hold)", lambda s: s.has_hold),),
}


def spec_problems(spec: TaskSpec) -> list[str]:
    """What a spec's declarations say that does not fit together (checked when it is made,
    so a task module that names a behaviour it lacks fails when it is imported)."""
    problems = []
    if spec.kind not in ("classification", "regression"):
        problems.append(f"kind must be 'classification' or 'regression', got {spec.kind!r}")
    unknown = sorted(set(spec.events) - set(ROLES))
    if unknown:
        problems.append(f"events name unknown role(s) {unknown}; roles: {', '.join(ROLES)}")
    for role, needed in spec.needs.items():
        if role not in spec.events:
            problems.append(f"causal's needs name role {role!r}, which is not one of the "
                            f"task's events ({', '.join(spec.events) or 'none'})")
        for behaviour in needed:
            if behaviour not in spec.behaviours:
                problems.append(f"causal's needs[{role!r}] name behaviour {behaviour!r}, which "
                                f"the task lacks (behaviours: "
                                f"{', '.join(spec.behaviours) or 'none'})")
    for role, pair in spec.role_contexts.items():
        if spec.contexts.get(role) != tuple(pair):
            problems.append(f"role context {role!r} {pair!r} is not one of the task's contexts")
    for gate, sides in spec.dissociations.items():
        if gate not in DISSOCIATION_GATES:
            problems.append(f"dissociation of unknown gate {gate!r}; gates: "
                            f"{', '.join(DISSOCIATION_GATES)}")
        if len(sides) != 2 or not all(sides):
            problems.append(f"dissociation {gate!r} must be (served behaviours, compared "
                            f"behaviours), both non-empty, got {sides!r}")
            continue
        for behaviour in (*sides[0], *sides[1]):
            if behaviour not in spec.behaviours:
                problems.append(f"wiring's {gate} dissociation names behaviour "
                                f"{behaviour!r}, which the task lacks")
    if spec.memory is not None and spec.memory in spec.auxiliary_factors:
        problems.append(f"memory {spec.memory!r} is an annotation, not a task variable")
    if "@" in spec.name or not spec.name.isidentifier() or spec.name != spec.name.lower():
        problems.append("a task name is lower case letters, digits and '_' ('@' separates "
                        "a hold)")
    return problems


# --------------------------------------------------------------------------- validation


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


def check_seed(seed: object) -> int:
    if not _is_int(seed) or int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def is_int(x: object) -> bool:
    return _is_int(x)


def check_token_probabilities(name: str, p: dict, scored: str | None = None) -> None:
    """The per-step token probabilities (`p_*`) of a task whose tokens are drawn i.i.d.: they
    sum to at most 1, to exactly 1 without distractors (the rest of the mass goes to
    distractors), and the scored token's (`scored`) is above 0."""
    probs = {k: v for k, v in p.items() if k.startswith("p_")}
    total = sum(probs.values())
    if total > 1.0 + 1e-9:
        raise ValueError(
            f"probabilities {', '.join(probs)} sum to {total:.6g} > 1 for task {name!r}"
        )
    if "n_distractors" in p and p["n_distractors"] == 0 and total < 1.0 - 1e-9:
        raise ValueError(
            f"n_distractors=0 requires {', '.join(probs)} to sum to 1 (got {total:.6g}): "
            "the remaining probability mass is assigned to distractors"
        )
    if scored is not None and p[scored] == 0.0:
        raise ValueError(f"{scored} must be > 0 for task {name!r} (no step would be scored)")


# --------------------------------------------------------------------------- helpers


def categorical(rng: np.random.Generator, probs: list[float], shape: tuple[int, ...]):
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


def last_event_index(is_event: np.ndarray) -> np.ndarray:
    """Index of the most recent step <= t where ``is_event`` holds, -1 if none (per row)."""
    t = np.arange(is_event.shape[1])
    return np.maximum.accumulate(np.where(is_event, t, -1), axis=1)


def before(state: np.ndarray, initial: int) -> np.ndarray:
    """The state before each step: ``state`` shifted one step right, ``initial`` at step 0."""
    out = np.empty_like(state)
    out[:, 0] = initial
    out[:, 1:] = state[:, :-1]
    return out


def at(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[row, index]`` per row, False where ``index < 0`` (no such step)."""
    return (index >= 0) & np.take_along_axis(values, np.maximum(index, 0), axis=1)


def binary(**arrays: np.ndarray) -> dict[str, np.ndarray]:
    return {key: value.astype(np.int64) for key, value in arrays.items()}


def memory_contexts(is_store, values, resets, memory, empty: int) -> dict[str, np.ndarray]:
    """Store and reset contexts of a memory task, from the memory before each step.

    reset_acts / reset_inert: a clearing RESET (``resets``: the RESETs that clear) while the
    memory holds a value / is already EMPTY; store_acts / store_inert: STORE_k while the memory
    is not k / is already k.
    """
    previous = before(memory, empty)
    holds = previous != empty
    same = previous == values
    return binary(reset_acts=resets & holds, reset_inert=resets & ~holds,
                  store_acts=is_store & ~same, store_inert=is_store & same)


def one_hot(tokens: np.ndarray, size: int) -> np.ndarray:
    return np.eye(size, dtype=np.float32)[tokens]


def majority_rate(targets: np.ndarray, mask: np.ndarray, n_classes: int) -> float:
    """Accuracy of always predicting the most frequent masked target (NaN if nothing masked)."""
    counts = np.bincount(targets[mask], minlength=n_classes)
    total = counts.sum()
    return float(counts.max() / total) if total else float("nan")


# --------------------------------------------------------------------------- hold intervals


def hold_intervals(factors: Mapping[str, np.ndarray], events: Mapping[str, str]) -> np.ndarray:
    """The store-to-query intervals of a memory task: ``[M, 4]`` int64, columns
    ``HOLD_INTERVAL_COLUMNS`` = (sequence, store step, query step, crosses_erase).

    One row per query step that has a STORE before it in its sequence, paired with the last
    STORE before it (the value the query must recall, unless an erase came between);
    ``crosses_erase`` is 1 where an erasing event (``events["reset"]``: every RESET in
    reset_recall, the armed RESETs in armed_reset) lies strictly between the two. ``events`` is
    the task's role -> factor map (`Task.events`, or a gate file's ``meta["events"]``); a task
    without store and query events has no intervals. Rows are in (sequence, query) order.
    """
    if "store" not in events or "query" not in events:
        return np.zeros((0, 4), dtype=np.int64)
    is_store = np.asarray(factors[events["store"]]).astype(bool)
    is_query = np.asarray(factors[events["query"]]).astype(bool)
    erase = (np.asarray(factors[events["reset"]]).astype(bool) if "reset" in events
             else np.zeros_like(is_store))
    last_store = last_event_index(is_store)
    last_erase = last_event_index(erase)
    rows, query = np.nonzero(is_query & (last_store >= 0))
    store = last_store[rows, query]
    crosses = last_erase[rows, query] > store  # an erase after the store, before the query
    return np.stack([rows, store, query, crosses], axis=1).astype(np.int64)


def hold_marks(intervals: np.ndarray, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Per step, whether it lies strictly inside a store-to-query interval (``intervals`` from
    :func:`hold_intervals`) that crosses no erase (``hold_keep``) / one that crosses an erase
    (``hold_erase``): ``[N, T]`` int64 each. A step inside two intervals of different kinds
    (a query inside another's hold) is marked in both."""
    out = {}
    for name, crosses in (("hold_keep", 0), ("hold_erase", 1)):
        diff = np.zeros((shape[0], shape[1] + 1), dtype=np.int64)
        part = intervals[intervals[:, 3] == crosses]
        np.add.at(diff, (part[:, 0], part[:, 1] + 1), 1)
        np.add.at(diff, (part[:, 0], part[:, 2]), -1)
        out[name] = (np.cumsum(diff[:, :-1], axis=1) > 0).astype(np.int64)
    return out


def held_memory_fields(tokens: np.ndarray, targets: np.ndarray, factors: dict,
                       events: Mapping[str, str], vocabulary: int, k: int) -> dict:
    """The generator's output of a hold task (a store/recall task of K values scored at its
    queries, in episodes): the one-hot inputs, the query mask, and the factors with the hold
    marks (:func:`hold_marks` of the task's :func:`hold_intervals`) added."""
    factors.update(hold_marks(hold_intervals(factors, events), tokens.shape))
    is_query = factors[events["query"]].astype(bool)
    return {"inputs": one_hot(tokens, vocabulary), "targets": targets, "mask": is_query,
            "factors": factors, "tokens": tokens, "n_outputs": k + 1,
            "chance": majority_rate(targets, is_query, k + 1)}
