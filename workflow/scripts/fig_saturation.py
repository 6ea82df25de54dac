"""Figure: per-unit gate saturation, trained vs initial."""

from gateroles import jobs, plots, storage

jobs.start(snakemake.threads, snakemake.log[0])
analysis = snakemake.params.config["analysis"]
fig = plots.saturation(storage.read_csv(snakemake.input.saturation),
                       analysis["saturation_low"], analysis["saturation_high"])
plots.save(fig, snakemake.output.png, snakemake.output.pdf)
