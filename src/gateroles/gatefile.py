"""The gate file: one model's gate activations at every checkpoint, and the data they came from.

Written once by the extraction stage, read by every analysis after it, so that no later stage
regenerates the task: besides the gates (`step{s}__{gate}`, float16) and, where an analysis
reads them (a per-model job declared with `logits=True`: the workflow's `LOGIT_CELLS`), the
sigmoid gates' logits (`logit{s}__{gate}`, float16; elsewhere `GateFile.logits` is empty)
it carries the sequences they were computed on
(`inputs`, `tokens`, `targets`, `mask`, `factor__{name}`), the checkpoint steps and a JSON
description of the task (`meta`: name, its registered task and hold, kind, number of outputs,
chance, event roles, continuous factors, the context pairs and behaviours of
`gateroles.tasks`, and which factors are auxiliary, i.e. annotations rather than task
variables). An `.npz` without pickles, written atomically with `storage.write_npz`.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np

from gateroles import storage
from gateroles.tasks import MEMORY, Task


def task_arrays(task: Task, n_sequences: int) -> dict[str, np.ndarray]:
    """The data members of a gate file: the first `n_sequences` sequences of `task`."""
    sample = slice(0, n_sequences)
    # `task` is the run's task (`hold_recall@30`), `base_task` its registered task and `hold`
    # its hold (None for a task without one).
    meta = {"task": task.name, "base_task": task.name.partition("@")[0],
            "hold": task.meta.get("hold"), "kind": task.kind, "n_outputs": task.n_outputs,
            "chance": task.chance, "events": task.events, "memory": MEMORY.get(task.name),
            "continuous_factors": list(task.continuous_factors),
            "contexts": {role: list(pair) for role, pair in task.contexts.items()},
            "behaviours": task.behaviours,
            "auxiliary_factors": list(task.auxiliary_factors)}
    return data_arrays(inputs=task.inputs[sample], tokens=task.tokens[sample],
                       targets=task.targets[sample], mask=task.mask[sample],
                       factors={k: v[sample] for k, v in task.factors.items()}, meta=meta)


def data_arrays(*, inputs, tokens, targets, mask, factors: dict, meta: dict
                ) -> dict[str, np.ndarray]:
    """The data members of a gate file from arrays `[N, T, ...]` and a task description."""
    arrays = {"inputs": inputs, "tokens": tokens, "targets": targets, "mask": mask,
              "meta": np.array(json.dumps(meta))}
    arrays.update({f"factor__{k}": v for k, v in factors.items()})
    return arrays


def gate_arrays(step: int, gates: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Members for one checkpoint's gates (`<gate>_logit` keys become logit members)."""
    arrays = {}
    for name, value in gates.items():
        # float16 keeps ~3 significant digits up to |x| 65504: enough for rank-based MI.
        gate = name.removesuffix("_logit")
        key = f"logit{step}__{gate}" if gate != name else f"step{step}__{name}"
        arrays[key] = value.astype(np.float16)
    return arrays


def write(path: str, data: dict[str, np.ndarray], gates_per_step: dict[int, dict]) -> None:
    """Write a gate file: `data` from `task_arrays`, gates of each step from `gates.extract`."""
    arrays = dict(data)
    for step, gates in gates_per_step.items():
        arrays.update(gate_arrays(step, gates))
    arrays["steps"] = np.array(sorted(int(s) for s in gates_per_step))
    storage.write_npz(arrays, path)


class GateFile:
    """Read access to a gate file; members are read on first use and kept.

    Any problem reading a member (missing, truncated, corrupt) is a `storage.DataFileError`
    naming the file.
    """

    def __init__(self, path: str):
        self.path = str(path)
        try:
            self._npz = np.load(self.path, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise storage.DataFileError(f"cannot read gate file {self.path} (missing, truncated "
                                        f"or not an .npz file): {exc}") from exc
        self._cache: dict[str, np.ndarray] = {}
        self.steps = [int(s) for s in self._member("steps")]
        self.meta = json.loads(str(self._member("meta")))

    def _member(self, key: str) -> np.ndarray:
        if key not in self._cache:
            try:
                self._cache[key] = self._npz[key]
            except (KeyError, OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
                raise storage.DataFileError(f"cannot read '{key}' from gate file {self.path} "
                                            f"(truncated, corrupt or not a gate file): {exc}"
                                            ) from exc
        return self._cache[key]

    @property
    def final_step(self) -> int:
        return max(self.steps)

    @property
    def inputs(self) -> np.ndarray:
        return self._member("inputs")

    @property
    def tokens(self) -> np.ndarray:
        return self._member("tokens")

    @property
    def targets(self) -> np.ndarray:
        return self._member("targets")

    @property
    def mask(self) -> np.ndarray:
        return self._member("mask")

    @property
    def factors(self) -> dict[str, np.ndarray]:
        return {k.removeprefix("factor__"): self._member(k) for k in self._npz.files
                if k.startswith("factor__")}

    @property
    def variables(self) -> dict[str, np.ndarray]:
        """The task variables: every factor but the auxiliary ones (context and behaviour
        annotations), which the analyses of variables (probes, disentanglement) skip."""
        auxiliary = set(self.meta.get("auxiliary_factors", ()))
        return {k: v for k, v in self.factors.items() if k not in auxiliary}

    def gates(self, step: int) -> dict[str, np.ndarray]:
        """{gate or state: [N, T, H] float16} at checkpoint `step`."""
        return self._prefixed(f"step{step}__")

    def logits(self, step: int) -> dict[str, np.ndarray]:
        """{sigmoid gate: logits [N, T, H] float16} at checkpoint `step`."""
        return self._prefixed(f"logit{step}__")

    def _prefixed(self, prefix: str) -> dict[str, np.ndarray]:
        return {k.removeprefix(prefix): self._member(k) for k in self._npz.files
                if k.startswith(prefix)}


def with_held(gates: dict[str, np.ndarray], arch: str) -> dict[str, np.ndarray]:
    """`gates` of one checkpoint plus the gates `arch` removed, as the constant 1 they are
    (read-only broadcast views, no memory): a negative control's held gate is then measured
    like the gate it replaces (`architectures.measured_gates`)."""
    from gateroles.architectures import spec

    removed = spec(arch).removed
    if not removed:
        return gates
    shape = gates["hidden"].shape
    return {**gates, **{g: np.broadcast_to(np.float16(1.0), shape) for g in removed}}
