"""Synthetic sequence tasks with per-timestep ground-truth factors, one module per task.

Each task is designed so that one gate role should be necessary to solve it:

* ``reset_recall`` -- store a value, forget it on RESET, read it out on QUERY.
* ``adding`` -- the classic adding problem (Hochreiter & Schmidhuber, 1997): store two
  marked values and read out their sum at the end.
* ``count_reset`` -- count TARGET tokens since the last RESET (saturating at ``max_count``).
* ``charlm`` -- next-character prediction on real text: the Python source of a pinned
  dependency (Karpathy et al. 2015), with per-character syntax variables.
* ``armed_reset`` -- one token, two meanings: RESET clears the memory only if an ARM came
  since the last STORE ("armed"); otherwise it is a distractor.
* ``hold_recall`` / ``hold_armed`` -- reset_recall and armed_reset with a controlled hold:
  the memory (and in hold_armed whether the RESET is armed) must be held for exactly ``hold``
  steps of distractors. ``name@H`` (e.g. ``hold_recall@200``) is the task with ``hold=H``,
  anywhere a task name goes (the config's grid axis of hold lengths).

**The registry.** A task is one module, ``gateroles/tasks/<name>.py``, whose ``SPEC``
(:class:`TaskSpec`) declares everything about it: its generator, parameters with defaults and
descriptions, events, memory variable, contexts, behaviours, which behaviours need which role
(causal), the behaviours claim C4 contrasts, chance level, shortest length and default
training budget. The registry finds every module of this package (:data:`BUILTIN`, in
stream-id order), so adding a task is adding its file; :func:`register` adds one from
elsewhere (a test's toy task, a user's own, in the running process). Everything else is
derived from the registry: the tables the analyses read (``TASK_NAMES``, ``EVENTS``,
``MEMORY``, ``CONTEXTS``, ``ROLE_CONTEXTS``, ``BEHAVIOURS``, ``NEEDS``,
``AUXILIARY_FACTORS``: live read-only views, which also accept ``name@H``), the config
schema's task lists and per-task sections (``gateroles.config.load_schema``) and
:func:`make_task`. CONTRIBUTING.md, "How to add a task", walks through one.

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
* marks such as the hold tasks' ``hold_keep`` / ``hold_erase`` (:func:`hold_intervals`).

All factors are ``[N, T]`` arrays, int64 except the continuous ones.

Generation is fully vectorised and seeded: each task draws from its own stream
(``TaskSpec.stream_id``), each split from its own child of it, in an order that depends on the
shapes only, so the same (task, seed, sizes, length, parameters) gives the same bytes.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from gateroles.tasks.core import (
    ANALYSIS_NEEDS,
    DISSOCIATION_GATES,
    HOLD_INTERVAL_COLUMNS,
    ROLES,
    Budget,
    Int,
    Probability,
    Task,
    TaskSpec,
    check_seed,
    hold_intervals,
    hold_marks,
    is_int,
)

__all__ = [
    "ANALYSIS_NEEDS", "AUXILIARY_FACTORS", "BEHAVIOURS", "BUILTIN", "CONTEXTS",
    "DISSOCIATION_GATES", "EVENTS", "HOLD_INTERVAL_COLUMNS", "MEMORY", "NEEDS", "ROLES",
    "ROLE_CONTEXTS", "TASK_NAMES", "Budget", "Int", "Probability", "Task", "TaskSpec",
    "TaskTable", "base_name", "default_params", "dissociations", "get", "hold_intervals",
    "hold_of",
    "hold_marks", "length_for", "lookup", "make_splits", "make_task", "parse_name", "register",
    "require",
    "specs", "unregister",
]



def _discover() -> tuple:
    """Every task module of this package: each module but `core` must declare a `SPEC`
    (:class:`TaskSpec`). In stream-id order, the order tables and figures list the tasks."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name == "core":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if not isinstance(getattr(module, "SPEC", None), TaskSpec):
            raise ValueError(f"gateroles/tasks/{info.name}.py declares no task: a module of "
                             "gateroles.tasks must define SPEC = TaskSpec(...) (see "
                             "CONTRIBUTING.md, 'How to add a task')")
        found.append(module)
    return tuple(sorted(found, key=lambda module: module.SPEC.stream_id))


