"""Swap the forget and input blocks of every trained LSTM of one task and fine-tune it, and
again with the moved blocks frozen (C4)."""

from gateroles import pipeline
from gateroles.analyses.wiring.rewire import rewire_run
from gateroles.study import Cell

pipeline.start(snakemake.threads, snakemake.log[0])
w, inp, out = snakemake.wildcards, snakemake.input, snakemake.output
runs = Cell(w.task, w.arch, w.init).runs(snakemake.params.seeds)
for k, run in enumerate(runs):
    rewire_run(snakemake.params.config, run, start_path=inp.checkpoints[k],
               checkpoints_path=out.checkpoints[k], log_path=out.train_log[k],
               scores_path=out.scores[k], test_path=out.test[k], frozen_path=out.frozen[k],
               frozen_log_path=out.frozen_log[k])
