"""Rewire and retrain (claim C4): a trained LSTM with its forget and input blocks swapped,
fine-tuned on the same data in the same batch order, and the same with the moved blocks
frozen (the control).

One job per task (every seed of its `lstm`/`default` cell): load the final checkpoint, swap
the forget and input rows of all four tensors (`interventions.swap_blocks`), fine-tune with
the training loop itself (`training.train(..., start_state=...)`: fresh Adam, the cell's
learning rate, clipping and validation interval, batches drawn in the seed's order, so the
first fine-tuning batches are the first batches the model was trained on from step 0) for
`wiring.rewire.steps` steps (at most half the task's training budget, checked when the config
is read), checkpoint 0 being the swapped model. Then the control: the same fine-tuning with
the moved blocks' rows held at their swapped values (`train(..., frozen=...)`: every other
weight trains), so they cannot take on their new positions' statistics by learning. Writes
the checkpoints (for the gate file), the training log, the test score of every checkpoint,
the control's last checkpoint and training log, and a test.json.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from gateroles import storage
from gateroles.analyses.wiring import Settings
from gateroles.interventions import swap_blocks
from gateroles.models import checkpoint_payload, models_from_payload
from gateroles.study import Run
from gateroles.training import (
    DataSettings,
    TaskTensors,
    checkpoint_steps,
    evaluate,
    is_solved,
    train,
    train_settings,
)

SWAPPED = ("forget", "input")


def fine_tune_settings(config: dict, task: str, settings: Settings):
    """The lstm cell's `TrainSettings` with the fine-tuning budget and checkpoints (no early
    stop: every seed fine-tunes the same number of steps)."""
    base = train_settings(config, task, "lstm")
    return dataclasses.replace(
        base, steps=settings.rewire.steps, early_stop=False,
        checkpoints=checkpoint_steps(settings.rewire.steps, settings.rewire.first_checkpoint))


def rewire_run(config: dict, run: Run, *, start_path: str, checkpoints_path: str,
               log_path: str, scores_path: str, test_path: str, frozen_path: str,
               frozen_log_path: str) -> None:
    """Swap, fine-tune and score one trained model (`run`: its lstm / default run), and
    fine-tune the swapped model again with the moved blocks frozen (its last checkpoint goes
    to `frozen_path`, its log to `frozen_log_path`)."""
    settings = Settings.from_config(config)
    payload = storage.load_torch(start_path)
    models = models_from_payload(payload)
    trained = models[max(models)]
    swapped = swap_blocks(trained, *SWAPPED)
    splits = DataSettings.from_config(config).splits(run.task, run.seed)
    tune = fine_tune_settings(config, run.task, settings)
    start = {k: v.detach().clone() for k, v in swapped.state_dict().items()}
    result = train(splits, run.arch, run.init, run.seed, tune, start_state=start)
    held = train(splits, run.arch, run.init, run.seed,
                 dataclasses.replace(tune, checkpoints=(tune.steps,)),
                 start_state={k: v.clone() for k, v in start.items()}, frozen=SWAPPED)
    test_split = splits["test"]
    test = TaskTensors(test_split, next(result.model.parameters()).device)
    meta = dict(payload["meta"])
    out = checkpoint_payload(meta, result.checkpoints)
    scores = [{"step": step, "test_score": (m := evaluate(model, test))["score"],
               "test_loss": m["loss"]} for step, model in models_from_payload(out).items()]
    original = evaluate(trained, test)["score"]
    storage.save_torch(out, checkpoints_path)
    storage.write_csv(pd.DataFrame(result.log).assign(**run.columns), log_path)
    storage.save_torch(checkpoint_payload(meta, {held.stopped_at:
                                                 held.checkpoints[held.stopped_at]}),
                       frozen_path)
    storage.write_csv(pd.DataFrame(held.log).assign(**run.columns), frozen_log_path)
    frozen = evaluate(held.model, test)["score"]
    storage.write_csv(pd.DataFrame(scores).assign(**run.columns), scores_path)
    final = scores[-1]["test_score"]
    storage.write_json({**run.columns, "swapped": "-".join(SWAPPED), "metric": test_split.metric,
                        "chance": test_split.chance, "threshold": tune.solved_threshold,
                        "test_score_original": original,
                        "test_score_swapped": scores[0]["test_score"], "test_score": final,
                        "solved": is_solved(test_split.kind, final, tune.solved_threshold),
                        "steps": result.stopped_at, "steps_to_solve": result.steps_to_solve,
                        "test_score_frozen": frozen,
                        "steps_to_solve_frozen": held.steps_to_solve},
                       test_path)
