"""Figure: MIG, modularity and DCI over training."""

from gateroles import jobs, plots, storage

jobs.start(snakemake.threads, snakemake.log[0])
fig = plots.c5_disentanglement(storage.read_csv(snakemake.input.disentanglement))
plots.save(fig, snakemake.output.png, snakemake.output.pdf)