# The registry: every built-in task, found in this package (a new task is one new module,
# `gateroles/tasks/<name>.py`, and nothing else), then any :func:`register` adds.
BUILTIN = _discover()

_REGISTRY: dict[str, TaskSpec] = {}

# Domain tag placed first in the spawn key so that task streams cannot coincide with
# ``np.random.SeedSequence(seed).spawn(...)`` children used elsewhere (whose keys are (0,),
# (1,), ...).
_DOMAIN = zlib.crc32(b"gateroles.tasks")


def register(spec: TaskSpec) -> TaskSpec:
    """Add a task to the registry (its name and stream id must be new). Returns ``spec``."""
    if not isinstance(spec, TaskSpec):
        raise TypeError(f"register takes a TaskSpec, got {type(spec).__name__}")
    if spec.name in _REGISTRY:
        raise ValueError(f"task {spec.name!r} is registered already")
    taken = {s.stream_id: s.name for s in _REGISTRY.values()}
    if not is_int(spec.stream_id) or spec.stream_id < 1 or spec.stream_id in taken:
        raise ValueError(f"task {spec.name!r}: stream_id {spec.stream_id!r} must be a positive "
                         f"integer no other task has (taken: {sorted(taken)})")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a task added with :func:`register` (for tests and interactive use)."""
    _REGISTRY.pop(name, None)


for _module in BUILTIN:
    register(_module.SPEC)


def specs() -> tuple[TaskSpec, ...]:
    """Every registered task, in registry order."""
    return tuple(_REGISTRY.values())


# --------------------------------------------------------------------------- names

_HOLD_SUFFIX = re.compile(r"@([1-9][0-9]*)")


def parse_name(name: str) -> tuple[str, int | None]:
    """``"hold_recall@30"`` -> ``("hold_recall", 30)``; ``"reset_recall"`` ->
    ``("reset_recall", None)``. Raises ValueError naming the allowed names."""
    base, at, hold = name.partition("@") if isinstance(name, str) else (name, "", "")
    if base not in _REGISTRY:
        holds = [f"{s.name}@H" for s in _REGISTRY.values() if s.has_hold]
        raise ValueError(f"unknown task {name!r}; allowed names: {', '.join(_REGISTRY)}"
                         + (f" (and {', '.join(holds)} for a hold of H steps)" if holds else ""))
    if not at:
        return base, None
    if not _REGISTRY[base].has_hold:
        raise ValueError(f"task {base!r} has no hold parameter, so {name!r} names no task "
                         f"(tasks with a hold: "
                         f"{', '.join(s.name for s in _REGISTRY.values() if s.has_hold)})")
    if not _HOLD_SUFFIX.fullmatch(at + hold):
        raise ValueError(f"{name!r}: the hold after '@' must be a positive integer without "
                         "leading zeros")
    return base, int(hold)


def base_name(name: str) -> str:
    """The registered task of ``name`` (``hold_recall@30`` -> ``hold_recall``)."""
    return parse_name(name)[0]


def get(name: str) -> TaskSpec:
    """The :class:`TaskSpec` of ``name`` (a registered name, or ``name@H``)."""
    return _REGISTRY[base_name(name)]


def require(name: str, analysis: str) -> None:
    """Raise ValueError naming the task and the analysis when task ``name`` lacks something
    ``analysis`` needs (``core.ANALYSIS_NEEDS``), e.g. a hold analysis on a task without a
    hold, or C4's dissociations on a task that declares none."""
    missing = get(name).lacks(analysis)
    if missing:
        raise ValueError(f"task {name!r} lacks {' and '.join(missing)}, which the "
                         f"{analysis} analysis needs (tasks that have it: "
                         f"{', '.join(s.name for s in specs() if analysis in s.uses) or 'none'})")


def name_pattern() -> str:
    """A regular expression matching every task name a config may hold: the registered
    names, and ``name@H`` for those with a hold."""
    plain = "|".join(re.escape(s.name) for s in _REGISTRY.values())
    held = "|".join(re.escape(s.name) for s in _REGISTRY.values() if s.has_hold)
    return f"^(?:{plain})$" if not held else f"^(?:(?:{plain})|(?:(?:{held})@[1-9][0-9]*))$"


