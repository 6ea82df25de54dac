"""Recording and clamping every gate of a 2-layer bidirectional LSTM against its own forward.

    python benchmarks/bench_lens.py [--sequences 200] [--steps 100] [--hidden 32]
        [--repeats 20]

On the same module and batch (batch_first, input 10, one thread), the median time of:
- "forward": the module's own forward (no grad), the reference of every ratio;
- "cache": `Lens(module).run_with_cache(x)`, every gate and state of both layers and both
  directions recorded (with each state's value before each step);
- "extract": `gates.extract` of each layer in turn (what the study's extraction does, per layer);
- "clamp": `Lens.run_with_hooks` with one clamp (layer 0, forward direction, forget gate held
  at 0 at 10% of the steps), the clamp propagating through layer 1;
- "forward()": `interventions.forward` with the same clamp (every layer run; outputs).
Runs alternate and the median ratio to the module's forward is reported.
"""

import argparse
import os
import statistics

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_name] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
from timing import timed  # noqa: E402

from gateroles import gates, interventions  # noqa: E402
from gateroles.lens import Lens  # noqa: E402

torch.set_num_threads(1)



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=200)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.manual_seed(0)
    module = torch.nn.LSTM(10, args.hidden, num_layers=2, bidirectional=True,
                           batch_first=True).eval()
    x = torch.randn(args.sequences, args.steps, 10)
    where = np.random.default_rng(0).random((args.sequences, args.steps, 1)) < 0.1
    lens = Lens(module)
    clamp = {"l0.fwd.forget": (where, 0.0)}
    units = np.arange(2 * args.hidden) < args.hidden  # the forward direction's units
    mask = where & units  # [N, T, 2H]

    def forward():
        with torch.no_grad():
            module(x)

    fns = {"forward": forward,
           "cache": lambda: lens.run_with_cache(x),
           "extract": lambda: [gates.extract(module, x, layer=k) for k in (0, 1)],
           "clamp": lambda: lens.run_with_hooks(x, clamps=clamp),
           "forward()": lambda: interventions.forward(module, x, {"forget": (mask, 0.0)},
                                                      layer=0)}
    for fn in fns.values():  # untimed warm-up
        fn()
    runs = {name: [] for name in fns}
    for _ in range(args.repeats):
        for name, fn in fns.items():
            runs[name].append(timed(fn))
    print(f"shapes: 2-layer bidirectional LSTM, batch_first, {args.sequences} sequences x "
          f"{args.steps} steps, input 10, hidden {args.hidden}, 1 thread, {args.repeats} "
          f"alternating runs")
    print(f"{'':10} {'ms':>8} {'ratio to forward':>17}")
    for name, times in runs.items():
        ratio = statistics.median(t / f for t, f in zip(times, runs["forward"], strict=True))
        print(f"{name:10} {1e3 * statistics.median(times):8.1f} {ratio:17.2f}")
    print("targets: cache <= 2.5, clamp <= 3")


if __name__ == "__main__":
    main()
