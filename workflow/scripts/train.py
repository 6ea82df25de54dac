"""Train every seed of one grid cell; each writes checkpoints, training log and test score."""

from gateroles import pipeline
from gateroles.study import Cell
from gateroles.training import train_run

pipeline.start(snakemake.threads, snakemake.log[0])
w, out = snakemake.wildcards, snakemake.output
runs = Cell(w.task, w.arch, w.init).runs(snakemake.params.seeds)
for run, checkpoints, train_log, test in zip(runs, out.checkpoints, out.train_log, out.test,
                                             strict=True):
    train_run(snakemake.params.config, run, checkpoints_path=checkpoints, log_path=train_log,
              test_path=test)
