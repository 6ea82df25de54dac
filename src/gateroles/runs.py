"""A run — one (task, architecture, init, seed) — from the validated config: data and training.

Datasets are not stored: `task_splits` regenerates them from the config and seed (generation
is deterministic and takes well under a second), so training and every later stage see the
same sequences. Kept apart from the analysis stages (`gateroles.experiment`) because the
workflow reruns training whenever this module changes.
"""

from __future__ import annotations

import pandas as pd

from gateroles import storage
from gateroles.tasks import Task, make_splits

# torch is imported inside the training functions only: the analysis jobs call `task_splits`
# and should not pay torch's ~3 s import (there are tens of such jobs per study).


def task_splits(config: dict, task: str, seed: int) -> dict[str, Task]:
    data = config["data"]
    sizes = {"train": data["n_train"], "validation": data["n_validation"], "test": data["n_test"]}
    return make_splits(task, sizes, data["length"], seed, **config["task_params"][task])


def train_settings(config: dict, task: str):
    """The `gateroles.training.TrainSettings` of `task` from the config."""
    from gateroles.training import TrainSettings

    t = config["training"]
    return TrainSettings(hidden_size=config["model"]["hidden_size"], batch_size=t["batch_size"],
                         lr=t["lr"], clip=t["clip"], max_steps=t["max_steps"],
                         eval_every=t["eval_every"], checkpoints=tuple(t["checkpoints"]),
                         solved_threshold=t["solved_threshold"][task], device=t["device"])


def run_columns(task: str, arch: str, init: str, seed: int) -> dict:
    """The config keys that identify a run; every table row carries them."""
    return {"task": task, "arch": arch, "init": init, "seed": seed}


def train_one(config: dict, task: str, arch: str, init: str, seed: int, *,
              checkpoints_path: str, log_path: str, test_path: str) -> None:
    from gateroles.models import checkpoint_payload
    from gateroles.training import TaskTensors, evaluate, is_solved, train

    splits = task_splits(config, task, seed)
    settings = train_settings(config, task)
    result = train(splits, arch, init, seed, settings)
    test = evaluate(result.model, TaskTensors(splits["test"], next(result.model.parameters())
                                              .device))
    meta = {"arch": arch, "init": init, "seed": seed, "task": task,
            "input_size": splits["train"].input_size, "hidden_size": settings.hidden_size,
            "n_outputs": splits["train"].n_outputs}
    storage.save_torch(checkpoint_payload(meta, result.checkpoints), checkpoints_path)
    storage.write_csv(pd.DataFrame(result.log).assign(**run_columns(task, arch, init, seed)),
                      log_path)
    kind = splits["test"].kind
    storage.write_json({**run_columns(task, arch, init, seed), "metric": splits["test"].metric,
                        "test_score": test["score"], "test_loss": test["loss"],
                        "chance": splits["test"].chance, "threshold": settings.solved_threshold,
                        "solved": is_solved(kind, test["score"], settings.solved_threshold),
                        "steps": result.stopped_at, **splits["test"].meta}, test_path)
