"""Stack the per-model probe tables, rank the sources and decide claim C1."""

from gateroles import aggregate, jobs, storage

jobs.start(snakemake.threads, snakemake.log[0])
inp, out = snakemake.input, snakemake.output
analysis = snakemake.params.config["analysis"]
n_boot, confidence = analysis["bootstrap_samples"], analysis["confidence"]

probes = aggregate.concat(inp.probes, storage.read_csv(inp.runs))
storage.write_csv(probes, out.probes)
storage.write_csv(aggregate.c1_ranking(probes, n_boot, confidence), out.ranking)
storage.write_csv(aggregate.c1_verdicts(probes, n_boot, confidence), out.c1)
storage.write_csv(aggregate.c1_controls(probes), out.controls)
