"""Train one (task, arch, init, seed) model; write checkpoints, training log and test score."""

from gateroles import jobs
from gateroles.runs import train_one

jobs.start(snakemake.threads, snakemake.log[0])
w = snakemake.wildcards
train_one(snakemake.params.config, w.task, w.arch, w.init, int(w.seed),
          checkpoints_path=snakemake.output.checkpoints,
          log_path=snakemake.output.train_log, test_path=snakemake.output.test)
