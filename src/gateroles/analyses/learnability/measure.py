"""One sweep: every seed of one architecture x init trained on a task at each of its holds,
from the shortest up, until the seed's first hold not learned (see the package docstring)."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pandas as pd

from gateroles.tasks import parse_name
from gateroles.training import (
    DataSettings,
    TaskTensors,
    evaluate,
    train,
    train_settings,
)

COLUMNS = ["task", "hold", "name", "arch", "init", "seed", "trained", "learned", "budget",
           "threshold", "steps", "steps_to_solve", "val_score", "test_score", "chance",
           "metric"]


def learn(config: dict, name: str, arch: str, init: str, seed: int) -> dict:
    """Train one model on task `name` (`task@H`) until its validation score first passes the
    threshold or the budget runs out; its row of the sweep table."""
    splits = DataSettings.from_config(config).splits(name, seed)
    # learnability asks only whether: stop at the first passing check, keep no checkpoints
    settings = dataclasses.replace(train_settings(config, name, arch), early_stop=True,
                                   checkpoints=(0,))
    result = train(splits, arch, init, seed, settings, progress=io.StringIO())
    device = next(result.model.parameters()).device
    test = evaluate(result.model, TaskTensors(splits["test"], device))
    base, hold = parse_name(name)
    return {"task": base, "hold": hold, "name": name, "arch": arch, "init": init, "seed": seed,
            "trained": True, "learned": result.steps_to_solve is not None,
            "budget": settings.steps, "threshold": settings.solved_threshold,
            "steps": result.stopped_at,
            "steps_to_solve": (np.nan if result.steps_to_solve is None
                               else result.steps_to_solve),
            "val_score": result.log[-1]["val_score"], "test_score": test["score"],
            "chance": splits["test"].chance, "metric": splits["test"].metric}


def sweep(config: dict, names: list[str], arch: str, init: str, seeds: list[int],
          progress=None) -> pd.DataFrame:
    """The sweep table of one architecture x init over the holds `names` (`task@H`, shortest
    first) and `seeds`: one row per seed x hold; a hold after a seed's first one not learned
    is not trained (`trained` False)."""
    rows = []
    for seed in seeds:
        reached = True
        for name in names:
            if not reached:
                base, hold = parse_name(name)
                rows.append({"task": base, "hold": hold, "name": name, "arch": arch,
                             "init": init, "seed": seed, "trained": False, "learned": False})
                continue
            row = learn(config, name, arch, init, seed)
            if progress is not None:
                outcome = (f"learned at step {int(row['steps_to_solve'])}" if row["learned"]
                           else "not learned")
                print(f"{name} {arch} {init} seed {seed}: {outcome} (budget {row['budget']})",
                      file=progress, flush=True)
            rows.append(row)
            reached = row["learned"]
    return pd.DataFrame(rows, columns=COLUMNS)
