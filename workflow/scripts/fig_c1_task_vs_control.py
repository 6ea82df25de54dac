"""Figure: probe task score against control score (C1)."""

from gateroles import jobs, plots, storage

jobs.start(snakemake.threads, snakemake.log[0])
fig = plots.task_vs_control(storage.read_csv(snakemake.input.probes))
plots.save(fig, snakemake.output.png, snakemake.output.pdf)
