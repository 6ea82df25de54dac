"""Figure: training curves of every seed."""

from gateroles import jobs, plots, storage

jobs.start(snakemake.threads, snakemake.log[0])
fig = plots.training_curves(storage.read_csv(snakemake.input.training),
                            storage.read_csv(snakemake.input.runs))
plots.save(fig, snakemake.output.png, snakemake.output.pdf)
