from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from torch.optim.optimizer import register_optimizer_step_pre_hook

from gateroles.analyses.training.aggregate import solved_by_task
from gateroles.config import validate
from gateroles.study import Run
from gateroles.tasks import make_splits
from gateroles.training import TaskTensors, TrainSettings, score, train, train_run

SIZES = {"train": 256, "validation": 64, "test": 64}


def small(**kw):
    base = dict(hidden_size=16, batch_size=32, lr=1e-2, steps=60, eval_every=20,
                checkpoints=(0, 10, 40), solved_threshold=1.01)  # never solved
    return TrainSettings(**{**base, **kw})


@pytest.fixture(scope="module")
def splits():
    return make_splits("count_reset", SIZES, 30, seed=0)


def test_checkpoints_schedule_and_step_zero_is_initialisation(splits):
    result = train(splits, "lstm", "default", 0, small(), progress=open("/dev/null", "w"))
    assert sorted(result.checkpoints) == [0, 10, 40, 60]
    assert result.stopped_at == 60
    first = result.checkpoints[0]["rnn.weight_hh_l0"]
    assert not torch.equal(first, result.checkpoints[60]["rnn.weight_hh_l0"])
    assert [row["step"] for row in result.log] == [0, 20, 40, 60]


def test_learning_lowers_the_loss(splits):
    result = train(splits, "gru", "default", 0, small(steps=200, eval_every=50),
                   progress=open("/dev/null", "w"))
    assert result.log[-1]["val_loss"] < 0.7 * result.log[0]["val_loss"]


def test_same_seed_same_numbers(splits):
    a = train(splits, "lstm", "chrono", 3, small(), progress=open("/dev/null", "w"))
    b = train(splits, "lstm", "chrono", 3, small(), progress=open("/dev/null", "w"))
    assert a.log == b.log
    for key, value in a.checkpoints[60].items():
        assert torch.equal(value, b.checkpoints[60][key])


def test_early_stop_when_solved_and_asked(splits):
    result = train(splits, "lstm", "default", 0,
                   small(solved_threshold=0.01, steps=500, early_stop=True),
                   progress=open("/dev/null", "w"))
    assert result.stopped_at == 20  # the first evaluation already passes a 1% bar
    assert 20 in result.checkpoints and 40 not in result.checkpoints


def test_without_early_stop_every_seed_trains_the_budget(splits):
    result = train(splits, "lstm", "default", 0, small(solved_threshold=0.01, steps=60),
                   progress=open("/dev/null", "w"))
    assert result.stopped_at == 60 and result.steps_to_solve == 20
    assert sorted(result.checkpoints) == [0, 10, 40, 60]


def test_checkpoints_are_log_spaced_to_the_end():
    from gateroles.training import checkpoint_steps

    assert checkpoint_steps(400, 25) == (0, 25, 50, 100, 200, 400)
    assert checkpoint_steps(1000, 25) == (0, 25, 50, 100, 200, 400, 800, 1000)
    assert checkpoint_steps(10, 25) == (0, 10)


def test_budget_per_task_and_architecture():
    from gateroles.training import budget

    config = {"training": {"steps": {"adding": {"default": 4000, "gru": 1000},
                                     "reset_recall": 400}}}
    assert budget(config, "adding", "gru") == 1000
    assert budget(config, "adding", "lstm_nfg") == 4000
    assert budget(config, "reset_recall", "gru") == 400


def test_nan_loss_stops_with_a_clear_message():
    bad = make_splits("count_reset", SIZES, 30, seed=0)
    bad["train"].inputs[:] = np.nan
    with pytest.raises(FloatingPointError, match="loss became nan at step 1"):
        train(bad, "lstm", "default", 0, small(), progress=open("/dev/null", "w"))


def test_cuda_requested_without_gpu_is_an_error(splits):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        train(splits, "lstm", "default", 0, small(device="cuda"))


