"""The study's viewer, results/viewer.html (gateroles.viewer.study)."""

from gateroles import pipeline
from gateroles.study import Run

pipeline.start(snakemake.threads, snakemake.log[0])
from gateroles.viewer import study  # noqa: E402 - after the thread count is pinned

inp = snakemake.input
causal = {path.split("/causal/")[0]: path for path in inp.causal}
models = []
for (task, arch, init, seed, perturb), checkpoints in zip(
        snakemake.params.shown, inp.checkpoints, strict=True):
    run = Run(task, arch, init, int(seed))
    models.append({"run": run, "checkpoints": checkpoints, "perturb": perturb,
                   "causal": causal.get(f"results/runs/{run.cell.path}") if perturb else None})
study.write(snakemake.params.config, models, inp.runs, snakemake.output.html)
