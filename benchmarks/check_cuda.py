"""Does `training.device: cuda` train the same models as the CPU? A check for a machine with a GPU.

    PYTHONPATH=src python benchmarks/check_cuda.py [--seeds 2] [--quick] [--other cpu]

Trains the same cells and seeds twice, on the CPU and on CUDA (`--other cpu` runs the check
against the CPU itself, to try the script on a machine without a GPU), with the default
config's data, budgets and optimiser (`config/config.yaml`), and prints one row per model:
- `init`: the largest difference between the two runs' step-0 weights (the model is built and
  initialised on the CPU, then moved; expected 0);
- `loss1`: relative difference of the validation loss after the first `eval_every` steps
  (float rounding differs between the kernels, and training amplifies it step by step, so
  this is small but not 0);
- `test_cpu`, `test_gpu`, `solved` on both, `steps_to_solve` on both;
- `constraints`: the GPU-trained variant still holds its invariants (removed gates' rows at 0,
  the coupled tie) when loaded on the CPU;
- seconds of training on each.
Then: whether two CUDA runs of one model give identical weights (cuDNN's RNN kernels need not
be deterministic), and `gates.extract` / `interventions.forward` on a module that lives on the
GPU against the same module on the CPU.

The verdict line at the end says which checks passed, with their tolerances. Exit status 1
when one failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402

from gateroles import gates, interventions  # noqa: E402
from gateroles.config import validate  # noqa: E402
from gateroles.models import build_model  # noqa: E402
from gateroles.training import (  # noqa: E402
    DataSettings,
    TaskTensors,
    evaluate,
    is_solved,
    train,
    train_settings,
)

ROOT = Path(__file__).resolve().parents[1]
CELLS = [("reset_recall", "lstm", "default"), ("reset_recall", "gru", "default"),
         ("reset_recall", "rnn", "default"), ("reset_recall", "lstm", "swap_forget_input"),
         ("count_reset", "lstm_cifg", "default"), ("count_reset", "lstm", "forget_bias_1"),
         ("armed_reset", "lstm_nig", "default"), ("adding", "gru", "default")]
QUICK_CELLS = CELLS[:2]
# Tolerances: the step-0 weights must be equal; after training, both runs must solve the task
# and their test scores agree to within SCORE_TOL (accuracy) or both stay under the threshold.
SCORE_TOL = 0.01
EXTRACT_TOL = 1e-4


@functools.cache
def config() -> dict:
    """The default study's config, validated (defaults filled in) as the workflow does (read
    once per process; nothing here changes it)."""
    raw = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    return validate(raw, ROOT / "config" / "schema.yaml")


def train_one(cell: tuple[str, str, str], seed: int, device: str) -> dict:
    """Train one model on `device`; its step-0 and final weights (on the CPU) and its numbers."""
    torch.set_num_threads(1)
    task, arch, init = cell
    cfg = config()
    splits = DataSettings.from_config(cfg).splits(task, seed)
    settings = dataclasses.replace(train_settings(cfg, task, arch), device=device)
    start = time.perf_counter()
    result = train(splits, arch, init, seed, settings, progress=open(os.devnull, "w"))
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    model = result.model.to("cpu")
    test = evaluate(model, TaskTensors(splits["test"], torch.device("cpu")))
    return {
        "first": result.checkpoints[0],
        "last": result.checkpoints[result.stopped_at],
        "loss1": result.log[1]["val_loss"],
        "test": test["score"],
        "kind": splits["test"].kind,
        "solved": is_solved(splits["test"].kind, test["score"], settings.solved_threshold),
        "steps_to_solve": result.steps_to_solve,
        "seconds": seconds,
    }


def largest_difference(a: dict, b: dict) -> float:
    return max(float((a[k] - b[k]).abs().max()) for k in a)


def fresh_model(task: str, arch: str):
    """A `default`-initialised model of the default study's shape for `task`."""
    train_split = DataSettings.from_config(config()).splits(task, 0)["train"]
    return build_model(arch, train_split.input_size, config()["model"]["hidden_size"],
                       train_split.n_outputs, "default", train_split.length, 0)


def constraints_hold(cell, state: dict) -> bool:
    model = fresh_model(cell[0], cell[1])
    model.load_state_dict(state)
    try:
        model.check_constraints()
    except RuntimeError:
        return False
    return True