def test_solved_by_task_counts_and_names_unsolved_seeds():
    runs = pd.DataFrame({"task": "adding", "arch": "gru", "init": "default", "seed": [0, 1, 2],
                         "metric": "mse", "chance": 1 / 6, "threshold": 0.01,
                         "test_score": [0.005, 0.2, 0.004], "solved": [True, False, True],
                         "steps": 1000, "steps_to_solve": [250, None, 300]})
    row = solved_by_task(runs, 200, 0.95).iloc[0]
    assert row["n_solved"] == 2 and row["n_seeds"] == 3 and row["unsolved_seeds"] == "1"
    assert row["steps"] == 1000 and row["steps_to_solve_max"] == 300


def _curves(task: str, arch: str, init: str, budget: int, solved=(True,) * 3):
    """A runs table and training curves for one cell: three seeds rising to 1 by `budget`."""
    steps = np.arange(0, budget + 1, budget // 8)
    runs = [{"task": task, "arch": arch, "init": init, "seed": s, "metric": "accuracy",
             "chance": 0.25, "threshold": 0.99, "solved": ok} for s, ok in enumerate(solved)]
    curves = [{"task": task, "arch": arch, "init": init, "seed": s, "step": int(t),
               "val_score": min(1.0, 0.25 + t / budget), "solved": ok}
              for s, ok in enumerate(solved) for t in steps]
    return pd.DataFrame(runs), pd.DataFrame(curves)


def test_training_curves_give_each_task_its_own_step_axis_and_no_empty_grid():
    """Budgets differ by task (400 vs 4000 steps): each row's axis ends at its own budget, not
    at the largest; the variants get a second column only when there are any, and a task
    without variants leaves that panel off rather than an empty grid."""
    from gateroles.analyses.training.figures import training_curves

    parts = [_curves("short", "lstm", "default", 400), _curves("short", "gru", "default", 400),
             _curves("long", "lstm", "default", 4000),
             _curves("short", "lstm_nfg", "default", 400, solved=(True, False, True))]
    runs = pd.concat([p[0] for p in parts], ignore_index=True)
    curves = pd.concat([p[1] for p in parts], ignore_index=True)
    fig = training_curves(curves, runs)
    axes = np.array(fig.axes).reshape(2, 2)
    assert axes[0, 0].get_xlim()[1] < 500 and axes[1, 0].get_xlim()[1] > 3500
    assert axes[0, 1].axison and not axes[1, 1].axison  # "long" has no variants
    labels = [t.get_text() for t in axes[0, 1].get_legend().get_texts()]
    assert labels == ["LSTM", "LSTM_NFG"]  # the default LSTM beside the variants
    main = runs["arch"].isin(["lstm", "gru"])
    assert len(training_curves(curves[curves["arch"].isin(["lstm", "gru"])], runs[main]).axes) == 2


def test_the_budget_sentence_names_the_cell_solved_latest_in_its_budget():
    from gateroles.analyses.training.section import budget_sentence

    solved = pd.DataFrame({"task": ["a", "b"], "arch": ["lstm", "gru"], "init": "default",
                           "steps": [400, 1000], "steps_to_solve_max": [100.0, 850.0]})
    sentence = budget_sentence(solved)
    assert "at 85% of its budget (b, gru, default: step 850 of 1000)" in sentence
    assert "median cell's slowest seed at 55%" in sentence
    never = solved.assign(steps_to_solve_max=np.nan)
    assert budget_sentence(never) == "No seed passed its threshold within its budget."


# --------------------------------------------------------------------------- the loss mask


def _by_hand(kind, outputs, targets, mask):
    """(loss, score) over the masked steps alone: mean cross-entropy and accuracy, or MSE."""
    if kind == "classification":
        z = outputs[mask].astype(np.float64)
        log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
        picked = log_p[np.arange(len(z)), targets[mask]]
        return -picked.mean(), (z.argmax(-1) == targets[mask]).mean()
    mse = ((outputs[..., 0][mask] - targets[mask]) ** 2).mean()
    return mse, mse


@pytest.mark.parametrize("task", ["reset_recall", "adding"])
def test_loss_and_score_count_the_masked_steps_alone(task):
    """reset_recall (classification) scores only its QUERY steps, adding (regression) only its
    last step. The loss is the cross-entropy / MSE over the masked steps alone (computed here
    by hand), for the whole split and for a training batch of rows; outputs at the other steps
    change neither the loss nor the score."""
    split = make_splits(task, {"train": 16}, 20, seed=0)["train"]
    mask, targets = split.mask, split.targets
    assert 0 < mask.sum() < mask.size / 5  # a partial mask: most steps are not scored
    data = TaskTensors(split, torch.device("cpu"))
    rng = np.random.default_rng(0)
    outputs = rng.normal(size=mask.shape + (split.n_outputs,)).astype(np.float32)
    loss, accuracy = _by_hand(split.kind, outputs, targets, mask)
    assert float(data.loss(torch.as_tensor(outputs))) == pytest.approx(loss, rel=1e-5)
    assert score(split.kind, torch.as_tensor(outputs), data) == pytest.approx(accuracy, rel=1e-5)

    changed = outputs.copy()
    changed[~mask] = rng.normal(scale=10.0, size=changed[~mask].shape)
    assert float(data.loss(torch.as_tensor(changed))) == float(data.loss(torch.as_tensor(outputs)))
    assert score(split.kind, torch.as_tensor(changed), data) == score(
        split.kind, torch.as_tensor(outputs), data)

    rows = np.array([3, 3, 0, 7])  # a training batch: rows drawn with repeats, their own masks
    batch_loss, _ = _by_hand(split.kind, outputs[rows], targets[rows], mask[rows])
    got = data.loss(torch.as_tensor(outputs[rows]), torch.as_tensor(rows))
    assert float(got) == pytest.approx(batch_loss, rel=1e-5)


# --------------------------------------------------------------------------- gradient clipping


def _tiny_config(clip: float) -> dict:
    """The default study's config with `training.clip` = `clip`, validated, then shrunk to a
    second of training (the shrunk data would fail the checks of extraction's sizes)."""
    repo = Path(__file__).resolve().parents[1]
    raw = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    raw["training"]["clip"] = clip
    config = validate(raw, repo / "config" / "schema.yaml")
    config["data"].update(length=20, n_train=64, n_validation=32, n_test=32)
    config["model"]["hidden_size"] = 8
    config["training"].update(batch_size=16, eval_every=10,
                              steps={**config["training"]["steps"], "count_reset": 20})
    return config


@pytest.mark.parametrize("clip", [1e-3, 1e-2])
def test_the_optimiser_steps_with_gradients_clipped_to_the_configured_norm(tmp_path, clip):
    """Through the workflow's entry point (`train_run` with a config): at every Adam step the
    gradient's global norm is at most `training.clip`, and reaches it (an untrained model's
    gradients are far larger than these clips, so clipping must act; a clip other than the
    config's would show as a different ceiling)."""
    norms = []

    def record(optimiser, args, kwargs):
        grads = [p.grad for group in optimiser.param_groups for p in group["params"]
                 if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack(
            [torch.linalg.vector_norm(g) for g in grads]))))

    handle = register_optimizer_step_pre_hook(record)
    try:
        train_run(_tiny_config(clip), Run("count_reset", "lstm", "default", 0),
                  checkpoints_path=str(tmp_path / "ckpt.pt"), log_path=str(tmp_path / "log.csv"),
                  test_path=str(tmp_path / "test.json"))
    finally:
        handle.remove()
    assert len(norms) == 20
    assert max(norms) <= clip * (1 + 1e-5)
    assert min(norms) >= clip * (1 - 1e-3)
