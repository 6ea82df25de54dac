"""Training step and gate extraction against bare PyTorch on the same shapes (one thread).

    python benchmarks/bench_training.py [--steps 200] [--repeats 5]

Prints, per architecture: seconds per step of `gateroles.training.train` (including its
periodic validation, checkpoints and logging) and of a bare PyTorch loop with the same module,
optimiser, clipping, masked loss and batch sampling; and the time of `gateroles.gates.extract`
against the module's own forward pass (no grad) on the same batch. Runs alternate A/B and the
median ratio is reported.
"""

import argparse
import io
import os
import statistics
import time

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_name] = "1"

import torch  # noqa: E402
from torch import nn  # noqa: E402

from gateroles.gates import extract  # noqa: E402
from gateroles.models import build_model  # noqa: E402
from gateroles.tasks import make_splits  # noqa: E402
from gateroles.training import TrainSettings, train  # noqa: E402

torch.set_num_threads(1)


def bare_loop(splits, arch, settings, seed):
    """The plainest loop that does the same work per step."""
    task = splits["train"]
    model = build_model(arch, task.input_size, settings.hidden_size, task.n_outputs, "default",
                        task.length, seed)
    x, y = torch.as_tensor(task.inputs), torch.as_tensor(task.targets)
    mask = torch.as_tensor(task.mask)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(settings.max_steps):
        idx = torch.randint(x.shape[0], (settings.batch_size,), generator=gen)
        out = model(x[idx])
        loss = nn.functional.cross_entropy(out[mask[idx]], y[idx][mask[idx]])
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), settings.clip)
        opt.step()


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    splits = make_splits("reset_recall", {"train": 2000, "validation": 256, "test": 512}, 100, 0)
    settings = TrainSettings(hidden_size=32, batch_size=64, max_steps=args.steps,
                             solved_threshold=1.01)  # never solved: every run does all steps
    print(f"shapes: batch 64, T 100, H 32, reset_recall, {args.steps} steps, 1 thread")
    print(f"{'arch':5} {'ours ms/step':>13} {'bare ms/step':>13} {'ratio':>6}   "
          f"{'extract ms':>10} {'forward ms':>10} {'ratio':>6}")
    for arch in ("lstm", "gru"):
        ours, bare = [], []
        for _ in range(args.repeats):
            ours.append(timed(lambda: train(splits, arch, "default", 0, settings,  # noqa: B023
                                            progress=io.StringIO())))
            bare.append(timed(lambda: bare_loop(splits, arch, settings, 0)))  # noqa: B023
        train_ratio = statistics.median(o / b for o, b in zip(ours, bare, strict=True))
        model = build_model(arch, splits["test"].input_size, 32, splits["test"].n_outputs,
                            "default", 100, 0).eval()
        batch = torch.as_tensor(splits["test"].inputs[:200])
        ext, fwd = [], []
        for _ in range(10 * args.repeats):
            ext.append(timed(lambda: extract(model, batch)))  # noqa: B023
            with torch.no_grad():
                fwd.append(timed(lambda: model.rnn(batch)))  # noqa: B023
        ext_ratio = statistics.median(e / f for e, f in zip(ext, fwd, strict=True))
        print(f"{arch:5} {1e3 * statistics.median(ours) / args.steps:13.2f} "
              f"{1e3 * statistics.median(bare) / args.steps:13.2f} {train_ratio:6.3f}   "
              f"{1e3 * statistics.median(ext):10.2f} {1e3 * statistics.median(fwd):10.2f} "
              f"{ext_ratio:6.2f}")


if __name__ == "__main__":
    main()
