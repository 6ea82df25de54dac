"""A user model's report page (gateroles.own_model.report)."""

from gateroles import pipeline
from gateroles.own_model import report

pipeline.start(snakemake.threads, snakemake.log[0])
report.write(dict(snakemake.input.items()), snakemake.output.html)
