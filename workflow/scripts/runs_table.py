"""The runs table (one row per model, with its `solved` flag) and solved seeds per task."""

from gateroles import pipeline, stats, storage
from gateroles.analyses.training.aggregate import runs_table, solved_by_task

pipeline.start(snakemake.threads, snakemake.log[0])
settings = stats.Settings.from_config(snakemake.params.config)
runs = runs_table(list(snakemake.input.tests))
storage.write_csv(runs, snakemake.output.runs)
storage.write_csv(solved_by_task(runs, settings.bootstrap_samples, settings.confidence),
                  snakemake.output.solved)
