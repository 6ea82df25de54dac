"""A user model's viewer, results/user_model/<name>/viewer.html (gateroles.viewer.user)."""

from gateroles import pipeline

pipeline.start(snakemake.threads, snakemake.log[0])
from gateroles.viewer import user  # noqa: E402 - after the thread count is pinned

user.from_config(snakemake.params.config, snakemake.output.html)
