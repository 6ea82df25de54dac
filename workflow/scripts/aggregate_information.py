"""Stack the per-model C5 tables; initial vs trained with CIs over seeds; the C5 verdicts."""

from gateroles import aggregate, jobs, storage

jobs.start(snakemake.threads, snakemake.log[0])
inp, out = snakemake.input, snakemake.output
analysis = snakemake.params.config["analysis"]
n_boot, confidence = analysis["bootstrap_samples"], analysis["confidence"]
main_bins = snakemake.params.config["information"]["main_bins"]

runs = storage.read_csv(inp.runs)
gate_mi = aggregate.concat(inp.gate_mi, runs)
scores = aggregate.concat(inp.disentanglement, runs)
storage.write_csv(gate_mi, out.gate_mi)
storage.write_csv(aggregate.concat(inp.unit_factor, runs), out.unit_factor)
storage.write_csv(scores, out.disentanglement)
dependence = aggregate.c5_dependence(gate_mi, n_boot, confidence)
disent = aggregate.c5_disentanglement(scores, n_boot, confidence)
storage.write_csv(dependence, out.dependence)
storage.write_csv(disent, out.disent_change)
storage.write_csv(aggregate.c5_verdicts(dependence, disent, main_bins), out.c5)
