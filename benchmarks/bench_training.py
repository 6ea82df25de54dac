"""Training step and gate extraction against bare PyTorch on the same shapes (one thread).

    python benchmarks/bench_training.py [--steps 200] [--repeats 5] [--archs lstm gru ...]

Prints, per architecture: milliseconds per step of `gateroles.training.train` (with its
validation every 25 steps, checkpoints and logging) and of a bare PyTorch loop doing the same
work on the same module (module, optimiser, clipping, masked loss, batch sampling, and a plain
no-grad validation pass on the same schedule), their ratio, the same ratio with validation only
at the first and last step in both ("few-val"), and for the LSTM variants the bare loop's time
against the bare loop of the plain LSTM ("vs lstm": what the variant's gradient masks, tie and
sync cost per step).
Then the time of `gateroles.gates.extract` against the module's own forward pass (no grad) on
the same batch, without and with the sigmoid gates' logits (the workflow asks for them). Runs
alternate A/B and the median ratio is reported.
"""

import argparse
import io
import os
import statistics
from dataclasses import replace

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_name] = "1"

import torch  # noqa: E402
from timing import timed  # noqa: E402
from torch import nn  # noqa: E402

from gateroles.gates import extract  # noqa: E402
from gateroles.models import ARCHITECTURES, build_model  # noqa: E402
from gateroles.tasks import make_splits  # noqa: E402
from gateroles.training import TrainSettings, train  # noqa: E402

torch.set_num_threads(1)


def bare_loop(splits, arch, settings, seed):
    """The plainest loop that does the same work: steps, and validation every `eval_every`."""
    task, val = splits["train"], splits["validation"]
    model = build_model(arch, task.input_size, settings.hidden_size, task.n_outputs, "default",
                        task.length, seed)
    x, y = torch.as_tensor(task.inputs), torch.as_tensor(task.targets)
    mask = torch.as_tensor(task.mask)
    x_val, y_val = torch.as_tensor(val.inputs), torch.as_tensor(val.targets)
    mask_val = torch.as_tensor(val.mask)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    gen = torch.Generator().manual_seed(seed)
    for step in range(settings.steps + 1):
        if step % settings.eval_every == 0 or step == settings.steps:
            model.eval()
            with torch.no_grad():
                out = model(x_val)[mask_val]
                float(nn.functional.cross_entropy(out, y_val[mask_val]))
                float((out.argmax(-1) == y_val[mask_val]).float().mean())
            model.train()
        if step == settings.steps:
            break
        idx = torch.randint(x.shape[0], (settings.batch_size,), generator=gen)
        out = model(x[idx])
        loss = nn.functional.cross_entropy(out[mask[idx]], y[idx][mask[idx]])
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), settings.clip)
        opt.step()


def train_ratio(splits, arch, settings, repeats):
    """(ours seconds, bare seconds, median ratio) over alternating runs, after a short untimed
    run of each (the process's first forward/backward pays one-time set-up)."""
    warm_up = replace(settings, steps=5)
    train(splits, arch, "default", 0, warm_up, progress=io.StringIO())
    bare_loop(splits, arch, warm_up, 0)
    ours, bare = [], []
    for _ in range(repeats):
        ours.append(timed(lambda: train(splits, arch, "default", 0, settings,
                                        progress=io.StringIO())))
        bare.append(timed(lambda: bare_loop(splits, arch, settings, 0)))
    ratio = statistics.median(o / b for o, b in zip(ours, bare, strict=True))
    return statistics.median(ours), statistics.median(bare), ratio


def variant_cost(splits, arch, settings, repeats):
    """Median over alternating runs of the bare loop on `arch` / the bare loop on `lstm`."""
    bare_loop(splits, arch, replace(settings, steps=5), 0)
    ratios = [timed(lambda: bare_loop(splits, arch, settings, 0))
              / timed(lambda: bare_loop(splits, "lstm", settings, 0)) for _ in range(repeats)]
    return statistics.median(ratios)



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--archs", nargs="+", default=list(ARCHITECTURES), choices=ARCHITECTURES)
    args = parser.parse_args()
    splits = make_splits("reset_recall", {"train": 2000, "validation": 256, "test": 512}, 100, 0)
    settings = TrainSettings(hidden_size=32, batch_size=64, steps=args.steps,
                             solved_threshold=1.01)  # never solved: every run does all steps
    few_validations = replace(settings, eval_every=args.steps + 1)  # first and last step
    print(f"shapes: batch 64, T 100, H 32, reset_recall, {args.steps} steps, 1 thread; "
          f"validation ({splits['validation'].inputs.shape[0]} sequences) every "
          f"{settings.eval_every} steps")
    print(f"{'arch':9} {'ours ms/step':>13} {'bare ms/step':>13} {'ratio':>6} "
          f"{'few-val ratio':>13} {'vs lstm':>7}   "
          f"{'forward ms':>10} {'extract ms':>10} {'ratio':>6} {'+logits ms':>10} {'ratio':>6}")
    for arch in args.archs:
        ours, bare, ratio = train_ratio(splits, arch, settings, args.repeats)
        _, _, few_val_ratio = train_ratio(splits, arch, few_validations, args.repeats)
        cost = (variant_cost(splits, arch, settings, args.repeats)
                if arch.startswith("lstm_") else float("nan"))
        model = build_model(arch, splits["test"].input_size, 32, splits["test"].n_outputs,
                            "default", 100, 0).eval()
        batch = torch.as_tensor(splits["test"].inputs[:200])
        fwd, ext, ext_logits = [], [], []
        for _ in range(10 * args.repeats):
            with torch.no_grad():
                fwd.append(timed(lambda: model.rnn(batch)))  # noqa: B023
            ext.append(timed(lambda: extract(model, batch)))  # noqa: B023
            # as the workflow's extract_gates calls it: sigmoid gates' logits too
            ext_logits.append(timed(lambda: extract(model, batch,  # noqa: B023
                                                    preactivations=True)))
        ext_ratio = statistics.median(e / f for e, f in zip(ext, fwd, strict=True))
        logits_ratio = statistics.median(e / f for e, f in zip(ext_logits, fwd, strict=True))
        print(f"{arch:9} {1e3 * ours / args.steps:13.2f} {1e3 * bare / args.steps:13.2f} "
              f"{ratio:6.3f} {few_val_ratio:13.3f} {cost:7.3f}   "
              f"{1e3 * statistics.median(fwd):10.2f} {1e3 * statistics.median(ext):10.2f} "
              f"{ext_ratio:6.2f} {1e3 * statistics.median(ext_logits):10.2f} {logits_ratio:6.2f}")


if __name__ == "__main__":
    main()
