"""One model's full C3 intervention set against one unclamped forward (one thread).

    python benchmarks/bench_causal.py [--run results/runs/reset_recall/lstm/default/seed0]
        [--tasks reset_recall armed_reset] [--archs lstm gru] [--repeats 3]
        [--controls lstm_nfg lstm_nig lstm_nog gru_fug]

Per task x architecture at the default size (H = 32, the gate file's 200 sequences x 100
steps, the default `causal` settings): the time of `causal.measure.measure_models` on one
model (step 0 and the last checkpoint: the interchanges and their lag-matched quiet
controls, the role-off clamps, the unit ablation with its random groups, the block swaps),
and of one unclamped `interventions.forward` of the same 200 sequences, measured alternately
in the same run; medians and their ratio. Then, per task x control architecture (`--controls`;
none: skip), the same for a negative control's cell (`Settings.control_only`: the primary
measures of the roles it controls, last checkpoint only). Without `--run`
the models are freshly initialised (seeds 0 and 1 stand in for step 0 and the last
checkpoint; the work per model does not depend on training) and the gate file is written to
a temporary directory; with `--run` a trained run's gate file and checkpoints are used.
Times are CPU seconds of this one-thread process (wall seconds beside them): on a shared
machine the wall time measures the other processes too.
"""

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_name] = "1"

import torch  # noqa: E402
import yaml  # noqa: E402

from gateroles import gatefile, gates, interventions, storage  # noqa: E402
from gateroles.analyses.causal import Settings  # noqa: E402
from gateroles.analyses.causal.measure import measure_models  # noqa: E402
from gateroles.models import build_model, models_from_payload  # noqa: E402
from gateroles.tasks import make_splits  # noqa: E402

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]


def default_settings() -> Settings:
    schema = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())
    props = schema["properties"]["causal"]["properties"]
    return Settings.from_config({"causal": {k: v["default"] for k, v in props.items()}})


def fresh(task: str, arch: str, tmp: str):
    """A gate file of 200 test sequences and two freshly initialised models."""
    test = make_splits(task, {"train": 8, "validation": 8, "test": 200}, 100, 0)["test"]
    models = {step: build_model(arch, test.input_size, 32, test.n_outputs, "default", 100,
                                seed).eval() for step, seed in ((0, 0), (1, 1))}
    path = os.path.join(tmp, f"{task}_{arch}.npz")
    gatefile.write(path, gatefile.task_arrays(test, 200),
                   {step: gates.extract(m, test.inputs, preactivations=True)
                    for step, m in models.items()})
    return models, gatefile.GateFile(path)


def trained(run: str):
    gf = gatefile.GateFile(os.path.join(run, "gates.npz"))
    models = models_from_payload(storage.load_torch(os.path.join(run, "checkpoints.pt")))
    return {0: models[0], gf.final_step: models[gf.final_step]}, gf


def last(models: dict, gf) -> tuple[dict, object]:
    """The last checkpoint alone (what a control cell measures) and the gate file."""
    return {gf.final_step: models[gf.final_step]}, gf


def timed(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of `fn()`: on a shared machine the CPU time of this one-thread
    process is the steadier of the two."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a trained run's folder (gates.npz, checkpoints.pt)")
    parser.add_argument("--tasks", nargs="+", default=["reset_recall", "armed_reset"])
    parser.add_argument("--archs", nargs="+", default=["lstm", "gru"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--controls", nargs="*",
                        default=["lstm_nfg", "lstm_nig", "lstm_nog", "gru_fug"])
    args = parser.parse_args()
    settings = default_settings()
    control = dataclasses.replace(settings, control_only=True)
    print(f"settings: {settings}; 1 thread")
    print(f"{'task':13} {'arch':8} {'interventions s':>15} {'(wall s)':>8} "
          f"{'one forward ms':>14} {'(wall ms)':>9} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        cases = ([(None, None, *trained(args.run), settings)] if args.run else
                 [(t, a, *fresh(t, a, tmp), settings) for t in args.tasks for a in args.archs])
        if not args.run:
            cases += [(t, a, *last(*fresh(t, a, tmp)), control) for t in args.tasks
                      for a in args.controls]
        for task, arch, models, gf, case_settings in cases:
            task = task or gf.meta["task"]
            arch = arch or next(iter(models.values())).arch
            x = torch.as_tensor(gf.inputs)
            final = models[max(models)]
            interventions.forward(final, x)  # warm-up
            everything = partial(measure_models, models, gf, arch, case_settings, 0)
            forward = partial(interventions.forward, final, x)
            full, one = [], []
            for _ in range(args.repeats):
                full.append(timed(everything))
                one.append(timed(forward))
            (f_wall, f_cpu), (o_wall, o_cpu) = (
                tuple(statistics.median(t[i] for t in times) for i in (0, 1))
                for times in (full, one))
            print(f"{task:13} {arch:8} {f_cpu:15.2f} {f_wall:8.2f} {1e3 * o_cpu:14.1f} "
                  f"{1e3 * o_wall:9.1f} {f_cpu / o_cpu:6.0f}")


if __name__ == "__main__":
    main()
