"""Training loop: Adam, gradient clipping, checkpoints, early stop when the task is solved.

One call trains one (task, architecture, init, seed). The loop is deliberately bare (the
benchmark holds it to within 10% of a plain PyTorch loop on the same shapes): batches are
indexed from tensors prepared once, and evaluation runs only every `eval_every` steps.

Every architecture of `gateroles.models` trains through the same loop: the variants' invariants
(removed gates' rows frozen, the coupled input-forget tie) are held by hooks on the model itself
(gradient masks and a pre-forward sync), so the loop needs no special case.

Every seed of a cell trains the same number of steps (`TrainSettings.steps`, a budget per task
chosen well past the point where every seed solves it), with log-spaced checkpoints to the end,
so "trained" means the same thing for every seed and every checkpoint averages the same seeds.
"Solved" is judged on the test split at the end: accuracy >= threshold for classification
tasks, MSE <= threshold for regression tasks; `steps_to_solve` records the first validation
check that passed it. Early stopping at that check is an option (`early_stop`), off by default.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from gateroles import storage
from gateroles.models import (
    RecurrentModel,
    build_model,
    checkpoint_payload,
    freeze_gates,
)
from gateroles.study import Run
from gateroles.tasks import Task, base_name, length_for, lookup, make_splits


@dataclass(frozen=True)
class DataSettings:
    """Sequence length, split sizes and each task's generator parameters (`data`, `task_params`)."""

    length: int
    n_train: int
    n_validation: int
    n_test: int
    task_params: dict

    @classmethod
    def from_config(cls, config: dict) -> DataSettings:
        return cls(**config["data"], task_params=config["task_params"])

    def splits(self, task: str, seed: int) -> dict[str, Task]:
        """The train / validation / test splits of `task` for `seed` (regenerated, not stored:
        generation is deterministic and takes well under a second). `task` may be `name@H`
        (`name`'s parameters with hold H); the length is `length`, or the task's shortest
        where that is more (`tasks.length_for`: a hold task holds one whole episode)."""
        sizes = {"train": self.n_train, "validation": self.n_validation, "test": self.n_test}
        params = self.task_params.get(base_name(task), {})
        return make_splits(task, sizes, length_for(task, self.length, **params), seed, **params)


def checkpoint_steps(steps: int, first: int) -> tuple[int, ...]:
    """Step 0, then `first` doubling while below the budget `steps`, then `steps` itself:
    log-spaced checkpoints to the end (`first=25, steps=400`: 0, 25, 50, 100, 200, 400)."""
    schedule, step = [0], first
    while step < steps:
        schedule.append(step)
        step *= 2
    return (*schedule, steps)


@dataclass
class TrainSettings:
    """One cell's training. `steps` is the budget every seed trains for (with `early_stop`,
    training stops at the first validation check that passes `solved_threshold`)."""

    hidden_size: int = 32
    batch_size: int = 64
    lr: float = 1e-2
    clip: float = 1.0
    steps: int = 2000
    eval_every: int = 25
    checkpoints: tuple[int, ...] = (0, 25, 50, 100, 200, 400, 800, 1600)
    solved_threshold: float = 0.95
    early_stop: bool = False
    device: str = "cpu"


@dataclass
class TrainResult:
    model: RecurrentModel
    checkpoints: dict[int, dict[str, torch.Tensor]]
    log: list[dict] = field(default_factory=list)
    stopped_at: int = 0
    steps_to_solve: int | None = None  # first validation check that passed the threshold


class TaskTensors:
    """A task split as tensors on the training device (built once, indexed per batch)."""

    def __init__(self, task: Task, device: torch.device):
        self.inputs = torch.as_tensor(task.inputs, device=device)
        self.targets = torch.as_tensor(task.targets, device=device)
        self.mask = torch.as_tensor(task.mask, device=device)
        self.kind = task.kind

    def loss(self, outputs: torch.Tensor, idx: torch.Tensor | None = None) -> torch.Tensor:
        targets = self.targets if idx is None else self.targets[idx]
        mask = self.mask if idx is None else self.mask[idx]
        if self.kind == "classification":
            return nn.functional.cross_entropy(outputs[mask], targets[mask])
        return nn.functional.mse_loss(outputs[..., 0][mask], targets[mask])


