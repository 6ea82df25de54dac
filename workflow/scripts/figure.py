"""One figure of one analysis, PNG and PDF (gateroles.pipeline.figure)."""

from gateroles import pipeline

pipeline.start(snakemake.threads, snakemake.log[0])
pipeline.figure(
    snakemake.params.module, snakemake.params.name, snakemake.params.config,
    inputs={name: path for name, path in snakemake.input.items() if name != "code"},
    png=snakemake.output.png, pdf=snakemake.output.pdf)
