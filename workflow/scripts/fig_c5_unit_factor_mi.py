"""Figure: gate unit x task variable MI heatmap of one trained model, initial vs trained."""

from gateroles import jobs, plots, storage

jobs.start(snakemake.threads, snakemake.log[0])
fig = plots.c5_unit_factor_mi(storage.read_csv(snakemake.input.unit_factor))
plots.save(fig, snakemake.output.png, snakemake.output.pdf)