def compare_training(cells, seeds: int, other: str) -> list[str]:
    failures = []
    jobs = [(cell, seed) for cell in cells for seed in range(seeds)]
    workers = min(len(jobs), os.cpu_count() or 1)
    spawn = multiprocessing.get_context("spawn")  # no CUDA state in the workers
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        cpu_runs = list(pool.map(train_one, *zip(*[(c, s, "cpu") for c, s in jobs], strict=True)))
    print(
        f"{'cell':40s} seed {'init':>7s} {'loss1':>8s} {'test_cpu':>9s} {'test_' + other:>9s}"
        f" solved  to_solve   constraints  s_cpu  s_{other}"
    )
    for (cell, seed), cpu in zip(jobs, cpu_runs, strict=True):
        dev = train_one(cell, seed, other)
        init_diff = largest_difference(cpu["first"], dev["first"])
        loss1 = abs(dev["loss1"] - cpu["loss1"]) / abs(cpu["loss1"])
        held = constraints_hold(cell, dev["last"])
        close = cpu["solved"] and dev["solved"] and (
            cpu["kind"] == "regression" or abs(cpu["test"] - dev["test"]) <= SCORE_TOL)
        print(
            f"{'/'.join(cell):40s} {seed:4d} {init_diff:7.1e} {loss1:8.1e} "
            f"{cpu['test']:9.5f} {dev['test']:9.5f} {cpu['solved']!s:>3s}/{dev['solved']!s:<5s}"
            f" {cpu['steps_to_solve']!s:>4s}/{dev['steps_to_solve']!s:<5s} {held!s:>11s} "
            f"{cpu['seconds']:6.1f} {dev['seconds']:6.1f}"
        )
        if init_diff != 0:
            failures.append(f"{cell} seed {seed}: step-0 weights differ by {init_diff:.1e}")
        if not close:
            failures.append(
                f"{cell} seed {seed}: test {cpu['test']:.5f} (cpu) vs "
                f"{dev['test']:.5f} ({other}), solved {cpu['solved']}/{dev['solved']}"
            )
        if not held:
            failures.append(f"{cell} seed {seed}: variant constraints broken after {other}")
    return failures


def check_determinism(cell, other: str) -> list[str]:
    a, b = train_one(cell, 0, other), train_one(cell, 0, other)
    diff = largest_difference(a["last"], b["last"])
    print(f"two {other} runs of {'/'.join(cell)} seed 0: final weights differ by {diff:.1e}")
    return [] if diff == 0 else [f"two {other} runs differ by {diff:.1e} (not deterministic)"]


def check_extraction(other: str) -> list[str]:
    failures = []
    inputs = DataSettings.from_config(config()).splits("reset_recall", 0)["test"].inputs[:50]
    for arch in ("lstm", "gru", "lstm_cifg"):
        model = fresh_model("reset_recall", arch)
        on_cpu = gates.extract(model, inputs, preactivations=True)
        clamp = {"forget" if arch != "gru" else "update": (np.ones((1, 1, 1), bool), 0.0)}
        clamped_cpu = interventions.forward(model, inputs, clamp)["outputs"]
        try:
            model = model.to(other)
            on_dev = gates.extract(model, inputs, preactivations=True)
            clamped_dev = interventions.forward(model, inputs, clamp)["outputs"]
        except Exception as exc:  # report what a user would hit, then go on
            failures.append(
                f"gates.extract / interventions.forward on a {other} {arch}: "
                f"{type(exc).__name__}: {exc}"
            )
            print(failures[-1])
            continue
        diff = max(float(np.abs(on_cpu[k] - on_dev[k]).max()) for k in on_cpu)
        diff_clamped = float(np.abs(clamped_cpu - clamped_dev).max())
        print(
            f"gates.extract on a {other} {arch} vs the CPU: {diff:.1e}; clamped outputs "
            f"{diff_clamped:.1e}"
        )
        if max(diff, diff_clamped) > EXTRACT_TOL:
            failures.append(f"gates.extract on {other} {arch} differs by {diff:.1e}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="two cells only")
    parser.add_argument("--other", default="cuda", help="the device to compare with the CPU")
    args = parser.parse_args()
    if args.other == "cuda":
        print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    cells = QUICK_CELLS if args.quick else CELLS
    failures = compare_training(cells, args.seeds, args.other)
    failures += check_determinism(cells[0], args.other)
    failures += check_extraction(args.other)
    print(
        f"\ntolerances: step-0 weights equal; test accuracy within {SCORE_TOL} and both "
        f"solved (adding: both under the MSE threshold); extraction within {EXTRACT_TOL}"
    )
    print("FAILED:\n  " + "\n  ".join(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
