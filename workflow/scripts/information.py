"""MI between gates, unit x variable MI and disentanglement of one model (claim C5)."""

from gateroles import jobs
from gateroles.experiment import information_one

jobs.start(snakemake.threads, snakemake.log[0])
w, out = snakemake.wildcards, snakemake.output
information_one(snakemake.params.config, w.task, w.arch, w.init, int(w.seed),
                gates_path=snakemake.input.gates, gate_mi_path=out.gate_mi,
                unit_factor_path=out.unit_factor, disentanglement_path=out.disentanglement)
