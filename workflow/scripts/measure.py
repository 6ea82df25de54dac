"""One analysis's per-model measurement, every seed of one grid cell (gateroles.pipeline)."""

from gateroles import pipeline
from gateroles.study import Cell

pipeline.start(snakemake.threads, snakemake.log[0])
w = snakemake.wildcards
pipeline.measure_cell(
    snakemake.params.module, snakemake.params.config, Cell(w.task, w.arch, w.init),
    snakemake.params.seeds,
    inputs={name: list(files) for name, files in snakemake.input.items() if name != "code"},
    outputs=dict(snakemake.output.items()))
