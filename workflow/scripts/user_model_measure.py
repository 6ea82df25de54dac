"""A user model's tables and summary (gateroles.own_model.measure)."""

from gateroles import pipeline

pipeline.start(snakemake.threads, snakemake.log[0])
from gateroles.own_model import measure  # noqa: E402 - after the thread count is pinned

measure.write(snakemake.params.config, dict(snakemake.output.items()))