def lookup(mapping: Mapping, name: str):
    """``mapping[name]``, else ``mapping[base]`` for ``name = base@H``: a per-task config entry
    (``training.steps``, ``training.solved_threshold``) of a hold instance falls back to its
    task's. KeyError when neither is there."""
    if name in mapping:
        return mapping[name]
    return mapping[base_name(name)]


# --------------------------------------------------------------------------- views


class TaskNames(Sequence):
    """The registered task names, in registry order (a live view: a task registered later
    appears). Compares equal to a tuple or list of the same names."""

    def __getitem__(self, index):
        return tuple(_REGISTRY)[index]

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(_REGISTRY))

    def __contains__(self, name) -> bool:
        return name in _REGISTRY

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None

    def __repr__(self) -> str:
        return repr(tuple(self))


class TaskTable(Mapping):
    """A read-only, live view of one declaration of every registered task: ``table[name]`` is
    ``field(spec)``; ``name`` may be ``base@H`` (it reads ``base``'s). Iterates over the
    registered names."""

    def __init__(self, field: Callable[[TaskSpec], object], doc: str = ""):
        self._field = field
        self.__doc__ = doc or self.__doc__

    def __getitem__(self, name):
        try:
            return self._field(get(name))
        except (ValueError, TypeError, AttributeError):
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(_REGISTRY))

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return repr(dict(self))


TASK_NAMES = TaskNames()
# Event role -> the binary factor that marks it (used for event-triggered averages).
EVENTS = TaskTable(lambda s: s.events)
# The variable a solver's state must hold (what a "memory-carrying" unit carries).
MEMORY = TaskTable(lambda s: s.memory)
# Role -> (factor: the role's token where it must act, factor: the same token where it must
# not), both binary. Compares the same input token in different states.
CONTEXTS = TaskTable(lambda s: s.contexts)
# The context pairs the role hypothesis implies (claim C1's context test): the same token
# where its role must act against where it must not, the memory holding a value in both.
ROLE_CONTEXTS = TaskTable(lambda s: s.role_contexts)
# Behaviour -> binary factor marking the scored steps of that kind (they partition the mask).
BEHAVIOURS = TaskTable(lambda s: s.behaviours)
# Event role -> the behaviours whose answer depends on what the role does at its event
# (claim C3's predictions: `analyses.causal`).
NEEDS = TaskTable(lambda s: s.needs)
# Factors that exist only as annotations (contexts, behaviours, marks), not task variables:
# analyses of task variables (probes, disentanglement) skip them. Also on
# ``Task.auxiliary_factors``.
AUXILIARY_FACTORS = TaskTable(lambda s: s.auxiliary_factors)
# Per-task stream ids and default parameters.
_TASK_IDS = TaskTable(lambda s: s.stream_id)
_DEFAULTS = TaskTable(lambda s: s.defaults)


def dissociations(gate: str) -> TaskTable:
    """Task -> (served behaviours, compared behaviours) of claim C4's ``gate`` dissociation
    (``DISSOCIATION_GATES``), for the tasks that declare one (a live view)."""

    class _Sets(TaskTable):
        def __iter__(self):
            return iter([n for n, s in _REGISTRY.items() if gate in s.dissociations])

        def __len__(self):
            return len(list(iter(self)))

    return _Sets(lambda s: s.dissociations[gate])


# --------------------------------------------------------------------------- parameters


def hold_of(name: str) -> tuple[str, float]:
    """(registered task, hold H) of a task name: ``hold_recall@30`` -> ("hold_recall", 30.0),
    a task with a ``hold`` parameter at its default hold, NaN for a task without one (or a
    name the registry does not know, e.g. a user model's: (name, NaN))."""
    try:
        base, hold = parse_name(name)
    except ValueError:
        return name, float("nan")
    if hold is None:
        hold = default_params(base).get("hold", float("nan"))
    return base, float(hold)


def default_params(name: str) -> dict:
    """The task's parameters and their defaults (a fresh copy)."""
    return dict(get(name).defaults)


