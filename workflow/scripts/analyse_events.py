"""Event-triggered gate averages and saturation for every checkpoint of one model."""

from gateroles import jobs
from gateroles.experiment import analyse_events_one

jobs.start(snakemake.threads, snakemake.log[0])
w = snakemake.wildcards
analyse_events_one(snakemake.params.config, w.task, w.arch, w.init, int(w.seed),
                   gates_path=snakemake.input.gates,
                   contrast_path=snakemake.output.contrast,
                   aligned_path=snakemake.output.aligned,
                   saturation_path=snakemake.output.saturation)
