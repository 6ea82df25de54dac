"""Gradient norm by lag (claim C6): the time of every lag of one model, on one thread.

    python benchmarks/bench_gradient_flow.py [--sequences 64] [--picks 2] [--max-lag 50]
        [--burn-in 10] [--repeats 5] [--tasks reset_recall adding]

Per task and architecture (H = 32, T = 100, the default `gradients` settings): the time of
`measure.model_tables` on one network, i.e. every lag of every path under every condition
(LSTM: total and direct with free gates, total with the forget gate clamped: 3 forward +
backward passes of the differentiable twin; GRU the same with the update gate; the negative
controls lstm_ffg and gru_fug, keep gate held at 0.5 in training, the same 3; lstm_nfg 2;
tanh RNN: 1 pass), and its
ratio to one fused forward + backward (`model(x)`, the loss at the picks, `backward`) of the
same batch, timed in the same run (runs alternate; medians). One measure job does this twice
per model (step 0 and the last checkpoint).
"""

import argparse
import os
import statistics
from functools import partial

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_name] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
from timing import timed  # noqa: E402

from gateroles.analyses.gradient_flow import measure  # noqa: E402
from gateroles.models import build_model  # noqa: E402
from gateroles.tasks import make_task  # noqa: E402

torch.set_num_threads(1)



def all_lags(model, arch, x, targets, kind, steps, max_lag):
    """What one measure job does per network: every lag, path and condition."""
    for param in model.parameters():
        param.requires_grad_(False)
    measure.model_tables(model, arch, x, targets, kind, steps, max_lag, 0.5)
    for param in model.parameters():
        param.requires_grad_(True)


def fused_step(model, arch, x, targets, kind, steps, max_lag):
    """One fused forward + backward of the same batch (the loss at each row's pick)."""
    model.zero_grad()
    xt = torch.as_tensor(x[:, :int(steps.max()) + 1])
    out = model(xt)[torch.arange(len(steps)), torch.as_tensor(steps)]
    measure.step_loss(out, targets, kind).backward()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=64)
    parser.add_argument("--picks", type=int, default=2)
    parser.add_argument("--max-lag", type=int, default=50)
    parser.add_argument("--burn-in", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--tasks", nargs="+", default=["reset_recall", "adding"])
    parser.add_argument("--archs", nargs="+", default=["lstm", "gru", "rnn"])
    args = parser.parse_args()
    print(f"H = {args.hidden}, T = {args.length}, {args.sequences} sequences x up to "
          f"{args.picks} picks, lags 0..{args.max_lag}, 1 thread, median of {args.repeats}")
    print(f"{'task':13s} {'arch':8s} {'rows':>5s} {'all lags (s)':>13s} {'fused f+b (s)':>14s} "
          f"{'ratio':>6s}")
    for task_name in args.tasks:
        task = make_task(task_name, args.sequences, args.length, seed=0)
        seq, steps, k = measure.choose_picks(task.mask, args.max_lag, args.picks, args.burn_in,
                                             np.random.default_rng(0))
        x = task.inputs[seq].astype(np.float32)
        targets = task.targets[seq, steps]
        for arch in args.archs:
            model = build_model(arch, x.shape[-1], args.hidden, task.n_outputs, "default",
                                args.length, 0).eval()

            batch = (model, arch, x, targets, task.kind, steps, k)
            ours, fused = partial(all_lags, *batch), partial(fused_step, *batch)
            ours()  # warm-up
            fused()
            times, base = [], []
            for _ in range(args.repeats):
                times.append(timed(ours))
                base.append(timed(fused))
            t, b = statistics.median(times), statistics.median(base)
            print(f"{task_name:13s} {arch:8s} {len(seq):5d} {t:13.3f} {b:14.4f} {t / b:6.1f}")


if __name__ == "__main__":
    main()
