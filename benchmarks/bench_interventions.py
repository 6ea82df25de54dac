"""Clamped forward passes: C stacked conditions against one unclamped pass (one thread).

    python benchmarks/bench_interventions.py [--conditions 20] [--sequences 100] [--repeats 5]
        [--batch-size 512]

Per architecture (H = 32, T = 100, reset_recall inputs): the time of one
`interventions.forward_conditions` call with C conditions on N sequences (the recurrence over
C * N sequences, stacked `batch_size // N` conditions per pass; the conditions mix gates,
per-step masks, per-unit masks and values; every gate's mask ends up full [C*N, T, H], so
this is the costly case), against:
- "no clamp": the same call with C empty conditions (what the clamps themselves cost);
- "unclamped": one unclamped `interventions.forward` of all C * N sequences in one pass
  (`gates.extract` plus the read-out);
- "fused": the fused module's own forward (no grad) on those C * N sequences;
- "separate": C separate clamped `interventions.forward` calls on N sequences.
Runs alternate and the median ratio is reported.
"""

import argparse
import os
import statistics

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_name] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
from timing import timed  # noqa: E402

from gateroles import interventions  # noqa: E402
from gateroles.models import SPECS, build_model  # noqa: E402
from gateroles.tasks import make_splits  # noqa: E402

torch.set_num_threads(1)


def conditions_for(arch: str, n_conditions: int, n: int, t_len: int, hidden: int, seed: int):
    """C clamps cycling through the gates: at random steps (10%), on half the units, both."""
    rng = np.random.default_rng(seed)
    gate_names = SPECS[arch].gates
    out = []
    for c in range(n_conditions):
        gate, kind = gate_names[c % len(gate_names)], (c // len(gate_names)) % 3
        steps = rng.random((n, t_len, 1)) < 0.1
        units = rng.random((1, 1, hidden)) < 0.5
        where = (steps, units, steps & units)[kind]
        out.append({gate: (where, float(c % 2))})
    return out



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", type=int, default=20)
    parser.add_argument("--sequences", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=512)
    args = parser.parse_args()
    c_count, n = args.conditions, args.sequences
    test = make_splits("reset_recall", {"train": 8, "validation": 8, "test": n}, 100, 0)["test"]
    x = torch.as_tensor(test.inputs[:n])
    stacked = x.repeat(c_count, 1, 1)
    print(f"shapes: {c_count} conditions x {n} sequences x {x.shape[1]} steps, H 32, 1 thread")
    print(f"{'arch':5} {'stacked ms':>10} {'no clamp ms':>11} {'ratio':>6} {'unclamped ms':>12} "
          f"{'ratio':>6} {'fused ms':>9} {'ratio':>6} {'separate ms':>11} {'ratio':>6}")
    for arch in ("lstm", "gru"):
        model = build_model(arch, test.input_size, 32, test.n_outputs, "default", 100, 0).eval()
        conditions = conditions_for(arch, c_count, n, x.shape[1], 32, seed=0)

        def stacked_run(model=model, conditions=conditions):
            interventions.forward_conditions(model, x, conditions, batch_size=args.batch_size)

        def no_clamp(model=model):
            interventions.forward_conditions(model, x, [None] * c_count,
                                             batch_size=args.batch_size)

        def unclamped(model=model):
            interventions.forward(model, stacked)

        def fused(model=model):
            with torch.no_grad():
                model.rnn(stacked)

        def separate(model=model, conditions=conditions):
            for clamp in conditions:
                interventions.forward(model, x, clamp)

        fns = {"stacked": stacked_run, "no_clamp": no_clamp, "unclamped": unclamped,
               "fused": fused, "separate": separate}
        runs = {name: [] for name in fns}
        for fn in fns.values():  # untimed warm-up
            fn()
        for _ in range(args.repeats):
            for name, fn in fns.items():
                runs[name].append(timed(fn))

        def ratio(a, b, runs=runs):
            return statistics.median(p / q for p, q in zip(runs[a], runs[b], strict=True))

        ms = {k: 1e3 * statistics.median(v) for k, v in runs.items()}
        print(f"{arch:5} {ms['stacked']:10.1f} {ms['no_clamp']:11.1f} "
              f"{ratio('stacked', 'no_clamp'):6.2f} {ms['unclamped']:12.1f} "
              f"{ratio('stacked', 'unclamped'):6.2f} {ms['fused']:9.1f} "
              f"{ratio('stacked', 'fused'):6.2f} {ms['separate']:11.1f} "
              f"{ratio('stacked', 'separate'):6.2f}")
    print("ratio = stacked / the column before it")


if __name__ == "__main__":
    main()
