"""Recompute the gates of every checkpoint of every seed of one grid cell (gate files)."""

from gateroles import pipeline
from gateroles.extraction import extract_run
from gateroles.study import Cell

pipeline.start(snakemake.threads, snakemake.log[0])
w = snakemake.wildcards
runs = Cell(w.task, w.arch, w.init).runs(snakemake.params.seeds)
for run, checkpoints, gates in zip(runs, snakemake.input.checkpoints, snakemake.output.gates,
                                   strict=True):
    extract_run(snakemake.params.config, run, checkpoints_path=checkpoints, gates_path=gates,
                logits=snakemake.params.logits)