def _resolve_params(name: str, params: Mapping[str, object]) -> tuple[TaskSpec, dict]:
    """The spec of ``name`` and its parameters: ``params`` merged into the defaults, the hold
    of ``name@H`` over both, every value validated."""
    base, hold = parse_name(name)
    spec = _REGISTRY[base]
    allowed = spec.params
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        allowed_s = ", ".join(allowed) if allowed else "none"
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)} for task {base!r}; "
            f"allowed parameters: {allowed_s}"
        )
    p = {**spec.defaults, **params, **({"hold": hold} if hold is not None else {})}
    out = {key: allowed[key].check(key, value) for key, value in p.items()}
    if spec.check is not None:
        spec.check(base, out)
    return spec, out


def length_for(name: str, length: int, **params) -> int:
    """The sequence length task ``name`` is generated at for a config's ``data.length``:
    ``length``, or the task's shortest length where that is more (a hold task's sequence
    holds at least one whole episode: ``hold_recall@200`` needs 202 steps)."""
    spec, p = _resolve_params(name, params)
    return max(int(length), spec.min_length_for(p))


def _check_size(key: str, n_sequences: object, length: object, name: str, spec: TaskSpec,
                p: dict) -> tuple[int, int]:
    if not is_int(n_sequences) or int(n_sequences) < 1:
        raise ValueError(f"{key} must be an integer >= 1, got {n_sequences!r}")
    t_min = spec.min_length_for(p)
    if not is_int(length) or int(length) < t_min:
        raise ValueError(f"length must be an integer >= {t_min} for task {name!r}, got "
                         f"{length!r} (tasks.length_for gives the length a task needs)")
    return int(n_sequences), int(length)


# --------------------------------------------------------------------------- generation


def _generate(name: str, spec: TaskSpec, rng: np.random.Generator, n: int, t: int, p: dict,
              split: str | None = None) -> Task:
    """Run the task's generator and add what the registry knows: the name, the declared
    events and annotations, and the hold (``meta``)."""
    fields = dict(spec.generate(rng, n, t, p, split))
    meta = dict(fields.pop("meta", {}))
    if spec.has_hold:
        meta["hold"] = p["hold"]
    task = Task(name=name, kind=spec.kind, events=dict(spec.events),
                contexts=dict(spec.contexts), behaviours=dict(spec.behaviours),
                auxiliary_factors=spec.auxiliary_factors,
                continuous_factors=tuple(fields.pop("continuous_factors", ())), meta=meta,
                **fields)
    missing = [f for f in (spec.memory, *spec.marks) if f is not None and f not in task.factors]
    if missing:
        raise ValueError(f"task {spec.name!r} declares factor(s) {missing} its generator does "
                         "not make")
    return task


def make_task(name: str, n_sequences: int, length: int, seed: int, **params) -> Task:
    """Generate ``n_sequences`` sequences of ``length`` steps of task ``name``.

    ``name`` is a registered task or ``name@H`` (the task with ``hold=H``, over any ``hold``
    in ``params``). Deterministic in ``(name, seed, n_sequences, length, params)``.
    """
    spec, p = _resolve_params(name, params)
    n, t = _check_size("n_sequences", n_sequences, length, name, spec, p)
    ss = np.random.SeedSequence(check_seed(seed), spawn_key=(_DOMAIN, spec.stream_id))
    return _generate(name, spec, np.random.default_rng(ss), n, t, p)


def make_splits(
    name: str, sizes: Mapping[str, int], length: int, seed: int, **params
) -> dict[str, Task]:
    """Generate one :class:`Task` per split, e.g. ``sizes={"train": 1000, "test": 200}``.

    Each split has its own random stream derived from ``(seed, task, split name)``, so a
    split does not depend on the other splits' sizes and no two splits share a stream.
    """
    spec, p = _resolve_params(name, params)
    seed = check_seed(seed)
    if not sizes:
        raise ValueError("sizes must name at least one split")
    out: dict[str, Task] = {}
    for split, size in sizes.items():
        if not isinstance(split, str):
            raise ValueError(f"sizes keys must be split names (str), got {split!r}")
        n, t = _check_size(f"sizes[{split!r}]", size, length, name, spec, p)
        key = (_DOMAIN, spec.stream_id, zlib.crc32(split.encode()))
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
        out[split] = _generate(name, spec, rng, n, t, p, split)
    return out
