"""Linear probes with control tasks for every checkpoint of one model (claim C1)."""

from gateroles import jobs
from gateroles.experiment import probe_one

jobs.start(snakemake.threads, snakemake.log[0])
w = snakemake.wildcards
probe_one(snakemake.params.config, w.task, w.arch, w.init, int(w.seed),
          gates_path=snakemake.input.gates, probes_path=snakemake.output.probes)