def resolve_device(requested: str) -> torch.device:
    """'auto' picks CUDA when present; 'cuda' without a GPU is an error, not a silent CPU run."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("training.device is 'cuda' but no CUDA device is available")
    return torch.device(requested)


def score(kind: str, outputs: torch.Tensor, data: TaskTensors) -> float:
    """Accuracy at the masked steps (classification) or their MSE (regression)."""
    mask = data.mask
    if kind == "classification":
        correct = outputs[mask].argmax(-1) == data.targets[mask]
        return float(correct.float().mean())
    return float(nn.functional.mse_loss(outputs[..., 0][mask], data.targets[mask]))


def is_solved(kind: str, value: float, threshold: float) -> bool:
    return value >= threshold if kind == "classification" else value <= threshold


@torch.no_grad()
def evaluate(model: RecurrentModel, data: TaskTensors) -> dict[str, float]:
    model.eval()
    outputs = model(data.inputs)
    model.train()
    return {"loss": float(data.loss(outputs)), "score": score(data.kind, outputs, data)}


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def train(splits: dict[str, Task], arch: str, init: str, seed: int, settings: TrainSettings,
          progress=None, *, start_state: dict[str, torch.Tensor] | None = None,
          frozen: tuple[str, ...] = (), observe: Callable[[int, nn.Module], None] | None = None
          ) -> TrainResult:
    """Train for `settings.steps` steps (with `early_stop`, until the validation split is
    solved); checkpoint on the schedule and at the last step.

    `start_state` (a `state_dict` of an `arch` model): start from these weights instead of a
    fresh initialisation (fine-tuning; `init` is then unused). Everything else is the same
    loop: a fresh Adam, batches drawn in the order `seed` gives, checkpoint 0 = the given
    weights; a start that already passes the threshold has `steps_to_solve` 0. `frozen`: gates
    whose rows stay at their start values (`models.freeze_gates`: their gradient is zeroed, so
    Adam never moves them), e.g. a control that fine-tunes everything but the moved blocks.
    `observe(step, model)`, when given, is called after every optimiser step, while each
    parameter's `.grad` still holds the gradient the optimiser used (after clipping): a replay
    of the first steps of a run (the same arguments give the same batches and weights) can
    record what each step received and what Adam did with it
    (`gateroles.analyses.emergence`).

    Raises FloatingPointError when the loss stops being finite. Progress lines go to
    `progress` (default: the current `sys.stderr`, which a workflow job points at its log).
    """
    progress = progress or sys.stderr
    device = resolve_device(settings.device)
    train_task = splits["train"]
    model = build_model(arch, train_task.input_size, settings.hidden_size, train_task.n_outputs,
                        init, train_task.length, seed)
    if start_state is not None:
        model.load_state_dict(start_state)
        model.check_constraints()
    freeze_gates(model, frozen)
    model = model.to(device)
    data = TaskTensors(train_task, device)
    val = TaskTensors(splits["validation"], device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.lr)
    batches = torch.Generator().manual_seed(seed)
    wanted = set(settings.checkpoints)
    result = TrainResult(model=model, checkpoints={0: snapshot(model)})
    start = evaluate(model, val)
    result.log.append({"step": 0, "train_loss": np.nan, **_val_row(start)})
    if start_state is not None and is_solved(train_task.kind, start["score"],
                                             settings.solved_threshold):
        result.steps_to_solve = 0
    running, n_running = 0.0, 0
    for step in range(1, settings.steps + 1):
        idx = torch.randint(data.inputs.shape[0], (settings.batch_size,), generator=batches)
        idx = idx.to(device)
        loss = data.loss(model(data.inputs[idx]), idx)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), settings.clip)
        optimiser.step()
        if observe is not None:
            observe(step, model)
        loss_value = loss.item()
        if not np.isfinite(loss_value):
            raise FloatingPointError(
                f"training loss became {loss_value} at step {step} ({arch}, init={init}, "
                f"seed={seed}); lower training.lr or training.clip")
        running, n_running = running + loss_value, n_running + 1
        if step in wanted:
            result.checkpoints[step] = snapshot(model)
        if step % settings.eval_every and step != settings.steps:
            continue
        metrics = evaluate(model, val)
        result.log.append({"step": step, "train_loss": running / n_running, **_val_row(metrics)})
        running, n_running = 0.0, 0
        print(f"step {step:5d}  train loss {result.log[-1]['train_loss']:.4f}  "
              f"val loss {metrics['loss']:.4f}  val score {metrics['score']:.4f}",
              file=progress, flush=True)
        if is_solved(train_task.kind, metrics["score"], settings.solved_threshold):
            if result.steps_to_solve is None:
                result.steps_to_solve = step
            if settings.early_stop:
                break
    result.stopped_at = step
    result.checkpoints[step] = snapshot(model)
    return result


def _val_row(metrics: dict[str, float]) -> dict[str, float]:
    return {"val_loss": metrics["loss"], "val_score": metrics["score"]}


def budget(config: dict, task: str, arch: str) -> int:
    """The training budget (steps) of a cell: `training.steps[task]` (for `name@H`, else
    `training.steps[name]`), an integer or a mapping with a `default` and per-architecture
    entries."""
    steps = lookup(config["training"]["steps"], task)
    return steps if isinstance(steps, int) else steps.get(arch, steps["default"])


def train_settings(config: dict, task: str, arch: str) -> TrainSettings:
    """The `TrainSettings` of a cell from the config's `model` and `training` sections."""
    t = config["training"]
    steps = budget(config, task, arch)
    return TrainSettings(hidden_size=config["model"]["hidden_size"], batch_size=t["batch_size"],
                         lr=t["lr"], clip=t["clip"], steps=steps, eval_every=t["eval_every"],
                         checkpoints=checkpoint_steps(steps, t["first_checkpoint"]),
                         solved_threshold=lookup(t["solved_threshold"], task),
                         early_stop=t["early_stop"], device=t["device"])


def train_run(config: dict, run: Run, *, checkpoints_path: str, log_path: str,
              test_path: str) -> None:
    """Train one run; write its checkpoints, training log and test result (with `solved`)."""
    splits = DataSettings.from_config(config).splits(run.task, run.seed)
    settings = train_settings(config, run.task, run.arch)
    result = train(splits, run.arch, run.init, run.seed, settings)
    test_split = splits["test"]
    test = evaluate(result.model, TaskTensors(test_split, next(result.model.parameters()).device))
    meta = {"arch": run.arch, "init": run.init, "seed": run.seed, "task": run.task,
            "input_size": test_split.input_size, "hidden_size": settings.hidden_size,
            "n_outputs": test_split.n_outputs}
    storage.save_torch(checkpoint_payload(meta, result.checkpoints), checkpoints_path)
    storage.write_csv(pd.DataFrame(result.log).assign(**run.columns), log_path)
    storage.write_json({**run.columns, "metric": test_split.metric,
                        "test_score": test["score"], "test_loss": test["loss"],
                        "chance": test_split.chance, "threshold": settings.solved_threshold,
                        "solved": is_solved(test_split.kind, test["score"],
                                            settings.solved_threshold),
                        "steps": result.stopped_at, "steps_to_solve": result.steps_to_solve,
                        **test_split.meta}, test_path)
