"""Figure: event-triggered gate averages, trained vs initial."""

from gateroles import jobs, plots, storage

jobs.start(snakemake.threads, snakemake.log[0])
fig = plots.event_averages(storage.read_csv(snakemake.input.aligned))
plots.save(fig, snakemake.output.png, snakemake.output.pdf)
