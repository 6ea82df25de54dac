"""One figure of a user model's report (gateroles.own_model.figures)."""

from gateroles import pipeline
from gateroles.own_model import figures

pipeline.start(snakemake.threads, snakemake.log[0])
figures.write(snakemake.wildcards.figure, dict(snakemake.input.items()), snakemake.output.png,
              snakemake.output.pdf)
