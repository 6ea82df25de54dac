"""One learnability sweep: every seed of one architecture x init at each hold of one task."""

import sys

from gateroles import pipeline, storage
from gateroles.analyses.learnability.measure import sweep

pipeline.start(snakemake.threads, snakemake.log[0])
w = snakemake.wildcards
table = sweep(snakemake.params.config, list(snakemake.params.names), w.arch, w.init,
              list(snakemake.params.seeds), progress=sys.stderr)
storage.write_csv(table, snakemake.output.sweep)
