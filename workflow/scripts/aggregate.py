"""One analysis's tables across seeds, with its verdicts (gateroles.pipeline.aggregate)."""

from gateroles import pipeline

pipeline.start(snakemake.threads, snakemake.log[0])
pipeline.aggregate(
    snakemake.params.module, snakemake.params.config, getattr(snakemake.input, "runs", None),
    inputs={name: list(files) for name, files in snakemake.input.items()
            if name not in ("code", "runs")},
    outputs=dict(snakemake.output.items()))
