"""Swap the forget and input blocks of every trained LSTM of one task and fine-tune it (C4)."""

from gateroles import pipeline
from gateroles.analyses.wiring.rewire import rewire_run
from gateroles.study import Cell

pipeline.start(snakemake.threads, snakemake.log[0])
w, inp, out = snakemake.wildcards, snakemake.input, snakemake.output
runs = Cell(w.task, w.arch, w.init).runs(snakemake.params.seeds)
for run, start, checkpoints, train_log, scores, test in zip(
        runs, inp.checkpoints, out.checkpoints, out.train_log, out.scores, out.test, strict=True):
    rewire_run(snakemake.params.config, run, start_path=start, checkpoints_path=checkpoints,
               log_path=train_log, scores_path=scores, test_path=test)
