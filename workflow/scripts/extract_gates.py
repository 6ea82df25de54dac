"""Recompute the gates of every checkpoint of one model on a sample of test sequences."""

from gateroles import jobs
from gateroles.experiment import extract_one

jobs.start(snakemake.threads, snakemake.log[0])
w = snakemake.wildcards
extract_one(snakemake.params.config, w.task, int(w.seed),
            checkpoints_path=snakemake.input.checkpoints,
            gates_path=snakemake.output.gates,
            performance_path=snakemake.output.performance)
