"""Stack the per-model tables, add CIs over seeds and decide claim C2."""

from gateroles import aggregate, jobs, storage

jobs.start(snakemake.threads, snakemake.log[0])
inp, out = snakemake.input, snakemake.output
analysis = snakemake.params.config["analysis"]
n_boot, confidence = analysis["bootstrap_samples"], analysis["confidence"]

runs = aggregate.runs_table(inp.tests)
storage.write_csv(runs, out.runs)
storage.write_csv(aggregate.solved_by_task(runs, n_boot, confidence), out.solved)
for parts, target in ((inp.train_logs, out.training), (inp.performance, out.performance),
                      (inp.aligned, out.aligned)):
    storage.write_csv(aggregate.concat(parts, runs), target)
contrast = aggregate.concat(inp.contrast, runs)
storage.write_csv(contrast, out.contrast)
saturation = aggregate.concat(inp.saturation, runs)
storage.write_csv(saturation, out.saturation)
storage.write_csv(aggregate.saturation_summary(saturation, n_boot, confidence),
                  out.saturation_summary)
storage.write_csv(aggregate.c2_verdicts(contrast, n_boot, confidence), out.c2)
