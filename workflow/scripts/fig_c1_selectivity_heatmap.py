"""Figure: probe selectivity, source x variable, initial vs trained (C1)."""

from gateroles import jobs, plots, storage

jobs.start(snakemake.threads, snakemake.log[0])
fig = plots.selectivity_heatmap(storage.read_csv(snakemake.input.probes))
plots.save(fig, snakemake.output.png, snakemake.output.pdf)
