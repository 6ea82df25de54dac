"""Figure: MI between gate types over training (same unit, activations vs logits)."""

from gateroles import jobs, plots, storage

jobs.start(snakemake.threads, snakemake.log[0])
fig = plots.c5_gate_mi(storage.read_csv(snakemake.input.gate_mi),
                       snakemake.params.config["information"]["main_bins"])
plots.save(fig, snakemake.output.png, snakemake.output.pdf)
